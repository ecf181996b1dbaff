package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

// SessionCookie is the name of the operator's session cookie.
const SessionCookie = "blocktorch_session"

// Operator guards the UI and API with a key when one is configured. The
// session cookie is an HMAC of a fixed label under the key, so it needs no
// server-side state and changing the key ends every session.
type Operator struct {
	session string
}

// NewOperator returns the guard for key; an empty key guards nothing.
func NewOperator(key string) *Operator {
	if key == "" {
		return &Operator{}
	}
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte("blocktorch operator session v1"))
	return &Operator{session: base64.RawURLEncoding.EncodeToString(m.Sum(nil))}
}

// Enabled reports whether a key is configured.
func (o *Operator) Enabled() bool { return o != nil && o.session != "" }

// Allowed reports whether r comes from the operator: always without a key,
// otherwise when it carries the session cookie.
func (o *Operator) Allowed(r *http.Request) bool {
	if !o.Enabled() {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(o.session)) == 1
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
