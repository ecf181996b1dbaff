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
