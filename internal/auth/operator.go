package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// SessionCookie is the name of the operator's session cookie.
const SessionCookie = "blocktorch_session"

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// maxSessions bounds the sessions kept: a login past it ends the ones
// that end first.
const maxSessions = 1000

// Operator guards the UI and API with a key when one is configured. A
// browser proves it holds the key with a session cookie set at login: a
// random id whose SHA-256 the session store keeps until it expires
// (SessionTTL) or the operator logs out, so a stolen cookie dies with the
// session, and a stolen store holds no usable cookie. With a shared store
// (PostgreSQL) every node accepts a login made on any of them, and a
// logout ends the session on all. Scripts and the CLI send the key itself
// as "Authorization: Bearer KEY".
type Operator struct {
	keySum [sha256.Size]byte // SHA-256 of the key: fixed length for a constant-time compare
	key    bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	sessions store.SessionStore
}

// NewOperator returns the guard for key, keeping its sessions in
// sessions; nil keeps them in this process's memory, so that a restart
// logs everyone out. An empty key guards nothing.
func NewOperator(key string, sessions store.SessionStore) *Operator {
	if sessions == nil {
		sessions = &memSessions{m: map[[sha256.Size]byte]store.OperatorSession{}}
	}
	o := &Operator{Now: time.Now, sessions: sessions}
	if key != "" {
		o.key, o.keySum = true, sha256.Sum256([]byte(key))
	}
	return o
}

// Enabled reports whether a key is configured.
func (o *Operator) Enabled() bool { return o != nil && o.key }

// Allowed reports whether r comes from the operator: always without a key,
// otherwise when it carries a live session cookie or the key as a Bearer
// token.
func (o *Operator) Allowed(r *http.Request) bool {
	if !o.Enabled() {
		return true
	}
	if o.Bearer(r) {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	// A store that cannot answer refuses the request: the guard fails
	// closed.
	_, err = o.sessions.SessionExpires(r.Context(), sha256.Sum256([]byte(c.Value)), o.Now())
	return err == nil
}

// Bearer reports whether r carries the operator key as
// "Authorization: Bearer KEY", compared in constant time.
func (o *Operator) Bearer(r *http.Request) bool {
	if !o.Enabled() {
		return false
	}
	tok, ok := BearerToken(r)
	return ok && o.keyIs(tok)
}

func (o *Operator) keyIs(key string) bool {
	sum := sha256.Sum256([]byte(key))
	return subtle.ConstantTimeCompare(sum[:], o.keySum[:]) == 1
}

// BearerToken returns the token of an "Authorization: Bearer TOKEN" header
// (the scheme is case-insensitive, RFC 9110), and whether there was one.
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Session is a started login: the random id the session cookie carries
// and when it ends.
type Session struct {
	ID      string
	Expires time.Time
}

// Login starts a session when key is right, and reports whether it was.
// Without a key configured every login succeeds and starts no session
// (ID is empty). The caller (web) sets the cookie. An error says the
// session could not be stored.
func (o *Operator) Login(ctx context.Context, key string) (Session, bool, error) {
	if !o.Enabled() {
		return Session{}, true, nil
	}
	if !o.keyIs(key) {
		return Session{}, false, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := o.Now()
	s := store.OperatorSession{Hash: sha256.Sum256([]byte(id)), Created: now, Expires: now.Add(SessionTTL)}
	if err := o.sessions.PutSession(ctx, s, maxSessions); err != nil {
		return Session{}, true, fmt.Errorf("cannot start a session: %w", err)
	}
	return Session{ID: id, Expires: s.Expires}, true, nil
}

// Logout ends the session whose cookie holds id, on every node sharing
// the session store.
func (o *Operator) Logout(ctx context.Context, id string) error {
	if err := o.sessions.DeleteSession(ctx, sha256.Sum256([]byte(id))); err != nil {
		return fmt.Errorf("cannot end the session: %w", err)
	}
	return nil
}

// memSessions keeps sessions in memory, for one process.
type memSessions struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]store.OperatorSession
}

func (s *memSessions) PutSession(_ context.Context, x store.OperatorSession, max int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.m {
		if !x.Created.Before(e.Expires) {
			delete(s.m, k)
		}
	}
	s.m[x.Hash] = x
	for len(s.m) > max {
		var first [sha256.Size]byte
		found := false
		for k, e := range s.m {
			if !found || e.Expires.Before(s.m[first].Expires) {
				first, found = k, true
			}
		}
		delete(s.m, first)
	}
	return nil
}

func (s *memSessions) SessionExpires(_ context.Context, hash [32]byte, now time.Time) (time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x, ok := s.m[hash]
	if !ok || !now.Before(x.Expires) {
		return time.Time{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	return x.Expires, nil
}

func (s *memSessions) DeleteSession(_ context.Context, hash [32]byte) error {
	s.mu.Lock()
	delete(s.m, hash)
	s.mu.Unlock()
	return nil
}
