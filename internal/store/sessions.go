package store

import (
	"context"
	"time"
)

// OperatorSession is a login of the operator: the SHA-256 of the random id
// its cookie carries (the id itself is never stored), and its life.
type OperatorSession struct {
	Hash    [32]byte
	Created time.Time
	Expires time.Time
	// UserID is the user logged in; 0 for a login with the operator key.
	UserID int64
}

// SessionStore keeps the operator's login sessions, so that every node
// sharing the store accepts a login made on any of them, and a logout ends
// the session on all. Every method takes the caller's ctx. Safe for
// concurrent use.
type SessionStore interface {
	// PutSession stores s. In the same transaction, the sessions that
	// ended by s.Created are deleted, and when more than max would remain
	// the ones that end first go, so that at most max are kept.
	PutSession(ctx context.Context, s OperatorSession, max int) error
	// SessionExpires returns when the session whose id hashes to hash
	// ends, or ErrNotFound when none is stored or it ended by now.
	SessionExpires(ctx context.Context, hash [32]byte, now time.Time) (time.Time, error)
	// DeleteSession ends a session; an unknown one is not an error.
	DeleteSession(ctx context.Context, hash [32]byte) error
}
