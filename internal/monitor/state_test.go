package monitor_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/monitor"
)

// TestStateWatchSelectsOutputAndSlot: on the demo's PriceFeed, a state
// watch reads latestRoundData's answer by name or index, and the same
// answer straight from storage (rounds is mapping(uint80 => Round) at slot
// 3, Round{answer, startedAt, updatedAt}); the dry run shows each value.
func TestStateWatchSelectsOutputAndSlot(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	r := newRig(t, 10, 0, monitor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r.run(t)
	stop := r.mine(t, 15*time.Millisecond)
	waitBlocks(t, r, 30)
	stop()
	head := r.chain.Head().Number.Uint64()
	waitIndexed(t, r, head)

	// What the contract itself answers at the head.
	feedABI, _ := r.app.ABI("PriceFeed")
	node := monitor.NewRPCNode(r.chain.Client())
	call := func(method string) []any {
		t.Helper()
		data, _ := feedABI.Pack(method)
		raw, err := node.CallAt(ctx, r.app.Feed, data, head)
		if err != nil {
			t.Fatal(err)
		}
		vals, err := feedABI.Unpack(method, raw)
		if err != nil {
			t.Fatal(err)
		}
		return vals
	}
	round := call("latestRound")[0].(*big.Int)
	latest := call("latestRoundData")
	answer, updatedAt := latest[1].(*big.Int).String(), latest[3].(*big.Int).String()

	want := map[string]string{
		"answer-by-name":     answer,
		"answer-by-index":    answer,
		"updated-at":         updatedAt,
		"answer-by-slot":     answer,
		"updated-at-by-slot": updatedAt,
	}
	f := monitor.File{Monitors: []monitor.Spec{
		{ID: "answer-by-name", Kind: monitor.KindState, Contract: "PriceFeed", Read: "latestRoundData().answer", Condition: "< 1"},
		{ID: "answer-by-index", Kind: monitor.KindState, Contract: "PriceFeed", Read: "latestRoundData()[1]", Condition: "< 1"},
		{ID: "updated-at", Kind: monitor.KindState, Contract: "PriceFeed", Read: "latestRoundData().updatedAt", Condition: "< 1"},
		{ID: "answer-by-slot", Kind: monitor.KindState, Contract: "PriceFeed", Slot: fmt.Sprintf("3[%s]", round), Condition: "< 1"},
		{ID: "updated-at-by-slot", Kind: monitor.KindState, Contract: "PriceFeed", Slot: fmt.Sprintf("3[%s].2", round), Condition: "< 1"},
	}}
	from := blockTime(t, r, head-10)
	res, err := r.eng.DryRun(ctx, f, from, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Monitors {
		if m.Skipped != "" || m.Block != head || m.Value != want[m.ID] {
			t.Errorf("%s: value %q at block %d (skipped %q), want %s at %d", m.ID, m.Value, m.Block, m.Skipped, want[m.ID], head)
		}
	}
}

func blockTime(t testing.TB, r *rig, n uint64) time.Time {
	t.Helper()
	bs, err := r.st.BlockRange(context.Background(), n, n)
	if err != nil || len(bs) != 1 {
		t.Fatalf("block %d: %v", n, err)
	}
	return bs[0].Time
}
