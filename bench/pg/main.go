// Command pg measures the relational store on PostgreSQL against SQLite, its
// peer, in the same run.
//
// The store phase writes the same generated chain into each backend in
// process: the indexer's write path (WriteBlocks in batches, as the
// indexer commits them), then the read paths the API and monitors use
// (latest blocks, one transaction with its logs, an address's
// transactions, logs by address, a block range), one reader and parallel
// readers. A third backend is PostgreSQL with the chain tables
// declaratively partitioned by block range (-partblocks blocks per
// partition), to see whether partitioning pays.
//
// The http phase runs real `blocktorch serve` processes on a real geth
// --dev filled with transfers: one on SQLite, one on PostgreSQL, each
// indexing the chain from block 0 (process start to synced), then the same
// HTTP clients reading the API from one node, and from -nodes nodes
// sharing the PostgreSQL database (clients spread across them). A node
// that cannot join the database (before the leader lease, a second node
// is refused) is reported as not measured.
//
// PostgreSQL is the server in -pg (default BLOCKTORCH_TEST_POSTGRES, else
// postgres://postgres@127.0.0.1:5432/postgres); the run creates throwaway
// databases there and drops them at the end.
//
//	go run ./bench/pg [-blocks 5000] [-reads 300] [-readers 3] [-phases store,http] [-nodes 3]
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
	phases := flag.String("phases", "store,http", "what to run: store (the store API in process) and http (serve processes on geth --dev)")
	nodes := flag.Int("nodes", 3, "serve processes sharing the PostgreSQL database in the http phase")
	clients := flag.Int("clients", 6, "HTTP clients reading at once in the http phase, spread across the nodes")
	httpTxs := flag.Int("httptxs", 3000, "transfers sent to geth --dev for the http phase")
	httpReads := flag.Int("httpreads", 50, "reads of each kind per client in the http phase")
	partBlocks := flag.Int("partblocks", 0, "blocks per partition of the partitioned chain tables (default: the chain in 10 partitions)")
	pgURL := flag.String("pg", "", "PostgreSQL server URL (default BLOCKTORCH_TEST_POSTGRES or postgres://postgres@127.0.0.1:5432/postgres)")
	flag.Parse()
	if *pgURL == "" {
		*pgURL = os.Getenv("BLOCKTORCH_TEST_POSTGRES")
	}
	if *pgURL == "" {
		*pgURL = "postgres://postgres@127.0.0.1:5432/postgres"
	}
	if *partBlocks <= 0 {
		*partBlocks = max(perBatch, *blocks/10)
	}
	if strings.Contains(*phases, "store") {
		if err := run(*pgURL, *blocks/perBatch, *reads, *readers, *partBlocks); err != nil {
			fmt.Fprintln(os.Stderr, "bench-pg:", err)
			os.Exit(1)
		}
	}
	if strings.Contains(*phases, "http") {
		fmt.Println()
		if err := benchNodes(context.Background(), *pgURL, *nodes, *clients, *httpTxs, *httpReads); err != nil {
			fmt.Fprintln(os.Stderr, "bench-pg:", err)
			os.Exit(1)
		}
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

func run(pgURL string, batches, reads, readers, partBlocks int) error {
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

	// The same schema with the chain tables declaratively partitioned by
	// block range, in a database of its own.
	partDSN, dropPart, err := throwaway(ctx, pgURL)
	if err != nil {
		return err
	}
	defer dropPart()
	part, err := postgres.Open(ctx, partDSN)
	if err != nil {
		return err
	}
	defer part.Close()
	nparts := (batches*perBatch + partBlocks - 1) / partBlocks
	if err := partition(ctx, partDSN, partBlocks, nparts+1); err != nil {
		return fmt.Errorf("cannot partition the chain tables: %w", err)
	}

	fmt.Printf("chain: %d blocks, %d transactions, %d logs; %d reads of each kind, %d parallel readers; partitioned: %d partitions of %d blocks per chain table\n\n",
		batches*perBatch, batches*perBatch*txsPerBlk, batches*perBatch*txsPerBlk*logsPerTx, reads, readers, nparts, partBlocks)
	res := map[string]result{}
	// Reads run on fresh planner statistics on every backend (autovacuum
	// never analyzes a partitioned parent table).
	for _, b := range []struct {
		name    string
		s       backend
		analyze func() error
	}{
		{"sqlite", lite, func() error { return sqlExec(ctx, filepath.Join(dir, "bench.db"), "ANALYZE") }},
		{"postgres", pg, func() error { return pgExec(ctx, dsn, "ANALYZE") }},
		{"partitioned", part, func() error { return pgExec(ctx, partDSN, "ANALYZE") }},
	} {
		r, err := measure(ctx, b.s, b.analyze, chainData, reads, readers)
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

func measure(ctx context.Context, s backend, analyze func() error, data [][]chain.Block, reads, readers int) (result, error) {
	r := result{reads: map[string][]time.Duration{}, parallel: map[string][]time.Duration{}}
	start := time.Now()
	for _, bs := range data {
		if err := s.WriteBlocks(ctx, bs); err != nil {
			return r, err
		}
	}
	r.blocksPerSec = float64(len(data)*perBatch) / time.Since(start).Seconds()
	if analyze != nil {
		if err := analyze(); err != nil {
			return r, err
		}
	}

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
	lite, pg, part := res["sqlite"], res["postgres"], res["partitioned"]
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "write\tsqlite\tpostgres\tpartitioned\tpostgres/sqlite\tpartitioned/postgres\t")
	fmt.Fprintf(w, "blocks/s\t%.0f\t%.0f\t%.0f\t%.2f×\t%.2f×\t\n", lite.blocksPerSec, pg.blocksPerSec, part.blocksPerSec,
		pg.blocksPerSec/lite.blocksPerSec, part.blocksPerSec/pg.blocksPerSec)
	fmt.Fprintf(w, "txs/s\t%.0f\t%.0f\t%.0f\t\t\t\n", lite.blocksPerSec*txsPerBlk, pg.blocksPerSec*txsPerBlk, part.blocksPerSec*txsPerBlk)
	fmt.Fprintln(w, "\t\t\t\t\t\t")
	for _, phase := range []struct {
		name string
		get  func(result) map[string][]time.Duration
	}{
		{"one reader", func(r result) map[string][]time.Duration { return r.reads }},
		{fmt.Sprintf("%d readers at once", readers), func(r result) map[string][]time.Duration { return r.parallel }},
	} {
		fmt.Fprintf(w, "read, %s (p50 / p95)\tsqlite\tpostgres\tpartitioned\tp50 postgres/sqlite\tp50 partitioned/postgres\t\n", phase.name)
		a, b, c := phase.get(lite), phase.get(pg), phase.get(part)
		for _, k := range []string{"latest 50 blocks", "tx with logs", "address's 50 txs", "failed 50 txs", "logs by address", "range of 10 blocks"} {
			fmt.Fprintf(w, "%s\t%s / %s\t%s / %s\t%s / %s\t%.2f×\t%.2f×\t\n", k, ms(pct(a[k], .5)), ms(pct(a[k], .95)),
				ms(pct(b[k], .5)), ms(pct(b[k], .95)), ms(pct(c[k], .5)), ms(pct(c[k], .95)),
				float64(pct(b[k], .5))/float64(pct(a[k], .5)), float64(pct(c[k], .5))/float64(pct(b[k], .5)))
		}
		fmt.Fprintln(w, "\t\t\t\t\t\t")
	}
	w.Flush()
}

// partition replaces the (empty) chain tables of the store at dsn by the
// same tables declaratively partitioned by block range: blocks by number,
// txs and logs by id (the block number in the high bits), n partitions of
// per blocks each. A unique index must hold the partition key, so the hash
// indexes are unique per (hash, key) only: global uniqueness of a hash
// cannot be enforced by a partitioned table.
func partition(ctx context.Context, dsn string, per, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	stmts := []string{}
	for _, t := range []struct{ name, key string }{{"blocks", "number"}, {"txs", "id"}, {"logs", "id"}} {
		stmts = append(stmts,
			`ALTER TABLE `+t.name+` RENAME TO `+t.name+`_plain`,
			`CREATE TABLE `+t.name+` (LIKE `+t.name+`_plain INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY RANGE (`+t.key+`)`,
			`DROP TABLE `+t.name+`_plain`,
			`ALTER TABLE `+t.name+` ADD PRIMARY KEY (`+t.key+`)`)
	}
	stmts = append(stmts,
		`CREATE UNIQUE INDEX blocks_hash ON blocks (hash, number)`,
		`CREATE INDEX blocks_time ON blocks (time, number)`,
		`CREATE UNIQUE INDEX txs_hash ON txs (hash, id)`,
		`CREATE INDEX txs_from ON txs (from_addr, id)`,
		`CREATE INDEX txs_to ON txs (to_addr, id) WHERE to_addr IS NOT NULL`,
		`CREATE INDEX txs_contract ON txs (contract_address, id) WHERE contract_address IS NOT NULL`,
		`CREATE INDEX txs_failed ON txs (id) WHERE status = 0`,
		`CREATE INDEX logs_address ON logs (address, id)`,
		`CREATE INDEX logs_topic0 ON logs (topic0, id) WHERE topic0 IS NOT NULL`,
		`CREATE INDEX logs_event_name ON logs (event_name, id) WHERE event_name IS NOT NULL`,
		`CREATE INDEX logs_tx_hash ON logs (tx_hash, id)`)
	for i := range n {
		lo, hi := int64(i*per), int64((i+1)*per)
		p := strconv.Itoa(i)
		stmts = append(stmts,
			fmt.Sprintf(`CREATE TABLE blocks_p%s PARTITION OF blocks FOR VALUES FROM (%d) TO (%d)`, p, lo, hi),
			fmt.Sprintf(`CREATE TABLE txs_p%s PARTITION OF txs FOR VALUES FROM (%d) TO (%d)`, p, lo<<20, hi<<20),
			fmt.Sprintf(`CREATE TABLE logs_p%s PARTITION OF logs FOR VALUES FROM (%d) TO (%d)`, p, lo<<24, hi<<24))
	}
	for _, q := range stmts {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return tx.Commit(ctx)
}

func pgExec(ctx context.Context, dsn, q string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, q)
	return err
}

func sqlExec(ctx context.Context, path, q string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}
