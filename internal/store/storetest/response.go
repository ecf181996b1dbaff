package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// ResponseRunBackend is what the response run suite needs of a backend.
type ResponseRunBackend interface {
	store.ResponseRunStore
	Close() error
}

// RunResponseRuns checks the history of response runs: append, the
// filters, newest first, and the steps kept byte for byte. open must
// return a new, empty store; the suite closes it.
func RunResponseRuns(t *testing.T, open func(t *testing.T) ResponseRunBackend) {
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 5).UTC()
	vault, feed := "0x5FbDB2315678afecb367f032d93F642f64180aa3", "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
	runs := []store.ResponseRun{
		{Trigger: "hand", Status: "mined", Contracts: []string{vault}, Steps: []byte(`[{"a":1}]`)},
		{Scenario: "pause-all", Trigger: "monitor:drain", DryRun: true, Status: "simulated", Contracts: []string{vault, feed}},
		{Scenario: "pause-all", Trigger: "hand", Status: "failed", Error: "the simulation reverts", Contracts: []string{feed}},
	}
	for i, r := range runs {
		r.Started, r.Finished = t0.Add(time.Duration(i)*time.Second), t0.Add(time.Duration(i)*time.Second+time.Millisecond)
		got, err := s.AddResponseRun(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Fatalf("run %d has no ID", i)
		}
	}
	if _, err := s.AddResponseRun(ctx, store.ResponseRun{Status: "x"}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a run without a trigger: %v, want ErrInvalid", err)
	}
	f := func(q store.ResponseRunQuery, want ...string) {
		t.Helper()
		got, err := s.ResponseRuns(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var ss []string
		for _, r := range got {
			ss = append(ss, fmt.Sprintf("%s/%s/%s/%t", r.Scenario, r.Trigger, r.Status, r.DryRun))
		}
		if !slices.Equal(ss, want) {
			t.Errorf("ResponseRuns(%+v) = %q, want %q", q, ss, want)
		}
	}
	f(store.ResponseRunQuery{}, "pause-all/hand/failed/false", "pause-all/monitor:drain/simulated/true", "/hand/mined/false")
	f(store.ResponseRunQuery{Limit: 1}, "pause-all/hand/failed/false")
	f(store.ResponseRunQuery{Contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3"}, "pause-all/monitor:drain/simulated/true", "/hand/mined/false")
	f(store.ResponseRunQuery{Contract: "0x5FBDB2315678AFECB367F032D93F642F64180AA"}) // a prefix is not the address
	f(store.ResponseRunQuery{Scenario: "pause-all", RealOnly: true}, "pause-all/hand/failed/false")
	f(store.ResponseRunQuery{Trigger: "monitor:drain"}, "pause-all/monitor:drain/simulated/true")
	all, _ := s.ResponseRuns(ctx, store.ResponseRunQuery{})
	last := all[len(all)-1]
	if string(last.Steps) != `[{"a":1}]` || !last.Started.Equal(t0) || last.Finished.Sub(last.Started) != time.Millisecond || last.Error != "" {
		t.Errorf("first run read back as %+v steps %s", last, last.Steps)
	}
	if _, err := s.ResponseRuns(ctx, store.ResponseRunQuery{Limit: -1}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("negative limit: %v", err)
	}
}
