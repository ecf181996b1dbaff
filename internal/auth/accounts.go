package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Errors of the accounts service, for errors.Is; the web layer answers
// ErrInvalid with 400, ErrNotFound with 404, ErrConflict with 409.
var (
	ErrInvalid  = store.ErrInvalid
	ErrNotFound = store.ErrNotFound
	ErrConflict = store.ErrConflict
)

// SetupTTL is how long a setup link works.
const SetupTTL = 24 * time.Hour

// keyPrefix starts every API key, so that a leaked one is recognisable
// (secret scanners) and told apart from the operator key.
const keyPrefix = "bt_"

// shownPrefix is how many characters of a key lists show.
const shownPrefix = len(keyPrefix) + 6

// AccountBackend is the store the accounts service keeps users, keys,
// sessions and the audit log in.
type AccountBackend interface {
	store.AccountStore
	store.SessionStore
}

// Accounts is who may do what: users logging in with a password, their
// per-user sessions, API keys with scopes, the operator key (an admin),
// one-time setup links, and the audit log of it all. Without an operator
// key and with no user, the server is open and every request is Local.
// Safe for concurrent use.
type Accounts struct {
	st  AccountBackend // nil: operator key only (no users)
	op  *Operator
	log func(msg string, args ...any)
	// Now is the clock; Params the costs of new password hashes.
	Now    func() time.Time
	Params PasswordParams

	// guarded is set once a user exists: users are never deleted, so it
	// never goes back.
	guarded atomic.Bool

	mu         sync.Mutex
	ingestSeen time.Time // when ingestKeys was counted
	ingestLive bool
}

// ingestCacheTTL is how long a count of live ingest keys is trusted: a key
// created on another node closes keyless ingest here at most this late.
const ingestCacheTTL = 5 * time.Second

// NewAccounts returns the accounts service over st (nil: no users, the
// operator key alone guards, its sessions in sessions, or in memory when
// that is nil too), with operatorKey ("" for none). warn logs what the
// service cannot record (an audit line, a last use); nil drops it.
func NewAccounts(st AccountBackend, sessions store.SessionStore, operatorKey string, warn func(msg string, args ...any)) *Accounts {
	if st != nil {
		sessions = st
	}
	if warn == nil {
		warn = func(string, ...any) {}
	}
	a := &Accounts{st: st, op: NewOperator(operatorKey, sessions), log: warn, Now: time.Now, Params: DefaultPasswordParams}
	return a
}

// Operator is the operator-key guard inside the service.
func (a *Accounts) Operator() *Operator { return a.op }

// HasUsers reports whether the service keeps users.
func (a *Accounts) HasUsers() bool { return a.st != nil }

// Guarded reports whether requests must prove who they are: with an
// operator key, or once a user exists.
func (a *Accounts) Guarded(ctx context.Context) (bool, error) {
	if a.op.Enabled() || a.guarded.Load() {
		return true, nil
	}
	if a.st == nil {
		return false, nil
	}
	n, err := a.st.CountUsers(ctx)
	if err != nil {
		return true, err // fail closed
	}
	if n > 0 {
		a.guarded.Store(true)
	}
	return n > 0, nil
}

// Why a request has no principal, for the answer it gets.
const (
	whyNone    = ""
	WhyNoLogin = "no login"
	WhyBadKey  = "unknown or revoked API key"
	WhyExpired = "session ended or unknown"
	WhyStore   = "the server could not check your login"
)

// Identify returns who r comes from: Local on an open server; otherwise
// the holder of the operator key or of an API key sent as a Bearer token,
// or the user of the session cookie. An anonymous principal comes with
// why it is one.
func (a *Accounts) Identify(r *http.Request) (Principal, string) {
	ctx := r.Context()
	guarded, err := a.Guarded(ctx)
	if err != nil {
		a.log("cannot tell whether users exist", "err", err)
		return Principal{}, WhyStore
	}
	if !guarded {
		return Local, whyNone
	}
	if tok, ok := BearerToken(r); ok {
		if a.op.Enabled() && a.op.keyIs(tok) {
			return operatorPrincipal, whyNone
		}
		p, err := a.keyPrincipal(ctx, tok)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				a.log("cannot check an API key", "err", err)
				return Principal{}, WhyStore
			}
			return Principal{}, WhyBadKey
		}
		return p, whyNone
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return Principal{}, WhyNoLogin
	}
	p, err := a.sessionPrincipal(ctx, c.Value)
	if err != nil {
		if !errors.Is(err, ErrNotFound) {
			a.log("cannot check a session", "err", err)
			return Principal{}, WhyStore
		}
		return Principal{}, WhyExpired
	}
	return p, whyNone
}

// sessionPrincipal is the principal of the session whose cookie holds id.
func (a *Accounts) sessionPrincipal(ctx context.Context, id string) (Principal, error) {
	hash := sha256.Sum256([]byte(id))
	if a.st == nil {
		if !a.op.Enabled() {
			return Principal{}, fmt.Errorf("session: %w", ErrNotFound)
		}
		if _, err := a.op.sessions.SessionExpires(ctx, hash, a.Now()); err != nil {
			return Principal{}, err
		}
		return operatorPrincipal, nil
	}
	s, err := a.st.Session(ctx, hash, a.Now())
	if err != nil {
		return Principal{}, err
	}
	if s.UserID == 0 {
		if !a.op.Enabled() {
			// An operator login outlives no operator key.
			return Principal{}, fmt.Errorf("operator session without an operator key: %w", ErrNotFound)
		}
		return operatorPrincipal, nil
	}
	u, err := a.st.User(ctx, s.UserID)
	if err != nil {
		return Principal{}, err
	}
	if u.Disabled {
		return Principal{}, fmt.Errorf("user %q is disabled: %w", u.Name, ErrNotFound)
	}
	return Principal{Kind: "user", Name: u.Name, UserID: u.ID, Role: u.Role, Perms: RolePermissions(u.Role)}, nil
}

// touchEvery is how often a key's last use is written: at most once a
// minute per key, not once per request.
const touchEvery = time.Minute

// keyPrincipal is the principal of the live API key tok, holding its
// scopes' permissions within its owner's role.
// ErrNotFound for an unknown, revoked or orphaned key.
func (a *Accounts) keyPrincipal(ctx context.Context, tok string) (Principal, error) {
	if a.st == nil || !strings.HasPrefix(tok, keyPrefix) {
		return Principal{}, fmt.Errorf("API key: %w", ErrNotFound)
	}
	k, err := a.st.APIKeyByHash(ctx, sha256.Sum256([]byte(tok)))
	if err != nil {
		return Principal{}, err
	}
	if !k.Revoked.IsZero() {
		return Principal{}, fmt.Errorf("API key %s is revoked: %w", k.Prefix, ErrNotFound)
	}
	perms, role := scopesPermissions(k.Scopes), RoleAdmin
	if k.UserID != 0 {
		u, err := a.st.User(ctx, k.UserID)
		if err != nil {
			return Principal{}, err
		}
		if u.Disabled {
			return Principal{}, fmt.Errorf("the owner of API key %s is disabled: %w", k.Prefix, ErrNotFound)
		}
		perms &= RolePermissions(u.Role)
		role = u.Role
	}
	if now := a.Now(); now.Sub(k.LastUsed) >= touchEvery {
		if err := a.st.TouchAPIKey(ctx, k.ID, now); err != nil {
			a.log("cannot record an API key's last use", "key", k.Prefix, "err", err)
		}
	}
	return Principal{Kind: "key", Name: "key:" + k.Name, UserID: k.UserID, Role: role, KeyID: k.ID, Perms: perms}, nil
}

// IngestKeysLive reports whether some live API key has the ingest scope:
// then the ingest doors want a key (cached for ingestCacheTTL).
func (a *Accounts) IngestKeysLive(ctx context.Context) (bool, error) {
	if a.st == nil {
		return false, nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.Now()
	if !a.ingestSeen.IsZero() && now.Sub(a.ingestSeen) < ingestCacheTTL && now.After(a.ingestSeen) {
		return a.ingestLive, nil
	}
	n, err := a.st.CountLiveKeys(ctx, ScopeIngest)
	if err != nil {
		return true, err // fail closed
	}
	a.ingestSeen, a.ingestLive = now, n > 0
	return a.ingestLive, nil
}

// IngestKey reports whether tok is a live API key allowed to post logs.
func (a *Accounts) IngestKey(ctx context.Context, tok string) (bool, error) {
	p, err := a.keyPrincipal(ctx, tok)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return p.Can(Ingest), nil
}

// newSecret returns prefix followed by 32 random bytes in base64url.
func newSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// ValidUserName says why name cannot name a user, or nil: 1 to 64
// letters, digits and . _ @ -.
func ValidUserName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: a user name is 1 to 64 characters", ErrInvalid)
	}
	for _, c := range name {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("._@-", c) {
			return fmt.Errorf("%w: a user name holds letters, digits and . _ @ - only", ErrInvalid)
		}
	}
	return nil
}

// Audit records an event; a failure to record it is logged, not returned,
// so that an audit hiccup does not refuse a login.
func (a *Accounts) Audit(ctx context.Context, actor, action, target, detail, client string) {
	if a.st == nil {
		return
	}
	e := store.AuditEvent{At: a.Now(), Actor: clip(actor, 100), Action: action, Target: clip(target, 100), Detail: clip(detail, 300), Client: clip(client, 100)}
	if err := a.st.AddAudit(ctx, e); err != nil {
		a.log("cannot write the accounts audit log", "action", action, "err", err)
	}
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// AuditLog lists the newest limit audit events.
func (a *Accounts) AuditLog(ctx context.Context, limit int) ([]store.AuditEvent, error) {
	if a.st == nil {
		return []store.AuditEvent{}, nil
	}
	return a.st.Audit(ctx, limit)
}

// needStore is the error of a user or key operation on a service without
// a store.
func (a *Accounts) needStore() error {
	if a.st == nil {
		return fmt.Errorf("%w: this server keeps no users", ErrInvalid)
	}
	return nil
}
