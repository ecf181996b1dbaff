package app

import (
	"encoding/json"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
)

// newPatch builds the patch checks: replays on the debugger's local
// engine and options (so a check's traces open in the debugger), the old
// layout from the verified contracts, the upgrade prepared by the
// response actions' code.
func (a *App) newPatch() *patch.Service {
	return &patch.Service{Checker: &patch.Checker{
		Node: a.eth, Replayer: a.debug.Local, Options: a.debug.Options,
		Prepare: prepareUpgrade,
		Verified: func(addr common.Address) (json.RawMessage, string, bool) {
			r, ok := a.verify.Verified(addr)
			if !ok {
				return nil, "", false
			}
			return r.StorageLayout, r.SourceName + ":" + r.ContractName, true
		},
	}}
}

func prepareUpgrade(chainID *big.Int, to common.Address, m abi.Method, args []string, name string, at time.Time) (*patch.Prepared, error) {
	f, err := response.PrepareCall(chainID, to, m, args, name, at)
	if err != nil {
		return nil, err
	}
	return &patch.Prepared{To: f.To, Function: f.Function, Args: f.Args, Calldata: f.Calldata, Cast: f.Cast, Safe: f.SafeBatch}, nil
}
