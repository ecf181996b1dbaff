package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// MonitorBackend is what the monitor and outbox suite needs of a backend.
type MonitorBackend interface {
	store.MonitorStore
	store.Outbox
	Close() error
}

// RunMonitors runs the monitor (definitions, alerts, silences, series) and
// outbox suite. open must return a new, empty store for each call; the
// suite closes it.
func RunMonitors(t *testing.T, open func(t *testing.T) MonitorBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s MonitorBackend)
	}{
		{"MonitorSetReplaceIsAtomic", testMonitorSetReplaceIsAtomic},
		{"Alerts", testAlerts},
		{"Silences", testSilences},
		{"Series", testSeries},
		{"OutboxDedupesAndOrders", testOutboxDedupesAndOrders},
		{"OutboxConcurrentEnqueue", testOutboxConcurrentEnqueue},
		{"OutboxClaims", testOutboxClaims},
		{"OutboxParallelClaimers", testOutboxParallelClaimers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

func testMonitorSetReplaceIsAtomic(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	now := time.Unix(1700000000, 0).UTC()
	def := func(id string) store.MonitorDef {
		return store.MonitorDef{ID: id, Spec: []byte(`{"id":"` + id + `"}`), Updated: now}
	}
	if ms, err := db.MonitorDefs(ctx); err != nil || ms == nil || len(ms) != 0 {
		t.Fatalf("MonitorDefs of an empty store = %#v, %v; want an empty slice", ms, err)
	}
	if err := db.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "code", Monitors: []store.MonitorDef{def("a"), def("b")},
		Channels: []store.ChannelDef{{Name: "ops", Spec: []byte(`{}`)}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMonitor(ctx, store.MonitorDef{ID: "ui", Spec: []byte(`{}`), Origin: "api"}); err != nil {
		t.Fatal(err)
	}
	// "ui" belongs to the API: a file claiming it changes nothing.
	err := db.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "code", Monitors: []store.MonitorDef{def("c"), def("ui")}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claiming another origin's monitor: %v, want ErrConflict", err)
	}
	ms, _ := db.MonitorDefs(ctx)
	if len(ms) != 3 || ms[0].ID != "a" || ms[1].ID != "b" || ms[2].ID != "ui" {
		t.Fatalf("after a refused replace: %+v", ms)
	}
	if ms[0].Origin != "code" || string(ms[0].Spec) != `{"id":"a"}` || !ms[0].Updated.Equal(now) {
		t.Fatalf("monitor a = %+v", ms[0])
	}
	if err := db.SaveAlerts(ctx, []store.AlertState{{MonitorID: "a", Key: "k", State: []byte(`{}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendSeries(ctx, []store.SeriesPoint{{MonitorID: "a", Block: 1, Time: now, Value: "1"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "code", Monitors: []store.MonitorDef{def("c")}}); err != nil {
		t.Fatal(err)
	}
	ms, _ = db.MonitorDefs(ctx)
	if len(ms) != 2 || ms[0].ID != "c" || ms[1].ID != "ui" {
		t.Fatalf("after replace: %+v", ms)
	}
	if st, _ := db.AlertStates(ctx); len(st) != 0 {
		t.Fatalf("alert state of a deleted monitor survived: %+v", st)
	}
	if pts, _ := db.Series(ctx, "a", 0, 10, 0); len(pts) != 0 {
		t.Fatalf("series of a deleted monitor survived: %+v", pts)
	}
	if cs, _ := db.ChannelDefs(ctx); len(cs) != 0 {
		t.Fatalf("channels not replaced: %+v", cs)
	}
	if err := db.DeleteMonitor(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := db.SaveAlerts(ctx, []store.AlertState{{MonitorID: "ui", Key: "k", State: []byte(`{}`)}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMonitor(ctx, "ui"); err != nil {
		t.Fatal(err)
	}
	if st, _ := db.AlertStates(ctx); len(st) != 0 {
		t.Fatalf("alert state of a deleted monitor survived: %+v", st)
	}
}

func testAlerts(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 123456789).UTC()
	if err := db.SaveAlerts(ctx, nil, nil); err != nil {
		t.Fatalf("saving nothing: %v", err)
	}
	if err := db.SaveAlerts(ctx,
		[]store.AlertState{{MonitorID: "m1", Key: "a", State: []byte(`{"s":"pending"}`)}, {MonitorID: "m2", Key: "b", State: []byte(`{"s":"firing"}`)}},
		[]store.AlertEvent{
			{MonitorID: "m1", Key: "a", Status: "pending", Time: t0, Block: 7, Detail: []byte(`{"v":1}`)},
			{MonitorID: "m2", Key: "b", Status: "firing", Time: t0.Add(time.Second), Block: 8},
		}); err != nil {
		t.Fatal(err)
	}
	// Upsert one state, delete the other, append a third event.
	if err := db.SaveAlerts(ctx,
		[]store.AlertState{{MonitorID: "m1", Key: "a", State: []byte(`{"s":"firing"}`)}, {MonitorID: "m2", Key: "b"}},
		[]store.AlertEvent{{MonitorID: "m1", Key: "a", Status: "firing", Time: t0.Add(2 * time.Second)}}); err != nil {
		t.Fatal(err)
	}
	st, err := db.AlertStates(ctx)
	if err != nil || len(st) != 1 || st[0].MonitorID != "m1" || string(st[0].State) != `{"s":"firing"}` {
		t.Fatalf("AlertStates = %+v, %v", st, err)
	}
	all, err := db.AlertEvents(ctx, store.AlertQuery{})
	if err != nil || len(all) != 3 {
		t.Fatalf("AlertEvents = %+v, %v", all, err)
	}
	if all[0].Status != "firing" || all[0].MonitorID != "m1" || all[2].Block != 7 || !all[2].Time.Equal(t0) ||
		string(all[2].Detail) != `{"v":1}` || string(all[1].Detail) != `{}` || all[0].ID <= all[1].ID || all[1].ID <= all[2].ID {
		t.Fatalf("AlertEvents = %+v, want newest first with their blocks, times and details", all)
	}
	m1, err := db.AlertEvents(ctx, store.AlertQuery{MonitorID: "m1", Limit: 1})
	if err != nil || len(m1) != 1 || m1[0].ID != all[0].ID {
		t.Fatalf("AlertEvents(m1, 1) = %+v, %v", m1, err)
	}
	older, err := db.AlertEvents(ctx, store.AlertQuery{MonitorID: "m1", Before: all[0].ID})
	if err != nil || len(older) != 1 || older[0].ID != all[2].ID {
		t.Fatalf("AlertEvents(m1, before %d) = %+v, %v", all[0].ID, older, err)
	}
	if _, err := db.AlertEvents(ctx, store.AlertQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("negative limit = %v, want ErrInvalid", err)
	}
}

func testSilences(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 5).UTC()
	for _, s := range []store.Silence{
		{ID: "late", Matchers: []byte(`[{"name":"a"}]`), Comment: "c", CreatedBy: "op", Starts: t0, Ends: t0.Add(2 * time.Hour)},
		{ID: "soon", Matchers: []byte(`[]`), Starts: t0, Ends: t0.Add(time.Hour)},
		{ID: "over", Matchers: []byte(`[]`), Starts: t0.Add(-time.Hour), Ends: t0},
	} {
		if err := db.PutSilence(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ss, err := db.Silences(ctx, t0)
	if err != nil || len(ss) != 2 || ss[0].ID != "soon" || ss[1].ID != "late" || ss[1].Comment != "c" ||
		ss[1].CreatedBy != "op" || string(ss[1].Matchers) != `[{"name":"a"}]` || !ss[1].Starts.Equal(t0) {
		t.Fatalf("Silences = %+v, %v; want soon then late", ss, err)
	}
	if err := db.PutSilence(ctx, store.Silence{ID: "soon", Matchers: []byte(`[]`), Starts: t0, Ends: t0.Add(3 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if ss, _ = db.Silences(ctx, t0); len(ss) != 2 || ss[0].ID != "late" {
		t.Fatalf("after extending soon: %+v", ss)
	}
	if err := db.DeleteSilence(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSilence(ctx, "late"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}
}

func testSeries(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 0).UTC()
	var pts []store.SeriesPoint
	for b := uint64(1); b <= 10; b++ {
		pts = append(pts, store.SeriesPoint{MonitorID: "m", Block: b, Time: t0.Add(time.Duration(b) * time.Second), Value: fmt.Sprint(b * 10)})
	}
	pts = append(pts, store.SeriesPoint{MonitorID: "other", Block: 5, Time: t0, Value: "x"})
	if err := db.AppendSeries(ctx, pts); err != nil {
		t.Fatal(err)
	}
	// A point at a stored block replaces it.
	if err := db.AppendSeries(ctx, []store.SeriesPoint{{MonitorID: "m", Block: 3, Time: t0, Value: "replaced"}}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Series(ctx, "m", 2, 4, 0)
	if err != nil || len(got) != 3 || got[0].Block != 2 || got[1].Value != "replaced" || !got[1].Time.Equal(t0) || got[2].Value != "40" {
		t.Fatalf("Series(m, 2, 4) = %+v, %v", got, err)
	}
	if got, _ = db.Series(ctx, "m", 0, 100, 2); len(got) != 2 || got[0].Block != 1 {
		t.Fatalf("Series(m, limit 2) = %+v", got)
	}
	if err := db.DeleteSeriesAbove(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if got, _ = db.Series(ctx, "m", 0, 1<<63, 0); len(got) != 4 {
		t.Fatalf("after a rollback to 4: %+v", got)
	}
	if got, _ = db.Series(ctx, "other", 0, 100, 0); len(got) != 0 {
		t.Fatalf("the other monitor's point above 4 survived: %+v", got)
	}
	if got, err = db.Series(ctx, "m", 5, 4, 0); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("an empty range = %#v, %v; want an empty slice", got, err)
	}
}

func testOutboxDedupesAndOrders(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 123456789).UTC()
	if _, err := db.NextDue(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("NextDue of an empty outbox = %v, want ErrNotFound", err)
	}
	ds := []store.Delivery{
		{Key: "x/ops", Channel: "ops", Payload: []byte(`{"n":1}`), Created: t0, NextAttempt: t0.Add(time.Second)},
		{Key: "y/ops", Channel: "ops", Payload: []byte(`{"n":2}`), Created: t0, NextAttempt: t0},
	}
	n, err := db.Enqueue(ctx, ds)
	if err != nil || n != 2 {
		t.Fatalf("enqueue: %d, %v", n, err)
	}
	if n, err = db.Enqueue(ctx, ds[:1]); err != nil || n != 0 {
		t.Fatalf("enqueue again: %d, %v (want 0 new)", n, err)
	}
	due, err := db.Due(ctx, t0, 10)
	if err != nil || len(due) != 1 || due[0].Key != "y/ops" || due[0].State != store.DeliveryPending ||
		string(due[0].Payload) != `{"n":2}` || !due[0].Created.Equal(t0) {
		t.Fatalf("due at t0: %+v, %v", due, err)
	}
	next, err := db.NextDue(ctx)
	if err != nil || !next.Equal(t0) {
		t.Fatalf("next due %v, %v", next, err)
	}
	d := due[0]
	d.State, d.Attempts, d.LastError, d.Done = store.DeliveryDead, 3, "HTTP 500", t0
	if err := db.Settle(ctx, d); err != nil {
		t.Fatal(err)
	}
	dead, _ := db.Deliveries(ctx, store.DeliveryDead, 10)
	if len(dead) != 1 || dead[0].LastError != "HTTP 500" || dead[0].Attempts != 3 || !dead[0].Done.Equal(t0) {
		t.Fatalf("dead letters: %+v", dead)
	}
	unknown := d
	unknown.ID = d.ID + 1000
	if err := db.Settle(ctx, unknown); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Settle of an unknown delivery = %v, want ErrNotFound", err)
	}
	if err := db.Requeue(ctx, d.ID, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.Requeue(ctx, d.ID, t0); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("requeue of a pending delivery: %v", err)
	}
	due, _ = db.Due(ctx, t0.Add(time.Hour), 10)
	if len(due) != 2 || due[0].Key != "x/ops" {
		t.Fatalf("due after requeue: %+v", due)
	}
}

// Writers enqueueing the same alert transitions at once (two evaluations,
// or two nodes) add each key once, and their counts of new deliveries add
// up to the number of keys.
func testOutboxConcurrentEnqueue(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 0).UTC()
	const writers, keys = 4, 50
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added int
		errs  []error
	)
	for w := range writers {
		wg.Go(func() {
			for k := range keys {
				// Each writer walks the keys from a different place.
				key := fmt.Sprintf("alert-%d/ops", (k+w*keys/writers)%keys)
				n, err := db.Enqueue(ctx, []store.Delivery{{Key: key, Channel: "ops", Payload: []byte(`{}`), Created: t0, NextAttempt: t0}})
				mu.Lock()
				added += n
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d concurrent enqueues failed, the first: %v", len(errs), errs[0])
	}
	if added != keys {
		t.Fatalf("concurrent enqueues reported %d new deliveries, want %d", added, keys)
	}
	due, err := db.Due(ctx, t0, 1000)
	if err != nil || len(due) != keys {
		t.Fatalf("Due = %d deliveries, %v; want %d", len(due), err, keys)
	}
}

// A claim holds a delivery from other claimers until it ends or is
// settled; Settle writes only for the sender that holds the claim.
func testOutboxClaims(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 0).UTC()
	if _, err := db.Enqueue(ctx, []store.Delivery{
		{Key: "a/ops", Channel: "ops", Payload: []byte(`{}`), Created: t0, NextAttempt: t0},
		{Key: "b/ops", Channel: "ops", Payload: []byte(`{}`), Created: t0, NextAttempt: t0.Add(time.Second)},
		{Key: "c/ops", Channel: "ops", Payload: []byte(`{}`), Created: t0, NextAttempt: t0.Add(time.Hour)},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Claim(ctx, t0, 10, "", time.Minute); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("a claim without an owner: %v, want ErrInvalid", err)
	}
	got, err := db.Claim(ctx, t0.Add(time.Second), 10, "n1", time.Minute)
	if err != nil || len(got) != 2 || got[0].Key != "a/ops" || got[1].Key != "b/ops" {
		t.Fatalf("Claim = %+v, %v; want a/ops, b/ops", got, err)
	}
	for _, d := range got {
		if d.ClaimedBy != "n1" || !d.ClaimedUntil.Equal(t0.Add(time.Second+time.Minute)) {
			t.Fatalf("claimed delivery %s is held by %q until %v", d.Key, d.ClaimedBy, d.ClaimedUntil)
		}
	}
	if again, err := db.Claim(ctx, t0.Add(30*time.Second), 10, "n2", time.Minute); err != nil || len(again) != 0 {
		t.Fatalf("a second claimer got held deliveries: %+v, %v", again, err)
	}
	// Held deliveries are next due when their claim ends.
	if next, err := db.NextDue(ctx); err != nil || !next.Equal(t0.Add(time.Second+time.Minute)) {
		t.Fatalf("NextDue with claims held = %v, %v; want the claims' end", next, err)
	}

	// n1 delivers a; b's claim ends and n2 takes it, so n1 may no longer
	// settle it.
	a, b := got[0], got[1]
	a.State, a.Attempts, a.Done = store.DeliveryDelivered, 1, t0.Add(2*time.Second)
	if err := db.Settle(ctx, a); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(2 * time.Minute)
	taken, err := db.Claim(ctx, later, 10, "n2", time.Minute)
	if err != nil || len(taken) != 1 || taken[0].ID != b.ID || taken[0].ClaimedBy != "n2" {
		t.Fatalf("after b's claim ended, Claim = %+v, %v; want b for n2", taken, err)
	}
	b.State, b.Attempts, b.Done = store.DeliveryDelivered, 1, later
	if err := db.Settle(ctx, b); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Settle by a sender whose claim was taken = %v, want ErrConflict", err)
	}
	// n2 fails its attempt: the delivery is pending again, unclaimed.
	nb := taken[0]
	nb.Attempts, nb.LastError, nb.NextAttempt = 1, "HTTP 503", later.Add(time.Second)
	if err := db.Settle(ctx, nb); err != nil {
		t.Fatal(err)
	}
	pending, _ := db.Due(ctx, later.Add(time.Second), 10)
	if len(pending) != 1 || pending[0].ID != b.ID || pending[0].ClaimedBy != "" || pending[0].LastError != "HTTP 503" {
		t.Fatalf("after n2's failed attempt, due = %+v", pending)
	}
	if again, err := db.Claim(ctx, later.Add(time.Second), 10, "n1", time.Minute); err != nil || len(again) != 1 || again[0].ID != b.ID {
		t.Fatalf("a settled claim is not claimable again: %+v, %v", again, err)
	}
	delivered, _ := db.Deliveries(ctx, store.DeliveryDelivered, 10)
	if len(delivered) != 1 || delivered[0].ID != a.ID {
		t.Fatalf("delivered = %+v, want a only", delivered)
	}
}

// Claimers on several goroutines (on PostgreSQL, several connections)
// never get the same delivery, and together get every one.
func testOutboxParallelClaimers(t *testing.T, db MonitorBackend) {
	ctx := t.Context()
	t0 := time.Unix(1700000000, 0).UTC()
	const deliveries, claimers = 200, 6
	ds := make([]store.Delivery, deliveries)
	for i := range ds {
		ds[i] = store.Delivery{Key: fmt.Sprintf("k%03d/ops", i), Channel: "ops", Payload: []byte(`{}`), Created: t0, NextAttempt: t0}
	}
	if _, err := db.Enqueue(ctx, ds); err != nil {
		t.Fatal(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int64]string{}
		errs []error
	)
	for c := range claimers {
		owner := fmt.Sprintf("node-%d", c)
		wg.Go(func() {
			for {
				got, err := db.Claim(ctx, t0, 7, owner, time.Minute)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, d := range got {
					if prev, dup := seen[d.ID]; dup {
						errs = append(errs, fmt.Errorf("delivery %s claimed by %s and %s", d.Key, prev, owner))
					}
					seen[d.ID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("%d errors, the first: %v", len(errs), errs[0])
	}
	if len(seen) != deliveries {
		t.Fatalf("the claimers got %d deliveries, want all %d", len(seen), deliveries)
	}
	// Every claim ended: the deliveries are claimable again, once.
	again, err := db.Claim(ctx, t0.Add(time.Minute), 1000, "late", time.Minute)
	if err != nil || len(again) != deliveries {
		t.Fatalf("after the claims ended, Claim = %d deliveries, %v; want %d", len(again), err, deliveries)
	}
}
