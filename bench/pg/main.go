// Command pg measures the relational store on PostgreSQL against SQLite, its
// peer, in the same run on the same generated chain: the indexer's write
// path (WriteBlocks in batches, as the indexer commits them) and the read
// paths the API and monitors use (latest blocks, one transaction with its
// logs, an address's transactions, logs by event, a block range), single
// reader and with parallel readers (what several nodes serving reads put on
// one database). It prints blocks/s and p50/p95 latencies with the ratio
// PostgreSQL/SQLite for each.
//
// PostgreSQL is the server in -pg (default BLOCKTORCH_TEST_POSTGRES, else
// postgres://postgres@127.0.0.1:5432/postgres); the run creates a throwaway
// database there and drops it at the end.
//
//	go run ./bench/pg [-blocks 5000] [-reads 300] [-readers 3]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// backend is what the benchmark uses of a store.
type backend interface {
	store.Store
	store.BlockRangeReader
}

func main() {
	blocks := flag.Int("blocks", 5000, "blocks to write (batches of 100 blocks of 20 transactions with 3 logs each)")
	reads := flag.Int("reads", 300, "reads of each kind per reader")
	readers := flag.Int("readers", 3, "parallel readers in the concurrent read phase")
	pgURL := flag.String("pg", "", "PostgreSQL server URL (default BLOCKTORCH_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/postgres)")
	flag.Parse()
	if *pgURL == "" {
		*pgURL = os.Getenv("BLOCKTORCH_TEST_POSTGRES")
	}
	if *pgURL == "" {
		*pgURL = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	if err := run(*pgURL, *blocks/perBatch, *reads, *readers); err != nil {
		fmt.Fprintln(os.Stderr, "bench-pg:", err)
		os.Exit(1)
	}
}

const (
	perBatch  = 100
	txsPerBlk = 20
	logsPerTx = 3
)

type result struct {
	blocksPerSec float64
	reads        map[string][]time.Duration // by read kind, single reader
	parallel     map[string][]time.Duration // by read kind, all readers at once
}

func run(pgURL string, batches, reads, readers int) error {
	ctx := context.Background()
	if batches < 1 {
		batches = 1
	}
	chainData := make([][]chain.Block, batches)
	parent, next := storetest.BlockHash(1, 0), uint64(1)
	for i := range chainData {
		chainData[i] = storetest.Chain(1, next, parent, perBatch, txsPerBlk, logsPerTx)
		parent, next = chainData[i][perBatch-1].Hash, next+perBatch
	}

	dir, err := os.MkdirTemp("", "bench-pg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lite, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return err
	}
	defer lite.Close()
	// As the app runs it beside a records engine (the default): only the
	// relational chain tables are written, as on PostgreSQL.
	lite.SetChainRecords(false)

	dsn, drop, err := throwaway(ctx, pgURL)
	if err != nil {
		return err
	}
	defer drop()
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer pg.Close()

	fmt.Printf("chain: %d blocks, %d transactions, %d logs; %d reads of each kind, %d parallel readers\n\n",
		batches*perBatch, batches*perBatch*txsPerBlk, batches*perBatch*txsPerBlk*logsPerTx, reads, readers)
	res := map[string]result{}
	for _, b := range []struct {
		name string
		s    backend
	}{{"sqlite", lite}, {"postgres", pg}} {
		r, err := measure(ctx, b.s, chainData, reads, readers)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		res[b.name] = r
	}
	report(res, readers)
	return nil
}

// throwaway creates a database for this run and returns its URL and a
// function that drops it.
func throwaway(ctx context.Context, server string) (string, func(), error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("-pg: not a URL")
	}
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		return "", nil, fmt.Errorf("cannot connect to PostgreSQL at %s: %w", u.Redacted(), err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "bt_bench_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close(ctx)
		return "", nil, fmt.Errorf("cannot create the benchmark database: %w", err)
	}
	conn.Close(ctx)
	db := *u
	db.Path = "/" + name
	return db.String(), func() {
		conn, err := pgx.Connect(context.Background(), server)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench-pg: cannot drop %s: %v\n", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			fmt.Fprintf(os.Stderr, "bench-pg: cannot drop %s: %v\n", name, err)
		}
	}, nil
}

func measure(ctx context.Context, s backend, data [][]chain.Block, reads, readers int) (result, error) {
	r := result{reads: map[string][]time.Duration{}, parallel: map[string][]time.Duration{}}
	start := time.Now()
	for _, bs := range data {
		if err := s.WriteBlocks(ctx, bs); err != nil {
			return r, err
		}
	}
	r.blocksPerSec = float64(len(data)*perBatch) / time.Since(start).Seconds()

	head := uint64(len(data) * perBatch)
	// Each kind reads something different each time, spread over the chain.
	kinds := []struct {
		name string
		read func(i int) error
	}{
		{"latest 50 blocks", func(int) error { _, err := s.Blocks(ctx, store.BlockQuery{Limit: 50}); return err }},
		{"tx with logs", func(i int) error {
			n := 1 + uint64(i*7919)%head
			_, err := s.Tx(ctx, storetest.TxHash(1, n, i%txsPerBlk))
			return err
		}},
		{"address's 50 txs", func(i int) error {
			a := storetest.Addr(byte(1 + i%4))
			_, err := s.Txs(ctx, store.TxQuery{Limit: 50, Address: &a})
			return err
		}},
		{"failed 50 txs", func(int) error { _, err := s.Txs(ctx, store.TxQuery{Limit: 50, Status: "failed"}); return err }},
		{"logs by address", func(i int) error {
			a := storetest.Addr(byte(1 + i%4))
			_, err := s.Logs(ctx, store.LogQuery{Limit: 50, Address: &a})
			return err
		}},
		{"range of 10 blocks", func(i int) error {
			from := 1 + uint64(i*104729)%(head-10)
			_, err := s.BlockRange(ctx, from, from+9)
			return err
		}},
	}
	for _, k := range kinds {
		for i := range reads {
			t0 := time.Now()
			if err := k.read(i); err != nil {
				return r, fmt.Errorf("%s: %w", k.name, err)
			}
			r.reads[k.name] = append(r.reads[k.name], time.Since(t0))
		}
	}
	for _, k := range kinds {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
		)
		for w := range readers {
			wg.Go(func() {
				var ds []time.Duration
				for i := range reads {
					t0 := time.Now()
					if err := k.read(i + w*reads); err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					ds = append(ds, time.Since(t0))
				}
				mu.Lock()
				r.parallel[k.name] = append(r.parallel[k.name], ds...)
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(errs) > 0 {
			return r, fmt.Errorf("%s in parallel: %w", k.name, errs[0])
		}
	}
	return r, nil
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func report(res map[string]result, readers int) {
	lite, pg := res["sqlite"], res["postgres"]
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "write\tsqlite\tpostgres\tpostgres/sqlite\t")
	fmt.Fprintf(w, "blocks/s\t%.0f\t%.0f\t%.2f×\t\n", lite.blocksPerSec, pg.blocksPerSec, pg.blocksPerSec/lite.blocksPerSec)
	fmt.Fprintf(w, "txs/s\t%.0f\t%.0f\t\t\n", lite.blocksPerSec*txsPerBlk, pg.blocksPerSec*txsPerBlk)
	fmt.Fprintln(w, "\t\t\t\t")
	for _, phase := range []struct {
		name string
		get  func(result) map[string][]time.Duration
	}{
		{"one reader", func(r result) map[string][]time.Duration { return r.reads }},
		{fmt.Sprintf("%d readers at once", readers), func(r result) map[string][]time.Duration { return r.parallel }},
	} {
		fmt.Fprintf(w, "read, %s\tsqlite p50 / p95\tpostgres p50 / p95\tp50 postgres/sqlite\t\n", phase.name)
		a, b := phase.get(lite), phase.get(pg)
		for _, k := range []string{"latest 50 blocks", "tx with logs", "address's 50 txs", "failed 50 txs", "logs by address", "range of 10 blocks"} {
			fmt.Fprintf(w, "%s\t%s / %s\t%s / %s\t%.2f×\t\n", k, ms(pct(a[k], .5)), ms(pct(a[k], .95)),
				ms(pct(b[k], .5)), ms(pct(b[k], .95)), float64(pct(b[k], .5))/float64(pct(a[k], .5)))
		}
		fmt.Fprintln(w, "\t\t\t\t")
	}
	w.Flush()
}
