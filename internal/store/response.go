package store

import (
	"context"
	"time"
)

// ResponseRun is one run of emergency actions (internal/response): a
// single action sent by hand, or a scenario's actions in order, started by
// hand or by a monitor, real or a dry run.
type ResponseRun struct {
	ID int64 `json:"id"`
	// Scenario names the scenario run; empty for a single action.
	Scenario string `json:"scenario,omitempty"`
	// Trigger says who started it: "hand", or "monitor:<id>" for a
	// monitor's firing.
	Trigger string `json:"trigger"`
	DryRun  bool   `json:"dryRun"`
	// Status is the run's outcome as the response package names it.
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Contracts are the addresses (0x… hex) its actions call; they come
	// back in lower case.
	Contracts []string  `json:"contracts"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished"`
	// Steps holds the response package's steps as JSON (each action, its
	// simulation, transaction and result); the store keeps it opaque.
	Steps []byte `json:"-"`
}

// ResponseRunQuery selects runs, newest first. Zero fields do not filter;
// Limit 0 means 100.
type ResponseRunQuery struct {
	// Contract keeps runs that call this address (0x… hex, any case).
	Contract string
	Scenario string
	// Trigger keeps runs started this way ("hand", "monitor:<id>").
	Trigger string
	// RealOnly leaves out dry runs.
	RealOnly bool
	Limit    int
}

// ResponseRunStore keeps the history of response runs, append-only. Safe
// for concurrent use.
type ResponseRunStore interface {
	// AddResponseRun stores a finished run and returns it with its ID.
	AddResponseRun(ctx context.Context, r ResponseRun) (ResponseRun, error)
	// ResponseRuns lists runs, newest first; none is an empty slice.
	ResponseRuns(ctx context.Context, q ResponseRunQuery) ([]ResponseRun, error)
}

// SafeProposal is a Safe transaction proposed for its owners to sign
// (internal/response), with the signatures collected so far, kept until
// it is executed, across restarts.
type SafeProposal struct {
	// Hash is the SafeTx hash the owners sign (0x… hex); it names the
	// proposal. It comes back in lower case.
	Hash string `json:"hash"`
	// Safe is the Safe's address (0x… hex), back in lower case.
	Safe    string    `json:"safe"`
	Nonce   uint64    `json:"nonce"`
	Created time.Time `json:"created"`
	// Proposal holds the response package's proposal as JSON (the call,
	// owners, threshold, signatures, simulation, execution); the store
	// keeps it opaque.
	Proposal []byte `json:"-"`
}

// SafeProposalStore keeps proposed Safe transactions. Safe for concurrent
// use; the response package serializes the changes of one proposal.
type SafeProposalStore interface {
	// PutSafeProposal creates the proposal with its hash, or replaces it.
	PutSafeProposal(ctx context.Context, p SafeProposal) error
	// SafeProposal returns the proposal with hash (any case), or an
	// error that is ErrNotFound.
	SafeProposal(ctx context.Context, hash string) (SafeProposal, error)
	// SafeProposals lists the proposals of the Safe at safe (any case),
	// newest first; none is an empty slice.
	SafeProposals(ctx context.Context, safe string) ([]SafeProposal, error)
}
