package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Origins of definitions.
const (
	OriginAPI     = "api"
	OriginCode    = "code"
	OriginBuiltin = "builtin"
)

// ItemError is a problem with one monitor or channel of a file.
type ItemError struct {
	// Section is "monitors" or "channels"; Index the item's position.
	Section string
	Index   int
	// Field is set when the problem is one field's.
	Field *FieldError
	Err   error
}

func (e *ItemError) Error() string {
	if e.Field != nil {
		return fmt.Sprintf("%s[%d].%s", e.Section, e.Index, e.Field.Error())
	}
	return fmt.Sprintf("%s[%d]: %v", e.Section, e.Index, e.Err)
}

// ValidationError lists every problem of a file; nothing was applied.
type ValidationError struct {
	Items []*ItemError
	// Located are the problems rendered with file:line:column, when the
	// file's positions are known.
	Located []string
}

func (e *ValidationError) Error() string {
	lines := e.Located
	if len(lines) == 0 {
		for _, it := range e.Items {
			lines = append(lines, it.Error())
		}
	}
	return strings.Join(lines, "\n")
}

// Unwrap makes a ValidationError an invalid argument for the API.
func (e *ValidationError) Unwrap() error { return store.ErrInvalid }

// validate checks a whole file against the known contracts and the
// channels of other origins.
func (e *Engine) validate(ctx context.Context, f File, origin string) (*catalog, error) {
	cat, err := e.catalog(ctx)
	if err != nil {
		return nil, err
	}
	var items []*ItemError
	itemErr := func(section string, i int, err error) {
		var fe *FieldError
		if errors.As(err, &fe) {
			items = append(items, &ItemError{Section: section, Index: i, Field: fe})
		} else {
			items = append(items, &ItemError{Section: section, Index: i, Err: err})
		}
	}
	chans := map[string]bool{}
	e.mu.Lock()
	for _, c := range e.channels {
		chans[c.Name] = true
	}
	defs := e.defs
	e.mu.Unlock()
	seen := map[string]bool{}
	for i, c := range f.Channels {
		if err := c.Validate(); err != nil {
			itemErr("channels", i, err)
			continue
		}
		if seen[c.Name] {
			itemErr("channels", i, fmt.Errorf("two channels are named %q", c.Name))
		}
		seen[c.Name] = true
		chans[c.Name] = true
	}
	ids := map[string]bool{}
	for i, s := range f.Monitors {
		if _, err := compile(s, cat); err != nil {
			itemErr("monitors", i, err)
			continue
		}
		if ids[s.ID] {
			itemErr("monitors", i, &FieldError{Field: "id", Index: -1, Offset: -1, Msg: fmt.Sprintf("two monitors have the id %q", s.ID)})
		}
		ids[s.ID] = true
		if d, ok := defs[s.ID]; ok && d.Origin != origin {
			itemErr("monitors", i, &FieldError{Field: "id", Index: -1, Offset: -1, Msg: fmt.Sprintf("%q is already defined by %s", s.ID, describeOrigin(d.Origin))})
		}
		for j, ch := range s.Channels {
			if !chans[ch] {
				itemErr("monitors", i, &FieldError{Field: "channels", Index: j, Offset: -1, Msg: fmt.Sprintf("unknown channel %q", ch)})
			}
		}
	}
	if len(items) > 0 {
		return nil, &ValidationError{Items: items}
	}
	return cat, nil
}

func describeOrigin(o string) string {
	switch o {
	case OriginAPI:
		return "the UI or API"
	case OriginCode:
		return "a monitors file"
	case OriginBuiltin:
		return "the built-in set"
	}
	return o
}

// ApplyResult says what an apply changed.
type ApplyResult struct {
	Created   []string `json:"created"`
	Updated   []string `json:"updated"`
	Deleted   []string `json:"deleted"`
	Unchanged []string `json:"unchanged"`
	Channels  int      `json:"channels"`
}

// Apply makes f the whole set of origin's monitors and channels,
// atomically: on any problem nothing changes and the error is a
// *ValidationError listing them all.
func (e *Engine) Apply(ctx context.Context, origin string, f File) (ApplyResult, error) {
	if _, err := e.validate(ctx, f, origin); err != nil {
		return ApplyResult{}, err
	}
	now := e.opts.Now().UTC()
	set := store.MonitorSet{Origin: origin}
	res := ApplyResult{Created: []string{}, Updated: []string{}, Deleted: []string{}, Unchanged: []string{}, Channels: len(f.Channels)}
	e.mu.Lock()
	old := map[string]store.MonitorDef{}
	for id, d := range e.defs {
		if d.Origin == origin {
			old[id] = d
		}
	}
	e.mu.Unlock()
	for _, s := range f.Monitors {
		spec, _ := json.Marshal(s)
		d := store.MonitorDef{ID: s.ID, Spec: spec, Origin: origin, Updated: now}
		if prev, ok := old[s.ID]; ok {
			if string(prev.Spec) == string(spec) {
				d.Updated = prev.Updated
				res.Unchanged = append(res.Unchanged, s.ID)
			} else {
				res.Updated = append(res.Updated, s.ID)
			}
			delete(old, s.ID)
		} else {
			res.Created = append(res.Created, s.ID)
		}
		set.Monitors = append(set.Monitors, d)
	}
	for id := range old {
		res.Deleted = append(res.Deleted, id)
	}
	slices.Sort(res.Deleted)
	for _, c := range f.Channels {
		spec, _ := json.Marshal(c)
		set.Channels = append(set.Channels, store.ChannelDef{Name: c.Name, Spec: spec, Origin: origin, Updated: now})
	}
	if err := e.d.Store.ReplaceMonitorSet(ctx, set); err != nil {
		return ApplyResult{}, err
	}
	return res, e.Load(ctx)
}

// PutMonitor creates or replaces one monitor of the API's.
func (e *Engine) PutMonitor(ctx context.Context, s Spec, create bool) error {
	e.mu.Lock()
	prev, exists := e.defs[s.ID]
	e.mu.Unlock()
	if exists && create {
		return fmt.Errorf("%w: a monitor with id %q exists", store.ErrConflict, s.ID)
	}
	if !exists && !create {
		return fmt.Errorf("monitor %q: %w", s.ID, store.ErrNotFound)
	}
	if exists && prev.Origin != OriginAPI {
		return fmt.Errorf("%w: %q is managed by %s; change it there", store.ErrConflict, s.ID, describeOrigin(prev.Origin))
	}
	if _, err := e.validate(ctx, File{Monitors: []Spec{s}}, OriginAPI); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) && len(ve.Items) == 1 && ve.Items[0].Field != nil {
			return fmt.Errorf("%w: %s", store.ErrInvalid, ve.Items[0].Field.Error())
		}
		return err
	}
	spec, _ := json.Marshal(s)
	if err := e.d.Store.PutMonitor(ctx, store.MonitorDef{ID: s.ID, Spec: spec, Origin: OriginAPI, Updated: e.opts.Now().UTC()}); err != nil {
		return err
	}
	return e.Load(ctx)
}

// DeleteMonitor deletes a monitor of the API's.
func (e *Engine) DeleteMonitor(ctx context.Context, id string) error {
	e.mu.Lock()
	prev, exists := e.defs[id]
	e.mu.Unlock()
	if !exists {
		return fmt.Errorf("monitor %q: %w", id, store.ErrNotFound)
	}
	if prev.Origin != OriginAPI {
		return fmt.Errorf("%w: %q is managed by %s; remove it there", store.ErrConflict, id, describeOrigin(prev.Origin))
	}
	if err := e.d.Store.DeleteMonitor(ctx, id); err != nil {
		return err
	}
	return e.Load(ctx)
}

// MonitorInfo is a monitor as the API lists it.
type MonitorInfo struct {
	Spec   Spec   `json:"spec"`
	Origin string `json:"origin"`
	// Error says why the monitor is idle (it no longer compiles).
	Error  string  `json:"error,omitempty"`
	Alerts []Alert `json:"alerts"`
}

// Monitors lists every monitor with its active alerts.
func (e *Engine) Monitors() []MonitorInfo {
	e.mu.Lock()
	defer e.mu.Unlock()
	ids := make([]string, 0, len(e.defs))
	for id := range e.defs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	out := make([]MonitorInfo, 0, len(ids))
	for _, id := range ids {
		d := e.defs[id]
		var s Spec
		json.Unmarshal(d.Spec, &s)
		mi := MonitorInfo{Spec: s, Origin: d.Origin, Error: e.errs[id], Alerts: []Alert{}}
		if rt := e.rts[id]; rt != nil {
			for _, a := range sortedAlerts(rt.alerts) {
				mi.Alerts = append(mi.Alerts, *cloneAlert(a))
			}
		}
		out = append(out, mi)
	}
	return out
}

// Channels lists the channels with their secrets redacted.
func (e *Engine) Channels() []notify.Spec {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]notify.Spec, 0, len(e.channels))
	for _, c := range e.channels {
		out = append(out, c.Redacted())
	}
	return out
}
