package monitor

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Alert states.
const (
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Alert is one alert instance: a monitor and a group of labels.
type Alert struct {
	MonitorID string            `json:"monitorId"`
	Key       string            `json:"key"`
	Labels    map[string]string `json:"labels"`
	State     string            `json:"state"`
	// Since is when the condition began to hold (pending) or the alert
	// fired (firing).
	Since time.Time `json:"since"`
	// Block and BlockHash are the block that fired a chain alert; a reorg
	// that orphans it retracts the alert.
	Block      uint64      `json:"block,omitempty"`
	BlockHash  common.Hash `json:"blockHash,omitempty"`
	LastActive time.Time   `json:"lastActive"`
	// LastNotified is the time of the last notification sent; Notified
	// says whether this firing was notified (not silenced or cooled down).
	LastNotified time.Time `json:"lastNotified,omitzero"`
	Notified     bool      `json:"notified"`
	// Seq counts firings, Renotified re-notifications of this firing: with
	// the key they make each notification's idempotency key.
	Seq        int       `json:"seq"`
	Renotified int       `json:"renotified,omitempty"`
	Value      string    `json:"value,omitempty"`
	Count      int       `json:"count,omitempty"`
	Tx         string    `json:"tx,omitempty"`
	Summary    string    `json:"summary,omitempty"`
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
	// ResolvedBlock is the block whose observation resolved the alert
	// (Value and Summary are then that observation's).
	ResolvedBlock uint64 `json:"resolvedBlock,omitempty"`
	// Held is the status (firing or resolved) of a notification a silence
	// holds back: it is sent as soon as no silence matches the alert.
	Held string `json:"held,omitempty"`
}

// obs is one evaluation's verdict for one alert instance.
type obs struct {
	key     string
	labels  map[string]string
	active  bool
	t       time.Time
	block   uint64
	hash    common.Hash
	value   string
	count   int
	tx      string
	summary string
}

// transition is a change worth recording and, if notify, notifying.
type transition struct {
	alert    Alert
	status   string // firing, resolved, retracted
	renotify bool
	notify   bool
	silenced bool
	t        time.Time
}

// idempotencyKey names one notification: the same transition always gets
// the same key, so replaying a block after a crash enqueues nothing new.
func (tr transition) idempotencyKey() string {
	k := fmt.Sprintf("%s|%s|%d|%s", tr.alert.MonitorID, tr.alert.Key, tr.alert.Seq, tr.status)
	if tr.renotify {
		k += fmt.Sprintf("|r%d", tr.alert.Renotified)
	}
	return k
}

// groupKey is the alert key of a match's labels under groupBy.
func groupKey(groupBy []string, labels map[string]string) string {
	if len(groupBy) == 0 {
		return ""
	}
	parts := make([]string, 0, len(groupBy))
	for _, g := range groupBy {
		parts = append(parts, g+"="+labels[g])
	}
	return strings.Join(parts, ",")
}

// resolveAfter is how long a firing alert waits without activity before
// it resolves: match monitors see activity only in the blocks that match,
// so they wait; condition monitors resolve as soon as it stops holding.
func (c *compiled) resolveAfter() time.Duration {
	if c.spec.ResolveAfter > 0 {
		return c.spec.ResolveAfter.D()
	}
	switch c.spec.Kind {
	case KindEvent, KindCall, KindCallers, KindTxFail:
		return 5 * time.Minute
	}
	return 0
}

// advance applies one observation to an alert (nil: none yet) and returns
// the alert's new state (nil: forget it) and the transitions to record.
// silenced reports whether labels are under a silence at time t.
func (c *compiled) advance(a *Alert, o obs, silenced func(map[string]string, time.Time) bool) (*Alert, []transition) {
	s := &c.spec
	if a == nil {
		if !o.active {
			return nil, nil
		}
		a = &Alert{MonitorID: s.ID, Key: o.key}
	}
	a = cloneAlert(a)
	if o.labels != nil {
		a.Labels = o.labels
	}
	var trs []transition
	if o.active {
		a.LastActive = o.t
		a.Value, a.Summary = o.value, o.summary
		if o.count > 0 {
			a.Count = o.count
		}
		if o.tx != "" {
			a.Tx = o.tx
		}
	}
	fire := func() {
		a.State, a.Since, a.Block, a.BlockHash = StateFiring, o.t, o.block, o.hash
		a.ResolvedAt, a.ResolvedBlock = time.Time{}, 0
		a.Seq++
		a.Renotified = 0
		cooling := s.Cooldown > 0 && !a.LastNotified.IsZero() && o.t.Sub(a.LastNotified) < s.Cooldown.D()
		muted := silenced(a.Labels, o.t)
		a.Notified = !cooling && !muted
		// A firing a silence mutes is announced when the silence ends (if
		// it still fires then); one a cooldown mutes never is. A resolve
		// still held for the previous firing is dropped: this firing
		// supersedes it.
		a.Held = ""
		if muted && !cooling {
			a.Held = StateFiring
		}
		if a.Notified {
			a.LastNotified = o.t
		}
		trs = append(trs, transition{alert: *a, status: StateFiring, notify: a.Notified, silenced: muted, t: o.t})
	}
	switch a.State {
	case "", StateResolved:
		if !o.active {
			// Forget resolved alerts once their cooldown cannot matter
			// and no silence holds their resolve back.
			if a.Held == "" && o.t.Sub(a.ResolvedAt) > max(s.Cooldown.D(), time.Hour) {
				return nil, nil
			}
			break
		}
		if s.For == 0 {
			fire()
		} else {
			a.State, a.Since = StatePending, o.t
		}
	case StatePending:
		if !o.active {
			return nil, nil
		}
		if o.t.Sub(a.Since) >= s.For.D() {
			fire()
		}
	case StateFiring:
		if o.active {
			if a.Notified && s.Renotify > 0 && o.t.Sub(a.LastNotified) >= s.Renotify.D() && !silenced(a.Labels, o.t) {
				a.Renotified++
				a.LastNotified = o.t
				trs = append(trs, transition{alert: *a, status: StateFiring, renotify: true, notify: true, t: o.t})
			}
			break
		}
		if o.t.Sub(a.LastActive) >= c.resolveAfter() {
			// The resolve carries what resolved the alert: this
			// observation's value, summary and block.
			a.State, a.ResolvedAt, a.ResolvedBlock = StateResolved, o.t, o.block
			a.Value, a.Summary = o.value, o.summary
			if a.Summary == "" {
				a.Summary = fmt.Sprintf("no match for %s", c.resolveAfter())
			}
			muted := silenced(a.Labels, o.t)
			switch {
			case a.Held == StateFiring:
				// Never announced: its resolve is not either.
				a.Held = ""
			case a.Notified && muted:
				a.Held = StateResolved
			}
			trs = append(trs, transition{alert: *a, status: StateResolved, notify: a.Notified && !muted, t: o.t})
		}
	}
	// A silence that ended releases what it held back (Engine.releaseHeld
	// does the same between blocks).
	if tr, ok := c.release(a, o.t, silenced); ok {
		trs = append(trs, tr)
	}
	return a, trs
}

// release sends the notification a silence held back for a (which it
// updates) if no silence matches a's labels at t.
func (c *compiled) release(a *Alert, t time.Time, silenced func(map[string]string, time.Time) bool) (transition, bool) {
	if a.Held == "" || silenced(a.Labels, t) {
		return transition{}, false
	}
	status := a.Held
	a.Held = ""
	switch status {
	case StateFiring:
		if a.State != StateFiring {
			return transition{}, false
		}
		a.Notified, a.LastNotified = true, t
	case StateResolved:
		if a.State != StateResolved {
			return transition{}, false
		}
	}
	return transition{alert: *a, status: status, notify: true, t: t}, true
}

func cloneAlert(a *Alert) *Alert {
	b := *a
	b.Labels = maps.Clone(a.Labels)
	return &b
}

// sortedAlerts lists alerts by key.
func sortedAlerts(m map[string]*Alert) []*Alert {
	keys := slices.Sorted(maps.Keys(m))
	out := make([]*Alert, 0, len(keys))
	for _, k := range keys {
		out = append(out, m[k])
	}
	return out
}
