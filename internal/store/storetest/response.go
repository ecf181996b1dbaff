package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// SafeProposalBackend is what the Safe proposal suite needs of a backend.
type SafeProposalBackend interface {
	store.SafeProposalStore
	Close() error
}

// RunSafeProposals checks proposed Safe transactions: put, replace, one
// by hash in any case, a Safe's list newest first, and the proposal kept
// byte for byte. open must return a new, empty store; the suite closes it.
func RunSafeProposals(t *testing.T, open func(t *testing.T) SafeProposalBackend) {
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx := context.Background()
	t0 := time.Unix(1_700_000_000, 7).UTC()
	safe, other := "0xEd05A656ABc375a0bFA80d9a97450db94bd73698", "0x5FbDB2315678afecb367f032d93F642f64180aa3"
	h1, h2, h3 := "0x"+strings.Repeat("a1", 32), "0x"+strings.Repeat("B2", 32), "0x"+strings.Repeat("c3", 32)
	for _, p := range []store.SafeProposal{
		{Hash: h1, Safe: safe, Nonce: 0, Created: t0, Proposal: []byte(`{"signatures":[]}`)},
		{Hash: h2, Safe: safe, Nonce: 1, Created: t0.Add(time.Second), Proposal: []byte(`{"n":2}`)},
		{Hash: h3, Safe: other, Nonce: 0, Created: t0.Add(2 * time.Second), Proposal: []byte(`{"n":3}`)},
	} {
		if err := s.PutSafeProposal(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// A signature added: the same hash replaced.
	if err := s.PutSafeProposal(ctx, store.SafeProposal{Hash: h1, Safe: safe, Created: t0, Proposal: []byte(`{"signatures":["x"]}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.SafeProposal(ctx, strings.ToUpper(h1))
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash != h1 || got.Safe != strings.ToLower(safe) || string(got.Proposal) != `{"signatures":["x"]}` || !got.Created.Equal(t0) {
		t.Errorf("SafeProposal read back as %+v %s", got, got.Proposal)
	}
	if _, err := s.SafeProposal(ctx, "0x"+strings.Repeat("00", 32)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an unknown proposal: %v, want ErrNotFound", err)
	}
	list, err := s.SafeProposals(ctx, strings.ToLower(safe))
	if err != nil {
		t.Fatal(err)
	}
	var hashes []string
	for _, p := range list {
		hashes = append(hashes, p.Hash)
	}
	if want := []string{strings.ToLower(h2), h1}; !slices.Equal(hashes, want) || list[0].Nonce != 1 {
		t.Errorf("SafeProposals = %q, want %q", hashes, want)
	}
	if list, err := s.SafeProposals(ctx, "0x000000000000000000000000000000000000dEaD"); err != nil || list == nil || len(list) != 0 {
		t.Errorf("a Safe without proposals: %v %v", list, err)
	}
	if err := s.PutSafeProposal(ctx, store.SafeProposal{Safe: safe, Proposal: []byte(`{}`)}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("a proposal without a hash: %v, want ErrInvalid", err)
	}
}
