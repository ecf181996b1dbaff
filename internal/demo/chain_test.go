package demo

import (
	"context"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/devchain"
)

func TestStartDeploysOnManualChain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := StartChain(ctx, ChainConfig{Keys: 6, Chain: devchain.Config{BlockInterval: -1}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ct := range c.App.Contracts() {
		code, err := c.Eth.CodeAt(ctx, ct.Address, nil)
		if err != nil || len(code) == 0 {
			t.Fatalf("%s at %s has no code: %v", ct.Name, ct.Address, err)
		}
	}
	bal, err := c.Eth.BalanceAt(ctx, c.App.Deployer, nil)
	if err != nil || bal.Sign() <= 0 {
		t.Fatalf("deployer balance %v, %v", bal, err)
	}
	tr, err := c.Traffic(trafficOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Step(ctx); err != nil {
		t.Fatal(err)
	}
}

func trafficOptions() Options { return Options{Rate: 10, Seed: 1} }
