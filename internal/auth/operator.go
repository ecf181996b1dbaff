package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// SessionCookie is the name of the operator's session cookie.
const SessionCookie = "blocktorch_session"

// SessionTTL is how long a login lasts.
const SessionTTL = 12 * time.Hour

// maxSessions bounds the sessions kept: a login past it ends the oldest.
const maxSessions = 1000

// Operator guards the UI and API with a key when one is configured. A
// browser proves it holds the key with a session cookie set at login: a
// random id the server keeps until it expires (SessionTTL) or the operator
// logs out, so a stolen cookie dies with the session. Sessions live in
// memory: a restart logs everyone out. Scripts and the CLI send the key
// itself as "Authorization: Bearer KEY".
type Operator struct {
	keySum [sha256.Size]byte // SHA-256 of the key: fixed length for a constant-time compare
	key    bool
	// Now is the clock (default time.Now).
	Now func() time.Time

	mu       sync.Mutex
	sessions map[[sha256.Size]byte]time.Time // SHA-256 of the session id → expiry
}

// NewOperator returns the guard for key; an empty key guards nothing.
func NewOperator(key string) *Operator {
	o := &Operator{Now: time.Now, sessions: map[[sha256.Size]byte]time.Time{}}
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
	id := sha256.Sum256([]byte(c.Value))
	o.mu.Lock()
	defer o.mu.Unlock()
	exp, ok := o.sessions[id]
	if ok && !o.Now().Before(exp) {
		delete(o.sessions, id)
		return false
	}
	return ok
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
// (ID is empty). The caller (web) sets the cookie.
func (o *Operator) Login(key string) (Session, bool) {
	if !o.Enabled() {
		return Session{}, true
	}
	if !o.keyIs(key) {
		return Session{}, false
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	id := base64.RawURLEncoding.EncodeToString(b[:])
	now := o.Now()
	exp := now.Add(SessionTTL)
	o.mu.Lock()
	defer o.mu.Unlock()
	for k, e := range o.sessions {
		if !now.Before(e) {
			delete(o.sessions, k)
		}
	}
	for len(o.sessions) >= maxSessions {
		var oldest [sha256.Size]byte
		first := true
		for k, e := range o.sessions {
			if first || e.Before(o.sessions[oldest]) {
				oldest, first = k, false
			}
		}
		delete(o.sessions, oldest)
	}
	o.sessions[sha256.Sum256([]byte(id))] = exp
	return Session{ID: id, Expires: exp}, true
}

// Logout ends the session whose cookie holds id, if it is live.
func (o *Operator) Logout(id string) {
	o.mu.Lock()
	delete(o.sessions, sha256.Sum256([]byte(id)))
	o.mu.Unlock()
}
