package monitor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// A silence mutes the notifications of the alerts whose labels match all
// of its matchers ("monitor == vault-paused", "severity in [info,
// warning]", "contract ~ Lending*") between its start and end. Alerts
// still change state and are recorded while silenced. As in Alertmanager,
// nothing is delivered for an alert while a silence matches it; when the
// silence ends or is removed, an alert still firing that was never
// announced is announced at once, and a resolve held back is sent. The
// resolve of an alert that was never announced is never sent.
type silence struct {
	store.Silence
	conds []cond
}

func (s silence) matches(labels map[string]string, t time.Time) bool {
	if t.Before(s.Starts) || !t.Before(s.Ends) {
		return false
	}
	for _, c := range s.conds {
		v, ok := labels[c.field]
		if !c.match(v, ok) {
			return false
		}
	}
	return true
}

func compileSilence(s store.Silence) (silence, error) {
	var matchers []string
	if err := json.Unmarshal(s.Matchers, &matchers); err != nil {
		return silence{}, fmt.Errorf("matchers must be a list of conditions like \"monitor == id\": %w", err)
	}
	if len(matchers) == 0 {
		return silence{}, fmt.Errorf("a silence needs at least one matcher")
	}
	out := silence{Silence: s}
	for _, m := range matchers {
		c, err := parseCond(m, "")
		if err != nil {
			return silence{}, fmt.Errorf("matcher %w", err)
		}
		out.conds = append(out.conds, c)
	}
	return out, nil
}

func (e *Engine) loadSilences(ctx context.Context) ([]silence, error) {
	ss, err := e.d.Store.Silences(ctx, e.opts.Now())
	if err != nil {
		return nil, err
	}
	var out []silence
	for _, s := range ss {
		c, err := compileSilence(s)
		if err != nil {
			e.log.Warn("stored silence does not compile; ignored", "id", s.ID, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// silenced reports whether an alert with labels is silenced at t. The
// caller holds e.mu.
func (e *Engine) silenced(labels map[string]string, t time.Time) bool {
	for _, s := range e.silences {
		if s.matches(labels, t) {
			return true
		}
	}
	return false
}

// SilenceRequest creates a silence.
type SilenceRequest struct {
	Matchers []string `json:"matchers"`
	// Duration ("2h") or Ends sets when it ends.
	Duration  string    `json:"duration,omitempty"`
	Ends      time.Time `json:"ends,omitzero"`
	Comment   string    `json:"comment,omitempty"`
	CreatedBy string    `json:"createdBy,omitempty"`
}

// AddSilence stores a silence and applies it at once.
func (e *Engine) AddSilence(ctx context.Context, r SilenceRequest) (store.Silence, error) {
	now := e.opts.Now()
	ends := r.Ends
	if r.Duration != "" {
		d, err := parseDuration(r.Duration)
		if err != nil {
			return store.Silence{}, fmt.Errorf("%w: duration: %v", store.ErrInvalid, err)
		}
		ends = now.Add(d)
	}
	if !ends.After(now) {
		return store.Silence{}, fmt.Errorf("%w: a silence needs a duration or an end in the future", store.ErrInvalid)
	}
	m, _ := json.Marshal(r.Matchers)
	var id [8]byte
	rand.Read(id[:])
	s := store.Silence{ID: hex.EncodeToString(id[:]), Matchers: m, Comment: r.Comment, CreatedBy: r.CreatedBy, Starts: now, Ends: ends}
	if _, err := compileSilence(s); err != nil {
		return store.Silence{}, fmt.Errorf("%w: %v", store.ErrInvalid, err)
	}
	if err := e.d.Store.PutSilence(ctx, s); err != nil {
		return store.Silence{}, err
	}
	return s, e.reloadSilences(ctx)
}

// DeleteSilence ends a silence and sends at once the notifications it
// held back.
func (e *Engine) DeleteSilence(ctx context.Context, id string) error {
	if err := e.d.Store.DeleteSilence(ctx, id); err != nil {
		return err
	}
	if err := e.reloadSilences(ctx); err != nil {
		return err
	}
	e.releaseHeld(ctx)
	return nil
}

func (e *Engine) reloadSilences(ctx context.Context) error {
	ss, err := e.loadSilences(ctx)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.silences = ss
	e.mu.Unlock()
	// Run's timer waits for the earliest end: let it see the new ones.
	select {
	case e.wake <- struct{}{}:
	default:
	}
	return nil
}

// silenceTick releases what silences that ended held back and returns how
// long until the next silence ends. Run calls it.
func (e *Engine) silenceTick(ctx context.Context) time.Duration {
	now := e.opts.Now()
	e.mu.Lock()
	ended := false
	var next time.Time
	for _, s := range e.silences {
		if !now.Before(s.Ends) {
			ended = true
		} else if next.IsZero() || s.Ends.Before(next) {
			next = s.Ends
		}
	}
	e.mu.Unlock()
	if ended {
		e.releaseHeld(ctx)
	}
	if next.IsZero() {
		return time.Hour
	}
	return next.Sub(now)
}

// releaseHeld sends the notifications that silences held back for alerts
// no silence matches now, and forgets the silences that ended.
func (e *Engine) releaseHeld(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.opts.Now()
	e.silences = slices.DeleteFunc(e.silences, func(s silence) bool { return !now.Before(s.Ends) })
	var bt batch
	for _, id := range e.order() {
		rt := e.rts[id]
		var held []string
		for k, a := range rt.alerts {
			if a.Held != "" {
				held = append(held, k)
			}
		}
		slices.Sort(held)
		for _, k := range held {
			a := cloneAlert(rt.alerts[k])
			tr, ok := rt.c.release(a, now, e.silenced)
			if sameAlert(a, rt.alerts[k]) {
				continue
			}
			rt.alerts[k] = a
			st, _ := json.Marshal(a)
			bt.states = append(bt.states, store.AlertState{MonitorID: id, Key: k, State: st})
			if ok {
				e.record(rt.c, tr, &bt)
			}
		}
	}
	if len(bt.states) > 0 {
		e.commitQuery(ctx, &bt)
	}
}
