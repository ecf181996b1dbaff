package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// PatchCheckBackend is what the patch check suite needs of a backend.
type PatchCheckBackend interface {
	store.PatchCheckStore
	Close() error
}

// RunPatchChecks checks the keeping of patch checks: create, replace
// (a running check saved again when done), the run kept byte for byte,
// not found, bad input, and pruning that keeps the newest finished checks
// and every running one. open returns a new, empty store, or the store at
// the same place when reopen is set (a restart); the suite closes it.
func RunPatchChecks(t *testing.T, open func(t *testing.T, reopen bool) PatchCheckBackend) {
	ctx := context.Background()
	s := open(t, false)
	t0 := time.Unix(1_700_000_000, 7).UTC()
	run := func(i int) []byte {
		return fmt.Appendf(nil, `{"id":"c%d","report":{"txs":[{"where":"src/V2.sol:%d"}]}}`, i, i)
	}
	for i := range 5 {
		c := store.PatchCheck{ID: fmt.Sprintf("c%d", i), Target: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
			Started: t0.Add(time.Duration(i) * time.Second), Run: []byte(`{"running":true}`)}
		if err := s.PutPatchCheck(ctx, c); err != nil {
			t.Fatal(err)
		}
		// Checks 0 to 3 end; 4 is still running.
		if i < 4 {
			c.Done, c.Run = true, run(i)
			if err := s.PutPatchCheck(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, bad := range []store.PatchCheck{{Run: []byte(`{}`)}, {ID: "x"}} {
		if err := s.PutPatchCheck(ctx, bad); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("PutPatchCheck(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	if err := s.PrunePatchChecks(ctx, -1); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("PrunePatchChecks(-1): %v, want ErrInvalid", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart the checks are all there, as written.
	s = open(t, true)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	got, err := s.PatchCheck(ctx, "c2")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != "c2" || got.Target != "0x5fbdb2315678afecb367f032d93f642f64180aa3" || !got.Started.Equal(t0.Add(2*time.Second)) ||
		!got.Done || string(got.Run) != string(run(2)) {
		t.Errorf("c2 = %+v %s", got, got.Run)
	}
	if got, err := s.PatchCheck(ctx, "c4"); err != nil || got.Done || string(got.Run) != `{"running":true}` {
		t.Errorf("the running check: %+v %s (%v)", got, got.Run, err)
	}
	if _, err := s.PatchCheck(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown check: %v, want ErrNotFound", err)
	}

	// Pruning to two keeps the two newest finished checks and the running one.
	if err := s.PrunePatchChecks(ctx, 2); err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, false, true, true, true} {
		_, err := s.PatchCheck(ctx, fmt.Sprintf("c%d", i))
		if have := err == nil; have != want || (err != nil && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("after pruning to 2, c%d kept %v (%v), want %v", i, have, err, want)
		}
	}
}
