package store

import (
	"context"
	"encoding/json"
	"time"
)

// Share kinds: what a share link opens.
const (
	ShareDashboard = "dashboard"
	ShareSearch    = "search"
	// ShareSnapshot opens the records a search returned when the link was
	// made, copied into the share, so it outlives retention.
	ShareSnapshot = "snapshot"
)

// Share is a read-only link to one dashboard, saved search or snapshot.
// The link's token is never stored: only its SHA-256 hash.
type Share struct {
	ID        string `json:"id"`
	TokenHash []byte `json:"-"`
	Kind      string `json:"kind"`
	// Target is the ID of the shared dashboard or saved search.
	Target string `json:"target"`
	Title  string `json:"title"`
	// From and To, when set, freeze the time range the link shows.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Expires is when the link stops working; zero never (left out of
	// JSON).
	Expires time.Time `json:"expires,omitzero"`
	Created time.Time `json:"created"`
	// Revoked is when the link was revoked; zero while it works (left out
	// of JSON).
	Revoked time.Time `json:"revoked,omitzero"`
	// Snapshot holds a snapshot share's frozen results as JSON.
	Snapshot json.RawMessage `json:"-"`
}

// ShareEvent is one line of the share audit log.
type ShareEvent struct {
	Time    time.Time `json:"time"`
	ShareID string    `json:"shareId"`
	// Action is "create", "use", "refuse" or "revoke".
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// ShareStore keeps share links and their audit log. Safe for concurrent
// use.
type ShareStore interface {
	// CreateShare stores a new share; a share with the same ID or token
	// hash returns ErrConflict.
	CreateShare(ctx context.Context, s Share) error
	// ShareByTokenHash returns the share whose token hashes to hash,
	// revoked or expired ones included, or ErrNotFound.
	ShareByTokenHash(ctx context.Context, hash []byte) (Share, error)
	// Shares returns every share, newest first, without snapshots.
	Shares(ctx context.Context) ([]Share, error)
	// RevokeShare marks the share revoked at the given time; revoking a
	// revoked share keeps its first time. Unknown IDs return ErrNotFound.
	RevokeShare(ctx context.Context, id string, at time.Time) error
	// LogShareEvent appends to the audit log.
	LogShareEvent(ctx context.Context, e ShareEvent) error
	// ShareEvents returns the newest limit events, newest first.
	ShareEvents(ctx context.Context, limit int) ([]ShareEvent, error)
}
