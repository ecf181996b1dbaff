package store

import (
	"context"
	"time"
)

// User is a person who logs in with a name and a password. The password
// is kept only as an argon2id hash (auth makes and checks it); Role is one
// of "viewer", "editor", "responder", "admin" (auth says what each may do).
type User struct {
	ID   int64
	Name string
	Role string
	// PasswordHash is the encoded argon2id hash; empty until the user
	// sets a password (a new admin waiting for its setup link).
	PasswordHash string
	// Disabled users cannot log in, and their sessions and keys stop
	// working.
	Disabled bool
	Created  time.Time
	Updated  time.Time
}

// APIKey is a key for scripts, the CLI and log shippers. Only the SHA-256
// of the secret is kept; Prefix (its first characters) names it in lists.
type APIKey struct {
	ID     int64
	Name   string
	Hash   [32]byte
	Prefix string
	// Scopes are what the key may do ("ingest", "read", "write",
	// "respond", "admin"), sorted.
	Scopes []string
	// UserID is the user the key acts for, whose role caps it; 0 for a
	// key made with the operator key.
	UserID  int64
	Created time.Time
	// LastUsed is zero for a key never used; Revoked zero for a live key.
	LastUsed time.Time
	Revoked  time.Time
}

// AuditEvent is one line of the accounts audit log: logins, key creation
// and revocation, user and role changes. It never holds a secret.
type AuditEvent struct {
	ID     int64
	At     time.Time
	Actor  string // who did it: a user name, "operator", "key:PREFIX", or the name tried at a failed login
	Action string // "login", "login.failed", "key.create", "key.revoke", "user.create", "user.role", …
	Target string // what it was done to: a user name, a key's prefix
	Detail string
	Client string // the client's address
}

// AccountStore keeps users, their API keys, the setup tokens of new users
// and the accounts audit log, shared by every node of one store. Every
// method takes the caller's ctx; safe for concurrent use. Times are kept
// to the microsecond and come back in UTC; lists are empty, not nil, when
// nothing matches.
type AccountStore interface {
	// CreateUser stores u (its ID is ignored) and returns it with its
	// ID; ErrConflict when the name is taken.
	CreateUser(ctx context.Context, u User) (User, error)
	// User returns the user with id, UserByName the one named name;
	// ErrNotFound when there is none.
	User(ctx context.Context, id int64) (User, error)
	UserByName(ctx context.Context, name string) (User, error)
	// Users lists every user by name.
	Users(ctx context.Context) ([]User, error)
	// CountUsers counts the users, disabled ones included.
	CountUsers(ctx context.Context) (int, error)
	// UpdateUser writes u's Role, PasswordHash, Disabled and Updated;
	// ErrNotFound for an unknown ID.
	UpdateUser(ctx context.Context, u User) error

	// SetSetupToken gives user id a one-time setup token (its SHA-256)
	// that ends at expires, replacing any earlier one; ErrNotFound for
	// an unknown user.
	SetSetupToken(ctx context.Context, id int64, hash [32]byte, expires time.Time) error
	// UseSetupToken sets the password hash of the user whose live token
	// hashes to hash and spends the token, in one transaction, so that a
	// token works once; ErrNotFound when no live token matches.
	UseSetupToken(ctx context.Context, hash [32]byte, now time.Time, passwordHash string) (User, error)

	// CreateAPIKey stores k (its ID is ignored) and returns it with its
	// ID; ErrConflict when its hash is taken.
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// APIKeyByHash returns the key whose secret hashes to hash, revoked
	// or not; ErrNotFound when there is none.
	APIKeyByHash(ctx context.Context, hash [32]byte) (APIKey, error)
	// APIKeys lists every key, newest first.
	APIKeys(ctx context.Context) ([]APIKey, error)
	// RevokeAPIKey revokes key id at at and returns it; a key revoked
	// already keeps its first time. ErrNotFound for an unknown id.
	RevokeAPIKey(ctx context.Context, id int64, at time.Time) (APIKey, error)
	// TouchAPIKey records that key id was used at at (a later time only).
	TouchAPIKey(ctx context.Context, id int64, at time.Time) error
	// CountLiveKeys counts the keys not revoked that have scope.
	CountLiveKeys(ctx context.Context, scope string) (int, error)

	// Session returns the live session whose id hashes to hash (its
	// UserID 0 for an operator-key login); ErrNotFound when none is
	// stored or it ended by now.
	Session(ctx context.Context, hash [32]byte, now time.Time) (OperatorSession, error)
	// DeleteUserSessions ends every session of user id.
	DeleteUserSessions(ctx context.Context, id int64) error

	// AddAudit appends e (its ID is ignored).
	AddAudit(ctx context.Context, e AuditEvent) error
	// Audit lists the newest limit events, newest first.
	Audit(ctx context.Context, limit int) ([]AuditEvent, error)
}
