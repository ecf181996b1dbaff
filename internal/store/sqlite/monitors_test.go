package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

func TestMonitorSetReplaceIsAtomic(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	now := time.Unix(1700000000, 0).UTC()
	def := func(id string) store.MonitorDef {
		return store.MonitorDef{ID: id, Spec: []byte(`{"id":"` + id + `"}`), Updated: now}
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
	if err := db.SaveAlerts(ctx, []store.AlertState{{MonitorID: "a", Key: "k", State: []byte(`{}`)}}, nil); err != nil {
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
	if cs, _ := db.ChannelDefs(ctx); len(cs) != 0 {
		t.Fatalf("channels not replaced: %+v", cs)
	}
	if err := db.DeleteMonitor(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
}

func TestOutboxDedupesAndOrders(t *testing.T) {
	db := openTemp(t)
	ctx := context.Background()
	t0 := time.Unix(1700000000, 123456789).UTC()
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
	if err != nil || len(due) != 1 || due[0].Key != "y/ops" {
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
	if len(dead) != 1 || dead[0].LastError != "HTTP 500" || dead[0].Attempts != 3 {
		t.Fatalf("dead letters: %+v", dead)
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
