package vlogs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// open returns a ChainStore on a fresh SQLite file and a fresh engine
// in dir (a new temporary one when dir is "").
func open(t *testing.T, dir string) *vlogs.ChainStore {
	t.Helper()
	ctx := t.Context()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "blocktorch.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetChainRecords(false)
	e, err := vlogs.Open(ctx, filepath.Join(dir, "records"), vlogs.Options{CursorKey: db.CursorKey()})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	cs, err := vlogs.NewChainStore(ctx, db, e)
	if err != nil {
		e.Close()
		db.Close()
		t.Fatal(err)
	}
	return cs
}

// TestSearch runs the storetest search suite on the embedded engine.
func TestSearch(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return open(t, "") })
}

// chainOf returns blocks from..to of a fork: two transactions each, the
// first with a Transfer event, every hash naming the fork.
func chainOf(fork byte, parent common.Hash, from, to uint64) []chain.Block {
	var out []chain.Block
	token := storetest.Addr(7)
	for n := from; n <= to; n++ {
		b := chain.Block{Number: n, Hash: storetest.BlockHash(fork, n), ParentHash: parent,
			Time: storetest.CorpusStart.Add(time.Duration(n) * 12 * time.Second), GasLimit: 30_000_000}
		for j := range 2 {
			h := common.BigToHash(new(big.Int).SetUint64(uint64(fork)<<56 | n<<8 | uint64(j)))
			tx := chain.Tx{Hash: h, BlockNumber: n, BlockHash: b.Hash, Index: uint(j), Time: b.Time, Type: 2,
				From: storetest.Addr(byte(1 + j)), To: &token, Value: big.NewInt(int64(fork)), Nonce: n,
				Gas: 100_000, Input: []byte{}, Status: 1, GasUsed: 50_000 + uint64(fork), EffectiveGasPrice: big.NewInt(1)}
			if j == 0 {
				tx.Logs = []chain.Log{{Address: token, Topics: []common.Hash{storetest.TransferTopic}, Data: []byte{fork},
					BlockNumber: n, BlockHash: b.Hash, TxHash: h, Index: 0}}
			}
			b.Txs = append(b.Txs, tx)
		}
		b.TxCount = len(b.Txs)
		out = append(out, b)
		parent = b.Hash
	}
	return out
}

// logsOf are off-chain records over the blocks' times.
func logsOf(n int) []record.Record {
	var out []record.Record
	for i := range n {
		out = append(out, record.Record{Time: storetest.CorpusStart.Add(time.Duration(i) * 7 * time.Second),
			Source: record.SourceApp, Kind: record.KindLog, Level: "info", Service: "api",
			Message: fmt.Sprintf("request %d served", i), Attrs: map[string]any{"n": int64(i)}})
	}
	return out
}

// view is what searches show of a store: every record (IDs left out,
// since they are assigned per store), a histogram and a stats table.
func view(t *testing.T, s storetest.SearchStore) string {
	t.Helper()
	ctx := t.Context()
	var b strings.Builder
	req := store.SearchRequest{Limit: query.MaxLimit, Order: store.OldestFirst}
	for {
		next, err := s.Search(ctx, req, func(r record.Record) error {
			r.ID = 0
			j, _ := json.Marshal(r)
			b.Write(j)
			b.WriteByte('\n')
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if next == "" {
			break
		}
		req.Cursor = next
	}
	q, err := query.Parse("source:chain | stats count(), sum(gasUsed) by kind")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := s.Table(ctx, store.SearchRequest{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := s.Histogram(ctx, store.SearchRequest{}, 20)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "%v\n%v\n", tab, hist)
	return b.String()
}

// A reorg of depth 1, 5 or 64 leaves search results equal to those of a
// fresh index of the new chain: the orphaned blocks' chain records are
// gone, the new blocks' are there, off-chain records untouched.
func TestReorgEqualsFreshIndex(t *testing.T) {
	const head = 80
	genesis := storetest.BlockHash('g', 0)
	for _, depth := range []uint64{1, 5, 64} {
		t.Run(strconv.FormatUint(depth, 10), func(t *testing.T) {
			ctx := t.Context()
			old := chainOf('a', genesis, 1, head)
			keep := old[:head-depth]
			fork := chainOf('b', keep[len(keep)-1].Hash, head-depth+1, head+2)
			logs := logsOf(100)

			s := open(t, "")
			defer s.Close()
			for i := 0; i < len(old); i += 10 {
				if err := s.WriteBlocks(ctx, old[i:min(i+10, len(old))]); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.AppendRecords(ctx, logs[:50]); err != nil {
				t.Fatal(err)
			}
			if err := s.RollbackTo(ctx, head-depth); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteBlocks(ctx, fork); err != nil {
				t.Fatal(err)
			}
			if err := s.AppendRecords(ctx, logs[50:]); err != nil {
				t.Fatal(err)
			}

			fresh := open(t, "")
			defer fresh.Close()
			// The same history without the orphaned blocks: records of
			// equal time keep the order they were stored in.
			if err := fresh.WriteBlocks(ctx, keep); err != nil {
				t.Fatal(err)
			}
			if err := fresh.AppendRecords(ctx, logsOf(100)[:50]); err != nil {
				t.Fatal(err)
			}
			if err := fresh.WriteBlocks(ctx, fork); err != nil {
				t.Fatal(err)
			}
			if err := fresh.AppendRecords(ctx, logsOf(100)[50:]); err != nil {
				t.Fatal(err)
			}
			got, want := view(t, s), view(t, fresh)
			if got != want {
				t.Fatalf("after a reorg of depth %d:\n%.2000s\nfresh index:\n%.2000s", depth, got, want)
			}
			if n := strings.Count(got, `"source":"chain"`); n != int(head+2)*3 {
				t.Fatalf("%d chain records, want %d", n, (head+2)*3)
			}
		})
	}
}

// A rollback cut short by a crash, after its intent was written, is
// finished when the store opens again.
func TestRollbackIntentFinishedAtOpen(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.WriteBlocks(ctx, chainOf('a', storetest.BlockHash('g', 0), 1, 10)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "records", "rollback"), []byte("4"), 0o600); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir)
	defer s.Close()
	head, err := s.Head(ctx)
	if err != nil || head.Number != 4 {
		t.Fatalf("head after the interrupted rollback: %v, %v; want 4", head.Number, err)
	}
	q, err := query.Parse("source:chain | stats max(block), count()")
	if err != nil {
		t.Fatal(err)
	}
	tab, err := s.Table(ctx, store.SearchRequest{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(tab.Rows) != "[[4 12]]" {
		t.Fatalf("chain records after the interrupted rollback: %v, want block 4 at most, 12 records", tab.Rows)
	}
	if _, err := os.Stat(filepath.Join(dir, "records", "rollback")); !os.IsNotExist(err) {
		t.Fatalf("the intent is still there: %v", err)
	}
}

// A query that runs past the engine's limit fails with a clear error the
// API answers with 400, naming the limit; the engine goes on answering.
func TestQueryTimeout(t *testing.T) {
	ctx := t.Context()
	e, err := vlogs.Open(ctx, t.TempDir(), vlogs.Options{QueryTimeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if err := e.AppendRecords(ctx, logsOf(10)); err != nil {
		t.Fatal(err)
	}
	_, err = e.Search(ctx, store.SearchRequest{}, func(record.Record) error { return nil })
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "limit of 1ns") {
		t.Fatalf("a query past the limit: %v", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.Search(canceled, store.SearchRequest{}, func(record.Record) error { return nil }); errors.Is(err, store.ErrInvalid) || err == nil {
		t.Fatalf("a canceled query: %v, want the context's error", err)
	}
}

// TestCloseWaitsForCalls closes the engine while appends and searches run:
// Close waits for the calls in progress (the storage must not be in use
// when it closes), and every later call fails with ErrClosed.
func TestCloseWaitsForCalls(t *testing.T) {
	ctx := t.Context()
	e, err := vlogs.Open(ctx, t.TempDir(), vlogs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{}, 4)
	errs := make(chan error, 4)
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				var err error
				if w%2 == 0 {
					err = e.AppendRecords(ctx, logsOf(20))
				} else {
					_, err = e.Search(ctx, store.SearchRequest{}, func(record.Record) error { return nil })
				}
				if i == 0 {
					started <- struct{}{}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range 4 {
		<-started
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-errs; !errors.Is(err, vlogs.ErrClosed) {
			t.Errorf("a call once the engine closed: %v, want ErrClosed", err)
		}
	}
	if err := e.AppendRecords(ctx, logsOf(1)); !errors.Is(err, vlogs.ErrClosed) {
		t.Errorf("an append after Close: %v, want ErrClosed", err)
	}
}
