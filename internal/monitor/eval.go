package monitor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// runtime is a compiled monitor with its evaluation state. The engine's
// mutex guards it.
type runtime struct {
	c      *compiled
	alerts map[string]*Alert

	// match kinds: recent matches per alert key, within the window
	windows map[string][]winPoint
	// slo: per block counts within the window
	slo []sloPoint
	// nodata: when the last match was seen (block time)
	lastMatch time.Time
	// state: the previous value, for change%
	prev    *big.Float
	prevSet bool
	// balance: the last Blocks balances
	bal []balPoint
	// last is the newest block evaluated.
	last uint64
	// nextRun is when a query monitor runs next.
	nextRun time.Time
	// feed kinds: per feed, what the previous blocks showed
	feeds map[common.Address]*feedState
}

type winPoint struct {
	block   uint64
	t       time.Time
	n       int
	labels  map[string]string
	tx      string
	summary string
}

type sloPoint struct {
	block      uint64
	t          time.Time
	total, bad int
}

type balPoint struct {
	block uint64
	v     *big.Int
}

func newRuntime(c *compiled) *runtime {
	return &runtime{c: c, alerts: map[string]*Alert{}, windows: map[string][]winPoint{}}
}

// ErrNoNode is returned by state and balance monitors without a node.
var ErrNoNode = errors.New("this monitor reads state at each block and needs a node connection")

// labels are an alert's labels: the spec's, the monitor's, and the group's.
func (c *compiled) labels(group map[string]string) map[string]string {
	l := maps.Clone(c.spec.Labels)
	if l == nil {
		l = map[string]string{}
	}
	for _, g := range c.spec.GroupBy {
		l[g] = group[g]
	}
	l["monitor"] = c.spec.ID
	l["severity"] = c.severity()
	return l
}

func (c *compiled) severity() string {
	if c.spec.Severity == "" {
		return "warning"
	}
	return c.spec.Severity
}

// evalBlock evaluates a chain monitor on one block and returns its
// observations, and the series point of a state watch.
func (rt *runtime) evalBlock(ctx context.Context, in blockInput, node Node) ([]obs, *store.SeriesPoint, error) {
	c := rt.c
	b := in.block
	bt := b.Time
	base := obs{t: bt, block: b.Number, hash: b.Hash}
	switch c.spec.Kind {
	case KindEvent, KindCall, KindCallers, KindTxFail:
		hits := c.matchBlock(in)
		for _, h := range hits {
			key := groupKey(c.spec.GroupBy, h.labels)
			pts := rt.windows[key]
			if n := len(pts); n > 0 && pts[n-1].block == b.Number {
				pts[n-1].n++
				pts[n-1].tx, pts[n-1].summary, pts[n-1].labels = h.tx.Hex(), h.summary, h.labels
			} else {
				pts = append(pts, winPoint{block: b.Number, t: bt, n: 1, labels: h.labels, tx: h.tx.Hex(), summary: h.summary})
			}
			rt.windows[key] = pts
		}
		threshold := max(c.spec.Threshold, 1)
		var out []obs
		keys := map[string]bool{}
		for k := range rt.windows {
			keys[k] = true
		}
		resolveAfter := c.resolveAfter()
		for k, a := range rt.alerts {
			// Alerts without matches in the window change only when they
			// may resolve or be forgotten: skip the rest, so that the
			// cost of a block does not grow with the alerts kept.
			switch {
			case a.State == StateFiring && bt.Sub(a.LastActive) < resolveAfter && c.spec.Renotify == 0:
			case a.State == StateResolved && bt.Sub(a.ResolvedAt) <= max(c.spec.Cooldown.D(), time.Hour):
			default:
				keys[k] = true
			}
		}
		for key := range keys {
			pts := rt.windows[key]
			// Keep the window: matches of this block, or within Window of it.
			i := 0
			for i < len(pts) && (pts[i].block > b.Number || (c.spec.Window == 0 && pts[i].block != b.Number) || (c.spec.Window > 0 && bt.Sub(pts[i].t) >= c.spec.Window.D())) {
				i++
			}
			pts = pts[i:]
			if len(pts) == 0 {
				delete(rt.windows, key)
			} else {
				rt.windows[key] = pts
			}
			sum := 0
			for _, p := range pts {
				sum += p.n
			}
			o := base
			o.key, o.active, o.count = key, sum >= threshold, sum
			o.value = strconv.Itoa(sum)
			if len(pts) > 0 {
				last := pts[len(pts)-1]
				o.labels, o.tx, o.summary = c.labels(last.labels), last.tx, last.summary
				if sum > 1 {
					o.summary = fmt.Sprintf("%d matches; latest: %s", sum, last.summary)
				}
				if !o.active {
					// What a resolve reports: the matches left are too few.
					o.summary = fmt.Sprintf("%d within %s, below the threshold of %d", sum, c.spec.Window, threshold)
				}
			}
			out = append(out, o)
		}
		return out, nil, nil

	case KindSLO:
		p := sloPoint{block: b.Number, t: bt}
		for i := range b.Txs {
			tx := &b.Txs[i]
			if !c.watches(tx.To) {
				continue
			}
			if !c.method.any {
				name, sig := "", ""
				if tx.Call != nil {
					name, sig = tx.Call.Method, tx.Call.Signature
				}
				if !c.method.match(name, sig, tx.Selector()) {
					continue
				}
			}
			p.total++
			if tx.Failed() {
				p.bad++
			}
		}
		rt.slo = append(rt.slo, p)
		i := 0
		for i < len(rt.slo) && bt.Sub(rt.slo[i].t) >= c.spec.Window.D() {
			i++
		}
		rt.slo = rt.slo[i:]
		total, bad := 0, 0
		for _, q := range rt.slo {
			total += q.total
			bad += q.bad
		}
		minCount := c.spec.MinCount
		if minCount == 0 {
			minCount = 10
		}
		o := base
		o.labels = c.labels(nil)
		budget := 1 - c.spec.Objective
		ratio := 0.0
		if total > 0 {
			ratio = float64(bad) / float64(total)
		}
		o.active = total >= minCount && ratio > budget
		o.count = bad
		o.value = fmt.Sprintf("%.2f%%", ratio*100)
		o.summary = fmt.Sprintf("%d of %d transactions failed in %s (%.1f%%): %.0f%% of the error budget of %.2g%% spent",
			bad, total, c.spec.Window, ratio*100, ratio/budget*100, budget*100)
		return []obs{o}, nil, nil

	case KindNoData:
		if len(c.matchBlock(in)) > 0 {
			rt.lastMatch = bt
		}
		o := base
		o.labels = c.labels(nil)
		if rt.lastMatch.IsZero() {
			// The heartbeat starts at the first match: a watch on every
			// contract must not fire on a chain that has no such events.
			return []obs{o}, nil, nil
		}
		quiet := bt.Sub(rt.lastMatch)
		o.active = quiet >= c.spec.Within.D()
		o.value = quiet.Round(time.Second).String()
		o.summary = fmt.Sprintf("nothing matched for %s (limit %s)", quiet.Round(time.Second), c.spec.Within)
		return []obs{o}, nil, nil

	case KindState:
		if node == nil {
			return nil, nil, ErrNoNode
		}
		var raw []byte
		var err error
		if c.useSlot {
			raw, err = node.StorageAt(ctx, c.target, c.slot, b.Number)
		} else {
			raw, err = node.CallAt(ctx, c.target, c.readData, b.Number)
		}
		if err != nil {
			return nil, nil, err
		}
		v, err := c.unpack(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("cannot decode the value read at block %d: %w", b.Number, err)
		}
		o := base
		o.labels = c.labels(nil)
		o.value = v
		point := &store.SeriesPoint{MonitorID: c.spec.ID, Block: b.Number, Time: bt, Value: v}
		if c.change {
			cur := number(v)
			if cur != nil && rt.prevSet && rt.prev.Sign() != 0 {
				d := new(big.Float).Sub(cur, rt.prev)
				pct, _ := new(big.Float).Quo(d, new(big.Float).Abs(rt.prev)).Float64()
				pct *= 100
				o.active = c.condition.match(strconv.FormatFloat(pct, 'f', -1, 64), true)
				o.summary = fmt.Sprintf("%s changed %.2f%% to %s", c.spec.Read+c.spec.Slot, pct, v)
			}
			rt.prev, rt.prevSet = cur, cur != nil
		} else {
			o.active = c.condition.match(v, true)
			o.summary = fmt.Sprintf("%s is %s (condition %s)", c.spec.Read+c.spec.Slot, v, c.spec.Condition)
		}
		return []obs{o}, point, nil

	case KindBalance:
		if node == nil {
			return nil, nil, ErrNoNode
		}
		var bal *big.Int
		if c.token == nil {
			v, err := node.BalanceAt(ctx, c.target, b.Number)
			if err != nil {
				return nil, nil, err
			}
			bal = v
		} else {
			raw, err := node.CallAt(ctx, *c.token, c.readData, b.Number)
			if err != nil {
				return nil, nil, err
			}
			if len(raw) < 32 {
				return nil, nil, fmt.Errorf("balanceOf answered %d bytes", len(raw))
			}
			bal = new(big.Int).SetBytes(raw[:32])
		}
		rt.bal = append(rt.bal, balPoint{block: b.Number, v: bal})
		for len(rt.bal) > 0 && rt.bal[0].block+c.spec.Blocks <= b.Number {
			rt.bal = rt.bal[1:]
		}
		peak := new(big.Int)
		for _, p := range rt.bal {
			if p.v.Cmp(peak) > 0 {
				peak = p.v
			}
		}
		o := base
		o.labels = c.labels(nil)
		o.value = bal.String()
		point := &store.SeriesPoint{MonitorID: c.spec.ID, Block: b.Number, Time: bt, Value: bal.String()}
		if peak.Sign() > 0 {
			drop := new(big.Float).Quo(new(big.Float).SetInt(new(big.Int).Sub(peak, bal)), new(big.Float).SetInt(peak))
			pct, _ := drop.Float64()
			pct *= 100
			o.active = pct > c.spec.DropPct
			o.summary = fmt.Sprintf("balance of %s fell %.1f%% within %d blocks (from %s to %s)", c.target.Hex(), pct, c.spec.Blocks, peak, bal)
		}
		return []obs{o}, point, nil
	}
	if isFeedKind(c.spec.Kind) {
		out, err := rt.evalFeed(ctx, in)
		return out, nil, err
	}
	return nil, nil, fmt.Errorf("BUG: %s monitors are not evaluated on blocks", c.spec.Kind)
}

// rollback forgets what the monitor saw above block n (a reorg).
func (rt *runtime) rollback(n uint64) {
	rt.rollbackFeeds(n)
	for k, pts := range rt.windows {
		i := len(pts)
		for i > 0 && pts[i-1].block > n {
			i--
		}
		if i == 0 {
			delete(rt.windows, k)
		} else {
			rt.windows[k] = pts[:i]
		}
	}
	for len(rt.slo) > 0 && rt.slo[len(rt.slo)-1].block > n {
		rt.slo = rt.slo[:len(rt.slo)-1]
	}
	for len(rt.bal) > 0 && rt.bal[len(rt.bal)-1].block > n {
		rt.bal = rt.bal[:len(rt.bal)-1]
	}
	if rt.last > n {
		rt.last = n
	}
	rt.prevSet = false
}

// evalQuery runs a query monitor over [now-window, now).
func (rt *runtime) evalQuery(ctx context.Context, search store.Searcher, now time.Time) ([]obs, error) {
	c := rt.c
	tab, err := search.Table(ctx, store.SearchRequest{Query: c.q, From: now.Add(-c.spec.Window.D()), To: now})
	if err != nil {
		return nil, err
	}
	// The value is the last numeric column; the other columns (stats …
	// by) name the group.
	var out []obs
	seen := map[string]bool{}
	for _, row := range tab.Rows {
		val, group := "", map[string]string{}
		var keyParts []string
		for i, cell := range row {
			switch v := cell.(type) {
			case int64:
				val = strconv.FormatInt(v, 10)
			case float64:
				val = strconv.FormatFloat(v, 'f', -1, 64)
			default:
				if i < len(tab.Columns) {
					s := fmt.Sprint(cell)
					group[tab.Columns[i]] = s
					keyParts = append(keyParts, tab.Columns[i]+"="+s)
				}
			}
		}
		key := joinKey(keyParts)
		seen[key] = true
		l := c.labels(nil)
		maps.Copy(l, group)
		out = append(out, obs{key: key, labels: l, t: now, active: c.condition.match(val, val != ""), value: val,
			summary: fmt.Sprintf("%s over %s is %s (condition %s)", c.spec.Query, c.spec.Window, orZero(val), c.spec.Condition)})
	}
	if len(tab.Rows) == 0 {
		// No rows is a count of zero.
		out = append(out, obs{key: "", labels: c.labels(nil), t: now, active: c.condition.match("0", true), value: "0",
			summary: fmt.Sprintf("%s over %s is 0 (condition %s)", c.spec.Query, c.spec.Window, c.spec.Condition)})
		seen[""] = true
	}
	for k := range rt.alerts {
		if !seen[k] {
			out = append(out, obs{key: k, t: now})
		}
	}
	return out, nil
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

func joinKey(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += ","
		}
		out += p
	}
	return out
}
