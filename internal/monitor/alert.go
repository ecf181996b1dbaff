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
	var trs []transition
	fire := func() {
		a.State, a.Since, a.Block, a.BlockHash = StateFiring, o.t, o.block, o.hash
		a.Seq++
		a.Renotified = 0
		cooling := s.Cooldown > 0 && !a.LastNotified.IsZero() && o.t.Sub(a.LastNotified) < s.Cooldown.D()
		muted := silenced(a.Labels, o.t)
		a.Notified = !cooling && !muted
		if a.Notified {
			a.LastNotified = o.t
		}
		trs = append(trs, transition{alert: *a, status: StateFiring, notify: a.Notified, silenced: muted, t: o.t})
	}
	switch a.State {
	case "", StateResolved:
		if !o.active {
			// Forget resolved alerts once their cooldown cannot matter.
			if o.t.Sub(a.ResolvedAt) > max(s.Cooldown.D(), time.Hour) {
				return nil, nil
			}
			return a, nil
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
			a.State, a.ResolvedAt = StateResolved, o.t
			trs = append(trs, transition{alert: *a, status: StateResolved, notify: a.Notified, t: o.t})
		}
	}
	return a, trs
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
