package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// DashboardBackend is what the dashboard and share suite needs of a
// backend.
type DashboardBackend interface {
	store.DashboardStore
	store.ShareStore
	Close() error
}

// RunDashboards runs the dashboard, saved search and share link suite.
// open must return a new, empty store for each call; the suite closes it.
func RunDashboards(t *testing.T, open func(t *testing.T) DashboardBackend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s DashboardBackend)
	}{
		{"DashboardsAndSavedSearches", testDashboardsAndSavedSearches},
		{"Shares", testShares},
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

func testDashboardsAndSavedSearches(t *testing.T, db DashboardBackend) {
	ctx := t.Context()
	now := time.Unix(1700000000, 123).UTC()

	if _, err := db.Dashboard(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Dashboard(unknown) = %v, want ErrNotFound", err)
	}
	if err := db.PutDashboard(ctx, store.Dashboard{ID: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PutDashboard without a name = %v, want ErrInvalid", err)
	}
	if ds, err := db.Dashboards(ctx); err != nil || len(ds) != 0 {
		t.Fatalf("Dashboards of an empty store = %#v, %v; want none", ds, err)
	}
	for _, d := range []store.Dashboard{
		{ID: "b", Name: "Zeta", Spec: []byte(`{"panels":[]}`), Created: now, Updated: now},
		{ID: "a", Name: "Alpha", Spec: []byte(`{"panels":[1]}`), Created: now, Updated: now},
		{ID: "b", Name: "Beta", Spec: []byte(`{"panels":[2]}`), Created: now.Add(time.Hour), Updated: now.Add(time.Minute)},
		// Byte order, whatever the database's locale: "Z" sorts before "a".
		{ID: "c", Name: "alpha", Spec: []byte(`{ "kept" :  "as is" }`), Created: now, Updated: now},
	} {
		if err := db.PutDashboard(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := db.Dashboards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 3 || ds[0].Name != "Alpha" || ds[1].Name != "Beta" || ds[2].Name != "alpha" {
		t.Fatalf("Dashboards = %+v, want Alpha, Beta, alpha", ds)
	}
	if string(ds[2].Spec) != `{ "kept" :  "as is" }` {
		t.Fatalf("spec came back as %s, want the bytes stored", ds[2].Spec)
	}
	b, err := db.Dashboard(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	// Replacing keeps the creation time and takes the new spec.
	if string(b.Spec) != `{"panels":[2]}` || !b.Created.Equal(now) || !b.Updated.Equal(now.Add(time.Minute)) {
		t.Fatalf("Dashboard(b) = %+v", b)
	}
	if err := db.DeleteDashboard(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteDashboard(ctx, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete = %v, want ErrNotFound", err)
	}

	s := store.SavedSearch{ID: "s1", Name: "Failures", Query: "status:failed", From: "now-1h", Created: now, Updated: now}
	if err := db.PutSavedSearch(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := db.SavedSearch(ctx, "s1")
	if err != nil || got != s {
		t.Fatalf("SavedSearch = %+v, %v; want %+v", got, err, s)
	}
	ss, err := db.SavedSearches(ctx)
	if err != nil || len(ss) != 1 {
		t.Fatalf("SavedSearches = %v, %v", ss, err)
	}
	if err := db.DeleteSavedSearch(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SavedSearch(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SavedSearch after delete = %v, want ErrNotFound", err)
	}
	if err := db.DeleteSavedSearch(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete of a saved search = %v, want ErrNotFound", err)
	}
}

func testShares(t *testing.T, db DashboardBackend) {
	ctx := t.Context()
	now := time.Unix(1700000000, 0).UTC()
	sh := store.Share{ID: "s1", TokenHash: bytes.Repeat([]byte{1}, 32), Kind: store.ShareSnapshot, Target: "q", Title: "t",
		From: "2026-01-01T00:00:00Z", To: "2026-01-02T00:00:00Z", Expires: now.Add(time.Hour), Created: now,
		Snapshot: []byte(`{"records":[]}`)}
	if err := db.CreateShare(ctx, sh); err != nil {
		t.Fatal(err)
	}
	dup := sh
	dup.ID = "s2"
	if err := db.CreateShare(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same token hash = %v, want ErrConflict", err)
	}
	dup = sh
	dup.TokenHash = bytes.Repeat([]byte{3}, 32)
	if err := db.CreateShare(ctx, dup); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same ID = %v, want ErrConflict", err)
	}
	got, err := db.ShareByTokenHash(ctx, sh.TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "s1" || string(got.Snapshot) != `{"records":[]}` || !got.Expires.Equal(sh.Expires) || !got.Revoked.IsZero() {
		t.Fatalf("ShareByTokenHash = %+v", got)
	}
	if _, err := db.ShareByTokenHash(ctx, []byte{2}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token = %v, want ErrNotFound", err)
	}
	if err := db.RevokeShare(ctx, "s1", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeShare(ctx, "s1", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeShare(ctx, "zz", now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke unknown = %v, want ErrNotFound", err)
	}
	list, err := db.Shares(ctx)
	if err != nil || len(list) != 1 || !list[0].Revoked.Equal(now.Add(time.Minute)) || list[0].Snapshot != nil {
		t.Fatalf("Shares = %+v, %v; want one revoked at the first time, without its snapshot", list, err)
	}
	for _, a := range []string{"create", "use", "revoke"} {
		if err := db.LogShareEvent(ctx, store.ShareEvent{Time: now, ShareID: "s1", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	ev, err := db.ShareEvents(ctx, 2)
	if err != nil || len(ev) != 2 || ev[0].Action != "revoke" || ev[1].Action != "use" {
		t.Fatalf("ShareEvents = %+v, %v", ev, err)
	}
}
