package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
)

// SessionCookie is the name of the operator's session cookie.
const SessionCookie = "blocktorch_session"

// Operator guards the UI and API with a key when one is configured. A
// browser proves it holds the key with the session cookie set at login;
// scripts and the CLI send the key itself as "Authorization: Bearer KEY".
// The session cookie is an HMAC of a fixed label under the key, so it needs
// no server-side state and changing the key ends every session.
type Operator struct {
	session string
	keySum  [sha256.Size]byte // SHA-256 of the key: fixed length for a constant-time compare
}

// NewOperator returns the guard for key; an empty key guards nothing.
func NewOperator(key string) *Operator {
	if key == "" {
		return &Operator{}
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("blocktorch operator session v1"))
	return &Operator{session: base64.RawURLEncoding.EncodeToString(m.Sum(nil)), keySum: sha256.Sum256([]byte(key))}
}

// Enabled reports whether a key is configured.
func (o *Operator) Enabled() bool { return o != nil && o.session != "" }

// Allowed reports whether r comes from the operator: always without a key,
// otherwise when it carries the session cookie or the key as a Bearer
// token.
func (o *Operator) Allowed(r *http.Request) bool {
	if !o.Enabled() {
		return true
	}
	if o.Bearer(r) {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(o.session)) == 1
}

// Bearer reports whether r carries the operator key as
// "Authorization: Bearer KEY", compared in constant time.
func (o *Operator) Bearer(r *http.Request) bool {
	if !o.Enabled() {
		return false
	}
	tok, ok := BearerToken(r)
	if !ok {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
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

// Login sets the session cookie when key is right, and reports whether it
// was.
func (o *Operator) Login(w http.ResponseWriter, r *http.Request, key string) bool {
	if !o.Enabled() {
		return true
	}
	if subtle.ConstantTimeCompare([]byte(NewOperator(key).session), []byte(o.session)) != 1 {
		return false
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: o.session, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return true
}

// Logout clears the session cookie.
func (o *Operator) Logout(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}
