// Command guard measures the mempool guard on the embedded chain (1 s
// blocks as in the demo) with the demo's traffic in the background: an
// attacker sends the demo's exploit N times (default 200) at uniformly
// random moments within a block, and the bench reports
//
//   - the latency from the guard seeing the exploit in the pool to its
//     pending alert being recorded, and to the guard's pause being in the
//     pool, p50/p99;
//
//   - the fraction of attacks whose pause landed first (the exploit
//     reverted with EnforcedPause);
//
//   - the cost of judging one pending transaction: the simulation and the
//     monitors' evaluation, over every pending transaction the guard saw;
//
//   - the peer, in the same run: the same monitor and the same pause
//     scenario on the normal path, run when the monitor fires on the mined
//     block (guard off), over -peer attacks: how many it blocks and its
//     latency from the exploit entering the pool to the pause entering it.
//
//     go run ./bench/guard [-attacks 200] [-peer 20] [-block 1s] [-rate 4]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/guard"
	"github.com/blocktorch/blocktorch/internal/guard/guardtest"
	"github.com/blocktorch/blocktorch/internal/notify"
)

func main() {
	attacks := flag.Int("attacks", 200, "attacks on the guarded chain")
	peer := flag.Int("peer", 20, "attacks on the post-inclusion path (the peer)")
	block := flag.Duration("block", time.Second, "block interval")
	rate := flag.Float64("rate", 4, "background demo transactions per second")
	flag.Parse()
	if err := run(*attacks, *peer, *block, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "bench-guard:", err)
		os.Exit(1)
	}
}

// watch records when transactions entered the pool, as a subscriber of
// the node sees it (the guard's view too).
type watch struct {
	mu    sync.Mutex
	at    map[common.Hash]time.Time
	from  map[common.Hash]common.Address
	added chan struct{}
}

func (w *watch) seen(h common.Hash) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t, ok := w.at[h]
	return t, ok
}

// pauseAfter returns the first transaction from signer that entered the
// pool after t, and when.
func (w *watch) pauseAfter(signer common.Address, t time.Time) (common.Hash, time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var best common.Hash
	var bt time.Time
	for h, at := range w.at {
		if w.from[h] == signer && !at.Before(t) && (bt.IsZero() || at.Before(bt)) {
			best, bt = h, at
		}
	}
	return best, bt, !bt.IsZero()
}

type verdicts struct {
	mu   sync.Mutex
	all  []guard.Verdict
	byTx map[common.Hash]guard.Verdict
}

func run(attacks, peer int, block time.Duration, rate float64) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "bench-guard")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	vs := &verdicts{byTx: map[common.Hash]guard.Verdict{}}
	subscribed := make(chan struct{}, 1)
	hooks := guard.Hooks{
		OnSubscribed: func() {
			select {
			case subscribed <- struct{}{}:
			default:
			}
		},
		OnChecked: func(v guard.Verdict) {
			vs.mu.Lock()
			vs.all = append(vs.all, v)
			vs.byTx[v.Tx] = v
			vs.mu.Unlock()
		},
	}
	fmt.Printf("bench-guard: embedded chain, %s blocks, demo traffic at %.0f tx/s, %d guarded attacks, %d on the post-inclusion path\n", block, rate, attacks, peer)
	// The alerts go to a local webhook: a monitor runs its scenario on the
	// post-inclusion path when it notifies.
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer hook.Close()
	// The guard's and the response's warnings and errors, for a run that
	// goes wrong.
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	rig, err := guardtest.Start(ctx, guardtest.Config{BlockInterval: block, Dir: dir, Hooks: hooks, Log: logger,
		Channels: []notify.Spec{{Name: "hook", Type: notify.TypeWebhook, URL: hook.URL}}})
	if err != nil {
		return err
	}
	defer rig.Close()
	// Each attack the peer does not block borrows 3M: the vault gets the
	// liquidity for all of them.
	if err := rig.FundVault(ctx, new(big.Int).Mul(demo.ExploitBorrow, big.NewInt(int64(peer+2)))); err != nil {
		return err
	}
	if err := rig.PrepareAttacker(ctx); err != nil {
		return err
	}
	if err := rig.GroupByTx(ctx, []string{"hook"}); err != nil {
		return err
	}

	runCtx, stop := context.WithCancel(ctx)
	defer func() {
		stop()
		rig.Wait()
	}()
	rig.Run(runCtx)

	// The bench's own view of the pool.
	w := &watch{at: map[common.Hash]time.Time{}, from: map[common.Hash]common.Address{}}
	ch := make(chan guard.Pending, 4096)
	sub, err := rig.WS.EthSubscribe(ctx, ch, "newPendingTransactions", true)
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	go func() {
		for {
			select {
			case p := <-ch:
				w.mu.Lock()
				w.at[p.Tx.Hash()], w.from[p.Tx.Hash()] = time.Now(), p.From
				w.mu.Unlock()
			case <-runCtx.Done():
				return
			}
		}
	}()

	tr, err := demo.NewTraffic(rig.App, rig.Chain.Eth, rig.Keys, demo.Options{Rate: rate, Seed: 42})
	if err != nil {
		return err
	}
	trDone := make(chan error, 1)
	go func() { trDone <- tr.Run(runCtx) }()
	defer func() { stop(); <-trDone }()

	attacker := crypto.PubkeyToAddress(rig.Attacker.PublicKey)
	guardian := crypto.PubkeyToAddress(rig.Guardian.PublicKey)
	nonce, err := rig.Chain.Eth.PendingNonceAt(ctx, attacker)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	heads := make(chan *types.Header, 16)
	hsub, err := rig.Chain.Eth.SubscribeNewHead(ctx, heads)
	if err != nil {
		return err
	}
	defer hsub.Unsubscribe()

	// When each block's head reached the bench: a block closes a little
	// before.
	var headMu sync.Mutex
	headAt := map[uint64]time.Time{}
	heads2 := make(chan *types.Header, 16)
	hsub2, err := rig.Chain.Eth.SubscribeNewHead(ctx, heads2)
	if err != nil {
		return err
	}
	defer hsub2.Unsubscribe()
	go func() {
		for {
			select {
			case h := <-heads2:
				headMu.Lock()
				headAt[h.Number.Uint64()] = time.Now()
				headMu.Unlock()
			case <-runCtx.Done():
				return
			}
		}
	}()
	headSeen := func(n uint64) time.Time {
		headMu.Lock()
		defer headMu.Unlock()
		return headAt[n]
	}

	// attack sends one exploit at a random moment of a block and waits
	// until it is mined and the vault is paused (or a few blocks passed).
	type result struct {
		tx             common.Hash
		sent, inPool   time.Time
		pause          common.Hash
		pauseInPool    time.Time
		blocked, first bool
		// block and index are where the exploit was mined, pauseBlock and
		// pauseIndex the pause (zero without one).
		block, pauseBlock uint64
		index, pauseIndex uint
	}
	attack := func() (result, error) {
		// A fresh head, then a uniform moment within the block.
		for len(heads) > 0 {
			<-heads
		}
		select {
		case <-heads:
		case <-ctx.Done():
			return result{}, ctx.Err()
		}
		time.Sleep(time.Duration(rng.Int64N(int64(block)))) // the attack's moment, not a wait for work
		tip := big.NewInt(int64(2e9 + rng.IntN(8e9)))
		// The guard may see the exploit, and its pause reach the pool,
		// before the node answers the send: the pause is looked for from
		// before it.
		sending := time.Now()
		tx, err := rig.Attack(ctx, nonce, tip, new(big.Int).Add(tip, big.NewInt(200e9)))
		if err != nil {
			return result{}, err
		}
		nonce++
		r := result{tx: tx.Hash(), sent: time.Now()}
		rec, err := rig.WaitMined(ctx, tx.Hash())
		if err != nil {
			return r, err
		}
		r.blocked = rec.Status == types.ReceiptStatusFailed
		r.block, r.index = rec.BlockNumber.Uint64(), rec.TransactionIndex
		// The pause: the guardian's first transaction in the pool after
		// the exploit was sent; wait up to a few blocks for it to be mined.
		deadline := time.Now().Add(10 * block)
		for {
			h, at, ok := w.pauseAfter(guardian, sending)
			if ok {
				r.pause, r.pauseInPool = h, at
				break
			}
			if time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling the subscriber's record
		}
		r.inPool, _ = w.seen(r.tx)
		if r.pause != (common.Hash{}) {
			prec, err := rig.WaitMined(ctx, r.pause)
			if err != nil {
				return r, err
			}
			r.pauseBlock, r.pauseIndex = prec.BlockNumber.Uint64(), prec.TransactionIndex
			r.first = prec.BlockNumber.Cmp(rec.BlockNumber) < 0 || prec.BlockNumber.Cmp(rec.BlockNumber) == 0 && prec.TransactionIndex < rec.TransactionIndex
		}
		if paused, err := rig.Paused(ctx); err != nil {
			return r, err
		} else if paused {
			if err := rig.Unpause(ctx); err != nil {
				return r, err
			}
		}
		return r, nil
	}

	// The guarded attacks.
	guardCtx, stopGuard := context.WithCancel(runCtx)
	rig.RunGuard(guardCtx)
	select {
	case <-subscribed:
	case <-time.After(30 * time.Second):
		stopGuard()
		return fmt.Errorf("the guard did not subscribe to pending transactions")
	}
	var toAlert, toPause []time.Duration
	blocked, first, void := 0, 0, 0
	start := time.Now()
	for i := range attacks {
		r, err := attack()
		if err != nil {
			stopGuard()
			return err
		}
		vs.mu.Lock()
		v, ok := vs.byTx[r.tx]
		vs.mu.Unlock()
		if ok && len(v.Matches) > 0 {
			toAlert = append(toAlert, v.Alerted.Sub(v.Seen))
			if !r.pauseInPool.IsZero() {
				toPause = append(toPause, r.pauseInPool.Sub(v.Seen))
			}
		}
		if ok && len(v.Matches) == 0 && v.Outcome != nil && v.Outcome.Failed() {
			// The exploit would not have worked on the latest state (the
			// feed gone stale, the price moved past its margin): nothing
			// to block.
			reason := "(no reason)"
			if v.Outcome.Revert != nil {
				reason = v.Outcome.Revert.Name + " " + v.Outcome.Revert.Message
			}
			void++
			fmt.Printf("  attack %d void: its simulation reverted (%s), mined status failed=%v\n", i+1, reason, r.blocked)
			miss(i+1, r.tx, r.sent, r.inPool, v, ok, r.block, r.index, r.pauseBlock, r.pauseIndex, r.pauseInPool, headSeen)
		} else if r.blocked && r.first {
			blocked++
		} else {
			lat := "no pause within 10 blocks"
			if ok && !r.pauseInPool.IsZero() {
				lat = "pause in the pool " + r.pauseInPool.Sub(v.Seen).Round(time.Millisecond).String() + " after the guard saw it"
			}
			fmt.Printf("  attack %d not blocked: %s (exploit reverted: %v, pause first: %v; guard saw it: %v, matches %d, err %v)\n", i+1, lat, r.blocked, r.first, ok, len(v.Matches), v.Err)
			miss(i+1, r.tx, r.sent, r.inPool, v, ok, r.block, r.index, r.pauseBlock, r.pauseIndex, r.pauseInPool, headSeen)
		}
		if r.first {
			first++
		}
		if (i+1)%20 == 0 {
			fmt.Printf("  %d/%d attacks, %d blocked (%s)\n", i+1, attacks, blocked, time.Since(start).Round(time.Second))
		}
	}
	stopGuard()

	// The peer: the normal path, post-inclusion.
	rig.PostInclusion.Store(true)
	var peerLat []time.Duration
	peerBlocked, peerPaused := 0, 0
	for range peer {
		r, err := attack()
		if err != nil {
			return err
		}
		if r.blocked && r.first {
			peerBlocked++
		}
		if !r.pauseInPool.IsZero() && !r.inPool.IsZero() {
			peerPaused++
			peerLat = append(peerLat, r.pauseInPool.Sub(r.inPool))
		}
	}

	vs.mu.Lock()
	var sim, eval []time.Duration
	checked, skipped := 0, 0
	for _, v := range vs.all {
		if v.Skipped != "" {
			skipped++
			continue
		}
		checked++
		sim = append(sim, v.Simulated)
		eval = append(eval, v.Evaluated)
	}
	vs.mu.Unlock()

	fmt.Println()
	fmt.Printf("guard (pending, %d attacks):\n", attacks)
	fmt.Printf("  seen → pending alert recorded   p50 %8s  p99 %8s  (n=%d)\n", pct(toAlert, 50), pct(toAlert, 99), len(toAlert))
	fmt.Printf("  seen → pause tx in the pool     p50 %8s  p99 %8s  (n=%d)  target p99 ≤ 150ms\n", pct(toPause, 50), pct(toPause, 99), len(toPause))
	live := attacks - void
	fmt.Printf("  blocked (pause landed first, exploit reverted): %d of %d = %.1f%%  target ≥ 99%%  (%d void: the exploit's simulation reverted on its own)\n", blocked, live, 100*float64(blocked)/float64(max(live, 1)), void)
	fmt.Printf("  per pending tx (%d simulated, %d skipped): simulation p50 %s p99 %s; monitor evaluation p50 %s p99 %s\n",
		checked, skipped, pct(sim, 50), pct(sim, 99), pct(eval, 50), pct(eval, 99))
	fmt.Printf("peer (post-inclusion: monitor fires on the mined block, %d attacks):\n", peer)
	fmt.Printf("  exploit in pool → pause tx in the pool  p50 %8s  p99 %8s  (n=%d)\n", pct(peerLat, 50), pct(peerLat, 99), len(peerLat))
	fmt.Printf("  blocked: %d of %d = %.1f%%\n", peerBlocked, peer, 100*float64(peerBlocked)/float64(max(peer, 1)))
	if len(toPause) > 0 && len(peerLat) > 0 {
		fmt.Printf("ratio: the guard's pause is in the pool %.1f× sooner (p50); it blocks %.1f%% of attacks, the post-inclusion path %.1f%%\n",
			float64(pct(peerLat, 50))/float64(max(pct(toPause, 50), 1)), 100*float64(blocked)/float64(max(live, 1)), 100*float64(peerBlocked)/float64(max(peer, 1)))
	}
	return nil
}

// miss prints what the bench knows of an attack not blocked: when the
// guard saw it against when the block that mined it reached the bench,
// what its simulation gave, and where the pause was mined.
func miss(n int, tx common.Hash, sent, inPool time.Time, v guard.Verdict, seen bool, block uint64, index uint, pauseBlock uint64, pauseIndex uint, pauseInPool time.Time, headSeen func(uint64) time.Time) {
	fmt.Printf("    attack %d %s: sent %s, mined in block %d at index %d", n, tx.Hex()[:10], sent.Format("15:04:05.000"), block, index)
	if h := headSeen(block); !h.IsZero() {
		fmt.Printf(" (its head reached the bench %s after the send)", h.Sub(sent).Round(time.Millisecond))
	}
	if h := headSeen(block - 1); !h.IsZero() {
		fmt.Printf(", the block before it %s after the send", h.Sub(sent).Round(time.Millisecond))
	}
	fmt.Println()
	if !inPool.IsZero() {
		fmt.Printf("      the node announced it to the bench's own subscription %s after the send\n", inPool.Sub(sent).Round(time.Millisecond))
	}
	if !seen {
		fmt.Println("      the guard never checked it")
		return
	}
	fmt.Printf("      guard saw it %s after the send; skipped %q; simulated in %s, evaluated in %s; %d matches; err %v\n",
		v.Seen.Sub(sent).Round(time.Millisecond), v.Skipped, v.Simulated.Round(time.Microsecond), v.Evaluated.Round(time.Microsecond), len(v.Matches), v.Err)
	if o := v.Outcome; o != nil {
		reason := ""
		if o.Revert != nil {
			reason = o.Revert.Name + " " + o.Revert.Message
		}
		fmt.Printf("      simulation: status %d, gas %d, %d logs, revert %q %x\n", o.Status, o.GasUsed, len(o.Logs), reason, o.RevertData)
	}
	if pauseBlock != 0 {
		fmt.Printf("      pause in the pool %s after the send, mined in block %d at index %d\n", pauseInPool.Sub(sent).Round(time.Millisecond), pauseBlock, pauseIndex)
	}
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[max(0, min(len(s)-1, i-1))].Round(10 * time.Microsecond)
}
