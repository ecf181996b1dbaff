package monitor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// TestDryRunJudgesInternalCallsAsLive: monitors of internal calls (the
// Router calling the vault's depositFor, the Router as a denied caller)
// fire and resolve in a dry run over the same blocks exactly as they did
// live: same blocks, values, summaries and ends.
func TestDryRunJudgesInternalCallsAsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	var evaluated atomic.Uint64
	r := newRig(t, 20, 0.01, monitor.Options{OnEvaluated: func(b uint64, _ time.Duration) { evaluated.Store(b) }})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	f := monitor.File{Monitors: []monitor.Spec{
		{ID: "internal-deposit", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor", Internal: true,
			ResolveAfter: monitor.Duration(time.Nanosecond)},
		{ID: "router-calls-vault", Kind: monitor.KindCallers, Contract: "LendingVault", Deny: []string{r.app.Router.Hex()}, Internal: true,
			ResolveAfter: monitor.Duration(time.Nanosecond)},
		// Evaluated two blocks behind the head: live, the block it judges
		// is no longer the newest.
		{ID: "internal-deposit-confirmed", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor", Internal: true,
			ResolveAfter: monitor.Duration(time.Nanosecond), Confirmations: 2},
	}}
	if _, err := r.eng.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	stop := r.mine(t, 10*time.Millisecond)
	live := func(id string) []string {
		evs, err := r.st.AlertEvents(ctx, store.AlertQuery{MonitorID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range slices.Backward(evs) {
			var a monitor.Alert
			if err := json.Unmarshal(ev.Detail, &a); err != nil {
				t.Fatal(err)
			}
			f := monitor.Firing{Status: ev.Status, Key: a.Key, Time: ev.Time, Block: a.Block, Tx: a.Tx, Value: a.Value, Summary: a.Summary}
			if ev.Status == monitor.StateResolved {
				f.Block, f.EndsAt = a.ResolvedBlock, a.ResolvedAt
			}
			if ev.Block != f.Block {
				t.Errorf("the history shows a %s at block %d, its alert says %d", ev.Status, ev.Block, f.Block)
			}
			out = append(out, firingLine(f))
		}
		return out
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(live("internal-deposit")) < 4 {
		if time.Now().After(deadline) {
			stop()
			t.Fatal("the Router called depositFor fewer than twice in 90 s of demo traffic")
		}
		<-time.After(50 * time.Millisecond) // polling the history another goroutine writes
	}
	stop()
	head := r.chain.Head().Number.Uint64()
	for evaluated.Load() < head {
		if time.Now().After(deadline) {
			t.Fatalf("the engine did not evaluate up to block %d", head)
		}
		<-time.After(10 * time.Millisecond)
	}

	res, err := r.eng.DryRun(ctx, monitor.File{Monitors: f.Monitors[:2]}, time.Unix(0, 0), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if res.Traced == 0 {
		t.Errorf("the dry run traced no block")
	}
	// The confirmed monitor saw the blocks up to two below the head.
	confirmed, err := r.eng.DryRun(ctx, monitor.File{Monitors: f.Monitors[2:]}, time.Unix(0, 0), blockTime(t, r, head-1))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range append(res.Monitors, confirmed.Monitors...) {
		want := live(m.ID)
		var got []string
		for _, f := range m.Firings {
			got = append(got, firingLine(f))
		}
		t.Logf("%s: %d transitions live, %d in the dry run", m.ID, len(want), len(got))
		if m.Skipped != "" || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: dry run (skipped %q):\n%s\nlive:\n%s", m.ID, m.Skipped, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func firingLine(f monitor.Firing) string {
	s := fmt.Sprintf("%s key=%q block=%d time=%s value=%s tx=%s %q", f.Status, f.Key, f.Block, f.Time.UTC().Format(time.RFC3339Nano), f.Value, f.Tx, f.Summary)
	if !f.EndsAt.IsZero() {
		s += " ends=" + f.EndsAt.UTC().Format(time.RFC3339Nano)
	}
	return s
}

// TestDryRunNamesWhatItCannotJudge: without a node that traces blocks, a
// dry run says which monitors of internal calls it could not judge rather
// than reporting that they would never have fired.
func TestDryRunNamesWhatItCannotJudge(t *testing.T) {
	ctx := context.Background()
	st := vaultStore(t)
	t0 := time.Now().Add(-time.Minute)
	if err := st.WriteBlocks(ctx, []chain.Block{pausedBlock(1, t0), pausedBlock(2, t0.Add(time.Second))}); err != nil {
		t.Fatal(err)
	}
	// A node without the debug API: no method of that namespace exists.
	noDebug := rpc.DialInProc(rpc.NewServer())
	defer noDebug.Close()
	f := monitor.File{Monitors: []monitor.Spec{
		{ID: "internal", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor", Internal: true},
		{ID: "toplevel", Kind: monitor.KindEvent, Contract: "LendingVault", Event: "Paused"},
	}}
	for _, c := range []struct {
		name string
		node monitor.Node
		want string
	}{
		{"no node", nil, "cannot judge internal calls: no node to trace blocks with"},
		{"no debug API", monitor.NewRPCNode(noDebug), "cannot judge internal calls: the node does not trace block 1 (debug_traceBlockByNumber 1: the method debug_traceBlockByNumber does not exist"},
	} {
		e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Node: c.node}, monitor.Options{})
		res, err := e.DryRun(ctx, f, t0.Add(-time.Hour), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Monitors[0].Skipped; !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: internal monitor skipped %q, want %q", c.name, got, c.want)
		}
		if m := res.Monitors[1]; m.Skipped != "" || len(m.Firings) != 1 {
			t.Errorf("%s: the other monitor was not judged: %+v", c.name, m)
		}
	}
}

// slowTracer is a node's debug API whose every block trace takes a minute
// of the test's clock.
type slowTracer struct {
	mu  sync.Mutex
	now time.Time
}

func (s *slowTracer) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *slowTracer) TraceBlockByNumber(ctx context.Context, n hexutil.Uint64, cfg map[string]any) ([]struct{}, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(time.Minute)
	return []struct{}{}, nil
}

// TestDryRunBoundsTracing: a dry run stops tracing after its time budget
// and says up to which block it judged internal calls.
func TestDryRunBoundsTracing(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	t0 := time.Now().Add(-time.Minute)
	var blocks []chain.Block
	for n := uint64(1); n <= 4; n++ {
		blocks = append(blocks, pausedBlock(n, t0.Add(time.Duration(n)*time.Second)))
	}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	tracer := &slowTracer{now: t0}
	srv := rpc.NewServer()
	if err := srv.RegisterName("debug", tracer); err != nil {
		t.Fatal(err)
	}
	rc := rpc.DialInProc(srv)
	defer rc.Close()
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Node: monitor.NewRPCNode(rc)}, monitor.Options{Now: tracer.Now})
	f := monitor.File{Monitors: []monitor.Spec{{ID: "internal", Kind: monitor.KindCall, Contract: vaultAddr.Hex(), Method: "depositFor(address,uint256)", Internal: true}}}
	res, err := e.DryRun(ctx, f, t0.Add(-time.Hour), t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := "internal calls judged up to block 2 only: a dry run traces blocks for at most 2m0s; shorten the range"
	if m := res.Monitors[0]; res.Traced != 2 || m.Partial != want || m.Skipped != "" {
		t.Errorf("traced %d blocks, partial %q, skipped %q; want 2, %q", res.Traced, m.Partial, m.Skipped, want)
	}
}
