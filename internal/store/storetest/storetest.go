package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Run runs the suite. open must return a new, empty store for each call; the
// suite closes it.
//
// Beyond the interface documentation, the suite holds backends to these
// conventions, so that callers see the same data from every backend: times
// come back in UTC, chain times to the second and Contract.Added to the
// microsecond; Tx.Input, Log.Data and Log.Topics are never nil; empty revert
// data comes back nil; list methods return an empty, non-nil slice when
// nothing matches.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Empty", testEmpty},
		{"RoundTrip", testRoundTrip},
		{"ExtremeValues", testExtremeValues},
		{"Conflicts", testConflicts},
		{"Rollback", testRollback},
		{"RollbackToEmpty", testRollbackToEmpty},
		{"BlockPaging", testBlockPaging},
		{"TxFilters", testTxFilters},
		{"Limits", testLimits},
		{"LogFilters", testLogFilters},
		{"Contracts", testContracts},
		{"CanceledContext", testCanceledContext},
		{"ConcurrentReaders", testConcurrentReaders},
		{"ConcurrentWriters", testConcurrentWriters},
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

// mustWrite writes blocks and fails the test on error.
func mustWrite(t *testing.T, s store.Store, blocks []chain.Block) {
	t.Helper()
	if err := s.WriteBlocks(t.Context(), blocks); err != nil {
		t.Fatalf("WriteBlocks(%d-%d): %v", blocks[0].Number, blocks[len(blocks)-1].Number, err)
	}
}

// equal compares through JSON, the form every caller ends up seeing, and
// reports the first differing line.
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatalf("%s: cannot encode result: %v", what, err)
	}
	w, err := json.MarshalIndent(want, "", " ")
	if err != nil {
		t.Fatalf("%s: cannot encode expectation: %v", what, err)
	}
	if bytes.Equal(g, w) {
		return
	}
	gl, wl := strings.Split(string(g), "\n"), strings.Split(string(w), "\n")
	for i := range min(len(gl), len(wl)) {
		if gl[i] != wl[i] {
			lo := max(0, i-6)
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\ncontext (want):\n%s", what, i+1, gl[i], wl[i],
				strings.Join(wl[lo:min(len(wl), i+3)], "\n"))
		}
	}
	t.Fatalf("%s: got %d lines, want %d", what, len(gl), len(wl))
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// Expectations derived from written blocks.

// headerOnly returns the blocks as Blocks returns them: newest first,
// without transactions.
func headerOnly(blocks []chain.Block) []chain.Block {
	out := make([]chain.Block, 0, len(blocks))
	for _, b := range slices.Backward(blocks) {
		b.TxCount, b.Txs = len(b.Txs), nil
		out = append(out, b)
	}
	return out
}

// allTxs returns the transactions newest first, without logs, as Txs does.
func allTxs(blocks []chain.Block) []chain.Tx {
	out := []chain.Tx{}
	for _, b := range slices.Backward(blocks) {
		for _, tx := range slices.Backward(b.Txs) {
			tx.Logs = nil
			out = append(out, tx)
		}
	}
	return out
}

// allLogs returns the logs newest first, as Logs does.
func allLogs(blocks []chain.Block) []chain.Log {
	out := []chain.Log{}
	for _, b := range slices.Backward(blocks) {
		for _, tx := range slices.Backward(b.Txs) {
			for _, l := range slices.Backward(tx.Logs) {
				out = append(out, l)
			}
		}
	}
	return out
}

func filter[T any](xs []T, keep func(T) bool) []T {
	out := []T{}
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

func first[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[:n]
	}
	return xs
}

func testEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.Head(ctx)
	wantErr(t, "Head", err, store.ErrNotFound)
	_, err = s.Tail(ctx)
	wantErr(t, "Tail", err, store.ErrNotFound)
	_, err = s.BlockRef(ctx, 0)
	wantErr(t, "BlockRef(0)", err, store.ErrNotFound)
	_, err = s.Tx(ctx, TxHash(1, 1, 0))
	wantErr(t, "Tx", err, store.ErrNotFound)
	_, err = s.Contract(ctx, Addr(1))
	wantErr(t, "Contract", err, store.ErrNotFound)

	blocks, err := s.Blocks(ctx, store.BlockQuery{})
	if err != nil || blocks == nil || len(blocks) != 0 {
		t.Errorf("Blocks = %v, %v; want empty", blocks, err)
	}
	txs, err := s.Txs(ctx, store.TxQuery{})
	if err != nil || txs == nil || len(txs) != 0 {
		t.Errorf("Txs = %v, %v; want empty", txs, err)
	}
	logs, err := s.Logs(ctx, store.LogQuery{})
	if err != nil || logs == nil || len(logs) != 0 {
		t.Errorf("Logs = %v, %v; want empty", logs, err)
	}
	cs, err := s.Contracts(ctx)
	if err != nil || cs == nil || len(cs) != 0 {
		t.Errorf("Contracts = %v, %v; want empty", cs, err)
	}
	c, err := s.Counts(ctx)
	if err != nil || c != (store.Counts{}) {
		t.Errorf("Counts = %+v, %v; want zero", c, err)
	}
	if err := s.WriteBlocks(ctx, nil); err != nil {
		t.Errorf("WriteBlocks(nil) = %v, want nil", err)
	}
	if err := s.RollbackTo(ctx, 0); err != nil {
		t.Errorf("RollbackTo(0) on an empty store = %v, want nil", err)
	}
}

func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()
	// The first block is not 0: a store may start anywhere.
	blocks := Chain(1, 1000, BlockHash(0, 999), 12, 10, 5)
	mustWrite(t, s, blocks[:5])
	mustWrite(t, s, blocks[5:])

	head, err := s.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Head", head, blocks[11].Ref())
	tail, err := s.Tail(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Tail", tail, blocks[0].Ref())
	for _, b := range blocks {
		ref, err := s.BlockRef(ctx, b.Number)
		if err != nil {
			t.Fatalf("BlockRef(%d): %v", b.Number, err)
		}
		equal(t, "BlockRef", ref, b.Ref())
	}
	for _, n := range []uint64{0, 999, 1012, math.MaxInt64, math.MaxUint64} {
		_, err := s.BlockRef(ctx, n)
		wantErr(t, "BlockRef outside the stored range", err, store.ErrNotFound)
	}

	got, err := s.Blocks(ctx, store.BlockQuery{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Blocks", got, headerOnly(blocks))

	txs, err := s.Txs(ctx, store.TxQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Txs", txs, allTxs(blocks))

	var creations, failed, withLogs int
	for _, b := range blocks {
		for _, want := range b.Txs {
			got, err := s.Tx(ctx, want.Hash)
			if err != nil {
				t.Fatalf("Tx(%s): %v", want.Hash, err)
			}
			equal(t, "Tx", got, want)
			if want.To == nil {
				creations++
			}
			if want.Failed() {
				failed++
			}
			if len(want.Logs) > 0 {
				withLogs++
			}
		}
	}
	if creations == 0 || failed == 0 || withLogs == 0 {
		t.Fatalf("the fixture lacks a shape: %d creations, %d failed, %d with logs", creations, failed, withLogs)
	}

	logs, err := s.Logs(ctx, store.LogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	want := allLogs(blocks)
	equal(t, "Logs", logs, want)
	topicCounts := map[int]bool{}
	for _, l := range want {
		topicCounts[len(l.Topics)] = true
	}
	if len(topicCounts) != 5 {
		t.Fatalf("the fixture's logs have topic counts %v, want 0 to 4", topicCounts)
	}

	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Counts{Blocks: 12, Txs: int64(len(txs)), Logs: int64(len(want))}); c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
}

func testExtremeValues(t *testing.T, s store.Store) {
	ctx := t.Context()
	huge, _ := new(big.Int).SetString("115792089237316195423570985008687907853269984665640564039457584007913129639935", 10)
	b := Chain(7, 1<<38, BlockHash(7, 1<<38-1), 1, 3, 1)[0]
	b.GasUsed, b.GasLimit = math.MaxUint64, math.MaxUint64
	b.BaseFee = new(big.Int).Set(huge)
	x := &b.Txs[0]
	x.Nonce, x.Gas, x.GasUsed = math.MaxUint64, math.MaxUint64-1, 1<<63
	x.Value = new(big.Int).Set(huge)
	x.EffectiveGasPrice = nil // a node that reports no price
	x.Type = 255
	x.Input = bytes.Repeat([]byte{0xfe}, 100_000)
	x.Logs[0].Data = bytes.Repeat([]byte{0}, 10_000)
	y := &b.Txs[1]
	y.Value = new(big.Int) // zero
	y.Status = 0
	y.Logs = nil
	y.Revert = &chain.Revert{Kind: chain.RevertPanic, Name: "Panic", Message: "arithmetic overflow", PanicCode: 0x11,
		Args: []chain.Arg{{Name: "code", Type: "uint256", Value: "17"}}}
	y.RevertData = nil
	z := &b.Txs[2]
	z.Call = &chain.Call{Method: "weird", Signature: "weird(string)",
		Args: []chain.Arg{{Name: "s", Type: "string", Value: "quote\" backslash\\ nul\x00 emoji \U0001F525 ✓"}}}
	mustWrite(t, s, []chain.Block{b})

	for _, want := range b.Txs {
		got, err := s.Tx(ctx, want.Hash)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Tx", got, want)
	}
	got, err := s.Blocks(ctx, store.BlockQuery{})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Blocks", got, headerOnly([]chain.Block{b}))
	// Rolling back far above the head is a no-op.
	for _, n := range []uint64{1<<38 + 1, 1 << 41, math.MaxInt64, math.MaxUint64} {
		if err := s.RollbackTo(ctx, n); err != nil {
			t.Fatalf("RollbackTo(%d): %v", n, err)
		}
	}
	if head, err := s.Head(ctx); err != nil || head != b.Ref() {
		t.Fatalf("Head after no-op rollbacks = %v, %v; want %v", head, err, b.Ref())
	}
}

func testConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	base := Chain(1, 1, BlockHash(1, 0), 5, 2, 1)
	mustWrite(t, s, base)
	next := Chain(1, 6, base[4].Hash, 3, 2, 1)
	before, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		blocks func() []chain.Block
		want   error
	}{
		{"gap", func() []chain.Block { return next[1:] }, store.ErrConflict},
		{"wrong parent hash", func() []chain.Block {
			bs := slices.Clone(next)
			bs[0].ParentHash = BlockHash(9, 5)
			return bs
		}, store.ErrConflict},
		{"duplicate head", func() []chain.Block { return base[4:] }, store.ErrConflict},
		{"duplicate older block", func() []chain.Block { return base[1:2] }, store.ErrConflict},
		{"whole chain again", func() []chain.Block { return base }, store.ErrConflict},
		{"gap inside the batch", func() []chain.Block { return []chain.Block{next[0], next[2]} }, store.ErrConflict},
		{"descending batch", func() []chain.Block { return []chain.Block{next[1], next[0]} }, store.ErrConflict},
		{"wrong parent inside the batch", func() []chain.Block {
			bs := slices.Clone(next)
			bs[2].ParentHash = BlockHash(9, 7)
			return bs
		}, store.ErrConflict},
		{"transaction already stored", func() []chain.Block {
			bs := Chain(1, 6, base[4].Hash, 3, 2, 1)
			bs[2].Txs[1].Hash = base[0].Txs[0].Hash
			return bs
		}, store.ErrConflict},
		{"same transaction twice in the batch", func() []chain.Block {
			bs := Chain(1, 6, base[4].Hash, 3, 2, 1)
			bs[2].Txs[1].Hash = bs[0].Txs[0].Hash
			return bs
		}, store.ErrConflict},
		{"block hash already stored", func() []chain.Block {
			bs := Chain(1, 6, base[4].Hash, 1, 2, 1)
			bs[0].Hash = base[2].Hash
			return bs
		}, store.ErrConflict},
		{"tx count disagrees with the transactions", func() []chain.Block {
			bs := Chain(1, 6, base[4].Hash, 1, 2, 1)
			bs[0].TxCount = 3
			return bs
		}, store.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.WriteBlocks(ctx, tt.blocks())
			wantErr(t, "WriteBlocks", err, tt.want)
			head, err := s.Head(ctx)
			if err != nil || head != base[4].Ref() {
				t.Fatalf("Head after a refused write = %v, %v; want %v", head, err, base[4].Ref())
			}
			after, err := s.Counts(ctx)
			if err != nil || after != before {
				t.Fatalf("Counts after a refused write = %+v, %v; want %+v", after, err, before)
			}
			if _, err := s.Tx(ctx, next[0].Txs[0].Hash); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a transaction of the refused batch is stored: %v", err)
			}
		})
	}
	// The store still takes the right continuation.
	mustWrite(t, s, next)
}

func testRollback(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 1, BlockHash(1, 0), 10, 4, 2)
	mustWrite(t, s, blocks)

	if err := s.RollbackTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	kept := blocks[:6]
	if head, err := s.Head(ctx); err != nil || head != kept[5].Ref() {
		t.Fatalf("Head = %v, %v; want %v", head, err, kept[5].Ref())
	}
	for _, b := range blocks[6:] {
		_, err := s.BlockRef(ctx, b.Number)
		wantErr(t, "BlockRef of a rolled-back block", err, store.ErrNotFound)
		for _, tx := range b.Txs {
			_, err := s.Tx(ctx, tx.Hash)
			wantErr(t, "Tx of a rolled-back block", err, store.ErrNotFound)
		}
		n := b.Number
		txs, err := s.Txs(ctx, store.TxQuery{Block: &n})
		if err != nil || len(txs) != 0 {
			t.Fatalf("Txs of rolled-back block %d = %d, %v; want none", n, len(txs), err)
		}
	}
	checkAll(t, s, kept)

	// Rolling back at or above the head changes nothing.
	for _, n := range []uint64{6, 7, 1000} {
		if err := s.RollbackTo(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	checkAll(t, s, kept)

	// A different fork now extends block 6, and the old fork is refused.
	fork := Chain(2, 7, kept[5].Hash, 5, 3, 3)
	mustWrite(t, s, fork)
	wantErr(t, "the old fork's block 7 on top of the new fork", s.WriteBlocks(ctx, blocks[6:7]), store.ErrConflict)
	wantErr(t, "the old fork's block 12 on top of the new fork", s.WriteBlocks(ctx, Chain(1, 12, blocks[9].Hash, 1, 1, 1)), store.ErrConflict)
	checkAll(t, s, append(slices.Clone(kept), fork...))
}

// checkAll checks that the store holds exactly blocks, with their
// transactions and logs.
func checkAll(t *testing.T, s store.Store, blocks []chain.Block) {
	t.Helper()
	ctx := t.Context()
	got, err := s.Blocks(ctx, store.BlockQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Blocks", got, headerOnly(blocks))
	txs, err := s.Txs(ctx, store.TxQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Txs", txs, allTxs(blocks))
	logs, err := s.Logs(ctx, store.LogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Logs", logs, allLogs(blocks))
	c, err := s.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Counts{Blocks: int64(len(blocks)), Txs: int64(len(allTxs(blocks))), Logs: int64(len(allLogs(blocks)))}
	if c != want {
		t.Fatalf("Counts = %+v, want %+v", c, want)
	}
	for _, b := range blocks {
		for _, tx := range b.Txs {
			got, err := s.Tx(ctx, tx.Hash)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "Tx", got, tx)
		}
	}
}

func testRollbackToEmpty(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 100, BlockHash(1, 99), 3, 2, 2)
	mustWrite(t, s, blocks)
	if err := s.RollbackTo(ctx, 50); err != nil {
		t.Fatal(err)
	}
	_, err := s.Head(ctx)
	wantErr(t, "Head after rolling back below the tail", err, store.ErrNotFound)
	checkAll(t, s, nil)
	// An empty store takes any block again.
	other := Chain(3, 20, BlockHash(3, 19), 2, 1, 1)
	mustWrite(t, s, other)
	checkAll(t, s, other)
}

func testBlockPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 1, BlockHash(1, 0), 60, 0, 0)
	mustWrite(t, s, blocks)

	var pages [][]chain.Block
	var got []chain.Block
	q := store.BlockQuery{Limit: 25}
	for {
		page, err := s.Blocks(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, page)
		got = append(got, page...)
		q.Before = page[len(page)-1].Number
	}
	if len(pages) != 3 || len(pages[2]) != 10 {
		t.Fatalf("paging by 25 through 60 blocks gave %d pages", len(pages))
	}
	equal(t, "paged Blocks", got, headerOnly(blocks))

	tests := []struct {
		q    store.BlockQuery
		want []chain.Block
	}{
		{store.BlockQuery{}, first(headerOnly(blocks), 50)},
		{store.BlockQuery{Before: 11, Limit: 3}, headerOnly(blocks[7:10])},
		{store.BlockQuery{Before: 1}, []chain.Block{}},
		{store.BlockQuery{Before: math.MaxUint64, Limit: 2}, headerOnly(blocks[58:])},
	}
	for _, tt := range tests {
		got, err := s.Blocks(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Blocks", got, tt.want)
	}
	_, err := s.Blocks(ctx, store.BlockQuery{Limit: -1})
	wantErr(t, "Blocks with a negative limit", err, store.ErrInvalid)
}

func testTxFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 1, BlockHash(1, 0), 8, 12, 1)
	mustWrite(t, s, blocks)
	all := allTxs(blocks)

	block3, missing := uint64(3), uint64(99)
	created := *blocks[2].Txs[4].ContractAddress
	addrs := map[string]common.Address{"sender": Senders[1], "recipient": Recipients[0], "created": created}
	involves := func(a common.Address) func(chain.Tx) bool {
		return func(tx chain.Tx) bool {
			return tx.From == a || (tx.To != nil && *tx.To == a) || (tx.ContractAddress != nil && *tx.ContractAddress == a)
		}
	}
	tests := []struct {
		name string
		q    store.TxQuery
		keep func(chain.Tx) bool
	}{
		{"success", store.TxQuery{Status: "success", Limit: 1000}, func(tx chain.Tx) bool { return !tx.Failed() }},
		{"failed", store.TxQuery{Status: "failed", Limit: 1000}, func(tx chain.Tx) bool { return tx.Failed() }},
		{"block", store.TxQuery{Block: &block3}, func(tx chain.Tx) bool { return tx.BlockNumber == 3 }},
		{"missing block", store.TxQuery{Block: &missing}, func(chain.Tx) bool { return false }},
		{"failed in block", store.TxQuery{Block: &block3, Status: "failed"},
			func(tx chain.Tx) bool { return tx.BlockNumber == 3 && tx.Failed() }},
		{"sender", store.TxQuery{Address: ptr(addrs["sender"]), Limit: 1000}, involves(addrs["sender"])},
		{"recipient", store.TxQuery{Address: ptr(addrs["recipient"]), Limit: 1000}, involves(addrs["recipient"])},
		{"created contract", store.TxQuery{Address: ptr(created)}, involves(created)},
		{"recipient, limited", store.TxQuery{Address: ptr(addrs["recipient"]), Limit: 5}, involves(addrs["recipient"])},
		{"unknown address", store.TxQuery{Address: ptr(Addr(250))}, func(chain.Tx) bool { return false }},
		{"sender, failed, in block", store.TxQuery{Address: ptr(addrs["sender"]), Status: "failed", Block: &block3},
			func(tx chain.Tx) bool { return involves(addrs["sender"])(tx) && tx.Failed() && tx.BlockNumber == 3 }},
	}
	// A self-send matches sender and recipient; it must come back once.
	self := Chain(1, 9, blocks[7].Hash, 1, 1, 0)
	self[0].Txs[0].From = *self[0].Txs[0].To
	mustWrite(t, s, self)
	all = append(allTxs(self), all...)
	tests = append(tests, struct {
		name string
		q    store.TxQuery
		keep func(chain.Tx) bool
	}{"self-send", store.TxQuery{Address: self[0].Txs[0].To, Limit: 1000}, involves(*self[0].Txs[0].To)})

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Txs(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			limit := tt.q.Limit
			if limit == 0 {
				limit = 50
			}
			want := first(filter(all, tt.keep), limit)
			equal(t, "Txs", got, want)
		})
	}
	_, err := s.Txs(ctx, store.TxQuery{Status: "pending"})
	wantErr(t, "Txs with an unknown status", err, store.ErrInvalid)
	_, err = s.Txs(ctx, store.TxQuery{Limit: -5})
	wantErr(t, "Txs with a negative limit", err, store.ErrInvalid)
}

func ptr[T any](v T) *T { return &v }

func testLimits(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 1, BlockHash(1, 0), 60, 20, 2)
	mustWrite(t, s, blocks)
	all := allTxs(blocks)
	logs := allLogs(blocks)
	if len(all) <= 1000 || len(logs) <= 1000 {
		t.Fatalf("the fixture is too small to test the cap: %d txs, %d logs", len(all), len(logs))
	}
	for _, tt := range []struct{ limit, want int }{{0, 50}, {7, 7}, {1000, 1000}, {1001, 1000}, {math.MaxInt32, 1000}} {
		txs, err := s.Txs(ctx, store.TxQuery{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Txs", txs, all[:tt.want])
		got, err := s.Logs(ctx, store.LogQuery{Limit: tt.limit})
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Logs", got, logs[:tt.want])
	}
}

func testLogFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	blocks := Chain(1, 1, BlockHash(1, 0), 6, 8, 4)
	mustWrite(t, s, blocks)
	all := allLogs(blocks)
	other := hashOf(kindTopic, 1, 2, 9)
	tests := []struct {
		name string
		q    store.LogQuery
		keep func(chain.Log) bool
	}{
		{"all", store.LogQuery{Limit: 1000}, func(chain.Log) bool { return true }},
		{"address", store.LogQuery{Address: &Emitters[1], Limit: 1000}, func(l chain.Log) bool { return l.Address == Emitters[1] }},
		{"topic0", store.LogQuery{Topic0: &TransferTopic, Limit: 1000},
			func(l chain.Log) bool { return len(l.Topics) > 0 && l.Topics[0] == TransferTopic }},
		{"topic0 that is only ever a later topic", store.LogQuery{Topic0: &other}, func(chain.Log) bool { return false }},
		{"event", store.LogQuery{Event: "Transfer", Limit: 1000}, func(l chain.Log) bool { return l.Event != nil }},
		{"unknown event", store.LogQuery{Event: "Approval"}, func(chain.Log) bool { return false }},
		{"address and event", store.LogQuery{Address: &Emitters[0], Event: "Transfer", Limit: 1000},
			func(l chain.Log) bool { return l.Address == Emitters[0] && l.Event != nil }},
		{"address, topic0, limited", store.LogQuery{Address: &Emitters[0], Topic0: &TransferTopic, Limit: 3},
			func(l chain.Log) bool {
				return l.Address == Emitters[0] && len(l.Topics) > 0 && l.Topics[0] == TransferTopic
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Logs(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			limit := tt.q.Limit
			if limit == 0 {
				limit = 50
			}
			want := first(filter(all, tt.keep), limit)
			if len(want) == 0 && !strings.Contains(tt.name, "unknown") && !strings.Contains(tt.name, "only ever") {
				t.Fatal("the fixture has no log for this filter")
			}
			equal(t, "Logs", got, want)
		})
	}
	_, err := s.Logs(ctx, store.LogQuery{Limit: -1})
	wantErr(t, "Logs with a negative limit", err, store.ErrInvalid)
}

func testContracts(t *testing.T, s store.Store) {
	ctx := t.Context()
	added := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	token := store.Contract{Address: Addr(30), Name: "Token", ABI: json.RawMessage(`[{"type":"function","name":"transfer"}]`),
		Origin: "demo", Added: added}
	vault := store.Contract{Address: Addr(5), Name: "Vault", ABI: json.RawMessage(`[]`), Origin: "user", Added: added.Add(time.Hour)}
	for _, c := range []store.Contract{token, vault} {
		if err := s.PutContract(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Contract(ctx, token.Address)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Contract", got, token)
	list, err := s.Contracts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Contracts", list, []store.Contract{vault, token}) // ordered by address

	// Put replaces.
	token2 := token
	token2.Name, token2.Origin, token2.ABI = "TokenV2", "user", json.RawMessage(`[{"type":"event","name":"Transfer"}]`)
	token2.Added = added.Add(48 * time.Hour)
	if err := s.PutContract(ctx, token2); err != nil {
		t.Fatal(err)
	}
	got, err = s.Contract(ctx, token.Address)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Contract after replace", got, token2)
	list, err = s.Contracts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Contracts after replace", list, []store.Contract{vault, token2})

	_, err = s.Contract(ctx, Addr(31))
	wantErr(t, "Contract of an unknown address", err, store.ErrNotFound)
	bad := token
	bad.Address, bad.ABI = Addr(40), json.RawMessage(`[{"type":`)
	wantErr(t, "PutContract with a broken ABI", s.PutContract(ctx, bad), store.ErrInvalid)
	_, err = s.Contract(ctx, bad.Address)
	wantErr(t, "Contract refused earlier", err, store.ErrNotFound)
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	blocks := Chain(1, 1, BlockHash(1, 0), 2, 2, 2)
	if err := s.WriteBlocks(ctx, blocks); err == nil {
		t.Fatal("WriteBlocks with a canceled context succeeded")
	}
	if _, err := s.Head(t.Context()); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Head after a canceled write: %v, want ErrNotFound", err)
	}
	if _, err := s.Txs(ctx, store.TxQuery{}); err == nil {
		t.Fatal("Txs with a canceled context succeeded")
	}
}

// testConcurrentReaders reads while a writer appends and rolls back, and
// checks that every read sees a consistent snapshot. Run it with -race.
func testConcurrentReaders(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		batches    = 40
		perBatch   = 3
		txsPerBlk  = 4
		logsPerTx  = 2
		readers    = 4
		rollbackAt = 20
	)
	done := make(chan struct{})
	errs := make(chan error, readers+1)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		parent := BlockHash(1, 0)
		next := uint64(1)
		for i := range batches {
			bs := Chain(1, next, parent, perBatch, txsPerBlk, logsPerTx)
			if err := s.WriteBlocks(ctx, bs); err != nil {
				errs <- err
				return
			}
			parent, next = bs[perBatch-1].Hash, next+perBatch
			if i == rollbackAt {
				// Drop the last batch; the same blocks are written again next.
				if err := s.RollbackTo(ctx, next-perBatch-1); err != nil {
					errs <- err
					return
				}
				parent, next = BlockHash(1, next-perBatch-1), next-perBatch
			}
		}
	})
	for range readers {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := readOnce(ctx, s, txsPerBlk, logsPerTx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	head, err := s.Head(ctx)
	if want := uint64((batches - 1) * perBatch); err != nil || head.Number != want {
		t.Fatalf("Head after the writer = %v, %v; want block %d", head, err, want)
	}
}

// testConcurrentWriters races writers (two indexers, or two nodes on one
// database) for the same heights, on two forks: at each height exactly one
// batch is stored, every other writer gets ErrConflict, and the counts
// match the rows of the winners.
func testConcurrentWriters(t *testing.T, s store.Store) {
	ctx := t.Context()
	const (
		writers   = 4
		rounds    = 10
		perBatch  = 2
		txsPerBlk = 3
		logsPerTx = 2
	)
	mustWrite(t, s, Chain(1, 0, common.Hash{}, 1, 0, 0))
	for round := range rounds {
		head, err := s.Head(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			won       []byte
			conflicts int
		)
		for w := range writers {
			fork := byte(1 + w%2)
			wg.Go(func() {
				err := s.WriteBlocks(ctx, Chain(fork, head.Number+1, head.Hash, perBatch, txsPerBlk, logsPerTx))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won = append(won, fork)
				case errors.Is(err, store.ErrConflict):
					conflicts++
				default:
					t.Errorf("round %d: writer %d: %v", round, w, err)
				}
			})
		}
		wg.Wait()
		if len(won) != 1 || conflicts != writers-1 {
			t.Fatalf("round %d: %d writers stored their batch (forks %v), %d conflicted; want one and %d", round, len(won), won, conflicts, writers-1)
		}
		got, err := s.Head(ctx)
		if want := Chain(won[0], head.Number+1, head.Hash, perBatch, 0, 0)[perBatch-1]; err != nil || got != want.Ref() {
			t.Fatalf("round %d: head %v, %v; want the winner's %v", round, got, err, want.Ref())
		}
	}
	blocks := 1 + rounds*perBatch
	c, err := s.Counts(ctx)
	if want := (store.Counts{Blocks: int64(blocks), Txs: int64((blocks - 1) * txsPerBlk), Logs: int64((blocks - 1) * txsPerBlk * logsPerTx)}); err != nil || c != want {
		t.Fatalf("Counts = %+v, %v; want %+v", c, err, want)
	}
}

func readOnce(ctx context.Context, s store.Store, txsPerBlk, logsPerTx int) error {
	c, err := s.Counts(ctx)
	if err != nil {
		return err
	}
	// Each read sees whole batches: the counts agree with each other.
	okTxs := txsPerBlk - failedPerBlock(txsPerBlk)
	if c.Txs != c.Blocks*int64(txsPerBlk) || c.Logs != c.Blocks*int64(okTxs*logsPerTx) {
		return errors.New("Counts saw a partial write: " + jsonString(c))
	}
	head, err := s.Head(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	bs, err := s.Blocks(ctx, store.BlockQuery{Limit: 5})
	if err != nil {
		return err
	}
	for i := 1; i < len(bs); i++ {
		if bs[i-1].ParentHash != bs[i].Hash {
			return errors.New("Blocks returned a broken chain: " + jsonString(bs))
		}
	}
	txs, err := s.Txs(ctx, store.TxQuery{Block: &head.Number})
	if err != nil {
		return err
	}
	for _, x := range txs {
		got, err := s.Tx(ctx, x.Hash)
		if errors.Is(err, store.ErrNotFound) {
			continue // rolled back since
		}
		if err != nil {
			return err
		}
		if got.Hash != x.Hash || (!got.Failed() && len(got.Logs) != logsPerTx) {
			return errors.New("Tx returned a partial transaction: " + jsonString(got))
		}
	}
	return nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// failedPerBlock is how many of the n transactions of a block Chain makes
// fail.
func failedPerBlock(n int) int {
	var failed int
	for _, tx := range Chain(0, 1, common.Hash{}, 1, n, 0)[0].Txs {
		if tx.Failed() {
			failed++
		}
	}
	return failed
}
