package indexer_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/blocktorch/blocktorch/internal/indexer"
)

// After a reorg of each depth, the store must equal a fresh index of the
// canonical chain: every orphaned row gone, every new one there.
func TestReorgs(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded chain test")
	}
	for _, depth := range []uint64{1, 5, 64} {
		t.Run(fmt.Sprintf("depth%d", depth), func(t *testing.T) {
			d := newDemoChain(t)
			d.grow(t, int(depth)+10)
			live := newEnv(t, d.chain.HTTPEndpoint(), tempDB(t, "live.db"), d.app, 16)
			var reorgs []indexer.ReorgInfo
			live.ix = indexer.New(live.rpc, live.st, indexer.Config{BatchSize: 16, Decode: live.reg.DecodeTx,
				Hooks: indexer.Hooks{OnReorg: func(r indexer.ReorgInfo) { reorgs = append(reorgs, r) }}})
			live.catchUp(t)
			before := dump(t, live.st)

			head := d.chain.Head().Number.Uint64()
			ancestor := head - depth
			orphan := d.chain.CanonicalHash(head)
			if err := d.chain.Fork(d.chain.CanonicalHash(ancestor)); err != nil {
				t.Fatal(err)
			}
			// The pool resets to the forked head on a goroutine of its own,
			// putting the orphaned transactions back; the diverging transfer
			// sent while that reset is due can be lost in it (seen once at
			// depth 64 under load: never mined). Rollback makes the pool
			// finish the reset now and empties it, so the fork's first
			// block holds the transfer and the traffic sent after it.
			d.chain.Rollback()
			// The new branch is one block longer, with other traffic, and
			// differs from the old one from its first block on.
			mark := d.diverge(t)
			d.grow(t, int(depth)+1)
			if r, err := d.eth.TransactionReceipt(context.Background(), mark); err != nil || r.BlockNumber.Uint64() != ancestor+1 {
				t.Fatalf("the fork's first block %d does not hold its diverging transfer: %v %v", ancestor+1, r, err)
			}
			if d.chain.CanonicalHash(head) == orphan {
				t.Fatalf("block %d was not replaced by the fork", head)
			}
			live.catchUp(t)

			if len(reorgs) != 1 {
				t.Fatalf("reorgs seen = %+v, want one", reorgs)
			}
			if r := reorgs[0]; r.Ancestor != ancestor || r.Depth != depth || r.OldHead.Hash != orphan {
				t.Fatalf("reorg = %+v, want ancestor %d depth %d", r, ancestor, depth)
			}
			fresh := newEnv(t, d.chain.HTTPEndpoint(), tempDB(t, "fresh.db"), d.app, 16)
			fresh.catchUp(t)
			got, want := dump(t, live.st), dump(t, fresh.st)
			if got != want {
				t.Fatalf("store after reorg differs from a fresh index at %s", firstDiff(got, want))
			}
			if got == before {
				t.Fatal("reorg changed nothing in the store")
			}
			c, err := live.st.Counts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := head + 2; uint64(c.Blocks) != want {
				t.Fatalf("blocks stored = %d, want %d", c.Blocks, want)
			}
		})
	}
}
