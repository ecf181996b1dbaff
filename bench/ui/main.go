// Command ui times what the web UI asks the API for on its busiest pages,
// over a records engine holding a large demo-like corpus: every panel of
// the home dashboard (GET /api/v1/chart with the panel's query) and the
// Explore histogram (GET /api/v1/search/histogram), each over the last
// hour and the last day, with p50 and p95 per call.
//
// The records live in the engine -engine names: embedded (the default,
// VictoriaLogs' storage in process, package vlogs) or sqlite; dashboards
// are in SQLite either way. The corpus is written straight through the
// engine's AppendRecords in batches: transactions (a tenth failed), their
// events and reverts, and application logs, spread evenly over the week
// before now.
//
//	go run ./bench/ui [-records 5000000] [-reps 15] [-days 7] [-engine embedded|sqlite] [-db dir]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
	"github.com/blocktorch/blocktorch/internal/web"
)

func main() {
	records := flag.Int("records", 5_000_000, "records in the store")
	reps := flag.Int("reps", 15, "timed runs per call")
	days := flag.Int("days", 7, "days the corpus spans, ending now")
	dbPath := flag.String("db", "", "reuse the stores in this directory (created and filled when missing); default a temporary one")
	eng := flag.String("engine", "embedded", "records engine: embedded or sqlite")
	flag.Parse()
	if *eng != "embedded" && *eng != "sqlite" {
		fmt.Fprintln(os.Stderr, "bench-ui: -engine must be embedded or sqlite")
		os.Exit(2)
	}
	if err := run(*records, *reps, *days, *dbPath, *eng); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ui:", err)
		os.Exit(1)
	}
}

// engine is the records engine under test.
type engine interface {
	store.RecordWriter
	store.Searcher
}

func run(n, reps, days int, dir, engName string) error {
	ctx := context.Background()
	fill := true
	if dir == "" {
		tmp, err := os.MkdirTemp("", "bench-ui-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if _, err := os.Stat(filepath.Join(dir, "ui-"+engName+".done")); err == nil {
		fill = false
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ui.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	var eng engine = db
	if engName == "embedded" {
		e, err := vlogs.Open(ctx, filepath.Join(dir, "records"), vlogs.Options{CursorKey: db.CursorKey()})
		if err != nil {
			return err
		}
		defer e.Close()
		eng = e
	}
	end := time.Now()
	if !fill {
		// The corpus ends when it was written.
		b, err := os.ReadFile(filepath.Join(dir, "ui-"+engName+".done"))
		if err != nil {
			return err
		}
		if end, err = time.Parse(time.RFC3339Nano, string(b)); err != nil {
			return err
		}
	}
	if fill {
		start := time.Now()
		if err := generate(ctx, eng, n, end.Add(-time.Duration(days)*24*time.Hour), end); err != nil {
			return err
		}
		el := time.Since(start)
		fmt.Printf("stored %d records in %s (%.0f records/s) on the %s engine\n", n, el.Round(time.Second), float64(n)/el.Seconds(), engName)
		if err := os.WriteFile(filepath.Join(dir, "ui-"+engName+".done"), []byte(end.Format(time.RFC3339Nano)), 0o644); err != nil {
			return err
		}
	}

	srv, err := web.New(web.Deps{Chain: db, Contracts: db, Search: eng, Dashboards: db, Shares: db})
	if err != nil {
		return err
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	type call struct{ name, path string }
	var calls []call
	// Absolute ranges ending at the corpus's end, so that a reused corpus
	// is timed over the same records.
	at := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for _, rng := range []struct{ label, from string }{{"1h", at(end.Add(-time.Hour))}, {"24h", at(end.Add(-24 * time.Hour))}} {
		for _, p := range dashboard.Home().Spec.Panels {
			if p.Query == "" {
				continue
			}
			calls = append(calls, call{"home " + p.ID + " " + rng.label, "/api/v1/chart?" + url.Values{"q": {p.Query}, "from": {rng.from}, "to": {at(end)}}.Encode()})
		}
		calls = append(calls, call{"explore histogram * " + rng.label, "/api/v1/search/histogram?" + url.Values{"q": {"*"}, "from": {rng.from}, "to": {at(end)}, "buckets": {"60"}}.Encode()})
		calls = append(calls, call{"explore histogram level:error " + rng.label, "/api/v1/search/histogram?" + url.Values{"q": {"level:error"}, "from": {rng.from}, "to": {at(end)}, "buckets": {"60"}}.Encode()})
	}

	// CPU time of the process per call (server and client share it; the
	// client's part is small): unlike wall time, it does not grow with
	// what else the machine runs.
	fmt.Printf("%-40s %9s %9s %9s %11s\n", "call", "p50 ms", "p95 ms", "max ms", "CPU p50 ms")
	for _, c := range calls {
		var ds, cpu []time.Duration
		for i := range reps + 1 {
			t0, c0 := time.Now(), selfCPU()
			if err := get(ts.URL + c.path); err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			if i > 0 { // the first run warms the page cache
				ds = append(ds, time.Since(t0))
				cpu = append(cpu, selfCPU()-c0)
			}
		}
		slices.Sort(ds)
		slices.Sort(cpu)
		fmt.Printf("%-40s %9.1f %9.1f %9.1f %11.1f\n", c.name, ms(pct(ds, 0.5)), ms(pct(ds, 0.95)), ms(ds[len(ds)-1]),
			ms(pct(cpu, 0.5)))
	}
	return nil
}

func get(u string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, body)
	}
	return nil
}

func pct(ds []time.Duration, q float64) time.Duration {
	i := int(float64(len(ds))*q+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

var (
	services = []string{"api", "web", "worker", "indexer", "auth"}
	events   = []string{"Transfer", "Deposit", "Withdraw", "Borrow", "Repay", "Liquidation"}
	reasons  = []string{"insufficient collateral", "slippage too high", "paused", "Unauthorized", "panic 0x11"}
	methods  = []string{"deposit", "withdraw", "borrow", "repay", "swap"}
)

// generate appends n records evenly over [from, to): per transaction one
// tx record, one or two events or a revert, and an application log.
func generate(ctx context.Context, db store.RecordWriter, n int, from, to time.Time) error {
	rng := rand.New(rand.NewPCG(1, 2))
	step := to.Sub(from) / time.Duration(n)
	batch := make([]record.Record, 0, 10_000)
	users := make([]common.Address, 500)
	for i := range users {
		users[i] = common.BigToAddress(big.NewInt(int64(0x10000 + i*7919)))
	}
	contract := common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3")
	var block uint64
	batches := 0
	for i := 0; i < n; {
		t := from.Add(time.Duration(i) * step)
		block++
		b := block
		var h common.Hash
		for j := range 8 {
			h[j] = byte(rng.Uint32())
		}
		h[31] = byte(i)
		user := users[rng.IntN(len(users))]
		failed := rng.IntN(10) == 0
		status, level := "success", "info"
		if failed {
			status, level = "failed", "error"
		}
		method := methods[rng.IntN(len(methods))]
		batch = append(batch, record.Record{Time: t, Source: record.SourceChain, Kind: record.KindTx, Level: level, Block: &b,
			Message: method + "() by " + user.Hex() + " → Vault " + status,
			Attrs: map[string]any{"hash": h.Hex(), "from": user.Hex(), "to": contract.Hex(), "contract": contract.Hex(), "status": status,
				"method": method, "gasUsed": json.Number(fmt.Sprint(21_000 + rng.IntN(200_000))), "block": json.Number(fmt.Sprint(b))},
			TxHashes: []common.Hash{h}, Addresses: []common.Address{user, contract}})
		i++
		if failed && i < n {
			reason := reasons[rng.IntN(len(reasons))]
			batch = append(batch, record.Record{Time: t, Source: record.SourceChain, Kind: record.KindRevert, Level: "error", Block: &b,
				Message: reason, Attrs: map[string]any{"revertReason": reason, "revertKind": "error", "tx": h.Hex(), "from": user.Hex(), "contract": contract.Hex()},
				TxHashes: []common.Hash{h}, Addresses: []common.Address{user, contract}})
			i++
		} else if i < n {
			ev := events[rng.IntN(len(events))]
			batch = append(batch, record.Record{Time: t, Source: record.SourceChain, Kind: record.KindEvent, Level: "info", Block: &b,
				Message: ev + "(who=" + user.Hex() + ") from " + contract.Hex(), Attrs: map[string]any{"event": ev, "contract": contract.Hex(), "tx": h.Hex()},
				TxHashes: []common.Hash{h}, Addresses: []common.Address{contract, user}})
			i++
		}
		if i < n {
			svc := services[rng.IntN(len(services))]
			lvl := "info"
			if rng.IntN(20) == 0 {
				lvl = "error"
			} else if rng.IntN(10) == 0 {
				lvl = "warn"
			}
			batch = append(batch, record.Record{Time: t.Add(step / 2), Source: record.SourceApp, Kind: record.KindLog, Level: lvl, Service: svc,
				Message: fmt.Sprintf("%s handled %s for %s in %dms", svc, method, user.Hex(), rng.IntN(900)),
				Attrs:   map[string]any{"route": "/api/" + method, "ms": json.Number(fmt.Sprint(rng.IntN(900)))}, TxHashes: []common.Hash{h}})
			i++
		}
		if len(batch) >= 10_000 || i >= n {
			if err := db.AppendRecords(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
			if batches++; batches%50 == 0 {
				fmt.Fprintf(os.Stderr, "\r%d/%d records", i, n)
			}
		}
	}
	fmt.Fprintln(os.Stderr)
	return nil
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
