package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// IncidentBackend is what the incident suite needs of a backend.
type IncidentBackend interface {
	store.IncidentStore
	store.FlagStore
	store.StatusComponentStore
	Close() error
}

// RunIncidents runs the incident, flag and status component suite. open
// must return a new, empty store for each call; the suite closes it.
func RunIncidents(t *testing.T, open func(t *testing.T) IncidentBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s IncidentBackend)
	}{
		{"Incidents", testIncidents},
		{"Timeline", testTimeline},
		{"Flags", testFlags},
		{"Components", testComponents},
		{"TemplatesAndAudit", testTemplatesAndAudit},
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

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 123456789, time.UTC)

func testIncidents(t *testing.T, s IncidentBackend) {
	ctx := t.Context()
	if _, err := s.Incident(ctx, 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Incident on empty store: %v, want ErrNotFound", err)
	}
	if got, err := s.Incidents(ctx, store.IncidentQuery{}); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Incidents on empty store = %v, %v; want empty, non-nil", got, err)
	}
	a := store.Incident{Title: "Oracle stale <script>", Severity: "critical", Status: "investigating", Owner: "ana",
		Contracts: []string{"0x00000000000000000000000000000000000000aa"}, Services: []string{"api"},
		Source: "alert", SourceRef: "oracle-stale/", Started: t0, Created: t0, Updated: t0,
		Postmortem: []byte(`{"rootCause":"x"}`)}
	a, err := s.CreateIncident(ctx, a)
	if err != nil || a.ID == 0 {
		t.Fatalf("CreateIncident = %d, %v", a.ID, err)
	}
	b, err := s.CreateIncident(ctx, store.Incident{Title: "public one", Severity: "minor", Status: "resolved",
		Public: true, PublicTitle: "Degraded deposits", Banner: "do not sign", Source: "hand",
		Started: t0, Resolved: t0.Add(time.Hour), Created: t0, Updated: t0})
	if err != nil || b.ID <= a.ID {
		t.Fatalf("second CreateIncident = %d, %v", b.ID, err)
	}
	got, err := s.Incident(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := a
	want.Channels = []string{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
	}
	got.Status, got.Resolved = "resolved", t0.Add(2*time.Hour)
	if err := s.UpdateIncident(ctx, got); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Incident(ctx, a.ID); !again.Resolved.Equal(got.Resolved) || again.Status != "resolved" {
		t.Errorf("after update: %+v", again)
	}
	if err := s.UpdateIncident(ctx, store.Incident{ID: 999}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateIncident(unknown) = %v, want ErrNotFound", err)
	}
	c, _ := s.CreateIncident(ctx, store.Incident{Title: "open", Status: "identified", Started: t0})
	ids := func(q store.IncidentQuery) []int64 {
		t.Helper()
		l, err := s.Incidents(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, i := range l {
			out = append(out, i.ID)
		}
		return out
	}
	for _, tc := range []struct {
		q    store.IncidentQuery
		want []int64
	}{
		{store.IncidentQuery{}, []int64{c.ID, b.ID, a.ID}},
		{store.IncidentQuery{Open: true}, []int64{c.ID}},
		{store.IncidentQuery{Public: true}, []int64{b.ID}},
		{store.IncidentQuery{Limit: 2}, []int64{c.ID, b.ID}},
	} {
		if got := ids(tc.q); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Incidents(%+v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if _, err := s.Incidents(ctx, store.IncidentQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: %v, want ErrInvalid", err)
	}
}

func testTimeline(t *testing.T, s IncidentBackend) {
	ctx := t.Context()
	inc, err := s.CreateIncident(ctx, store.Incident{Title: "t", Status: "investigating", Started: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: 42, Time: t0, Kind: "note"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("entry on unknown incident: %v, want ErrNotFound", err)
	}
	add := func(e store.IncidentEntry) store.IncidentEntry {
		t.Helper()
		e.IncidentID = inc.ID
		out, err := s.AddIncidentEntry(ctx, e)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	late := add(store.IncidentEntry{Time: t0.Add(time.Minute), Kind: "note", Text: "later", Author: "bo", Public: true, Notify: true})
	early := add(store.IncidentEntry{Time: t0, Kind: "alert", Text: "fired", Link: "/monitors", Ref: "alert:x"})
	dup, err := s.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: inc.ID, Time: t0.Add(time.Hour), Kind: "alert", Ref: "alert:x"})
	if !errors.Is(err, store.ErrConflict) || dup.ID != early.ID {
		t.Errorf("duplicate ref = %d, %v; want entry %d and ErrConflict", dup.ID, err, early.ID)
	}
	got, err := s.IncidentEntries(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := []store.IncidentEntry{early, late}; !reflect.DeepEqual(got, want) {
		t.Errorf("timeline:\n got %+v\nwant %+v", got, want)
	}
	if l, err := s.IncidentEntries(ctx, 999); err != nil || l == nil || len(l) != 0 {
		t.Errorf("timeline of unknown incident = %v, %v; want empty", l, err)
	}
}

func testFlags(t *testing.T, s IncidentBackend) {
	ctx := t.Context()
	f := store.Flag{Deployment: "app", Name: "borrow", Enabled: false, Percent: 0, Description: "Borrow button", Updated: t0, UpdatedBy: "ana"}
	for _, x := range []store.Flag{f, {Deployment: "app", Name: "deposit", Enabled: true, Percent: 100, Updated: t0},
		{Deployment: "beta", Name: "borrow", Enabled: true, Percent: 25, Updated: t0}} {
		if err := s.PutFlag(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	f.Enabled, f.Percent = true, 10
	if err := s.PutFlag(ctx, f); err != nil {
		t.Fatal(err)
	}
	app, err := s.Flags(ctx, "app")
	if err != nil || len(app) != 2 || !reflect.DeepEqual(app[0], f) || app[1].Name != "deposit" {
		t.Errorf("Flags(app) = %+v, %v", app, err)
	}
	if all, _ := s.Flags(ctx, ""); len(all) != 3 || all[2].Deployment != "beta" {
		t.Errorf("Flags('') = %+v", all)
	}
	if err := s.DeleteFlag(ctx, "app", "deposit"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteFlag(ctx, "app", "deposit"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteFlag = %v, want ErrNotFound", err)
	}
	if none, err := s.Flags(ctx, "nobody"); err != nil || none == nil || len(none) != 0 {
		t.Errorf("Flags(nobody) = %v, %v", none, err)
	}
}

func testComponents(t *testing.T, s IncidentBackend) {
	ctx := t.Context()
	for _, c := range []store.StatusComponent{{ID: "vault", Name: "Vault", Kind: "contract", Ref: "0xaa", Position: 2, Status: "degraded"},
		{ID: "api", Name: "API", Kind: "service", Ref: "api", Position: 1}, {ID: "b", Name: "B", Kind: "service", Ref: "b", Position: 2}} {
		if err := s.PutStatusComponent(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.StatusComponents(ctx)
	if err != nil || len(got) != 3 || got[0].ID != "api" || got[1].ID != "b" || got[2].ID != "vault" || got[2].Status != "degraded" || got[0].Status != "" {
		t.Errorf("StatusComponents = %+v, %v", got, err)
	}
	if err := s.DeleteStatusComponent(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStatusComponent(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
}

func testTemplatesAndAudit(t *testing.T, s IncidentBackend) {
	ctx := t.Context()
	if _, err := s.IncidentTemplate(ctx, "postmortem"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing template: %v, want ErrNotFound", err)
	}
	for _, body := range []string{"# one", "# two"} {
		if err := s.PutIncidentTemplate(ctx, "postmortem", body); err != nil {
			t.Fatal(err)
		}
		if got, err := s.IncidentTemplate(ctx, "postmortem"); got != body || err != nil {
			t.Errorf("template = %q, %v; want %q", got, err, body)
		}
	}
	if err := s.PutIncidentTemplate(ctx, "postmortem", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.IncidentTemplate(ctx, "postmortem"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted template: %v, want ErrNotFound", err)
	}
	for i, a := range []string{"open", "flag"} {
		if err := s.LogIncidentAudit(ctx, store.IncidentAudit{Time: t0.Add(time.Duration(i) * time.Second), Actor: "ana", Action: a, Target: "incident 1"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.IncidentAuditLog(ctx, 0)
	if err != nil || len(got) != 2 || got[0].Action != "flag" || !got[1].Time.Equal(t0) {
		t.Errorf("IncidentAuditLog = %+v, %v", got, err)
	}
}
