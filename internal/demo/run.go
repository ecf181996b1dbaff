package demo

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Accounts is how many demo keys `blocktorch demo` funds: the app's roles
// and the users that make the traffic.
const Accounts = 10

// EnvConfig configures the demo that `blocktorch demo` runs.
type EnvConfig struct {
	// BlockInterval is the embedded chain's block time.
	BlockInterval time.Duration
	// RPCAddr is where the chain serves HTTP and WebSocket JSON-RPC.
	RPCAddr string
	// TrafficRate is the demo transactions per second (0: none).
	TrafficRate float64
	// Incident runs the scripted incident IncidentDelay after Run starts.
	Incident      bool
	IncidentDelay time.Duration
	// Guarded says a mempool guard runs with the guardian (GuardianKey) as its signer:
	// the incident's exploit is then meant to revert (see Options.Guarded).
	Guarded bool
	// Log receives the demo's own messages; the node's are kept from warn up.
	Log *slog.Logger
}

// RegisterFunc makes a deployed contract known to the product (its ABI
// decoded from then on).
type RegisterFunc func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error

// Env is the running demo: the embedded chain, the app deployed on it, its
// traffic, its off-chain logs and the scripted incident. Start it, Deploy,
// then Run until the context ends, and Close.
type Env struct {
	cfg   EnvConfig
	log   *slog.Logger
	chain *devchain.Chain
	eth   *ethclient.Client
	keys  []*ecdsa.PrivateKey

	app     *App
	safe    common.Address // the pauser Safe, once deployed
	traffic *Traffic
	logs    *Logs
	// register is set by Deploy.
	register RegisterFunc

	mu         sync.Mutex
	incidentOn bool
	known      map[common.Address]bool
	runCtx     context.Context
}

// Start boots the embedded chain with the demo accounts funded; the app is
// deployed by Deploy.
func Start(ctx context.Context, cfg EnvConfig) (*Env, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	keys := Keys(Accounts)
	alloc := Alloc(keys)
	alloc[crypto.PubkeyToAddress(GuardianKey().PublicKey)] = GenesisFund
	ch, err := devchain.Start(devchain.Config{
		BlockInterval: cfg.BlockInterval,
		Alloc:         alloc,
		RPCAddr:       cfg.RPCAddr,
		// The node's own info lines (P2P, enode) are noise in the demo.
		Logger: slog.New(minLevel{cfg.Log.Handler(), slog.LevelWarn}).With("component", "devchain"),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot start the embedded chain: %w (free the port or pick another with --rpc-addr 127.0.0.1:PORT)", err)
	}
	return &Env{cfg: cfg, log: cfg.Log, chain: ch, eth: ethclient.NewClient(ch.Client()), keys: keys, known: map[common.Address]bool{}}, nil
}

// HTTPEndpoint is the chain's HTTP JSON-RPC URL.
func (e *Env) HTTPEndpoint() string { return e.chain.HTTPEndpoint() }

// WSEndpoint is the chain's WebSocket JSON-RPC URL.
func (e *Env) WSEndpoint() string { return e.chain.WSEndpoint() }

// Deploy deploys the demo app, registers its contracts through register
// (and, while Run runs, those the incident deploys later) and prepares the
// traffic and the off-chain logs, which go to logs.
func (e *Env) Deploy(ctx context.Context, register RegisterFunc, logs store.RecordWriter) error {
	e.register = register
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	app, err := Deploy(dctx, e.eth, e.keys[Deployer])
	if err != nil {
		return fmt.Errorf("cannot deploy the demo app: %w", err)
	}
	e.app = app
	// A Safe 2-of-3 of the demo's Safe owners may pause the vault too.
	if e.safe, err = DeploySafe(dctx, e.eth, e.keys[Deployer], Addresses(SafeOwnerKeys()), SafeThreshold); err != nil {
		return fmt.Errorf("cannot deploy the demo's Safe: %w", err)
	}
	if err := app.GrantPauser(dctx, e.eth, e.keys[Deployer], e.safe); err != nil {
		return fmt.Errorf("cannot make the demo's Safe a pauser: %w", err)
	}
	// So may the guardian, the product's signer in the demo.
	if err := app.GrantPauser(dctx, e.eth, e.keys[Deployer], crypto.PubkeyToAddress(GuardianKey().PublicKey)); err != nil {
		return fmt.Errorf("cannot make the demo's guardian a pauser: %w", err)
	}
	if err := e.registerNew(ctx); err != nil {
		return err
	}
	seed := uint64(time.Now().UnixNano())
	e.logs = NewLogs(logs, LogOptions{
		Seed:    seed,
		OnError: func(err error) { e.log.Warn("demo logs step failed", "err", err) },
		// The app's RPC failures name the node it really calls.
		Upstream: e.chain.HTTPEndpoint(),
	})
	e.traffic, err = NewTraffic(app, e.eth, e.keys, Options{
		Rate:    e.cfg.TrafficRate,
		Seed:    seed,
		OnError: func(err error) { e.log.Warn("demo traffic step failed", "err", err) },
		Guarded: e.cfg.Guarded,
		// The app's off-chain logs follow its transactions, hashes included.
		OnSend: func(s Sent) {
			tx := LogTx{Hash: s.Tx.Hash(), From: s.From, Action: s.Action, Failure: string(s.Failure)}
			if to := s.Tx.To(); to != nil {
				tx.To = *to
			}
			e.logs.Sent(tx)
		},
	})
	if err != nil {
		return fmt.Errorf("cannot start the demo traffic: %w", err)
	}
	return nil
}

// Safe is the demo's pauser Safe (2 of the SafeOwnerKeys sign), zero
// before Deploy.
func (e *Env) Safe() common.Address { return e.safe }

// Contracts lists the app's deployed contracts (none before Deploy).
func (e *Env) Contracts() []Contract {
	if e.app == nil {
		return nil
	}
	return e.app.Contracts()
}

// PatchedVault is the address of the demo's patched LendingVault implementation (see
// PatchedStandardJSON), zero before Deploy.
func (e *Env) PatchedVault() common.Address {
	if e.app == nil {
		return common.Address{}
	}
	return e.app.PatchedVault
}

// Owns reports whether addr is one of the demo app's contracts, an implementation behind one
// of them, or the patched LendingVault.
func (e *Env) Owns(addr common.Address) bool {
	if addr != (common.Address{}) && addr == e.PatchedVault() {
		return true
	}
	for _, c := range e.Contracts() {
		if c.Address == addr || (c.Implementation != (common.Address{}) && c.Implementation == addr) {
			return true
		}
	}
	return false
}

// registerNew registers contracts the app deployed since the last call (the
// incident deploys the attacker's contract).
func (e *Env) registerNew(ctx context.Context) error {
	for _, c := range e.app.Contracts() {
		e.mu.Lock()
		seen := e.known[c.Address]
		e.mu.Unlock()
		if seen {
			continue
		}
		if err := e.register(ctx, c.Address, c.Name, c.ABI); err != nil {
			return fmt.Errorf("cannot register demo contract %s: %w", c.Name, err)
		}
		e.mu.Lock()
		e.known[c.Address] = true
		e.mu.Unlock()
	}
	return nil
}

// Run drives the traffic, the logs and, when configured, the incident until
// ctx ends. Call it after Deploy.
func (e *Env) Run(ctx context.Context) error {
	e.mu.Lock()
	e.runCtx = ctx
	e.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := e.logs.Run(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("demo logs stopped", "err", err)
		}
	}()
	if e.cfg.TrafficRate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := e.traffic.Run(ctx); err != nil && ctx.Err() == nil {
				e.log.Error("demo traffic stopped", "err", err)
			}
		}()
	}
	if e.cfg.Incident {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleepCtx(ctx, e.cfg.IncidentDelay) {
				return
			}
			if err := e.StartIncident(); err != nil {
				e.log.Error("cannot start the incident", "err", err)
			}
		}()
	}
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := e.registerNew(ctx); err != nil {
				e.log.Warn("cannot register new demo contracts", "err", err)
			}
		}
	}
}

// StartIncident starts the scripted incident in the background, one at a
// time; it fails before Run has started and while an incident runs.
func (e *Env) StartIncident() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runCtx == nil {
		return errors.New("the demo is not running yet")
	}
	if e.incidentOn {
		return errors.New("an incident is already running")
	}
	e.incidentOn = true
	ctx := e.runCtx
	go func() {
		e.log.Warn("demo incident started: stale oracle, price crash, liquidation wave, exploit attempts")
		e.logs.Incident(true)
		err := e.traffic.Incident(ctx)
		e.logs.Incident(false)
		e.mu.Lock()
		e.incidentOn = false
		e.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			e.log.Error("demo incident failed", "err", err)
			return
		}
		e.log.Warn("demo incident finished")
		e.registerNew(ctx)
	}()
	return nil
}

// Close stops the chain; the in-process client shares the chain's
// connection, which the chain closes.
func (e *Env) Close() error {
	return e.chain.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// minLevel drops records below min.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.min}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.min}
}
