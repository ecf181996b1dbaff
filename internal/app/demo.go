package app

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	democontracts "github.com/blocktorch/blocktorch/contracts"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demoapp"
	"github.com/blocktorch/blocktorch/internal/demochain"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/store"
)

// demoAccounts is how many demo keys are funded: the app's roles and the
// users that make the traffic.
const demoAccounts = 10

// demo is the embedded chain with the demo app on it.
type demo struct {
	cfg   config.Config
	log   *slog.Logger
	chain *devchain.Chain
	eth   *ethclient.Client
	keys  []*ecdsa.PrivateKey

	app     *demoapp.App
	traffic *demoapp.Traffic
	logs    *logingest.DemoLogs
	// register adds a contract's ABI to the decoder; set by deploy.
	register func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error

	mu         sync.Mutex
	incidentOn bool
	known      map[common.Address]bool
	runCtx     context.Context
}

func startDemo(ctx context.Context, cfg config.Config, log *slog.Logger) (*demo, error) {
	keys := demoapp.Keys(demoAccounts)
	ch, err := devchain.Start(devchain.Config{
		BlockInterval: cfg.BlockInterval,
		Alloc:         demochain.Alloc(keys),
		RPCAddr:       cfg.ChainRPCAddr,
		// The node's own info lines (P2P, enode) are noise in the demo.
		Logger: slog.New(minLevel{log.Handler(), slog.LevelWarn}).With("component", "devchain"),
	})
	if err != nil {
		return nil, fmt.Errorf("cannot start the embedded chain: %w (free the port or pick another with --rpc-addr 127.0.0.1:PORT)", err)
	}
	d := &demo{cfg: cfg, log: log, chain: ch, eth: ethclient.NewClient(ch.Client()), keys: keys, known: map[common.Address]bool{}}
	return d, nil
}

// deploy deploys the demo app and registers its contracts' ABIs.
func (d *demo) deploy(ctx context.Context, register func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error, logs store.RecordWriter) error {
	d.register = register
	dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	app, err := demoapp.Deploy(dctx, d.eth, d.keys[demoapp.Deployer])
	if err != nil {
		return fmt.Errorf("cannot deploy the demo app: %w", err)
	}
	d.app = app
	if err := d.registerNew(ctx); err != nil {
		return err
	}
	seed := uint64(time.Now().UnixNano())
	d.logs = logingest.NewDemoLogs(logs, logingest.DemoOptions{
		Seed:    seed,
		OnError: func(err error) { d.log.Warn("demo logs step failed", "err", err) },
		// The app's RPC failures name the node it really calls.
		Upstream: d.chain.HTTPEndpoint(),
	})
	d.traffic, err = demoapp.NewTraffic(app, d.eth, d.keys, demoapp.Options{
		Rate:    d.cfg.TrafficRate,
		Seed:    seed,
		OnError: func(err error) { d.log.Warn("demo traffic step failed", "err", err) },
		// The app's off-chain logs follow its transactions, hashes included.
		OnSend: func(s demoapp.Sent) {
			tx := logingest.DemoTx{Hash: s.Tx.Hash(), From: s.From, Action: s.Action, Failure: string(s.Failure)}
			if to := s.Tx.To(); to != nil {
				tx.To = *to
			}
			d.logs.Sent(tx)
		},
	})
	if err != nil {
		return fmt.Errorf("cannot start the demo traffic: %w", err)
	}
	return nil
}

// verify verifies the demo's deployed contracts against their committed
// compiler output, so their pages show the verified source.
func (d *demo) verify(ctx context.Context, reg *contracts.Registry) error {
	in, out := democontracts.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		return fmt.Errorf("cannot read the demo's compiler output: %w", err)
	}
	for _, c := range d.app.Contracts() {
		res, err := reg.Submit(ctx, c.Address, contracts.VerifyRequest{Artifacts: arts, Contract: c.Name})
		if err != nil {
			return fmt.Errorf("cannot verify demo contract %s: %w", c.Name, err)
		}
		if res.Status == "none" {
			return fmt.Errorf("BUG: demo contract %s does not match its committed build: %v", c.Name, res.Mismatch)
		}
	}
	return nil
}

// owns reports whether addr is one of the demo app's contracts.
func (d *demo) owns(addr common.Address) bool {
	if d.app == nil {
		return false
	}
	for _, c := range d.app.Contracts() {
		if c.Address == addr {
			return true
		}
	}
	return false
}

// registerNew registers contracts the app deployed since the last call (the
// incident deploys the attacker's contract).
func (d *demo) registerNew(ctx context.Context) error {
	for _, c := range d.app.Contracts() {
		d.mu.Lock()
		seen := d.known[c.Address]
		d.mu.Unlock()
		if seen {
			continue
		}
		if err := d.register(ctx, c.Address, c.Name, c.ABI); err != nil {
			return fmt.Errorf("cannot register demo contract %s: %w", c.Name, err)
		}
		d.mu.Lock()
		d.known[c.Address] = true
		d.mu.Unlock()
	}
	return nil
}

// run drives the traffic, and the incident when configured, until ctx ends.
func (d *demo) run(ctx context.Context) error {
	d.mu.Lock()
	d.runCtx = ctx
	d.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := d.logs.Run(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("demo logs stopped", "err", err)
		}
	}()
	if d.cfg.TrafficRate > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.traffic.Run(ctx); err != nil && ctx.Err() == nil {
				d.log.Error("demo traffic stopped", "err", err)
			}
		}()
	}
	if d.cfg.Incident {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleepCtx(ctx, d.cfg.IncidentDelay) {
				return
			}
			if err := d.startIncident(); err != nil {
				d.log.Error("cannot start the incident", "err", err)
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
			if err := d.registerNew(ctx); err != nil {
				d.log.Warn("cannot register new demo contracts", "err", err)
			}
		}
	}
}

// startIncident starts the scripted incident in the background; one at a
// time.
func (d *demo) startIncident() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.runCtx == nil {
		return errors.New("the demo is not running yet")
	}
	if d.incidentOn {
		return errors.New("an incident is already running")
	}
	d.incidentOn = true
	ctx := d.runCtx
	go func() {
		d.log.Warn("demo incident started: stale oracle, price crash, liquidation wave, exploit attempts")
		d.logs.Incident(true)
		err := d.traffic.Incident(ctx)
		d.logs.Incident(false)
		d.mu.Lock()
		d.incidentOn = false
		d.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			d.log.Error("demo incident failed", "err", err)
			return
		}
		d.log.Warn("demo incident finished")
		d.registerNew(ctx)
	}()
	return nil
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

// close stops the chain; d.eth shares the chain's in-process client, which
// the chain closes.
func (d *demo) close() error {
	return d.chain.Close()
}
