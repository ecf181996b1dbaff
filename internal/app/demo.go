package app

import (
	"context"
	"fmt"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
)

// demoConfig is the demo's part of the configuration.
func demoConfig(cfg config.Config) demo.EnvConfig {
	return demo.EnvConfig{
		BlockInterval: cfg.BlockInterval,
		RPCAddr:       cfg.ChainRPCAddr,
		TrafficRate:   cfg.TrafficRate,
		Incident:      cfg.Incident,
		IncidentDelay: cfg.IncidentDelay,
		Guarded:       cfg.GuardEnabled(),
	}
}

// verifyDemo verifies the demo's deployed contracts against their committed
// compiler output, so their pages show the verified source and the debugger
// maps their code to lines. Behind the LendingVault's proxy it is the
// implementation that is verified (the proxy keeps the vault's ABI, as its
// callers see it), and so is the demo's patched implementation. The
// implementations are then named apart from the proxy, so that the name
// LendingVault stays one contract for monitors and scenarios.
func verifyDemo(ctx context.Context, env *demo.Env, reg *contracts.Registry, register demo.RegisterFunc) error {
	verify := func(in, out []byte, addr common.Address, name, as string) error {
		arts, err := contracts.ParseStandardJSON(in, out, "")
		if err != nil {
			return fmt.Errorf("cannot read the demo's compiler output: %w", err)
		}
		res, err := reg.Submit(ctx, addr, contracts.VerifyRequest{Artifacts: arts, Contract: name})
		if err != nil {
			return fmt.Errorf("cannot verify demo contract %s: %w", as, err)
		}
		if res.Status == "none" {
			return fmt.Errorf("BUG: demo contract %s does not match its committed build: %v", as, res.Mismatch)
		}
		if as != name {
			if err := register(ctx, addr, as, res.ABI); err != nil {
				return fmt.Errorf("cannot name demo contract %s: %w", as, err)
			}
		}
		return nil
	}
	in, out := demo.StandardJSON()
	for _, c := range env.Contracts() {
		addr, as := c.Address, c.Name
		if c.Implementation != (common.Address{}) {
			addr, as = c.Implementation, c.Name+"Implementation"
		}
		if err := verify(in, out, addr, c.Name, as); err != nil {
			return err
		}
	}
	pin, pout := demo.PatchedStandardJSON()
	return verify(pin, pout, env.PatchedVault(), "LendingVault", "LendingVaultPatched")
}
