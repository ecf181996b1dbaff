package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/guard"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/tracefs"
	"github.com/blocktorch/blocktorch/internal/web"
)

// Options are the process-level settings the command hands the app.
type Options struct {
	Logger *slog.Logger
	// Progress receives the backfill progress display; nil shows none.
	Progress io.Writer
	// ProgressTTY redraws the progress bar in place.
	ProgressTTY bool
}

// App is a running blocktorch: build it with New, run it with Run, stop it
// with Close.
type App struct {
	cfg config.Config
	log *slog.Logger
	// store is the relational store (--db): SQLite or PostgreSQL.
	store relational
	// records is the store joined with the records engine (--records):
	// chain writes and every record read or written go through it.
	records recordsStore
	// changes are the store's change notices, which Run follows.
	changes <-chan store.Change
	// closeRecords closes the records engine when it is not the store.
	closeRecords func() error
	rpc          *ethrpc.Client
	reg          *decode.Registry
	metrics      *metrics
	prog         *progress
	web          *web.Server
	ln           net.Listener
	demo         *demo.Env // nil in serve mode
	ingest       *logingest.Ingester
	eth          *ethclient.Client // plain client for eth_call/eth_getCode reads
	verify       *contracts.Registry
	catalog      *contracts.Catalog
	arts         *debugger.Artifacts // verified sources, for the debugger
	debug        *debugger.Service
	patch        *patch.Service
	monitors     *monitor.Engine
	outbox       *notify.Outbox
	// incidents runs incidents, the status page and kill switches.
	incidents *incident.Service
	respond   *response.Service
	// guard is the mempool guard; nil when it is off.
	guard *guard.Guard
	// responding counts the scenario runs monitors' firings started;
	// respondCtx is the parent of theirs, cancelled by Close, which waits
	// for them; termCtx is theirs, which also ends with the leader term.
	responding    sync.WaitGroup
	respondCtx    context.Context
	respondCancel context.CancelFunc
	termMu        sync.Mutex
	termCtx       context.Context
	// oracles follows price feeds and who reads them.
	oracles *oracle.Service
	rawRPC  *rpc.Client
	retain  map[string]time.Duration

	// nodeID names this node in the nodes list; leading is whether it
	// holds the leader lease now.
	nodeID  string
	leading atomic.Bool
	beatMu  sync.Mutex
	beatErr error // the last heartbeat's

	chainID  string
	rpcLabel string
	nodeHead atomic.Uint64
	// lastHead is the indexed head the store last reported, shown while
	// it cannot be reached.
	lastHead atomic.Uint64
	started  time.Time

	// knowledge counts the contracts verified and ABIs added, so that the
	// debugger replays traces recorded before it knew them.
	knowledge atomic.Uint64

	closeOnce sync.Once
}

// New builds every part and opens the listener, so that Addr is known (and
// a busy port reported) before Run.
func New(ctx context.Context, cfg config.Config, opts Options) (_ *App, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &App{cfg: cfg, log: opts.Logger, metrics: newMetrics(), reg: decode.NewRegistry(), started: time.Now(), nodeID: newNodeID()}
	a.respondCtx, a.respondCancel = context.WithCancel(context.WithoutCancel(ctx))
	a.prog = newProgress(opts.Progress, opts.ProgressTTY)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	if cfg.Mode == config.ModeDemo {
		// The demo's chain lives in memory and starts anew each run, so its
		// records from a previous run describe a chain that is gone.
		if err := removeRecords(cfg); err != nil {
			return nil, err
		}
	}
	if a.store, err = openStore(ctx, cfg); err != nil {
		return nil, err
	}
	// Subscribed before anything is loaded, so that no change made by
	// another node in between is missed; closed with the store.
	a.changes = a.store.Subscribe(context.WithoutCancel(ctx))
	if pg, ok := a.store.(*postgres.DB); ok {
		pg.SetLeaseOptions(postgres.LeaseOptions{Log: a.log})
	}
	if err := a.openRecords(ctx); err != nil {
		return nil, err
	}
	a.catalog = &contracts.Catalog{Decoder: a.reg, Store: a.store, Origin: a.origin, Changed: a.contractsChanged}

	rpcOpts := ethrpc.Options{RequestsPerSecond: cfg.RPCRate, Logger: a.log, Hooks: ethrpc.Hooks{
		OnRequest: func(method string, d time.Duration, err error) {
			a.metrics.rpcRequests.WithLabelValues(method).Inc()
			a.metrics.rpcLatency.WithLabelValues(method).Observe(d.Seconds())
			if err != nil {
				a.metrics.rpcErrors.WithLabelValues(method).Inc()
			}
		},
		OnRetry: func(method string, attempt int, err error) { a.metrics.rpcRetries.WithLabelValues(method).Inc() },
	}}
	rpcURL := cfg.RPC
	if cfg.Mode == config.ModeDemo {
		dcfg := demoConfig(cfg)
		dcfg.Log = a.log
		if a.demo, err = demo.Start(ctx, dcfg); err != nil {
			return nil, err
		}
		// The indexer reads the embedded chain over WebSocket JSON-RPC: the
		// same path as a real node.
		rpcURL = a.demo.WSEndpoint()
	}
	a.rpcLabel = ethrpc.Redact(rpcURL)
	if a.rpc, err = ethrpc.Dial(ctx, rpcURL, rpcOpts); err != nil {
		return nil, fmt.Errorf("cannot connect to the node: %w (check --rpc and that the node is running)", err)
	}
	caps, err := a.rpc.Probe(ctx)
	if err != nil {
		return nil, fmt.Errorf("the node at %s does not answer JSON-RPC: %w", a.rpcLabel, err)
	}
	if caps.ChainID != nil {
		a.chainID = caps.ChainID.String()
	}
	a.log.Info("connected to node", "rpc", a.rpcLabel, "chainId", a.chainID,
		"blockReceipts", caps.BlockReceipts, "debug", caps.Debug, "subscriptions", caps.Subscriptions)

	if a.retain, err = logingest.ParseRetention(cfg.Retention); err != nil {
		return nil, fmt.Errorf("--retention: %w", err)
	}
	a.ingest = logingest.New(a.records, logingest.Options{
		IngestKeys:   splitList(cfg.IngestKeys),
		AllowOrigins: splitList(cfg.AllowOrigins),
		Retention:    a.retain,
		Log:          a.log,
	})

	if a.eth, err = ethclient.DialContext(ctx, rpcURL); err != nil {
		return nil, fmt.Errorf("cannot connect to the node: %w", err)
	}
	a.verify = contracts.NewRegistry(a.eth, a.store)
	a.arts = debugger.NewArtifacts()
	a.verify.OnVerified = func(ctx context.Context, r contracts.Result) error {
		// A verified contract is decoded from then on, and the debugger
		// maps its code to source lines.
		a.addVerifiedArtifact(r)
		return a.AddContract(ctx, r.Address, r.ContractName, r.ABI)
	}
	if err := a.loadVerified(ctx); err != nil {
		return nil, err
	}
	if a.rawRPC, err = rpc.DialContext(ctx, rpcURL); err != nil {
		return nil, fmt.Errorf("cannot connect to the node: %w", err)
	}
	traceDir := filepath.Join(cfg.DataDir, "traces")
	// Traces are kept beside the relational state when it is shared
	// (PostgreSQL), so that a trace recorded on one node opens on every
	// node; otherwise in files under the data directory.
	var traces store.TraceStore = tracefs.New(traceDir)
	if ts, ok := a.store.(store.TraceStore); ok {
		traces = ts
	}
	a.debug = &debugger.Service{
		Local:   &debugger.Local{RPC: a.rawRPC},
		Options: debugger.Options{Traces: traces, Dir: traceDir, Registry: a.reg, Sources: a.arts, Names: a.arts},
		Log:     a.log,
	}
	a.debug.Knowledge = a.knowledge.Load
	if caps.Debug {
		a.debug.Node = &debugger.Node{RPC: a.rawRPC}
		if strings.HasPrefix(rpcURL, "http") {
			a.debug.Node.URL = rpcURL
		}
	}

	if a.respond, err = a.newResponse(); err != nil {
		return nil, err
	}

	if err := a.loadContracts(ctx); err != nil {
		return nil, err
	}
	if a.demo != nil {
		if err := a.demo.Deploy(ctx, a.AddContract, a.records); err != nil {
			return nil, err
		}
		if err := verifyDemo(ctx, a.demo, a.verify, a.AddContract); err != nil {
			return nil, err
		}
		if a.respond.Safe == (common.Address{}) {
			a.respond.Safe = a.demo.Safe()
		}
		if a.cfg.GuardEnabled() {
			if err := a.demoGuardScenarios(); err != nil {
				return nil, err
			}
		}
	}

	if a.ln, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w (is another blocktorch running? pick another with --addr)", cfg.Addr, err)
	}
	if err := a.startOracles(ctx); err != nil {
		return nil, err
	}
	if err := a.startMonitors(ctx); err != nil {
		return nil, err
	}
	if err := a.newGuard(rpcURL); err != nil {
		return nil, err
	}
	a.startIncidents()
	// Scenario runs write on the open incident's timeline.
	a.respond.Timeline = a.incidents

	deps := web.Deps{
		Chain:        a.store,
		Contracts:    a.store,
		Search:       a.records,
		Monitors:     a.monitors,
		Ingest:       a.ingest,
		Verify:       a.verify,
		Debug:        a.debug,
		OperatorKey:  cfg.OperatorKey,
		Sessions:     a.store,
		Accounts:     a.store,
		AllowedHosts: splitList(cfg.AllowedHosts),
		AddContract:  a.AddContract,
		Status:       a.Status,
		Metrics:      promhttp.HandlerFor(a.metrics.reg, promhttp.HandlerOpts{}),
		Logger:       a.log,
		Dashboards:   a.store,
		Shares:       a.store,
		Source:       a.arts.Content,
		Call:         a.eth.CallContract,
		Code: func(ctx context.Context, addr common.Address) ([]byte, error) {
			return a.eth.CodeAt(ctx, addr, nil)
		},
	}
	deps.Verification = a.verify.Summary
	deps.Incidents = a.incidents
	deps.Respond = a.respond
	deps.Oracles = a.oracles
	if a.patch, err = a.newPatch(); err != nil {
		return nil, err
	}
	deps.Patch = a.patch
	if a.demo != nil {
		deps.Incident = a.demo.StartIncident
	}
	if a.web, err = web.New(deps); err != nil {
		return nil, err
	}
	return a, nil
}

func removeDB(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cannot reset the demo database: %w", err)
		}
	}
	return nil
}

// URL is the address of the UI and API.
func (a *App) URL() string { return "http://" + a.ln.Addr().String() }

// FirstAdmin creates the user "admin", without a password, when the store
// has no user, and returns the one-time link (valid auth.SetupTTL) that
// sets its password; "" when a user exists already. From then on the
// server answers only logged-in users and keys (and the operator key).
func (a *App) FirstAdmin(ctx context.Context) (string, error) {
	acct := auth.NewAccounts(a.store, nil, "", a.log.Warn)
	tok, err := acct.FirstAdmin(ctx, "admin")
	if err != nil || tok == "" {
		return "", err
	}
	return a.URL() + "/setup/" + tok, nil
}

// UIBuilt reports whether the binary holds the web UI (built by `make ui`);
// without it, pages say how to build it and the API works.
func (a *App) UIBuilt() bool { return a.web.UIBuilt() }

// ChainRPC returns the embedded chain's HTTP and WebSocket JSON-RPC URLs, or
// empty strings outside the demo.
func (a *App) ChainRPC() (httpURL, wsURL string) {
	if a.demo == nil {
		return "", ""
	}
	return a.demo.HTTPEndpoint(), a.demo.WSEndpoint()
}

func (a *App) loadContracts(ctx context.Context) error {
	skipped, err := a.catalog.Load(ctx)
	for _, err := range skipped {
		a.log.Warn("stored ABI no longer loads; its contract stays undecoded", "err", err)
	}
	return err
}

// loadVerified reads the verified contracts a previous run stored, so that
// their pages and the debugger have their sources without verifying again.
// Their ABIs come back with the known contracts (loadContracts).
func (a *App) loadVerified(ctx context.Context) error {
	loaded, skipped, err := a.verify.Load(ctx)
	if err != nil {
		return err
	}
	for _, err := range skipped {
		a.log.Warn("a stored verification no longer loads; verify the contract again", "err", err)
	}
	for _, r := range loaded {
		a.addVerifiedArtifact(r)
	}
	if len(loaded) > 0 {
		a.log.Info("loaded verified contracts", "count", len(loaded))
	}
	return nil
}

// addVerifiedArtifact hands a verified contract's artifact to the debugger.
func (a *App) addVerifiedArtifact(r contracts.Result) {
	if r.Artifact == nil {
		return
	}
	if err := a.arts.AddVerified([]contracts.Artifact{*r.Artifact}); err != nil {
		a.log.Warn("verified contract has no usable source map", "address", r.Address, "err", err)
	}
	a.knowledge.Add(1)
}

// AddContract adds a contract through the catalog (decoder, store, change
// hook); see contracts.Catalog.Add.
func (a *App) AddContract(ctx context.Context, addr common.Address, name string, abiJSON []byte) error {
	return a.catalog.Add(ctx, addr, name, abiJSON)
}

// origin says where a contract's ABI comes from, for the catalog.
func (a *App) origin(addr common.Address) string {
	if a.demo != nil && a.demo.Owns(addr) {
		return "demo"
	}
	return "user"
}

// contractsChanged is the catalog's change hook: the debugger replays
// traces recorded before it knew the contract, and monitors that name it
// compile now.
func (a *App) contractsChanged(ctx context.Context, addr common.Address) {
	a.knowledge.Add(1)
	a.detectFeed(ctx, addr)
	if a.monitors != nil {
		a.monitors.ContractsChanged(ctx)
	}
}

// startMonitors builds the monitor engine with its outbox, and loads the
// stored monitors, the built-in set and --monitors.
func (a *App) startMonitors(ctx context.Context) error {
	dest, err := notify.ParseDestinations(a.cfg.NotifyAllowPrivate, a.cfg.NotifyAllow)
	if err != nil {
		return err
	}
	ob := notify.NewOutbox(a.store, notify.Options{Logger: a.log, Destinations: dest, Owner: a.nodeID})
	a.outbox = ob
	a.monitors = monitor.New(monitor.Deps{
		Store: a.store, Contracts: a.store.Contracts, Blocks: a.store, Search: a.records,
		Node: monitor.NewRPCNode(a.rawRPC), Decode: a.reg.DecodeCall, Feeds: a.oracles, Notifier: ob, Responder: monitorResponder{a},
	}, monitor.Options{BaseURL: a.URL(), Logger: a.log, Elsewhere: a.following})
	if err := a.monitors.Load(ctx); err != nil {
		return fmt.Errorf("cannot load monitors: %w", err)
	}
	var channels []notify.Spec
	if a.cfg.AlertWebhook != "" {
		channels = append(channels, notify.Spec{Name: "webhook", Type: "webhook", URL: a.cfg.AlertWebhook, Secret: a.cfg.AlertSecret})
	}
	if a.cfg.AlertSlack != "" {
		channels = append(channels, notify.Spec{Name: "slack", Type: "slack", URL: a.cfg.AlertSlack})
	}
	if _, err := a.monitors.LoadBuiltin(ctx, a.demo != nil, channels); err != nil {
		return fmt.Errorf("cannot load the built-in monitors: %w", err)
	}
	if a.demo != nil && a.cfg.GuardEnabled() {
		var names []string
		for _, c := range channels {
			names = append(names, c.Name)
		}
		if err := a.loadDemoGuardMonitor(ctx, names); err != nil {
			return err
		}
	}
	if a.cfg.MonitorsFile != "" {
		if _, err := a.monitors.LoadFile(ctx, a.cfg.MonitorsFile); err != nil {
			return fmt.Errorf("--monitors: %w", err)
		}
	}
	return nil
}

func (a *App) onBatch(b indexer.BatchInfo) {
	m := a.metrics
	m.blocks.Add(float64(b.To - b.From + 1))
	m.txs.Add(float64(b.Txs))
	m.logs.Add(float64(b.Logs))
	m.failedTxs.Add(float64(b.Failed))
	m.indexedHead.Set(float64(b.To))
	if head := a.nodeHead.Load(); head >= b.To {
		m.headLag.Set(float64(head - b.To))
	}
	a.prog.batch(b)
	a.monitors.OnStored(b.From, b.To)
	a.oracles.OnStored(b.From, b.To)
}

// statusWait bounds each store read of Status.
const statusWait = 2 * time.Second

// Status reports the follower's state.
func (a *App) Status(ctx context.Context) web.Status {
	// The store's answers are bounded, so that the status answers at once
	// even when the database hangs or the network to it is cut.
	sctx, cancel := context.WithTimeout(ctx, statusWait)
	defer cancel()
	st := web.Status{Mode: string(a.cfg.Mode), ChainID: a.chainID, NodeHead: a.nodeHead.Load(), RPC: a.rpcLabel, Started: a.started,
		Node: a.nodeID, Role: a.Role()}
	head, err := a.store.Head(sctx)
	switch {
	case err == nil:
		st.IndexedHead = head.Number
		a.lastHead.Store(head.Number)
	case errors.Is(err, store.ErrNotFound):
	default:
		st.IndexedHead = a.lastHead.Load()
		// The driver's text (addresses) stays in the log.
		st.Database = "failing: reading the chain head failed; see the server log"
		if errors.Is(err, store.ErrUnavailable) || sctx.Err() != nil {
			st.Database = "unreachable: the database cannot be reached now; this node reconnects by itself, and leads or follows again once it answers"
		}
	}
	st.Nodes = a.nodes(sctx)
	if st.NodeHead > st.IndexedHead {
		st.Lag = st.NodeHead - st.IndexedHead
	}
	return st
}

// Run serves and indexes until ctx ends or a part fails for good. Every
// node serves the UI, the API and ingest; the leader's work (following the
// chain, monitors and the outbox, the mempool guard, price feeds,
// retention) runs while this node holds the store's leader lease (see
// lead).
func (a *App) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	run := func(name string, fn func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}

	if a.demo != nil {
		run("demo", a.demo.Run)
	}
	if a.cfg.SyslogAddr != "" {
		run("syslog", func(ctx context.Context) error { return a.ingest.ListenSyslog(ctx, a.cfg.SyslogAddr, a.cfg.SyslogAddr) })
	}
	run("changes", func(ctx context.Context) error { return a.followChanges(ctx, a.changes) })
	run("heartbeat", a.beatLoop)
	run("leader", a.lead)
	srv := &http.Server{Handler: a.web, ReadHeaderTimeout: 10 * time.Second}
	run("http", func(ctx context.Context) error {
		go func() {
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			srv.Shutdown(sctx)
		}()
		if err := srv.Serve(a.ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	wg.Wait()
	return err
}

// indexConfig is the indexer's config, waking on heads pushed by the node.
func (a *App) indexConfig(heads <-chan struct{}) indexer.Config {
	return indexer.Config{
		From:          a.cfg.From,
		Confirmations: a.cfg.Confirmations,
		BatchSize:     a.cfg.BatchSize,
		PollInterval:  a.cfg.PollInterval,
		NewHeads:      heads,
		Decode:        a.reg.DecodeTx,
		Logger:        a.log,
		Hooks: indexer.Hooks{
			OnBatch: a.onBatch,
			OnReorg: func(r indexer.ReorgInfo) {
				a.metrics.reorgs.Inc()
				a.metrics.reorgDepth.Observe(float64(r.Depth))
				a.monitors.OnReorg(r.Ancestor)
			},
			OnHead: func(n uint64) {
				a.nodeHead.Store(n)
				a.metrics.nodeHead.Set(float64(n))
			},
			OnError: func(error) { a.metrics.indexerErrors.Inc() },
		},
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Close stops every part; it is safe to call more than once.
func (a *App) Close() error {
	var errs []error
	a.closeOnce.Do(func() {
		if a.respondCancel != nil {
			a.respondCancel()
		}
		a.responding.Wait()
		if a.patch != nil {
			a.patch.Close()
		}
		if a.ln != nil {
			a.ln.Close()
		}
		if a.rpc != nil {
			a.rpc.Close()
		}
		if a.eth != nil {
			a.eth.Close()
		}
		if a.rawRPC != nil {
			a.rawRPC.Close()
		}
		if a.demo != nil {
			errs = append(errs, a.demo.Close())
		}
		if a.closeRecords != nil {
			errs = append(errs, a.closeRecords())
		}
		if a.store != nil {
			errs = append(errs, a.store.Close())
		}
	})
	return errors.Join(errs...)
}
