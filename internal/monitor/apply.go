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
	// Section is "monitors" or "channels"; Index the item's position, or
	// -1 for a problem of the whole section.
	Section string
	Index   int
	// Field is set when the problem is one field's.
	Field *FieldError
	Err   error
}

func (e *ItemError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("%s: %v", e.Section, e.Err)
	}
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

// validate checks a file against the known contracts and the channels its
// monitors may name once it is applied: the channels of other origins, the
// file's own and, when merge keeps them, the origin's stored channels. A
// replace (merge false) may not drop a channel that a monitor of another
// origin still names. An empty origin checks a file that is not applied (a
// dry run): ids of any origin are welcome.
func (e *Engine) validate(ctx context.Context, f File, origin string, merge bool) (*catalog, error) {
	cat, err := e.catalog(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := e.d.Store.ChannelDefs(ctx)
	if err != nil {
		return nil, err
	}
	var items []*ItemError
	itemErr := func(section string, i int, err error) {
		var fes FieldErrors
		if errors.As(err, &fes) {
			for _, fe := range fes {
				items = append(items, &ItemError{Section: section, Index: i, Field: fe})
			}
			return
		}
		var fe *FieldError
		if errors.As(err, &fe) {
			items = append(items, &ItemError{Section: section, Index: i, Field: fe})
		} else {
			items = append(items, &ItemError{Section: section, Index: i, Err: err})
		}
	}
	chans := map[string]bool{}
	for _, c := range stored {
		if c.Origin != origin || merge {
			chans[c.Name] = true
		}
	}
	e.mu.Lock()
	defs := e.defs
	e.mu.Unlock()
	seen := map[string]bool{}
	// A notifier with a destination policy checks channels now, so that a
	// channel pointing at a refused address fails the apply, not the first
	// alert.
	checker, _ := e.d.Notifier.(interface {
		CheckChannel(ctx context.Context, s notify.Spec) error
	})
	for i, c := range f.Channels {
		if err := c.Validate(); err != nil {
			itemErr("channels", i, err)
			continue
		}
		if checker != nil {
			if err := checker.CheckChannel(ctx, c); err != nil {
				itemErr("channels", i, err)
				continue
			}
		}
		if seen[c.Name] {
			itemErr("channels", i, fmt.Errorf("two channels are named %q", c.Name))
		}
		seen[c.Name] = true
		chans[c.Name] = true
	}
	if !merge && origin != OriginBuiltin {
		// The built-in set's channels come from the server's flags: a
		// restart without one must not be refused, so only files are held
		// to this.
		items = append(items, e.droppedChannels(stored, defs, origin, chans)...)
	}
	ids := map[string]bool{}
	for i, s := range f.Monitors {
		if _, err := compile(s, cat); err != nil {
			itemErr("monitors", i, err)
		}
		if ids[s.ID] {
			itemErr("monitors", i, &FieldError{Field: "id", Index: -1, Offset: -1, Msg: fmt.Sprintf("two monitors have the id %q", s.ID)})
		}
		ids[s.ID] = true
		if d, ok := defs[s.ID]; ok && d.Origin != origin && origin != "" {
			itemErr("monitors", i, &FieldError{Field: "id", Index: -1, Offset: -1, Msg: fmt.Sprintf("%q is already defined by %s", s.ID, describeOrigin(d.Origin))})
		}
		if s.Respond != "" {
			msg := ""
			switch {
			case e.d.Responder == nil:
				msg = fmt.Sprintf("scenario %q: no response scenarios are configured (start the server with --scenarios FILE)", s.Respond)
			default:
				if err := e.d.Responder.CheckScenario(s.Respond); err != nil {
					msg = err.Error()
				}
			}
			if msg != "" {
				itemErr("monitors", i, &FieldError{Field: "respond", Index: -1, Offset: -1, Msg: msg})
			}
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

// droppedChannels lists the channels of origin that a replace would drop
// while a monitor of another origin still names them.
func (e *Engine) droppedChannels(stored []store.ChannelDef, defs map[string]store.MonitorDef, origin string, kept map[string]bool) []*ItemError {
	var out []*ItemError
	for _, c := range stored {
		if c.Origin != origin || kept[c.Name] {
			continue
		}
		var users []string
		for id, d := range defs {
			if d.Origin == origin {
				continue
			}
			var s Spec
			if json.Unmarshal(d.Spec, &s) == nil && slices.Contains(s.Channels, c.Name) {
				users = append(users, fmt.Sprintf("%q (%s)", id, describeOrigin(d.Origin)))
			}
		}
		if len(users) > 0 {
			slices.Sort(users)
			out = append(out, &ItemError{Section: "channels", Index: -1,
				Err: fmt.Errorf("channel %q would be removed, but monitor %s still notifies it: keep the channel in the file, or change that monitor first", c.Name, strings.Join(users, ", "))})
		}
	}
	return out
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
// *ValidationError listing them all. It is what a monitors file means: what
// the file does not hold is deleted.
func (e *Engine) Apply(ctx context.Context, origin string, f File) (ApplyResult, error) {
	return e.applySet(ctx, origin, f, false, nil)
}

// Merge creates or replaces the monitors and channels of f in origin's
// set and deletes the monitors named in del; every other monitor and
// channel of the set stays as it is. This is how the UI applies: it shows
// one monitor at a time, and whatever it did not show must survive (a
// replace would drop the file's channels, whose secrets the UI never sees).
// Like Apply, it changes everything or nothing.
func (e *Engine) Merge(ctx context.Context, origin string, f File, del []string) (ApplyResult, error) {
	return e.applySet(ctx, origin, f, true, del)
}

func (e *Engine) applySet(ctx context.Context, origin string, f File, merge bool, del []string) (ApplyResult, error) {
	e.amu.Lock()
	defer e.amu.Unlock()
	if _, err := e.validate(ctx, f, origin, merge); err != nil {
		return ApplyResult{}, err
	}
	now := e.opts.Now().UTC()
	set := store.MonitorSet{Origin: origin}
	res := ApplyResult{Created: []string{}, Updated: []string{}, Deleted: []string{}, Unchanged: []string{}, Channels: len(f.Channels)}
	storedDefs, err := e.d.Store.MonitorDefs(ctx)
	if err != nil {
		return ApplyResult{}, err
	}
	old := map[string]store.MonitorDef{}
	var order []string // the stored set's order, kept by a merge
	for _, d := range storedDefs {
		if d.Origin == origin {
			old[d.ID] = d
			order = append(order, d.ID)
		}
	}
	gone := map[string]bool{}
	for _, id := range del {
		if _, ok := old[id]; !ok {
			return ApplyResult{}, fmt.Errorf("cannot delete monitor %q: %w in %s", id, store.ErrNotFound, describeOrigin(origin))
		}
		if slices.ContainsFunc(f.Monitors, func(s Spec) bool { return s.ID == id }) {
			return ApplyResult{}, fmt.Errorf("%w: monitor %q is both applied and deleted", store.ErrInvalid, id)
		}
		gone[id] = true
	}
	applied := map[string]bool{}
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
		} else {
			res.Created = append(res.Created, s.ID)
		}
		applied[s.ID] = true
		set.Monitors = append(set.Monitors, d)
	}
	for _, id := range order {
		switch {
		case applied[id]:
		case merge && !gone[id]:
			set.Monitors = append(set.Monitors, old[id])
		default:
			res.Deleted = append(res.Deleted, id)
		}
	}
	slices.Sort(res.Deleted)
	named := map[string]bool{}
	for _, c := range f.Channels {
		spec, _ := json.Marshal(c)
		named[c.Name] = true
		set.Channels = append(set.Channels, store.ChannelDef{Name: c.Name, Spec: spec, Origin: origin, Updated: now})
	}
	if merge {
		chans, err := e.d.Store.ChannelDefs(ctx)
		if err != nil {
			return ApplyResult{}, err
		}
		for _, c := range chans {
			if c.Origin == origin && !named[c.Name] {
				set.Channels = append(set.Channels, c)
			}
		}
	}
	if err := e.d.Store.ReplaceMonitorSet(ctx, set); err != nil {
		return ApplyResult{}, err
	}
	return res, e.Load(ctx)
}

// PutMonitor creates or replaces one monitor of the API's.
func (e *Engine) PutMonitor(ctx context.Context, s Spec, create bool) error {
	e.amu.Lock()
	defer e.amu.Unlock()
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
	if _, err := e.validate(ctx, File{Monitors: []Spec{s}}, OriginAPI, true); err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) && !slices.ContainsFunc(ve.Items, func(it *ItemError) bool { return it.Field == nil }) {
			msgs := make([]string, len(ve.Items))
			for i, it := range ve.Items {
				msgs[i] = it.Field.Error()
			}
			return fmt.Errorf("%w: %s", store.ErrInvalid, strings.Join(msgs, "; "))
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
	e.amu.Lock()
	defer e.amu.Unlock()
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
