package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// dummyHash is checked against when a login names no usable user, so
// that a wrong name takes as long as a wrong password.
// (made on first use: hashing at start-up would slow every command).
var dummyHash = sync.OnceValue(func() string { return HashPassword("no such user, no such password", DefaultPasswordParams) })

// ErrBadLogin is a login refused: wrong name or password, a disabled user,
// or one without a password yet. One error for all, so that a login does
// not tell which names exist.
var ErrBadLogin = errors.New("wrong user name or password")

// newSession stores a new session for user id (0: the operator) with a
// fresh random id: a login never keeps an id the browser had, so a
// planted cookie is worthless (session fixation).
func (a *Accounts) newSession(ctx context.Context, userID int64) (Session, error) {
	id := newSecret("")
	now := a.Now()
	s := store.OperatorSession{Hash: sha256.Sum256([]byte(id)), Created: now, Expires: now.Add(SessionTTL), UserID: userID}
	if err := a.op.sessions.PutSession(ctx, s, maxSessions); err != nil {
		return Session{}, fmt.Errorf("cannot start a session: %w", err)
	}
	return Session{ID: id, Expires: s.Expires}, nil
}

// LoginKey starts an operator session when key is the operator key; false
// when it is not.
func (a *Accounts) LoginKey(ctx context.Context, key, client string) (Session, bool, error) {
	if !a.op.Enabled() || !a.op.keyIs(key) {
		a.Audit(ctx, "operator", "login.failed", "operator", "wrong operator key", client)
		return Session{}, false, nil
	}
	s, err := a.newSession(ctx, 0)
	if err != nil {
		return Session{}, true, err
	}
	a.Audit(ctx, "operator", "login", "operator", "operator key", client)
	return s, true, nil
}

// LoginPassword starts a session for the user name when password is
// theirs; ErrBadLogin when it is not (or the user is disabled or has no
// password yet). Every attempt is audited, never with the password.
func (a *Accounts) LoginPassword(ctx context.Context, name, password, client string) (Session, store.User, error) {
	if err := a.needStore(); err != nil {
		return Session{}, store.User{}, ErrBadLogin
	}
	u, err := a.st.UserByName(ctx, name)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Session{}, store.User{}, err
	}
	hash := dummyHash()
	if err == nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	ok, verr := VerifyPassword(password, hash)
	if verr != nil {
		a.log("a stored password hash cannot be read", "user", u.Name, "err", verr)
	}
	if err != nil || !ok || u.PasswordHash == "" || u.Disabled || len(password) > MaxPasswordLen {
		// A name that is no user's is not recorded: it is often a
		// password typed into the wrong field.
		who, why := "(unknown name)", "no such user"
		if err == nil {
			who, why = u.Name, "wrong password"
			if u.Disabled {
				why = "disabled"
			} else if u.PasswordHash == "" {
				why = "no password set yet"
			}
		}
		a.Audit(ctx, who, "login.failed", who, why, client)
		return Session{}, store.User{}, ErrBadLogin
	}
	s, err := a.newSession(ctx, u.ID)
	if err != nil {
		return Session{}, store.User{}, err
	}
	a.Audit(ctx, u.Name, "login", u.Name, "password", client)
	return s, u, nil
}

// Logout ends the session whose cookie holds id.
func (a *Accounts) Logout(ctx context.Context, id string) error { return a.op.Logout(ctx, id) }

// FirstAdmin creates the user name as an admin without a password when
// the store has no user, and returns a setup token for it; "" when a user
// exists already.
func (a *Accounts) FirstAdmin(ctx context.Context, name string) (string, error) {
	if err := a.needStore(); err != nil {
		return "", err
	}
	n, err := a.st.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	now := a.Now()
	u, err := a.st.CreateUser(ctx, store.User{Name: name, Role: RoleAdmin, Created: now, Updated: now})
	if errors.Is(err, ErrConflict) {
		return "", nil // another node made it first
	}
	if err != nil {
		return "", err
	}
	a.guarded.Store(true)
	a.Audit(ctx, "server", "user.create", u.Name, "first admin, waiting for its setup link", "")
	return a.SetupToken(ctx, Local, u.ID, "")
}

// SetupToken returns a new one-time token with which user id sets a
// password (the setup link), valid for SetupTTL; it replaces any earlier
// one. Only its hash is stored.
func (a *Accounts) SetupToken(ctx context.Context, actor Principal, id int64, client string) (string, error) {
	if err := a.needStore(); err != nil {
		return "", err
	}
	u, err := a.st.User(ctx, id)
	if err != nil {
		return "", err
	}
	tok := newSecret("")
	if err := a.st.SetSetupToken(ctx, id, sha256.Sum256([]byte(tok)), a.Now().Add(SetupTTL)); err != nil {
		return "", err
	}
	a.Audit(ctx, actor.Name, "user.setup_link", u.Name, "", client)
	return tok, nil
}

// UseSetupToken sets the password of the user whose setup token tok is,
// spends the token and starts the user's session. ErrNotFound for a token
// that is unknown, spent or expired.
func (a *Accounts) UseSetupToken(ctx context.Context, tok, password, client string) (Session, store.User, error) {
	if err := a.needStore(); err != nil {
		return Session{}, store.User{}, err
	}
	if err := checkPassword(password); err != nil {
		return Session{}, store.User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	u, err := a.st.UseSetupToken(ctx, sha256.Sum256([]byte(tok)), a.Now(), HashPassword(password, a.Params))
	if err != nil {
		return Session{}, store.User{}, err
	}
	if err := a.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return Session{}, store.User{}, err
	}
	a.Audit(ctx, u.Name, "user.password", u.Name, "set with a setup link", client)
	s, err := a.newSession(ctx, u.ID)
	return s, u, err
}

// Users lists the users.
func (a *Accounts) Users(ctx context.Context) ([]store.User, error) {
	if a.st == nil {
		return []store.User{}, nil
	}
	return a.st.Users(ctx)
}

// CreateUser adds a user with role; with password "" the user has none
// until a setup link sets it.
func (a *Accounts) CreateUser(ctx context.Context, actor Principal, name, role, password, client string) (store.User, error) {
	if err := a.needStore(); err != nil {
		return store.User{}, err
	}
	if err := ValidUserName(name); err != nil {
		return store.User{}, err
	}
	if err := ValidRole(role); err != nil {
		return store.User{}, err
	}
	u := store.User{Name: name, Role: role, Created: a.Now(), Updated: a.Now()}
	if password != "" {
		if err := checkPassword(password); err != nil {
			return store.User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		u.PasswordHash = HashPassword(password, a.Params)
	}
	u, err := a.st.CreateUser(ctx, u)
	if errors.Is(err, ErrConflict) {
		return store.User{}, fmt.Errorf("%w: the name %q is taken", ErrConflict, name)
	}
	if err != nil {
		return store.User{}, err
	}
	a.guarded.Store(true)
	a.Audit(ctx, actor.Name, "user.create", u.Name, "role "+role, client)
	return u, nil
}

// UserByName returns the user named name.
func (a *Accounts) UserByName(ctx context.Context, name string) (store.User, error) {
	if err := a.needStore(); err != nil {
		return store.User{}, err
	}
	return a.st.UserByName(ctx, name)
}

// UserChange is an edit of a user; nil fields stay.
type UserChange struct {
	Role     *string
	Disabled *bool
	Password *string
}

// UpdateUser applies ch to user id. A new password or disabling ends the
// user's sessions. An admin cannot demote or disable themself, so that a
// server keeps someone who can manage it.
func (a *Accounts) UpdateUser(ctx context.Context, actor Principal, id int64, ch UserChange, client string) (store.User, error) {
	if err := a.needStore(); err != nil {
		return store.User{}, err
	}
	u, err := a.st.User(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	self := actor.Kind == "user" && actor.UserID == id
	var events [][2]string
	endSessions := false
	if ch.Role != nil && *ch.Role != u.Role {
		if err := ValidRole(*ch.Role); err != nil {
			return store.User{}, err
		}
		if self {
			return store.User{}, fmt.Errorf("%w: you cannot change your own role; ask another admin", ErrInvalid)
		}
		events = append(events, [2]string{"user.role", u.Role + " → " + *ch.Role})
		u.Role = *ch.Role
	}
	if ch.Disabled != nil && *ch.Disabled != u.Disabled {
		if self && *ch.Disabled {
			return store.User{}, fmt.Errorf("%w: you cannot disable yourself; ask another admin", ErrInvalid)
		}
		u.Disabled = *ch.Disabled
		if u.Disabled {
			events, endSessions = append(events, [2]string{"user.disable", ""}), true
		} else {
			events = append(events, [2]string{"user.enable", ""})
		}
	}
	if ch.Password != nil {
		if err := checkPassword(*ch.Password); err != nil {
			return store.User{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		u.PasswordHash = HashPassword(*ch.Password, a.Params)
		events, endSessions = append(events, [2]string{"user.password", ""}), true
	}
	if len(events) == 0 {
		return u, nil
	}
	u.Updated = a.Now()
	if err := a.st.UpdateUser(ctx, u); err != nil {
		return store.User{}, err
	}
	if endSessions {
		if err := a.st.DeleteUserSessions(ctx, u.ID); err != nil {
			return store.User{}, err
		}
	}
	for _, e := range events {
		a.Audit(ctx, actor.Name, e[0], u.Name, e[1], client)
	}
	return u, nil
}

// NewKey is a key just made: its secret, shown once, and its record.
type NewKey struct {
	Secret string
	Key    store.APIKey
}

// CreateKey makes an API key named name with scopes, acting for actor
// (its role caps the key; the operator's and the local principal's keys
// have no owner). The secret is returned once and only its hash is kept.
func (a *Accounts) CreateKey(ctx context.Context, actor Principal, name string, scopes []string, client string) (NewKey, error) {
	if err := a.needStore(); err != nil {
		return NewKey{}, err
	}
	if name == "" || len([]rune(name)) > 100 {
		return NewKey{}, fmt.Errorf("%w: a key needs a name of 1 to 100 characters (what uses it)", ErrInvalid)
	}
	sc, err := ParseScopes(scopes)
	if err != nil {
		return NewKey{}, err
	}
	if want := scopesPermissions(sc); actor.Perms&want != want {
		return NewKey{}, fmt.Errorf("%w: a key cannot do more than its maker (scopes %s; you may %s)", ErrInvalid, Permission(want), actor.Perms)
	}
	secret := newSecret(keyPrefix)
	k := store.APIKey{Name: name, Hash: sha256.Sum256([]byte(secret)), Prefix: secret[:shownPrefix], Scopes: sc, Created: a.Now()}
	if actor.Kind == "user" || actor.Kind == "key" {
		k.UserID = actor.UserID
	}
	k, err = a.st.CreateAPIKey(ctx, k)
	if err != nil {
		return NewKey{}, err
	}
	a.mu.Lock()
	a.ingestSeen = time.Time{}
	a.mu.Unlock()
	a.Audit(ctx, actor.Name, "key.create", k.Prefix, fmt.Sprintf("%q scopes %v", k.Name, k.Scopes), client)
	return NewKey{Secret: secret, Key: k}, nil
}

// Keys lists the API keys, newest first.
func (a *Accounts) Keys(ctx context.Context) ([]store.APIKey, error) {
	if a.st == nil {
		return []store.APIKey{}, nil
	}
	return a.st.APIKeys(ctx)
}

// RevokeKey revokes key id: from now on it is refused on every node.
func (a *Accounts) RevokeKey(ctx context.Context, actor Principal, id int64, client string) (store.APIKey, error) {
	if err := a.needStore(); err != nil {
		return store.APIKey{}, err
	}
	k, err := a.st.RevokeAPIKey(ctx, id, a.Now())
	if err != nil {
		return store.APIKey{}, err
	}
	a.mu.Lock()
	a.ingestSeen = time.Time{}
	a.mu.Unlock()
	a.Audit(ctx, actor.Name, "key.revoke", k.Prefix, fmt.Sprintf("%q", k.Name), client)
	return k, nil
}
