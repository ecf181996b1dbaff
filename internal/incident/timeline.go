package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// maxCollected bounds the entries collected from the data per source.
const maxCollected = 500

// contractEvents are the events of watched contracts the timeline shows:
// pause and unpause, roles, ownership.
var contractEvents = []string{"Paused", "Unpaused", "RoleGranted", "RoleRevoked", "RoleAdminChanged",
	"OwnershipTransferred", "OwnershipTransferStarted", "Upgraded", "AdminChanged"}

// window returns the incident's window: from its start to its resolution,
// or to now while it is open.
func (s *Service) window(inc store.Incident) (from, to time.Time) {
	to = inc.Resolved
	if to.IsZero() {
		to = s.opts.Now().UTC()
	}
	return inc.Started, to
}

// Timeline returns an incident's timeline, oldest first: the stored
// entries merged with what was collected from the data over its window
// (alert transitions, events of the affected contracts). Collected entries
// have ID 0.
func (s *Service) Timeline(ctx context.Context, id int64) ([]store.IncidentEntry, error) {
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.timeline(ctx, inc)
}

func (s *Service) timeline(ctx context.Context, inc store.Incident) ([]store.IncidentEntry, error) {
	stored, err := s.d.Store.IncidentEntries(ctx, inc.ID)
	if err != nil {
		return nil, err
	}
	refs := map[string]bool{}
	for _, e := range stored {
		if e.Ref != "" {
			refs[e.Ref] = true
		}
	}
	out := stored
	from, to := s.window(inc)
	// Alerts that fired up to a few minutes before the window opened are
	// the ones that led to it.
	alerts, err := s.collectAlerts(ctx, from.Add(-5*time.Minute), to)
	if err != nil {
		return nil, err
	}
	events, err := s.collectContractEvents(ctx, inc, from, to)
	if err != nil {
		return nil, err
	}
	for _, e := range append(alerts, events...) {
		if !refs[e.Ref] {
			e.IncidentID = inc.ID
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b store.IncidentEntry) int { return a.Time.Compare(b.Time) })
	return out, nil
}

func (s *Service) collectAlerts(ctx context.Context, from, to time.Time) ([]store.IncidentEntry, error) {
	if s.d.Alerts == nil {
		return nil, nil
	}
	var out []store.IncidentEntry
	var before int64
	for len(out) < maxCollected {
		evs, err := s.d.Alerts.AlertEvents(ctx, store.AlertQuery{Limit: 1000, Before: before})
		if err != nil {
			return nil, fmt.Errorf("cannot collect the alerts of the timeline: %w", err)
		}
		for _, ev := range evs {
			if ev.Time.Before(from) || ev.Time.After(to) {
				continue
			}
			if ev.Status != "firing" && ev.Status != "resolved" && ev.Status != "retracted" {
				continue
			}
			var det alertDetail
			if err := json.Unmarshal(ev.Detail, &det); err != nil {
				det = alertDetail{}
			}
			out = append(out, alertEntry(ev, det))
		}
		// History is newest first: stop once it is older than the window.
		if len(evs) < 1000 || evs[len(evs)-1].Time.Before(from) {
			break
		}
		before = evs[len(evs)-1].ID
	}
	return out, nil
}

// orQuery returns field:(a OR b …) with each value quoted.
func orQuery(field string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	return field + ":(" + strings.Join(q, " OR ") + ")"
}

// quote quotes a value for the search language.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

func (s *Service) collectContractEvents(ctx context.Context, inc store.Incident, from, to time.Time) ([]store.IncidentEntry, error) {
	if s.d.Search == nil || len(inc.Contracts) == 0 {
		return nil, nil
	}
	text := "kind:event " + orQuery("event", contractEvents) + " " + orQuery("contract", inc.Contracts)
	q, err := query.Parse(text)
	if err != nil {
		return nil, fmt.Errorf("BUG: the contract events query %q does not parse: %w", text, err)
	}
	var out []store.IncidentEntry
	_, err = s.d.Search.Search(ctx, store.SearchRequest{Query: q, From: from, To: to.Add(time.Second),
		Limit: maxCollected, Order: store.OldestFirst}, func(r record.Record) error {
		link := ""
		if len(r.TxHashes) > 0 {
			link = "/tx/" + r.TxHashes[0].Hex()
		}
		block := ""
		if r.Block != nil {
			block = " (block " + strconv.FormatUint(*r.Block, 10) + ")"
		}
		out = append(out, store.IncidentEntry{Time: r.Time, Kind: KindContract, Text: r.Message + block,
			Link: link, Author: "chain", Ref: "record:" + strconv.FormatInt(r.ID, 10)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot collect contract events for the timeline: %w", err)
	}
	return out, nil
}
