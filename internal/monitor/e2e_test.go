package monitor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
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
	chain   *devchain.Chain
	app     *demo.App
	traffic *demo.Traffic
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
	tr, err := dc.Traffic(demo.Options{Rate: rate, Seed: 7, FailureRate: failureRate})
	if err != nil {
		t.Fatal(err)
	}
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
	rc, err := ethrpc.Dial(context.Background(), ch.HTTPEndpoint(), ethrpc.Options{BackoffMin: 10 * time.Millisecond, BackoffMax: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rc.Close)
	ob := notify.NewOutbox(st, notify.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: time.Second, Destinations: notify.Destinations{Allow: notify.Loopback}})
	eng := monitor.New(monitor.Deps{
		Store: st, Contracts: st.Contracts, Blocks: st, Search: st,
		Node: monitor.NewRPCNode(ch.Client()), Decode: reg.DecodeCall, Notifier: ob,
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
	return &rig{chain: ch, app: app, traffic: tr, st: st, eng: eng, ob: ob, ix: ix, reg: reg}
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
	ctx, cancel := context.WithCancel(context.Background())
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
	if len(res.Created) != 7 {
		t.Fatalf("built-in set: %+v", res)
	}
	r.run(t)
	// A block every 200 ms, each phase of the incident reacting within
	// 50 ms (its receipt polling), lands each phase in about one block, as
	// with the demo's 1 s blocks; faster blocks would spread its failures
	// and liquidations over more blocks than the demo ever does.
	stop := r.minePaced(t, 200*time.Millisecond, 4)
	// Warm up: positions exist and the feed has answered.
	waitBlocks(t, r, 40)
	if err := r.traffic.Incident(ctx); err != nil {
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
			if m.Tx == "" || len(m.Links) != 2 || m.Links[1].URL != "http://127.0.0.1:8080/debug/"+m.Tx {
				t.Errorf("paused alert without its transaction links: %+v", m)
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
