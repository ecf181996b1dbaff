package app_test

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
)

// This file is the harness of the multi-node tests (failover_test.go,
// outage_test.go): real `blocktorch serve` processes, a chain the test
// seals block by block with transfers at blocks it knows, a monitor that
// fires once per transfer to a webhook receiver the test runs, and the
// comparisons of what the nodes stored with the chain and with a run of
// one node.

// transferMonitor is the monitor the nodes run: every transfer from the
// test's sender to its receiver is an alert of its own (grouped by
// transaction), firing once and resolving only after an hour, so that
// each transfer is exactly one notification.
const transferMonitor = "failover.transfer"

// buildServe builds the blocktorch binary the nodes run.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "blocktorch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/blocktorch")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// node is one `blocktorch serve` process.
type node struct {
	name string
	cmd  *exec.Cmd
	url  string
	done chan struct{}
	log  *syncBuffer
}

func (n *node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// startNode runs `blocktorch serve` on a free port of 127.0.0.1 against
// rpc and the database dsn, applying the monitors file; it is stopped
// (SIGTERM, then SIGKILL) when the test ends.
func startNode(t *testing.T, bin, name, rpc, dsn, monitors string) *node {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	n := &node{name: name, url: "http://" + addr, done: make(chan struct{}), log: &syncBuffer{}}
	n.cmd = exec.Command(bin, "serve", "--rpc", rpc, "--from", "0", "--addr", addr, "--data", t.TempDir(),
		"--monitors", monitors, "--notify-allow", "127.0.0.1")
	n.cmd.Env = append(os.Environ(), "BLOCKTORCH_DB="+dsn, "BLOCKTORCH_OPERATOR_KEY="+clusterKey)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(15 * time.Second):
			n.cmd.Process.Kill()
			<-n.done
		}
		if t.Failed() {
			t.Logf("%s (%s) log:\n%s", n.name, n.url, tail(n.log.String(), 6000))
		}
	})
	return n
}

// clusterKey is the nodes' operator key: a server with accounts answers
// its API only to a known caller.
const clusterKey = "cluster-operator-key-0123456789"

// apiRequest is a request to a node's API with the operator key.
func apiRequest(method, url, ctype string, body io.Reader) *http.Request {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+clusterKey)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	return req
}

// nodeStatus is what /api/v1/status says of a node.
type nodeStatus struct {
	Node        string `json:"node"`
	Role        string `json:"role"`
	IndexedHead uint64 `json:"indexedHead"`
	Database    string `json:"database"`
	Nodes       []store.Node
}

// status asks a node's /api/v1/status; code is 0 when it did not answer.
func status(n *node, timeout time.Duration) (st nodeStatus, code int, err error) {
	c := http.Client{Timeout: timeout}
	resp, err := c.Do(apiRequest(http.MethodGet, n.url+"/api/v1/status", "", nil))
	if err != nil {
		return st, 0, err
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			Status nodeStatus `json:"status"`
		} `json:"data"`
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return st, resp.StatusCode, err
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return st, resp.StatusCode, fmt.Errorf("status answer %q: %w", tail(string(b), 200), err)
	}
	return env.Data.Status, resp.StatusCode, nil
}

// leaderOf returns the index of the one node that says it leads, -1 when
// none does; two that both say so fail the test.
func leaderOf(t *testing.T, nodes []*node) int {
	t.Helper()
	lead := -1
	for i, n := range nodes {
		if n.exited() {
			continue
		}
		st, code, err := status(n, 2*time.Second)
		if err != nil || code != http.StatusOK || st.Role != store.RoleLeader {
			continue
		}
		if lead >= 0 {
			t.Fatalf("nodes %s and %s both say they lead", nodes[lead].name, n.name)
		}
		lead = i
	}
	return lead
}

// delivery is one webhook request the receiver got.
type delivery struct {
	key string // the Idempotency-Key header
	m   notify.Message
	at  time.Time
}

// content is what one alert transition says, whatever its key.
func (d delivery) content() string {
	return fmt.Sprintf("%s|%s|%s|%d|%s", d.m.MonitorID, d.m.AlertKey, d.m.Status, d.m.Block, d.m.Tx)
}

// receiver is a webhook receiver on 127.0.0.1 that keeps every request.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []delivery
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var m notify.Message
		if err := json.NewDecoder(req.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.got = append(r.got, delivery{key: req.Header.Get(notify.HeaderIdempotency), m: m, at: time.Now()})
		r.mu.Unlock()
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) deliveries() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// keys counts the distinct idempotency keys received.
func (r *receiver) keys() int {
	seen := map[string]bool{}
	for _, d := range r.deliveries() {
		seen[d.key] = true
	}
	return len(seen)
}

// monitorsFile writes the monitors file the nodes apply: the transfer
// monitor, notifying the receiver.
func monitorsFile(t *testing.T, r *receiver, d *driver) string {
	t.Helper()
	y := fmt.Sprintf(`channels:
  - name: hook
    type: webhook
    url: %s/hook
monitors:
  - id: %s
    name: Transfer from the test's sender
    kind: callers
    contract: "%s"
    deny: ["%s"]
    groupBy: [tx]
    resolveAfter: 1h
    severity: warning
    channels: [hook]
`, r.srv.URL, transferMonitor, d.to.Hex(), d.from.Hex())
	p := filepath.Join(t.TempDir(), "monitors.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// driver seals the chain's blocks, one every interval, with a transfer
// from its sender to a contract that logs it in every third block, until
// stopped.
type driver struct {
	ch       *devchain.Chain
	ec       *ethclient.Client
	key      *ecdsa.PrivateKey
	from, to common.Address

	mu   sync.Mutex
	sent []common.Hash
	stop chan struct{}
	done chan struct{}
}

// startChain starts an embedded chain that seals only when the driver
// says, funding the driver's sender.
func startChain(t *testing.T) *driver {
	t.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	from := crypto.PubkeyToAddress(key.PublicKey)
	ch, err := devchain.Start(devchain.Config{BlockInterval: -1, RPCAddr: "127.0.0.1:0",
		Alloc: map[common.Address]*big.Int{from: new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	d := &driver{ch: ch, ec: ethclient.NewClient(ch.Client()), key: key, from: from, stop: make(chan struct{}), done: make(chan struct{})}
	// The transfers go to a contract that logs each call (LOG0), so that
	// the index holds logs too: its code is PUSH1 0 PUSH1 0 LOG0 STOP,
	// returned by a constructor that stores it at memory 26..31.
	deploy := types.MustSignNewTx(key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
		ChainID: devchain.ChainID, Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 100_000,
		Data: common.FromHex("0x6560006000a0006000526006601af3"),
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := d.ec.SendTransaction(ctx, deploy); err != nil {
		t.Fatal(err)
	}
	for {
		ch.Commit()
		r, err := d.ec.TransactionReceipt(ctx, deploy.Hash())
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatal("the logging contract's deployment failed")
			}
			d.to = r.ContractAddress
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the logging contract is not deployed: %v", err)
		}
	}
	if code, err := d.ec.CodeAt(ctx, d.to, nil); err != nil || len(code) != 6 {
		t.Fatalf("the logging contract's code is %x (%v)", code, err)
	}
	// A few blocks before the nodes start, so that the first leader has a
	// backlog to index.
	for range 3 {
		ch.Commit()
	}
	return d
}

// run seals a block every interval, a transfer in every third, until
// halt; it must be called once, on its own goroutine.
func (d *driver) run(t *testing.T, interval time.Duration) {
	defer close(d.done)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for i := 0; ; i++ {
		if i%3 == 0 {
			d.transfer(t)
		}
		d.ch.Commit()
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
	}
}

// halt stops sealing and waits for run to return.
func (d *driver) halt() {
	close(d.stop)
	<-d.done
}

func (d *driver) transfer(t *testing.T) {
	d.mu.Lock()
	nonce := uint64(len(d.sent)) + 1 // 0 deployed the contract
	d.mu.Unlock()
	tx := types.MustSignNewTx(d.key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
		ChainID: devchain.ChainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 50_000,
		To: &d.to, Value: big.NewInt(int64(1000 + nonce)),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.ec.SendTransaction(ctx, tx); err != nil {
		t.Errorf("sending transfer %d: %v", nonce, err)
		return
	}
	d.mu.Lock()
	d.sent = append(d.sent, tx.Hash())
	d.mu.Unlock()
}

func (d *driver) transfers() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.sent)
}

// settle seals blocks until every transfer sent is mined (sealing only
// when one is still pending), and returns, for each, the block it is in;
// the chain's head is then final.
func (d *driver) settle(t *testing.T) map[common.Hash]uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	in := map[common.Hash]uint64{}
	for _, h := range d.sent {
		for {
			r, err := d.ec.TransactionReceipt(ctx, h)
			if err == nil {
				if r.Status != types.ReceiptStatusSuccessful {
					t.Fatalf("transfer %s failed", h)
				}
				in[h] = r.BlockNumber.Uint64()
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("transfer %s not mined: %v", h, err)
			}
			d.ch.Commit()
		}
	}
	return in
}

// checkDeliveries checks that each transfer's alert reached the receiver
// once: one idempotency key per alert and one alert per key, none
// missing, nothing else. An HTTP delivery is at least once: a sender
// killed between the receiver's answer and recording it leaves it due,
// and the next leader sends it again under the same key (which the
// receiver dedupes on). Such a repeat is accepted only for a delivery
// that was in flight when a leader died (its first copy received before
// the kill, within inFlight); any other repeat fails. It returns the
// deliveries by key.
func checkDeliveries(t *testing.T, r *receiver, mined map[common.Hash]uint64, kills []time.Time, inFlight time.Duration) map[string]delivery {
	t.Helper()
	byKey := map[string]delivery{}
	keysOf := map[string]map[string]bool{}
	repeats := 0
	for _, d := range r.deliveries() {
		if d.key == "" || d.key != d.m.Key {
			t.Errorf("delivery %q carries Idempotency-Key %q", d.m.Key, d.key)
		}
		if first, ok := byKey[d.key]; ok {
			if first.content() != d.content() {
				t.Errorf("key %s was sent with two contents: %s and %s", d.key, first.content(), d.content())
			}
			excused := false
			for _, k := range kills {
				excused = excused || (!first.at.After(k) && k.Sub(first.at) <= inFlight && d.at.After(k))
			}
			if !excused {
				t.Errorf("alert %s delivered again at %s (first at %s) with no leader killed in between",
					d.key, d.at.Format(time.StampMilli), first.at.Format(time.StampMilli))
			}
			repeats++
			continue
		}
		byKey[d.key] = d
		if keysOf[d.content()] == nil {
			keysOf[d.content()] = map[string]bool{}
		}
		keysOf[d.content()][d.key] = true
	}
	for c, ks := range keysOf {
		if len(ks) > 1 {
			t.Errorf("one alert %s was delivered under %d keys: %v", c, len(ks), ks)
		}
	}
	want := map[string]bool{}
	for h, b := range mined {
		want[fmt.Sprintf("%s|%s/tx=%s|firing|%d|%s", transferMonitor, transferMonitor, h.Hex(), b, h.Hex())] = true
	}
	for c := range want {
		if keysOf[c] == nil {
			t.Errorf("alert %s never delivered", c)
		}
	}
	for c := range keysOf {
		if !want[c] {
			t.Errorf("unexpected alert delivered: %s", c)
		}
	}
	if repeats > 0 {
		t.Logf("%d delivery repeated under its key after a leader was killed while sending it", repeats)
	}
	return byKey
}

// engineCursor is the monitor engine's checkpoint the store holds: the
// newest block it evaluated.
func engineCursor(ctx context.Context, db *postgres.DB) (uint64, bool) {
	states, err := db.AlertStates(ctx)
	if err != nil {
		return 0, false
	}
	for _, st := range states {
		if st.MonitorID == "_engine" {
			var cur struct{ Block uint64 }
			if json.Unmarshal(st.State, &cur) == nil {
				return cur.Block, true
			}
		}
	}
	return 0, false
}

// caughtUp reports whether the store indexed and evaluated the chain up
// to head.
func caughtUp(ctx context.Context, db *postgres.DB, head uint64) bool {
	h, err := db.Head(ctx)
	if err != nil || h.Number < head {
		return false
	}
	cur, ok := engineCursor(ctx, db)
	return ok && cur >= head
}

// checkIndex checks that the store's chain index is the chain's up to
// head: every block once, the chain's hashes, and the store's counts
// equal to the chain's blocks, transactions and logs.
func checkIndex(t *testing.T, db *postgres.DB, d *driver, head uint64) store.Counts {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	h, err := db.Head(ctx)
	if err != nil || h.Number != head {
		t.Fatalf("the stored head is %d (%v), the chain's %d", h.Number, err, head)
	}
	blocks, err := db.BlockRange(ctx, 0, head)
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(blocks)) != head+1 {
		t.Fatalf("the index holds %d blocks for 0..%d", len(blocks), head)
	}
	var want store.Counts
	for i, b := range blocks {
		cb, err := d.ec.BlockByNumber(ctx, new(big.Int).SetUint64(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if b.Number != uint64(i) || b.Hash != cb.Hash() || len(b.Txs) != len(cb.Transactions()) {
			t.Fatalf("indexed block %d is number %d hash %s with %d txs; the chain's is %s with %d",
				i, b.Number, b.Hash, len(b.Txs), cb.Hash(), len(cb.Transactions()))
		}
		rs, err := d.ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithNumber(rpc.BlockNumber(i)))
		if err != nil {
			t.Fatal(err)
		}
		want.Blocks++
		want.Txs += int64(len(cb.Transactions()))
		for _, r := range rs {
			want.Logs += int64(len(r.Logs))
		}
	}
	got, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("stored counts %+v, the chain's %+v", got, want)
	}
	return got
}

// alertHistory is the stored alert history as comparable lines, sorted.
func alertHistory(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	evs, err := db.AlertEvents(t.Context(), store.AlertQuery{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %s %s %d", e.MonitorID, e.Key, e.Status, e.Block))
	}
	slices.Sort(out)
	return out
}

// alertStates is the stored alert states (the engine's cursor too) as
// comparable lines, sorted.
func alertStates(t *testing.T, db *postgres.DB) []string {
	t.Helper()
	sts, err := db.AlertStates(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range sts {
		out = append(out, s.MonitorID+" "+s.Key+" "+string(s.State))
	}
	slices.Sort(out)
	return out
}

// compareSingleNode runs one serve node on a fresh database over the same
// (final) chain and checks that the cluster's store holds what it does:
// the chain index and its counts, the monitor engine's checkpoint, the
// alert states and history, and the alerts delivered (by key and by
// content).
func compareSingleNode(t *testing.T, bin string, d *driver, head uint64, cluster *postgres.DB, clusterHooks map[string]delivery, dsn string) {
	t.Helper()
	r := newReceiver(t)
	n := startNode(t, bin, "single", d.ch.WSEndpoint(), dsn, monitorsFile(t, r, d))
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitFor(t, fmt.Sprintf("the single node indexing and evaluating up to %d", head), 90*time.Second, func() bool {
		if n.exited() {
			t.Fatalf("the single node exited")
		}
		return caughtUp(t.Context(), db, head) && r.keys() >= len(clusterHooks)
	})
	single := checkIndex(t, db, d, head)
	clusterCounts, err := cluster.Counts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if clusterCounts != single {
		t.Fatalf("the cluster's counts %+v, one node's %+v", clusterCounts, single)
	}
	if c, s := alertStates(t, cluster), alertStates(t, db); !slices.Equal(c, s) {
		t.Fatalf("alert states and checkpoint differ:\ncluster: %s\none node: %s", strings.Join(c, "\n"), strings.Join(s, "\n"))
	}
	if c, s := alertHistory(t, cluster), alertHistory(t, db); !slices.Equal(c, s) {
		t.Fatalf("alert history differs:\ncluster: %s\none node: %s", strings.Join(c, "\n"), strings.Join(s, "\n"))
	}
	singleHooks := map[string]string{}
	for _, dl := range r.deliveries() {
		singleHooks[dl.key] = dl.content()
	}
	if len(singleHooks) != len(clusterHooks) {
		t.Fatalf("one node delivered %d alerts, the cluster %d", len(singleHooks), len(clusterHooks))
	}
	for k, dl := range clusterHooks {
		if singleHooks[k] != dl.content() {
			t.Fatalf("alert %s: the cluster delivered %s, one node %q", k, dl.content(), singleHooks[k])
		}
	}
	t.Logf("one node on a fresh database over the same chain: %d blocks, %d txs, %d logs, checkpoint %d, %d alerts: the same",
		single.Blocks, single.Txs, single.Logs, head, len(singleHooks))
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// getData GETs an API URL and decodes its envelope's data into v; a node
// that does not answer, or answers an error, is an error.
func getData(url string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Do(apiRequest(http.MethodGet, url, "", nil))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d %s", url, resp.StatusCode, tail(string(b), 300))
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	return json.Unmarshal(env.Data, v)
}

// checkActiveAlerts checks that every live node answers
// /api/v1/alerts/active alike, followers too: one firing alert of the
// transfer monitor per transfer.
func checkActiveAlerts(t *testing.T, nodes []*node, mined map[common.Hash]uint64) {
	t.Helper()
	for _, n := range nodes {
		if n.exited() {
			continue
		}
		var as []struct {
			MonitorID string `json:"monitorId"`
			Key       string `json:"key"`
			State     string `json:"state"`
		}
		if err := getData(n.url+"/api/v1/alerts/active", &as); err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		firing := map[string]bool{}
		for _, a := range as {
			if a.MonitorID == transferMonitor && a.State == "firing" {
				firing[a.Key] = true
			}
		}
		for h := range mined {
			if !firing["tx="+h.Hex()] {
				t.Errorf("%s does not list the alert of transfer %s among %d active alerts", n.name, h, len(firing))
			}
		}
		if len(firing) != len(mined) {
			t.Errorf("%s lists %d firing alerts of %s for %d transfers", n.name, len(firing), transferMonitor, len(mined))
		}
	}
}
