package app

import (
	"context"
	"fmt"

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
// compiler output, so their pages show the verified source.
func verifyDemo(ctx context.Context, env *demo.Env, reg *contracts.Registry) error {
	in, out := demo.StandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		return fmt.Errorf("cannot read the demo's compiler output: %w", err)
	}
	for _, c := range env.Contracts() {
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
