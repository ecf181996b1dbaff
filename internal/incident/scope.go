package incident

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Scope is an incident's scope of impact: figures over its window, and the
// same figures over the same window a day earlier.
type Scope struct {
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Now       Figures   `json:"now"`
	DayBefore Figures   `json:"dayBefore"`
	// Live says the window is still open (it ends now).
	Live bool `json:"live"`
}

// Figures are the impact figures of one window.
type Figures struct {
	// FailedTxs counts failed transactions to the affected contracts
	// (every failed transaction when the incident names none).
	FailedTxs int64 `json:"failedTxs"`
	// Addresses counts the distinct senders of transactions to the
	// affected contracts (of failed transactions when it names none).
	Addresses int64 `json:"addresses"`
	// ValueOut sums the tokens moved out of the affected contracts
	// (Transfer events from them), per token contract, in the token's
	// smallest unit.
	ValueOut []TokenAmount `json:"valueOut"`
	// ErrorLogs counts error and fatal logs per service (of the affected
	// services, or every service).
	ErrorLogs []ServiceCount `json:"errorLogs"`
}

// TokenAmount is an amount of one token.
type TokenAmount struct {
	Token  string `json:"token"`
	Amount string `json:"amount"`
}

// ServiceCount is a count for one service.
type ServiceCount struct {
	Service string `json:"service"`
	Count   int64  `json:"count"`
}

// ErrorLogTotal sums ErrorLogs.
func (f Figures) ErrorLogTotal() int64 {
	var n int64
	for _, c := range f.ErrorLogs {
		n += c.Count
	}
	return n
}

// Scope computes an incident's scope of impact. While the incident is
// open its window ends now, so each call sees the newest data.
func (s *Service) Scope(ctx context.Context, id int64) (Scope, error) {
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return Scope{}, err
	}
	return s.scope(ctx, inc)
}

func (s *Service) scope(ctx context.Context, inc store.Incident) (Scope, error) {
	from, to := s.window(inc)
	sc := Scope{From: from, To: to, Live: inc.Resolved.IsZero(), Now: Figures{ValueOut: []TokenAmount{}, ErrorLogs: []ServiceCount{}}}
	sc.DayBefore = sc.Now
	if s.d.Search == nil {
		return sc, nil
	}
	var err error
	if sc.Now, err = s.figures(ctx, inc, from, to); err != nil {
		return Scope{}, err
	}
	day := 24 * time.Hour
	if sc.DayBefore, err = s.figures(ctx, inc, from.Add(-day), to.Add(-day)); err != nil {
		return Scope{}, err
	}
	return sc, nil
}

// scopeQueries are the searches behind the figures of an incident.
type scopeQueries struct {
	failed, senders, valueOut, errorLogs string
}

func queriesFor(inc store.Incident) scopeQueries {
	var q scopeQueries
	if len(inc.Contracts) > 0 {
		to := orQuery("to", inc.Contracts)
		q.failed = "kind:tx status:failed " + to + " | stats count() as n"
		q.senders = "kind:tx " + to + " | stats count_distinct(from) as n"
		q.valueOut = "kind:event event:Transfer " + orQuery("attr.args.from", inc.Contracts) + " | stats sum(attr.args.value) as amount by contract"
	} else {
		q.failed = "kind:tx status:failed | stats count() as n"
		q.senders = "kind:tx status:failed | stats count_distinct(from) as n"
	}
	q.errorLogs = "-source:chain level:>=error"
	if len(inc.Services) > 0 {
		q.errorLogs += " " + orQuery("service", inc.Services)
	}
	q.errorLogs += " | stats count() as n by service"
	return q
}

func (s *Service) figures(ctx context.Context, inc store.Incident, from, to time.Time) (Figures, error) {
	qs := queriesFor(inc)
	f := Figures{ValueOut: []TokenAmount{}, ErrorLogs: []ServiceCount{}}
	run := func(text string) (store.Table, error) {
		q, err := query.Parse(text)
		if err != nil {
			return store.Table{}, fmt.Errorf("BUG: the scope query %q does not parse: %w", text, err)
		}
		t, err := s.d.Search.Table(ctx, store.SearchRequest{Query: q, From: from, To: to.Add(time.Second)})
		if err != nil {
			return store.Table{}, fmt.Errorf("cannot compute the scope of incident %d (%s): %w", inc.ID, text, err)
		}
		return t, nil
	}
	one := func(text string) (int64, error) {
		t, err := run(text)
		if err != nil || len(t.Rows) == 0 || len(t.Rows[0]) == 0 {
			return 0, err
		}
		return toInt(t.Rows[0][len(t.Rows[0])-1]), nil
	}
	var err error
	if f.FailedTxs, err = one(qs.failed); err != nil {
		return f, err
	}
	if f.Addresses, err = one(qs.senders); err != nil {
		return f, err
	}
	if qs.valueOut != "" {
		t, err := run(qs.valueOut)
		if err != nil {
			return f, err
		}
		ci, ai := col(t, "contract"), col(t, "amount")
		for _, r := range t.Rows {
			if ci < 0 || ai < 0 || r[ci] == nil || r[ai] == nil {
				continue
			}
			amt := toAmount(r[ai])
			if amt == "0" {
				continue
			}
			f.ValueOut = append(f.ValueOut, TokenAmount{Token: fmt.Sprint(r[ci]), Amount: amt})
		}
		sort.Slice(f.ValueOut, func(i, j int) bool { return f.ValueOut[i].Token < f.ValueOut[j].Token })
	}
	t, err := run(qs.errorLogs)
	if err != nil {
		return f, err
	}
	si, ni := col(t, "service"), col(t, "n")
	for _, r := range t.Rows {
		if ni < 0 {
			break
		}
		svc := ""
		if si >= 0 && r[si] != nil {
			svc = fmt.Sprint(r[si])
		}
		f.ErrorLogs = append(f.ErrorLogs, ServiceCount{Service: svc, Count: toInt(r[ni])})
	}
	sort.Slice(f.ErrorLogs, func(i, j int) bool {
		if f.ErrorLogs[i].Count != f.ErrorLogs[j].Count {
			return f.ErrorLogs[i].Count > f.ErrorLogs[j].Count
		}
		return f.ErrorLogs[i].Service < f.ErrorLogs[j].Service
	})
	return f, nil
}

func col(t store.Table, name string) int {
	for i, c := range t.Columns {
		if c == name {
			return i
		}
	}
	return -1
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// toAmount renders a sum as a whole number: the store sums as float64,
// so amounts past 2^53 are approximate in their low digits.
func toAmount(v any) string {
	switch x := v.(type) {
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return "0"
		}
		b, _ := new(big.Float).SetFloat64(math.Round(x)).Int(nil)
		return b.String()
	case string:
		return x
	}
	return fmt.Sprint(v)
}
