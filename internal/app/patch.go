package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
)

// newPatch builds the patch checks: replays on the debugger's local
// engine and options (so a check's traces open in the debugger), the old
// layout from the verified contracts, the upgrade prepared by the
// response actions' code.
func (a *App) newPatch() (*patch.Service, error) {
	svc := &patch.Service{Checker: &patch.Checker{
		Node: a.eth, Replayer: a.debug.Local, Options: a.debug.Options,
		Prepare: prepareUpgrade,
		Role: func(ctx context.Context, to common.Address, data []byte) (string, []common.Address, error) {
			r, err := a.respond.RoleFor(ctx, to, data)
			if err != nil || r.Kind == response.RoleUnknown {
				return "", nil, err
			}
			return r.Name, r.Holders, nil
		},
		Verified: func(addr common.Address) (json.RawMessage, string, bool) {
			r, ok := a.verify.Verified(addr)
			if !ok {
				return nil, "", false
			}
			return r.StorageLayout, r.SourceName + ":" + r.ContractName, true
		},
	}, Store: a.store, OnError: func(err error) { a.log.Warn("patch check not saved", "err", err) }}
	if a.demo != nil {
		// The demo ships the fix of its incident, deployed beside the
		// vault's implementation: a check of it prepares the upgrade.
		in, out := demo.PatchedStandardJSON()
		arts, err := contracts.ParseStandardJSON(in, out, "")
		if err != nil {
			return nil, fmt.Errorf("cannot read the demo's patched build: %w", err)
		}
		var vault common.Address
		for _, c := range a.demo.Contracts() {
			if c.Name == "LendingVault" {
				vault = c.Address
			}
		}
		deployed := a.demo.PatchedVault()
		svc.Builds = append(svc.Builds, patch.Build{ID: "demo-lendingvault", Label: "the demo's patched LendingVault",
			Contract: "LendingVault", Target: vault, Deployed: &deployed, Artifacts: arts})
	}
	return svc, nil
}

func prepareUpgrade(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, at time.Time) (*patch.Prepared, error) {
	f, err := response.PrepareCall(chainID, to, m, args, name, at)
	if err != nil {
		return nil, err
	}
	return &patch.Prepared{To: f.To, Function: f.Function, Args: f.Args, Calldata: f.Calldata, Cast: f.Cast, Safe: f.SafeBatch}, nil
}
