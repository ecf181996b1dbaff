package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// LogTx is one transaction the demo app sent, as the composition root
// passes it on from the traffic's OnSend.
type LogTx struct {
	Hash common.Hash
	From common.Address
	// To is the zero address for a contract creation.
	To common.Address
	// Action says what the transaction does ("borrow", "router.repayAndWithdraw", …).
	Action string
	// Failure names the failure it is meant to hit, "" when meant to succeed.
	Failure string
}

// LogOptions tunes the demo log generator.
type LogOptions struct {
	// Seed makes the sequence of logs reproducible.
	Seed uint64
	// Interval is the time between Run's steps (default 1 s).
	Interval time.Duration
	// Now stamps the records (default time.Now).
	Now func() time.Time
	// OnError, if set, receives the errors of failed steps and Run goes on;
	// otherwise Run returns the first one.
	OnError func(error)
	// Upstream is the node URL the app's back end calls, named by its RPC
	// error logs: the demo passes the address its chain really listens on
	// (default http://127.0.0.1:8545).
	Upstream string
}

// maxPendingTxs caps the transactions waiting for the next step; older ones
// lose their logs when the generator falls behind.
const maxPendingTxs = 1024

// Logs generates the demo app's off-chain logs: its front end's wallet
// prompts, rejections and RPC failures, its back end's requests with
// latency, security logs (failed logins; during the incident, an admin key
// used from a new IP) and system logs (resource warnings, node restarts).
// Logs of transactions carry their hashes and addresses, so they join the
// chain records. Given the same seed, the same Sent calls between the same
// Steps and the same clock, it writes the same records.
type Logs struct {
	w    store.RecordWriter
	opts LogOptions

	mu       sync.Mutex
	pending  []LogTx
	incident bool
	// announced is set once the incident's admin-key record is written.
	announced bool

	rng     *rand.Rand // used by Step only, under stepMu
	stepMu  sync.Mutex
	reqSeq  int
	users   []common.Address
	adminIP string
}

// NewLogs returns a generator writing to w.
func NewLogs(w store.RecordWriter, opts LogOptions) *Logs {
	if opts.Interval <= 0 {
		opts.Interval = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Upstream == "" {
		opts.Upstream = "http://127.0.0.1:8545"
	}
	return &Logs{w: w, opts: opts, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)), adminIP: "203.0.113.77"}
}

// Sent queues the logs of one transaction for the next step. Safe to call
// from any goroutine (the traffic calls OnSend under its lock); it never blocks.
func (d *Logs) Sent(tx LogTx) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) == maxPendingTxs {
		d.pending = d.pending[1:]
	}
	d.pending = append(d.pending, tx)
}

// Incident switches the incident's security logs on (the admin key used
// from a new IP, then repeated admin logins from it) or off.
func (d *Logs) Incident(on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.incident = on
	if on {
		d.announced = false
	}
}

// Run writes a step every Interval until ctx ends.
func (d *Logs) Run(ctx context.Context) error {
	t := time.NewTicker(d.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := d.Step(ctx); err != nil {
			if d.opts.OnError == nil {
				return err
			}
			d.opts.OnError(err)
		}
	}
}

// Step writes one interval's logs: those of the transactions sent since the
// last step, and background traffic.
func (d *Logs) Step(ctx context.Context) error {
	d.stepMu.Lock()
	defer d.stepMu.Unlock()
	d.mu.Lock()
	txs := d.pending
	d.pending = nil
	incident, announce := d.incident, d.incident && !d.announced
	if announce {
		d.announced = true
	}
	d.mu.Unlock()

	g := &logStep{d: d, now: d.opts.Now().UTC()}
	for _, tx := range txs {
		d.remember(tx.From)
		g.tx(tx)
	}
	g.background(incident, announce)
	if len(g.recs) == 0 {
		return nil
	}
	if err := d.w.AppendRecords(ctx, g.recs); err != nil {
		return fmt.Errorf("cannot store %d demo logs: %w", len(g.recs), err)
	}
	return nil
}

func (d *Logs) remember(a common.Address) {
	for _, u := range d.users {
		if u == a {
			return
		}
	}
	if len(d.users) < 64 {
		d.users = append(d.users, a)
	}
}

// logStep builds the records of one step; each record is a millisecond or
// a few after the previous, so their order is their time order.
type logStep struct {
	d    *Logs
	now  time.Time
	off  time.Duration
	recs []record.Record
}

func (g *logStep) add(source, service, kind, level, msg string, attrs map[string]any, hashes []common.Hash, addrs ...common.Address) {
	g.off += time.Duration(1+g.d.rng.IntN(40)) * time.Millisecond
	var as []common.Address
	for _, a := range addrs {
		if a != (common.Address{}) {
			as = append(as, a)
		}
	}
	g.recs = append(g.recs, record.Record{
		Time: g.now.Add(g.off), Source: source, Kind: kind, Level: level, Service: service, Message: msg,
		Attrs: attrs, TxHashes: hashes, Addresses: as,
	})
}

func (g *logStep) session(a common.Address) string {
	return fmt.Sprintf("s-%x", a[:4])
}

// tx writes a transaction's path through the front end and the back end.
func (g *logStep) tx(tx LogTx) {
	rng := g.d.rng
	hashes := []common.Hash{tx.Hash}
	sess := g.session(tx.From)
	g.add(record.SourceApp, "dapp-web", "signature", "info", "signature requested for "+tx.Action,
		map[string]any{"session": sess, "method": "eth_sendTransaction", "action": tx.Action, "from": tx.From.Hex()}, nil, tx.From)
	g.add(record.SourceApp, "dapp-web", "tx_submitted", "info", "transaction submitted "+tx.Hash.Hex(),
		map[string]any{"session": sess, "action": tx.Action, "from": tx.From.Hex(), "to": tx.To.Hex(), "txHash": tx.Hash.Hex()}, hashes, tx.From, tx.To)
	lat := int64(20 + rng.IntN(180))
	g.d.reqSeq++
	g.add(record.SourceApp, "api", "request", "info", fmt.Sprintf("POST /api/tx/relay 200 in %dms", lat),
		map[string]any{"method": "POST", "path": "/api/tx/relay", "status": int64(200), "latencyMs": lat, "requestId": fmt.Sprintf("req-%06d", g.d.reqSeq),
			"action": tx.Action, "txHash": tx.Hash.Hex()}, hashes, tx.From)
	if tx.Failure != "" {
		g.add(record.SourceApp, "api", "tx_failed", "error", fmt.Sprintf("%s reverted (%s): tx %s from %s", tx.Action, tx.Failure, tx.Hash.Hex(), tx.From.Hex()),
			map[string]any{"action": tx.Action, "failure": tx.Failure, "txHash": tx.Hash.Hex()}, hashes, tx.From)
		g.add(record.SourceApp, "dapp-web", "tx_failed", "error", "transaction failed: "+tx.Failure,
			map[string]any{"session": sess, "action": tx.Action, "txHash": tx.Hash.Hex()}, hashes, tx.From)
	}
}

var logRoutes = []struct {
	path   string
	method string
	ms     int
}{
	{"/api/markets", "GET", 15}, {"/api/positions", "GET", 35}, {"/api/prices", "GET", 10}, {"/api/health", "GET", 2}, {"/api/quote", "POST", 60},
}

// background writes what happens without a transaction: requests, wallet
// rejections, RPC timeouts, logins, resource warnings and restarts.
func (g *logStep) background(incident, announce bool) {
	rng := g.d.rng
	user := func() common.Address {
		if len(g.d.users) == 0 {
			var a common.Address
			a[19] = byte(1 + rng.IntN(200))
			return a
		}
		return g.d.users[rng.IntN(len(g.d.users))]
	}
	for range 2 + rng.IntN(4) {
		r := logRoutes[rng.IntN(len(logRoutes))]
		lat := int64(r.ms + rng.IntN(r.ms*3+1))
		status, level := int64(200), "info"
		switch p := rng.Float64(); {
		case p < 0.02 || incident && p < 0.10:
			status, level, lat = 503, "error", lat+int64(1000+rng.IntN(4000))
		case p < 0.06:
			status, level = 429, "warn"
		case lat > 150:
			level = "warn"
		}
		g.d.reqSeq++
		g.add(record.SourceApp, "api", "request", level, fmt.Sprintf("%s %s %d in %dms", r.method, r.path, status, lat),
			map[string]any{"method": r.method, "path": r.path, "status": status, "latencyMs": lat, "requestId": fmt.Sprintf("req-%06d", g.d.reqSeq)}, nil)
	}
	if rng.Float64() < 0.15 {
		u := user()
		g.add(record.SourceApp, "dapp-web", "wallet_rejected", "warn", "wallet rejected eth_sendTransaction: User rejected the request.",
			map[string]any{"session": g.session(u), "method": "eth_sendTransaction", "code": int64(4001), "from": u.Hex()}, nil, u)
	}
	if rng.Float64() < 0.05 || incident && rng.Float64() < 0.3 {
		g.add(record.SourceApp, "api", "rpc_error", "error", "eth_call to "+g.d.opts.Upstream+" timed out after 5000ms",
			map[string]any{"rpc.method": "eth_call", "timeoutMs": int64(5000), "upstream": g.d.opts.Upstream}, nil)
	}
	if rng.Float64() < 0.04 {
		u := user()
		g.add(record.SourceApp, "dapp-web", "signature", "info", "signature requested: personal_sign (login)",
			map[string]any{"session": g.session(u), "method": "personal_sign", "from": u.Hex()}, nil, u)
	}
	if rng.Float64() < 0.08 {
		ip := fmt.Sprintf("198.51.100.%d", 1+rng.IntN(254))
		g.add(record.SourceSecurity, "auth", "login_failed", "warn", "failed login for user ops-"+fmt.Sprint(rng.IntN(9))+" from "+ip,
			map[string]any{"ip": ip, "reason": "bad password"}, nil)
	}
	if announce {
		admin := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
		g.add(record.SourceSecurity, "auth", "admin_key", "warn", "admin key ak_live_7f3c used from new IP "+g.d.adminIP,
			map[string]any{"ip": g.d.adminIP, "keyId": "ak_live_7f3c", "admin": admin.Hex(), "firstSeen": true, "geo": "unknown ASN"}, nil, admin)
	}
	if incident && rng.Float64() < 0.5 {
		g.add(record.SourceSecurity, "auth", "admin_login", "error", "admin login from "+g.d.adminIP+" outside the allow-list",
			map[string]any{"ip": g.d.adminIP, "keyId": "ak_live_7f3c", "path": "/admin/oracle"}, nil)
	}
	if rng.Float64() < 0.05 {
		res := []string{"cpu", "mem", "disk"}[rng.IntN(3)]
		pct := int64(80 + rng.IntN(19))
		g.add(record.SourceSystem, "node-exporter", "resource", "warn", fmt.Sprintf("%s usage %d%% on api-1", res, pct),
			map[string]any{"host": "api-1", "resource": res, "percent": pct}, nil)
	}
	if rng.Float64() < 0.005 {
		g.add(record.SourceSystem, "geth", "restart", "warn", "node restarted after unclean shutdown",
			map[string]any{"host": "node-1", "uptimeSec": int64(0)}, nil)
	}
}
