// Command alert measures alerting on the embedded chain: 100 monitors of
// every chain kind active, the demo's traffic in a block every 250 ms, the
// indexer woken by a head subscription as in the app, and a local webhook
// receiving the alerts. It reports
//
//   - the latency from a block being committed to the webhook receiving
//     an alert it fired, p50/p99 over N alerts (default 1,000);
//
//   - the evaluation cost of the 100 monitors per block (ms and
//     allocations), replayed on the stored blocks;
//
//   - the lag between the indexed head and the evaluated block over the
//     run, to show that it does not grow with 250 ms blocks.
//
//     go run ./bench/alert [-alerts 1000] [-block 250ms]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

func main() {
	alerts := flag.Int("alerts", 1000, "alerts to measure")
	block := flag.Duration("block", 250*time.Millisecond, "block interval")
	rate := flag.Float64("rate", 40, "demo transactions per second")
	flag.Parse()
	if err := run(*alerts, *block, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "bench-alert:", err)
		os.Exit(1)
	}
}

// monitors returns 100 monitors: one that fires on every Transfer (one
// alert per transaction) and 99 of every chain kind that watch the demo
// without firing much.
func monitors(hook string) monitor.File {
	f := monitor.File{Channels: []notify.Spec{{Name: "hook", Type: notify.TypeWebhook, URL: hook, Secret: "bench"}}}
	add := func(s monitor.Spec) { f.Monitors = append(f.Monitors, s) }
	add(monitor.Spec{ID: "transfers", Kind: monitor.KindEvent, Contracts: []string{"*"}, Event: "Transfer", GroupBy: []string{"tx"}, Channels: []string{"hook"}})
	for i := 0; len(f.Monitors) < 100; i++ {
		id := func(k string) string { return fmt.Sprintf("%s-%02d", k, i) }
		switch i % 9 {
		case 0:
			add(monitor.Spec{ID: id("event"), Kind: monitor.KindEvent, Contract: "LendingVault", Event: "Borrowed", Where: []string{fmt.Sprintf("amount > %d000000000000000000000000", i+1)}, Channels: []string{"hook"}})
		case 1:
			add(monitor.Spec{ID: id("call"), Kind: monitor.KindCall, Contract: "LendingVault", Method: "borrow", Status: "failed", Where: []string{"amount > 1e30"}, Channels: []string{"hook"}})
		case 2:
			add(monitor.Spec{ID: id("callers"), Kind: monitor.KindCallers, Contract: "PriceFeed", Method: "updateAnswer", Status: "success",
				Allow: []string{"0x0000000000000000000000000000000000000001", "0x0000000000000000000000000000000000000002"}, Where: []string{"answer < 0"}, Channels: []string{"hook"}})
		case 3:
			add(monitor.Spec{ID: id("txfail"), Kind: monitor.KindTxFail, Contracts: []string{"LendingVault", "Router"}, Reason: fmt.Sprintf("*NoSuchError%d*", i), Channels: []string{"hook"}})
		case 4:
			add(monitor.Spec{ID: id("slo"), Kind: monitor.KindSLO, Contracts: []string{"*"}, Objective: 0.5, Window: monitor.Duration(time.Minute), Channels: []string{"hook"}})
		case 5:
			add(monitor.Spec{ID: id("nodata"), Kind: monitor.KindNoData, Contracts: []string{"*"}, Event: "Transfer", Within: monitor.Duration(time.Hour), Channels: []string{"hook"}})
		case 6:
			if i < 30 {
				add(monitor.Spec{ID: id("state"), Kind: monitor.KindState, Contract: "LendingVault", Read: "totalDebt", Condition: "> 1e40", Channels: []string{"hook"}})
			} else {
				add(monitor.Spec{ID: id("event2"), Kind: monitor.KindEvent, Contracts: []string{"*"}, Events: []string{"Paused", "Unpaused"}, Channels: []string{"hook"}})
			}
		case 7:
			if i < 30 {
				add(monitor.Spec{ID: id("balance"), Kind: monitor.KindBalance, Address: "LendingVault", DropPct: 90, Blocks: 20, Channels: []string{"hook"}})
			} else {
				add(monitor.Spec{ID: id("liq"), Kind: monitor.KindEvent, Contract: "LendingVault", Event: "Liquidated", Where: []string{"collateralSeized > 1e30"}, Channels: []string{"hook"}})
			}
		case 8:
			add(monitor.Spec{ID: id("transfer-big"), Kind: monitor.KindEvent, Contract: "DemoToken", Event: "Transfer", Where: []string{"value > 1e40", "to != 0x0000000000000000000000000000000000000000"}, Channels: []string{"hook"}})
		}
	}
	return f
}

func run(want int, interval time.Duration, rate float64) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir, err := os.MkdirTemp("", "bench-alert-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	dc, err := demo.StartChain(ctx, demo.ChainConfig{Keys: 12, Chain: devchain.Config{BlockInterval: -1, RPCAddr: "127.0.0.1:0"}})
	if err != nil {
		return err
	}
	defer dc.Close()
	ch, app := dc.Chain, dc.App
	traffic, err := dc.Traffic(demo.Options{Rate: rate, Seed: 11, FailureRate: 0.05})
	if err != nil {
		return err
	}

	st, err := sqlite.Open(ctx, filepath.Join(dir, "bt.db"))
	if err != nil {
		return err
	}
	defer st.Close()
	reg := decode.NewRegistry()
	for _, c := range app.Contracts() {
		reg.Add(c.Address, c.Name, c.ABI)
		st.PutContract(ctx, store.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI, Origin: "demo", Added: time.Now()})
	}

	// The webhook: when each alert arrives.
	var mu sync.Mutex
	arrived := map[uint64][]time.Time{} // block → arrival times of its alerts
	count := 0
	done := make(chan struct{})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at := time.Now()
		var m notify.Message
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.Status != notify.StatusFiring || m.MonitorID != "transfers" {
			return
		}
		mu.Lock()
		arrived[m.Block] = append(arrived[m.Block], at)
		count++
		if count == want {
			close(done)
		}
		mu.Unlock()
	}))
	defer hook.Close()

	ob := notify.NewOutbox(st, notify.Options{MinBackoff: 50 * time.Millisecond, Logger: quiet, Destinations: notify.Destinations{Allow: notify.Loopback}}) // the local webhook
	var lagMu sync.Mutex
	var evalTimes []time.Duration
	eng := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Search: st, Node: monitor.NewRPCNode(ch.Client()),
		Decode: reg.DecodeCall, Notifier: ob}, monitor.Options{Logger: quiet, OnEvaluated: func(block uint64, took time.Duration) {
		lagMu.Lock()
		evalTimes = append(evalTimes, took)
		lagMu.Unlock()
	}})
	if err := eng.Load(ctx); err != nil {
		return err
	}
	if _, err := eng.Apply(ctx, monitor.OriginCode, monitors(hook.URL)); err != nil {
		return err
	}

	rc, err := ethrpc.Dial(ctx, ch.WSEndpoint(), ethrpc.Options{Logger: quiet})
	if err != nil {
		return err
	}
	defer rc.Close()
	heads := make(chan struct{}, 1)
	sub, err := rc.SubscribeHeads(ctx)
	if err != nil {
		return err
	}
	go func() {
		for range sub.Heads() {
			select {
			case heads <- struct{}{}:
			default:
			}
		}
	}()
	ix := indexer.New(rc, st, indexer.Config{BatchSize: 100, Decode: reg.DecodeTx, NewHeads: heads, PollInterval: time.Second, Logger: quiet,
		Hooks: indexer.Hooks{OnBatch: func(b indexer.BatchInfo) {
			eng.OnStored(b.From, b.To)
		}}})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ix.Run(ctx) }()
	go func() { defer wg.Done(); eng.Run(ctx) }()

	// Blocks every interval with traffic; the commit time of each block.
	committed := map[uint64]time.Time{}
	var lags []int
	tick := time.NewTicker(interval)
	defer tick.Stop()
	start := time.Now()
	fmt.Printf("bench-alert: 100 monitors, blocks every %s, demo traffic %.0f tx/s, waiting for %d alerts\n", interval, rate, want)
loop:
	for {
		select {
		case <-done:
			break loop
		case <-tick.C:
			if err := traffic.Step(ctx); err != nil {
				return fmt.Errorf("traffic: %w", err)
			}
			ch.Commit()
			n := ch.Head().Number.Uint64()
			mu.Lock()
			committed[n] = time.Now()
			mu.Unlock()
			lags = append(lags, eng.Lag())
			if time.Since(start) > 10*time.Minute {
				return fmt.Errorf("only %d alerts after 10 minutes", count)
			}
		}
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()

	var lat []time.Duration
	var early, late []time.Duration // alerts of the first and second half of the blocks
	mu.Lock()
	var first, last uint64 = ^uint64(0), 0
	for b := range committed {
		first, last = min(first, b), max(last, b)
	}
	for b, ts := range arrived {
		c, ok := committed[b]
		if !ok {
			continue
		}
		for _, t := range ts {
			lat = append(lat, t.Sub(c))
			if b < (first+last)/2 {
				early = append(early, t.Sub(c))
			} else {
				late = append(late, t.Sub(c))
			}
		}
	}
	mu.Unlock()
	median := func(xs []time.Duration) time.Duration {
		if len(xs) == 0 {
			return 0
		}
		slices.Sort(xs)
		return xs[len(xs)/2].Round(100 * time.Microsecond)
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	blocks := len(committed)
	fmt.Printf("\n%d alerts over %d blocks in %s\n", len(lat), blocks, elapsed.Round(time.Second))
	fmt.Printf("latency block committed → webhook received: p50 %s  p99 %s  max %s\n",
		pct(0.50).Round(100*time.Microsecond), pct(0.99).Round(100*time.Microsecond), lat[len(lat)-1].Round(100*time.Microsecond))

	fmt.Printf("latency p50, alerts of the first half of the blocks: %s; of the second half: %s\n", median(early), median(late))

	// Lag: queued evaluation items when each block was committed; first
	// half against second half.
	half := len(lags) / 2
	avg := func(xs []int) float64 {
		s := 0
		for _, x := range xs {
			s += x
		}
		return float64(s) / float64(max(1, len(xs)))
	}
	lagMu.Lock()
	et := slices.Clone(evalTimes)
	lagMu.Unlock()
	slices.Sort(et)
	fmt.Printf("evaluation lag (items queued at each commit): first half avg %.2f, second half avg %.2f, max %d\n", avg(lags[:half]), avg(lags[half:]), slices.Max(lags))
	fmt.Printf("live evaluation + enqueue + save per block: p50 %s  p99 %s\n", et[len(et)/2].Round(10*time.Microsecond), et[len(et)*99/100].Round(10*time.Microsecond))

	// Evaluation cost of the 100 monitors per block, replayed on the
	// stored blocks by a fresh engine (no notifier, no outbox).
	head, err := st.Head(context.Background())
	if err != nil {
		return err
	}
	from := head.Number - min(head.Number-1, 200)
	stored, err := st.BlockRange(context.Background(), from, head.Number)
	if err != nil {
		return err
	}
	txs := 0
	for _, b := range stored {
		txs += len(b.Txs)
	}
	for _, withNode := range []bool{false, true} {
		var node monitor.Node
		if withNode {
			node = monitor.NewRPCNode(ch.Client())
		}
		// A store of its own: the replay must not start from the live
		// engine's cursor, nor touch its alerts.
		st2, err := sqlite.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("replay-%v.db", withNode)))
		if err != nil {
			return err
		}
		defer st2.Close()
		for _, c := range app.Contracts() {
			st2.PutContract(context.Background(), store.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI, Origin: "demo", Added: time.Now()})
		}
		e2 := monitor.New(monitor.Deps{Store: st2, Contracts: st2.Contracts, Blocks: st, Node: node, Decode: reg.DecodeCall},
			monitor.Options{Logger: quiet, MaxBlockAge: 100 * 365 * 24 * time.Hour})
		if err := e2.Load(context.Background()); err != nil {
			return err
		}
		f := monitors("http://127.0.0.1:9/unused")
		f.Channels = nil
		for i := range f.Monitors {
			f.Monitors[i].Channels = nil
		}
		if _, err := e2.Apply(context.Background(), monitor.OriginCode, f); err != nil {
			return err
		}
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		e2.Evaluate(context.Background(), stored)
		took := time.Since(t0)
		runtime.ReadMemStats(&m1)
		what := "node off (state and balance monitors idle), alert state saved per block"
		if withNode {
			what = "with the state and balance monitors reading the node (eth_call, eth_getBalance)"
		}
		fmt.Printf("evaluation cost per block, %s: %.3f ms, %d allocations (%d blocks, %.1f tx/block)\n", what,
			float64(took.Microseconds())/1000/float64(len(stored)), (m1.Mallocs-m0.Mallocs)/uint64(len(stored)), len(stored), float64(txs)/float64(len(stored)))
	}
	return nil
}
