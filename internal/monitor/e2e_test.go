package monitor_test

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

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

// hook is a local webhook receiver keeping every notification.
type hook struct {
	srv  *httptest.Server
	mu   sync.Mutex
	msgs []notify.Message
	at   []time.Time
	keys map[string]int
	got  chan notify.Message
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{keys: map[string]int{}, got: make(chan notify.Message, 100000)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !notify.Verify("demo-secret", r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature), body, time.Now(), time.Minute) {
			http.Error(w, "bad signature", 401)
			return
		}
		var m notify.Message
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		h.mu.Lock()
		h.msgs = append(h.msgs, m)
		h.at = append(h.at, time.Now())
		h.keys[r.Header.Get(notify.HeaderIdempotency)]++
		h.mu.Unlock()
		h.got <- m
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) spec() notify.Spec {
	return notify.Spec{Name: "local", Type: notify.TypeWebhook, URL: h.srv.URL, Secret: "demo-secret"}
}

// rig is the embedded chain with the demo app, an indexer into SQLite, and
// a monitor engine notifying through the outbox.
type rig struct {
	// chain is the embedded chain; nil on geth (see newGethRig).
	chain   *devchain.Chain
	rpc     *rpc.Client
	app     *demo.App
	traffic *demo.Traffic
	pace    *pacer
	st      *sqlite.DB
	eng     *monitor.Engine
	ob      *notify.Outbox
	ix      *indexer.Indexer
	reg     *decode.Registry
}

// newRig deploys the demo on the embedded chain and builds the indexer and a
// loaded monitor engine over a fresh SQLite store; nothing runs until run.
func newRig(t testing.TB, rate, failureRate float64, opts monitor.Options) *rig {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dc, err := demo.StartChain(ctx, demo.ChainConfig{Keys: 8, Chain: devchain.Config{BlockInterval: -1, RPCAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	ch, app := dc.Chain, dc.App
	pace := newPacer(dc.Eth)
	tr, err := demo.NewTraffic(app, pace, dc.Keys, demo.Options{Rate: rate, Seed: 7, FailureRate: failureRate})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{chain: ch, app: app, traffic: tr, pace: pace, rpc: ch.Client()}
	r.build(t, ch.HTTPEndpoint(), opts)
	return r
}

// build makes the rig's store, indexer and loaded monitor engine for the
// node at url, whose demo app is r.app.
func (r *rig) build(t testing.TB, url string, opts monitor.Options) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	app := r.app
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg := decode.NewRegistry()
	for _, c := range app.Contracts() {
		if err := reg.Add(c.Address, c.Name, c.ABI); err != nil {
			t.Fatal(err)
		}
		if err := st.PutContract(context.Background(), store.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI, Origin: "demo", Added: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	rc, err := ethrpc.Dial(context.Background(), url, ethrpc.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	ob := notify.NewOutbox(st, notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, Destinations: notify.Destinations{Allow: notify.Loopback}})
	eng := monitor.New(monitor.Deps{
		Store: st, Contracts: st.Contracts, Blocks: st, Search: st,
		Node: monitor.NewRPCNode(r.rpc), Decode: reg.DecodeCall, Notifier: ob,
	}, opts)
	ix := indexer.New(rc, st, indexer.Config{BatchSize: 50, Decode: reg.DecodeTx, PollInterval: 5 * time.Millisecond,
		RetryMin: 10 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		Hooks: indexer.Hooks{
			OnBatch: func(b indexer.BatchInfo) { eng.OnStored(b.From, b.To) },
			OnReorg: func(r indexer.ReorgInfo) { eng.OnReorg(r.Ancestor) },
		}})
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	r.st, r.eng, r.ob, r.ix, r.reg = st, eng, ob, ix, reg
}

// run starts the indexer and the engine until the test ends.
func (r *rig) run(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.ix.Run(ctx) }()
	go func() { defer wg.Done(); r.eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// mine keeps traffic flowing and blocks sealing until stop is called.
func (r *rig) mine(t testing.TB, every time.Duration) (stop func()) {
	return r.minePaced(t, every, 1)
}

// minePaced is mine with steps traffic steps a block: 4 at rate 4 is the
// demo's pace (four transactions a second, a block a second).
func (r *rig) minePaced(t testing.TB, every time.Duration, steps int) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), minerKey{}, true))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if !r.pace.wait(ctx, 5*time.Second) {
					return
				}
				for range steps {
					if err := r.traffic.Step(ctx); err != nil && ctx.Err() == nil {
						t.Errorf("traffic: %v", err)
						return
					}
				}
				r.chain.Commit()
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// minerKey marks the miner's own calls to the traffic's backend.
type minerKey struct{}

// pacer is the traffic's backend with a turnstile for the miner. Once the
// scripted incident has read a receipt it is deciding its next step, and
// the miner holds the next block until it acts (any other call to the
// node), or until a few seconds pass. At the demo's one-second blocks an
// incident phase lands in the block after the one before it; with the
// tests' faster blocks and a loaded machine, blocks of normal traffic
// alone would otherwise slip in between and thin out its failures.
type pacer struct {
	demo.Backend
	mu       sync.Mutex
	deciding bool
	changed  chan struct{} // closed and replaced when deciding ends
}

func newPacer(b demo.Backend) *pacer {
	return &pacer{Backend: b, changed: make(chan struct{})}
}

// set records whether the incident is deciding; the miner's calls (Step)
// say nothing about the incident.
func (p *pacer) set(ctx context.Context, deciding bool) {
	if ctx.Value(minerKey{}) != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.deciding && !deciding {
		close(p.changed)
		p.changed = make(chan struct{})
	}
	p.deciding = deciding
}

// wait returns when the incident is not deciding, or after at most limit;
// false when ctx ended.
func (p *pacer) wait(ctx context.Context, limit time.Duration) bool {
	p.mu.Lock()
	deciding, changed := p.deciding, p.changed
	p.mu.Unlock()
	if !deciding {
		return ctx.Err() == nil
	}
	select {
	case <-changed:
	case <-time.After(limit):
	case <-ctx.Done():
		return false
	}
	return true
}

func (p *pacer) TransactionReceipt(ctx context.Context, h common.Hash) (*types.Receipt, error) {
	r, err := p.Backend.TransactionReceipt(ctx, h)
	p.set(ctx, err == nil)
	return r, err
}

func (p *pacer) ChainID(ctx context.Context) (*big.Int, error) {
	p.set(ctx, false)
	return p.Backend.ChainID(ctx)
}

func (p *pacer) HeaderByNumber(ctx context.Context, n *big.Int) (*types.Header, error) {
	p.set(ctx, false)
	return p.Backend.HeaderByNumber(ctx, n)
}

func (p *pacer) SuggestGasTipCap(ctx context.Context) (*big.Int, error) {
	p.set(ctx, false)
	return p.Backend.SuggestGasTipCap(ctx)
}

func (p *pacer) PendingNonceAt(ctx context.Context, a common.Address) (uint64, error) {
	p.set(ctx, false)
	return p.Backend.PendingNonceAt(ctx, a)
}

func (p *pacer) SendTransaction(ctx context.Context, tx *types.Transaction) error {
	p.set(ctx, false)
	return p.Backend.SendTransaction(ctx, tx)
}

func (p *pacer) CallContract(ctx context.Context, msg ethereum.CallMsg, n *big.Int) ([]byte, error) {
	p.set(ctx, false)
	return p.Backend.CallContract(ctx, msg, n)
}

func (p *pacer) CodeAt(ctx context.Context, a common.Address, n *big.Int) ([]byte, error) {
	p.set(ctx, false)
	return p.Backend.CodeAt(ctx, a, n)
}

// TestDemoIncidentFiresBuiltinMonitors plays the demo's scripted incident
// on the embedded chain, at the demo's pace and failure rate, and checks
// that the built-in monitors fire through a local webhook, each transition
// once (TestBuiltinQuietOnNormalTraffic checks they stay quiet without it).
func TestDemoIncidentFiresBuiltinMonitors(t *testing.T) {
	if testing.Short() {
		t.Skip("plays the demo incident on the embedded chain")
	}
	h := newHook(t)
	r := newRig(t, 4, 0.05, monitor.Options{BaseURL: "http://127.0.0.1:8080"})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := r.eng.LoadBuiltin(ctx, true, []notify.Spec{h.spec()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 14 {
		t.Fatalf("built-in set: %+v", res)
	}
	r.run(t)
	// A block every 200 ms, held while the incident decides its next phase
	// (pacer), lands each phase in about one block, as with the demo's 1 s
	// blocks; unheld, a loaded machine would spread its failures and
	// liquidations over more blocks than the demo ever does.
	stop := r.minePaced(t, 200*time.Millisecond, 4)
	// Warm up: positions exist and the feed has answered.
	waitBlocks(t, r, 40)
	err = r.traffic.Incident(ctx)
	r.pace.set(ctx, false) // it decides nothing more
	if err != nil {
		stop()
		t.Fatal(err)
	}
	// The incident is over: a few more blocks let windows close.
	waitBlocks(t, r, 20)

	want := map[string]bool{
		"builtin.failure-spike":      false,
		"builtin.paused":             false,
		"builtin.unauthorized":       false,
		"builtin.oracle-stale":       false,
		"builtin.demo.vault-outflow": false,
	}
	deadline := time.After(60 * time.Second)
	for missing(want) > 0 {
		select {
		case m := <-h.got:
			if m.Status == notify.StatusFiring {
				if _, ok := want[m.MonitorID]; ok {
					want[m.MonitorID] = true
				}
			}
		case <-deadline:
			stop()
			logFailureWindows(t, r)
			t.Fatalf("monitors that never fired: %v", want)
		}
	}
	stop()

	h.mu.Lock()
	defer h.mu.Unlock()
	paused := map[string]bool{}
	for _, m := range h.msgs {
		t.Logf("%s %-28s %s", m.Status, m.MonitorID, m.Summary)
		if m.MonitorID == "builtin.paused" && m.Status == notify.StatusFiring {
			paused[m.Labels["event"]] = true
			if m.Tx == "" || len(m.Links) != 3 || m.Links[1].URL != "http://127.0.0.1:8080/debug/"+m.Tx {
				t.Errorf("paused alert without its transaction links: %+v", m)
			}
			if want := "http://127.0.0.1:8080/incidents?key=" + url.QueryEscape(m.AlertKey[len(m.MonitorID)+1:]) + "&monitor=builtin.paused"; len(m.Links) == 3 && m.Links[2].URL != want {
				t.Errorf("paused alert links %s to open an incident, want %s", m.Links[2].URL, want)
			}
		}
	}
	if !paused["Paused"] || !paused["Unpaused"] {
		t.Errorf("Paused and Unpaused make separate alerts; got %v", paused)
	}
	for k, n := range h.keys {
		if n != 1 {
			t.Errorf("notification %s arrived %d times", k, n)
		}
	}
	// The history holds the transitions.
	evs, err := r.st.AlertEvents(ctx, store.AlertQuery{MonitorID: "builtin.paused"})
	if err != nil || len(evs) < 2 {
		t.Errorf("paused history: %d events, %v", len(evs), err)
	}
}

func missing(m map[string]bool) int {
	n := 0
	for _, v := range m {
		if !v {
			n++
		}
	}
	return n
}

// waitBlocks waits until n more blocks are indexed.
func waitBlocks(t testing.TB, r *rig, n uint64) {
	t.Helper()
	ctx := context.Background()
	start, _ := r.st.Head(ctx)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		h, err := r.st.Head(ctx)
		if err == nil && h.Number >= start.Number+n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the indexer did not reach block %d", start.Number+n)
		}
		<-time.After(10 * time.Millisecond) // polling the store another goroutine fills
	}
}

// logFailureWindows logs, block by block, the watched transactions and the
// failure rate over the built-in failure-spike monitor's 15-second window,
// so that a monitor that did not fire shows what the chain held.
func logFailureWindows(t *testing.T, r *rig) {
	ctx := context.Background()
	head, err := r.st.Head(ctx)
	if err != nil {
		return
	}
	bs, _ := r.st.BlockRange(ctx, 1, head.Number)
	type pt struct {
		t      time.Time
		n, bad int
	}
	var win []pt
	for _, b := range bs {
		p := pt{t: b.Time}
		for _, tx := range b.Txs {
			if tx.To == nil {
				continue
			}
			if _, ok := r.reg.Name(*tx.To); ok {
				p.n++
				if tx.Failed() {
					p.bad++
				}
			}
		}
		win = append(win, p)
		for len(win) > 0 && b.Time.Sub(win[0].t) >= 15*time.Second {
			win = win[1:]
		}
		n, bad := 0, 0
		for _, q := range win {
			n, bad = n+q.n, bad+q.bad
		}
		t.Logf("block %d at %s: %d txs, %d failed; 15 s window: %d of %d failed (%.1f%%)", b.Number, b.Time.Format("15:04:05"), p.n, p.bad, bad, n, 100*float64(bad)/float64(max(n, 1)))
	}
}
