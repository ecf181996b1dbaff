package store

import (
	"context"
	"time"
)

// PatchCheck is a patch check (internal/patch) as its permalink shows it,
// kept across restarts: its request's fields, and its report or error once
// it is done.
type PatchCheck struct {
	// ID names the check in its permalink.
	ID string `json:"id"`
	// Target is the proxy or contract checked (0x… hex); it comes back in
	// lower case.
	Target  string    `json:"target"`
	Started time.Time `json:"started"`
	Done    bool      `json:"done"`
	// Run holds the patch package's run as JSON (request, report, error);
	// the store keeps it opaque.
	Run []byte `json:"-"`
}

// PatchCheckStore keeps patch checks. Safe for concurrent use; the patch
// package serializes the writes of one check.
type PatchCheckStore interface {
	// PutPatchCheck creates the check with its ID, or replaces it.
	PutPatchCheck(ctx context.Context, c PatchCheck) error
	// PatchCheck returns the check named id, or an error that is
	// ErrNotFound.
	PatchCheck(ctx context.Context, id string) (PatchCheck, error)
	// PrunePatchChecks deletes the finished checks but the keep newest
	// (by Started); checks not done are kept.
	PrunePatchChecks(ctx context.Context, keep int) error
}
