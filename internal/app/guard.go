package app

import (
	"context"
	"fmt"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/guard"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/response"
)

// originDemoGuard is the origin of the demo's guard monitor.
const originDemoGuard = "demo-guard"

// newGuard builds the mempool guard when the configuration turns it on:
// pending transactions are simulated on the node, judged by the monitors
// a single transaction can fire, and their scenarios run ahead of them.
// It needs a node URL that supports subscriptions (ws://, wss://); with
// "auto" and an http:// node it stays off and says so.
func (a *App) newGuard(rpcURL string) error {
	if !a.cfg.GuardEnabled() {
		return nil
	}
	if !strings.HasPrefix(rpcURL, "ws://") && !strings.HasPrefix(rpcURL, "wss://") {
		if a.cfg.Guard == "on" {
			return fmt.Errorf("--guard on needs a node URL that delivers pending transactions: give --rpc a ws:// or wss:// URL")
		}
		a.log.Info("the mempool guard is off: it needs a ws:// or wss:// --rpc URL (or --guard off to silence this)")
		return nil
	}
	var ignore func(common.Address) bool
	if a.respond.Signer != nil {
		// The guard's own pause is not judged by the guard.
		signer := a.respond.Signer.Address()
		ignore = func(from common.Address) bool { return from == signer }
	}
	a.guard = guard.New(guard.Config{
		RPC: a.rawRPC, Decode: a.reg.DecodeTx, Monitors: a.monitors, Respond: a.respond, Ignore: ignore, Log: a.log,
	})
	a.log.Info("the mempool guard watches pending transactions", "scenarios", len(a.respond.Scenarios()))
	return nil
}

// demoGuardScenarios adds the demo's pause scenario to the response
// service, and signs with the demo's guardian (a pauser of the vault)
// when no signer is configured.
func (a *App) demoGuardScenarios() error {
	scs, err := response.ParseScenarios([]byte(demo.GuardScenarios))
	if err != nil {
		return fmt.Errorf("BUG: the demo's scenarios do not parse: %w", err)
	}
	have := a.respond.Scenarios()
	for _, sc := range scs {
		dup := false
		for _, h := range have {
			dup = dup || h.Name == sc.Name
		}
		if !dup {
			have = append(have, sc)
		}
	}
	a.respond.SetScenarios(have)
	if a.respond.Signer == nil {
		a.respond.Signer = response.NewKeySigner(demo.GuardianKey(), "the demo's guardian")
		a.log.Info("response actions are signed", "signer", a.respond.Signer)
	}
	return nil
}

// loadDemoGuardMonitor applies the demo's guard monitor, notifying the
// built-in monitors' channels.
func (a *App) loadDemoGuardMonitor(ctx context.Context, channels []string) error {
	f, _, err := monitor.ParseYAML("demo-guard.yaml", []byte(demo.GuardMonitors))
	if err != nil {
		return fmt.Errorf("BUG: the demo's guard monitor does not parse: %w", err)
	}
	for i := range f.Monitors {
		f.Monitors[i].Channels = channels
	}
	if _, err := a.monitors.Apply(ctx, originDemoGuard, f); err != nil {
		return fmt.Errorf("cannot load the demo's guard monitor: %w", err)
	}
	return nil
}
