package response

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Run statuses.
const (
	// RunDone: every action was sent and mined successfully.
	RunDone = "done"
	// RunSent: sent without waiting for the receipt.
	RunSent = "sent"
	// RunSimulated: a dry run; every action was simulated, none sent.
	RunSimulated = "simulated"
	// RunFailed: an action could not be sent or failed on chain; the
	// actions after it were not run.
	RunFailed = "failed"
	// RunSkipped: the run did not start (cooldown, automation off).
	RunSkipped = "skipped"
)

// TriggerHand is the trigger of a run started by a person (API, CLI, UI);
// a monitor's firing is "monitor:<id>".
const TriggerHand = "hand"

// Step is one action of a run: what was called, its simulation, and the
// transaction sent for it, if any.
type Step struct {
	Action   string         `json:"action"`
	Kind     string         `json:"kind"`
	Contract common.Address `json:"contract"`
	Function string         `json:"function"`
	Args     []string       `json:"args,omitempty"`
	// Simulation is the action's simulation before it was sent (or, in a
	// dry run, instead).
	Simulation *Simulation `json:"simulation,omitempty"`
	// Safe and SafeTxHash name the Safe transaction the action went
	// through, when it did.
	Safe       common.Address `json:"safe,omitzero"`
	SafeTxHash common.Hash    `json:"safeTxHash,omitzero"`
	// Hash is the transaction sent; zero when none was.
	Hash  common.Hash    `json:"hash,omitzero"`
	From  common.Address `json:"from,omitzero"`
	Nonce uint64         `json:"nonce,omitempty"`
	// Mined is set once its receipt was seen; Status is the receipt's
	// status (1 ok) and Block its block.
	Mined  bool   `json:"mined,omitempty"`
	Status uint64 `json:"status,omitempty"`
	Block  uint64 `json:"block,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Run is one recorded run: a single action sent by hand, or a scenario.
type Run struct {
	ID       int64     `json:"id"`
	Scenario string    `json:"scenario,omitempty"`
	Trigger  string    `json:"trigger"`
	DryRun   bool      `json:"dryRun"`
	Status   string    `json:"status"`
	Error    string    `json:"error,omitempty"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Steps    []Step    `json:"steps"`
}

// record stores a finished run in the history, when there is one; a run
// that cannot be recorded is logged, never retried: it already happened.
func (s *Service) record(ctx context.Context, r *Run) {
	if s.History == nil {
		return
	}
	steps, err := json.Marshal(r.Steps)
	if err != nil {
		s.log().Error("response: cannot encode a run", "err", err)
		return
	}
	var contracts []string
	for _, st := range r.Steps {
		if c := st.Contract.Hex(); !strings.Contains(strings.Join(contracts, " "), c) {
			contracts = append(contracts, c)
		}
	}
	stored, err := s.History.AddResponseRun(context.WithoutCancel(ctx), store.ResponseRun{
		Scenario: r.Scenario, Trigger: r.Trigger, DryRun: r.DryRun, Status: r.Status, Error: r.Error,
		Contracts: contracts, Started: r.Started, Finished: r.Finished, Steps: steps,
	})
	if err != nil {
		s.log().Error("response: cannot record a run", "scenario", r.Scenario, "status", r.Status, "err", err)
		return
	}
	r.ID = stored.ID
}

// Runs returns recorded runs, newest first.
func (s *Service) Runs(ctx context.Context, q store.ResponseRunQuery) ([]Run, error) {
	if s.History == nil {
		return []Run{}, nil
	}
	stored, err := s.History.ResponseRuns(ctx, q)
	if err != nil {
		return nil, err
	}
	out := make([]Run, 0, len(stored))
	for _, r := range stored {
		run := Run{ID: r.ID, Scenario: r.Scenario, Trigger: r.Trigger, DryRun: r.DryRun, Status: r.Status, Error: r.Error,
			Started: r.Started, Finished: r.Finished, Steps: []Step{}}
		if err := json.Unmarshal(r.Steps, &run.Steps); err != nil {
			return nil, fmt.Errorf("response run %d has malformed steps: %w", r.ID, err)
		}
		out = append(out, run)
	}
	return out, nil
}

// stepOf is the step of action a with its arguments.
func stepOf(a Action, args []string) Step {
	if len(a.Args) > 0 {
		args = a.Args
	}
	return Step{Action: a.ID, Kind: a.Kind, Contract: a.Contract, Function: a.Function, Args: args}
}

// Resolve finds the action of the watched contract at addr that name
// designates: its id, its id without the address ("pause()",
// "revokeRole(bytes32,address):PAUSER_ROLE:0x…"), its function's
// signature or name, or its kind ("pause", "revoke-role") when that is
// unique. A name several actions share is ErrInvalid listing them.
func (s *Service) Resolve(ctx context.Context, addr common.Address, name string) (Action, error) {
	actions, err := s.Actions(ctx, addr)
	if err != nil {
		return Action{}, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return Action{}, fmt.Errorf("%w: name an action of %s", ErrInvalid, addr)
	}
	// The most specific match wins: an id, then a signature, a function
	// name, a kind.
	for _, match := range []func(a Action) bool{
		func(a Action) bool {
			return strings.EqualFold(a.ID, name) || strings.EqualFold(strings.TrimPrefix(a.ID, a.Contract.Hex()+":"), name)
		},
		func(a Action) bool { return a.Function == name },
		func(a Action) bool { fn, _, _ := strings.Cut(a.Function, "("); return fn == name },
		func(a Action) bool { return a.Kind == name },
	} {
		var found []Action
		for _, a := range actions {
			if match(a) {
				found = append(found, a)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		}
		ids := make([]string, len(found))
		for i, a := range found {
			ids[i] = strings.TrimPrefix(a.ID, a.Contract.Hex()+":")
		}
		return Action{}, fmt.Errorf("%w: %q names %d actions of %s; name one: %s", ErrInvalid, name, len(found), addr, strings.Join(ids, ", "))
	}
	names := make([]string, len(actions))
	for i, a := range actions {
		names[i] = strings.TrimPrefix(a.ID, a.Contract.Hex()+":")
	}
	if len(names) == 0 {
		return Action{}, fmt.Errorf("%w: %s has no emergency action", ErrNotFound, addr)
	}
	return Action{}, fmt.Errorf("%w: %s has no emergency action %q; it has: %s", ErrNotFound, addr, name, strings.Join(names, ", "))
}

// SignerStatus is who signs the actions the service sends.
type SignerStatus struct {
	// Kind is "eoa", or "none" when no signer is configured.
	Kind string `json:"kind"`
	// Signer names the account and where its key came from, never the key.
	Signer  string         `json:"signer,omitempty"`
	Address common.Address `json:"address,omitzero"`
	// Balance is the account's balance in wei at the head block.
	Balance *hexutil.Big `json:"balance,omitempty"`
	// Error says why the balance could not be read.
	Error string `json:"error,omitempty"`
	// Safe is the configured Safe, when there is one: actions proposed to
	// it are signed by its owners and executed by the EOA signer.
	Safe *SafeStatus `json:"safe,omitempty"`
}

// Status reports the signer, its balance and the Safe.
func (s *Service) Status(ctx context.Context) SignerStatus {
	st := SignerStatus{Kind: "none"}
	if s.Safe != (common.Address{}) {
		safe, err := s.SafeStatus(ctx)
		if err != nil {
			safe.Error = err.Error()
		}
		st.Safe = &safe
	}
	if s.Signer == nil {
		return st
	}
	st.Kind, st.Signer, st.Address = "eoa", fmt.Sprint(s.Signer), s.Signer.Address()
	bal, err := s.Node.BalanceAt(ctx, st.Address, nil)
	if err != nil {
		st.Error = fmt.Sprintf("cannot read the balance: %v", err)
		return st
	}
	st.Balance = (*hexutil.Big)(new(big.Int).Set(bal))
	return st
}
