package app

import (
	"context"
	"fmt"
	"os"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/response"
)

// Environment variables holding response signer secrets; they are never
// flags, so that they stay out of process listings.
const (
	envSignerKey      = "BLOCKTORCH_SIGNER_KEY"
	envSignerPassword = "BLOCKTORCH_SIGNER_PASSWORD"
)

// newResponse builds the response service: actions on the known contracts,
// simulated by the debugger, signed by the configured EOA if any.
func (a *App) newResponse() (*response.Service, error) {
	sc := response.SignerConfig{KeystoreFile: a.cfg.SignerKeystore, PasswordFile: a.cfg.SignerPasswordFile, PasswordEnv: envSignerPassword}
	if os.Getenv(envSignerKey) != "" {
		sc.KeyEnv = envSignerKey
	}
	signer, err := response.LoadSigner(sc, os.Getenv)
	if err != nil {
		return nil, fmt.Errorf("response signer: %w", err)
	}
	svc := &response.Service{Node: a.eth, Simulate: a.simulateAction, Contracts: a.watchedContracts, History: a.store, Proposals: a.store, Log: a.log}
	if a.cfg.ScenariosFile != "" {
		data, err := os.ReadFile(a.cfg.ScenariosFile)
		if err != nil {
			return nil, fmt.Errorf("--scenarios: %w", err)
		}
		scs, err := response.ParseScenarios(data)
		if err != nil {
			return nil, fmt.Errorf("--scenarios %s: %w", a.cfg.ScenariosFile, err)
		}
		svc.SetScenarios(scs)
	}
	if a.cfg.Safe != "" {
		svc.Safe = common.HexToAddress(a.cfg.Safe)
	}
	if signer != nil {
		svc.Signer = signer
		a.log.Info("response actions are signed", "signer", signer.String())
	}
	return svc, nil
}

// watchedContracts lists the known contracts for the response service.
func (a *App) watchedContracts(ctx context.Context) ([]response.Contract, error) {
	cs, err := a.store.Contracts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]response.Contract, 0, len(cs))
	for _, c := range cs {
		out = append(out, response.Contract{Address: c.Address, Name: c.Name, ABI: c.ABI})
	}
	return out, nil
}

// simulateAction runs a response action through the debugger's simulation
// on the head state; its trace stays viewable at /debug/{traceId}.
func (a *App) simulateAction(ctx context.Context, call response.Call) (*response.Simulation, error) {
	to := call.To
	req := debugger.SimRequest{From: call.From, To: &to, Data: call.Data}
	if call.Value != nil {
		req.Value = (*hexutil.Big)(call.Value)
	}
	res, err := a.debug.Local.Simulate(ctx, req, a.debug.Options)
	if err != nil {
		return nil, err
	}
	return simulationOf(res), nil
}

// simulationOf keeps what a response action's simulation shows: its
// outcome, events and written storage.
func simulationOf(r *debugger.Result) *response.Simulation {
	sim := &response.Simulation{Reverted: r.Status == 0, GasUsed: r.GasUsed, Block: r.BlockNumber - 1, TraceID: r.TxHash,
		Events: []response.SimEvent{}, Changes: []response.StateChange{}}
	if r.Failure != nil {
		sim.Reason = r.Failure.Reason
	}
	for _, e := range r.Events {
		ev := response.SimEvent{Address: e.Address, Reverted: e.Reverted}
		if e.Decoded != nil {
			ev.Name, ev.Args = e.Decoded.Name, e.Decoded.Args
		} else if len(e.Topics) > 0 {
			ev.Name = e.Topics[0].Hex()
		}
		sim.Events = append(sim.Events, ev)
	}
	for _, d := range r.State {
		for _, s := range d.Storage {
			if s.Written && s.Before != s.After {
				sim.Changes = append(sim.Changes, response.StateChange{Address: d.Address, Label: s.Label, Slot: s.Slot, Before: s.Before, After: s.After})
			}
		}
	}
	return sim
}

// monitorResponder hands every alert that starts firing to the response
// service, which runs the monitor's scenario (respond:) and those naming
// the monitor. The runs happen on their own goroutine, which the app
// waits for when the leader term ends and on Close, so that a send never
// holds up monitor evaluation; they are cancelled with the term.
type monitorResponder struct{ app *App }

func (r monitorResponder) CheckScenario(name string) error { return r.app.respond.CheckScenario(name) }

func (r monitorResponder) Fired(monitorID, _, scenario, tx string) {
	if scenario == "" && len(r.app.respond.Scenarios()) == 0 {
		return
	}
	r.app.termMu.Lock()
	ctx := r.app.termCtx
	r.app.termMu.Unlock()
	if ctx == nil {
		ctx = r.app.respondCtx
	}
	r.app.responding.Add(1)
	go func() {
		defer r.app.responding.Done()
		r.app.respond.OnMonitorFiring(ctx, monitorID, scenario, firingTx(tx))
	}()
}

// firingTx reads the transaction a firing names; "" or anything else than
// a transaction hash is none.
func firingTx(tx string) common.Hash {
	if len(tx) != 66 {
		return common.Hash{}
	}
	b, err := hexutil.Decode(tx)
	if err != nil {
		return common.Hash{}
	}
	return common.BytesToHash(b)
}
