package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/auth"
)

// principalKey is the context key of the request's principal.
type principalKey struct{}

func withPrincipal(ctx context.Context, p auth.Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalOf is who r comes from, as ServeHTTP identified it; anonymous
// on public routes.
func principalOf(r *http.Request) auth.Principal {
	p, _ := r.Context().Value(principalKey{}).(auth.Principal)
	return p
}

// refuse answers a request from nobody: a 401 from the API saying how to
// prove who one is, the login page otherwise.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, why string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		msg := "log in to use the API: this server has accounts; send an API key as Authorization: Bearer KEY (blocktorch keys create)"
		switch why {
		case auth.WhyBadKey:
			msg = "the API key is unknown or revoked: ask an admin for a new one (blocktorch keys create)"
		case auth.WhyExpired:
			msg = "your session ended: log in again"
		case auth.WhyStore:
			msg = "the server could not check your login; try again"
		}
		if s.acct.Operator().Enabled() && why != auth.WhyBadKey {
			msg += " (or send the operator key)"
		}
		writeError(w, r, s.log, errorf(kindForbidden, "%s", msg))
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// forbid answers a principal that lacks what the route needs: a 403.
func (s *Server) forbid(w http.ResponseWriter, r *http.Request, p auth.Principal, n need) {
	msg := fmt.Sprintf("%s may not do this: %s %s needs the %s permission", p.Name, r.Method, r.URL.Path, n)
	if p.Kind == "key" {
		msg += "; this key's scopes (within its owner's role " + p.Role + ") do not grant it: create a key with that scope"
	} else {
		msg += "; the " + p.Role + " role does not grant it: ask an admin"
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, r, s.log, errorf(kindDenied, "%s", msg))
		return
	}
	s.render(w, r, http.StatusForbidden, "error.html", map[string]any{"Title": "not allowed", "Message": msg})
}

// loginData is the login page's data.
func (s *Server) loginData(next string) map[string]any {
	return map[string]any{"Title": "Log in", "Nav": false, "Next": next, "Users": s.acct.HasUsers(), "KeyLogin": s.acct.Operator().Enabled()}
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	data := s.loginData(safeNext(r.URL.Query().Get("next")))
	guarded, err := s.acct.Guarded(r.Context())
	if err != nil {
		s.log.Error("cannot tell whether users exist", "err", err)
	}
	data["Open"] = !guarded && err == nil
	s.render(w, r, http.StatusOK, "login.html", data)
}

// handleLogin logs a browser in with a user name and password, or with
// the operator key. Every login gets a new session id, and the session the
// browser had (if any) is ended: a cookie planted before the login is
// worthless after it (session fixation).
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	next := safeNext(r.FormValue("next"))
	client := clientIP(r)
	name := strings.TrimSpace(r.FormValue("user"))
	keyLogin := name == "" && r.FormValue("key") != ""
	// Attempts count against the address and, for a user login, the
	// name, so that guessing one user's password from many addresses is
	// slowed down too.
	throttled := []string{client}
	if !keyLogin {
		throttled = append(throttled, "user:"+strings.ToLower(name))
	}
	for _, c := range throttled {
		if wait := s.throttle.Wait(c); wait > 0 {
			secs := int((wait + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			data := s.loginData(next)
			data["Throttled"] = fmt.Sprintf("Too many failed logins: try again in %d s.", secs)
			s.acct.Audit(r.Context(), "(throttled)", "login.throttled", "", "", client)
			s.render(w, r, http.StatusTooManyRequests, "login.html", data)
			return
		}
	}
	if guarded, err := s.acct.Guarded(r.Context()); err == nil && !guarded {
		// An open server: every browser is the local admin already.
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	var sess auth.Session
	var err error
	ok := true
	if keyLogin {
		sess, ok, err = s.acct.LoginKey(r.Context(), r.FormValue("key"), client)
	} else {
		sess, _, err = s.acct.LoginPassword(r.Context(), name, r.FormValue("password"), client)
		if errors.Is(err, auth.ErrBadLogin) {
			ok, err = false, nil
		}
	}
	if err != nil {
		s.log.Error("login failed", "err", err)
		data := s.loginData(next)
		data["Throttled"] = "The server could not start your session; try again."
		s.render(w, r, http.StatusInternalServerError, "login.html", data)
		return
	}
	if !ok {
		for _, c := range throttled {
			s.throttle.Failed(c)
		}
		data := s.loginData(next)
		// The name is not filled in again: it may be a password typed
		// into the wrong field.
		data["Failed"] = true
		s.render(w, r, http.StatusUnauthorized, "login.html", data)
		return
	}
	for _, c := range throttled {
		s.throttle.Succeeded(c)
	}
	s.startSession(w, r, sess)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// startSession ends the session the browser had, if any, and sets the
// cookie of sess: HttpOnly, SameSite=Strict, Secure over TLS.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, sess auth.Session) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil && c.Value != "" && c.Value != sess.ID {
		if err := s.acct.Logout(r.Context(), c.Value); err != nil {
			s.log.Warn("cannot end the session a login replaces", "err", err)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: sess.ID, Path: "/", HttpOnly: true, Expires: sess.Expires,
		MaxAge: int(auth.SessionTTL / time.Second), Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// handleSetupPage shows the form of a setup link: the new user (or the
// first admin) chooses a password.
func (s *Server) handleSetupPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "setup.html", map[string]any{"Title": "Set your password", "Nav": false, "Token": r.PathValue("token"),
		"Min": auth.MinPasswordLen})
}

// handleSetup spends a setup link: sets the password and logs the user
// in.
func (s *Server) handleSetup(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	w.Header().Set("Cache-Control", "no-store")
	tok, pw := r.FormValue("token"), r.FormValue("password")
	client := clientIP(r)
	fail := func(code int, msg string) {
		s.render(w, r, code, "setup.html", map[string]any{"Title": "Set your password", "Nav": false, "Token": tok, "Min": auth.MinPasswordLen, "Error": msg})
	}
	if wait := s.throttle.Wait(client); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		fail(http.StatusTooManyRequests, "Too many failed attempts: try again later.")
		return
	}
	if pw != r.FormValue("password2") {
		fail(http.StatusBadRequest, "The two passwords differ.")
		return
	}
	sess, _, err := s.acct.UseSetupToken(r.Context(), tok, pw, client)
	switch {
	case errors.Is(err, auth.ErrInvalid):
		fail(http.StatusBadRequest, strings.TrimPrefix(err.Error(), auth.ErrInvalid.Error()+": "))
		return
	case errors.Is(err, auth.ErrNotFound):
		s.throttle.Failed(client)
		fail(http.StatusNotFound, "This setup link is unknown, used already or expired: ask an admin for a new one (blocktorch users passwd NAME --link).")
		return
	case err != nil:
		s.log.Error("setup link failed", "err", err)
		fail(http.StatusInternalServerError, "The server could not set your password; try again.")
		return
	}
	s.throttle.Succeeded(client)
	s.startSession(w, r, sess)
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clientIP is who a login attempt is counted against: the peer's address
// (behind a reverse proxy, the proxy's; X-Forwarded-For is not trusted).
func clientIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		if err := s.acct.Logout(r.Context(), c.Value); err != nil {
			// The cookie stays: the session lives on in the store, and the
			// operator should know it was not ended.
			s.log.Error("logout could not end the session", "err", err)
			http.Error(w, "The server could not end your session; try again.", http.StatusInternalServerError)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path such as
// "/explore?q=x", never "//host", "/\\host", a URL, or a path with control
// characters (browsers drop TAB, CR and LF, so "/\t/host" is "//host").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// loopbackHosts are the Host names a server reached over loopback answers
// without --allowed-hosts.
var loopbackHosts = []string{"localhost", "127.0.0.1", "::1"}

// hostName is the lower-case name of a Host header without its port or
// trailing dot ("[::1]:8080" → "::1").
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// hostAllowed reports whether a request's Host may be served. A request
// that reached the server over loopback must name the server
// (localhost, 127.0.0.1, [::1]) or an allowed host: any other name means a
// DNS-rebinding page, which would otherwise read every answer. With
// allowed hosts configured, every request must name one of them or a
// loopback name.
func (s *Server) hostAllowed(r *http.Request) bool {
	name := hostName(r.Host)
	if slices.Contains(loopbackHosts, name) || slices.Contains(s.allowedHosts, name) {
		return true
	}
	if len(s.allowedHosts) > 0 {
		return false
	}
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return true // not from a listener (a handler called directly)
	}
	ap, err := netip.ParseAddrPort(local.String())
	return err != nil || !ap.Addr().Unmap().IsLoopback()
}

// safeMethod reports whether a method may not change anything.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// simpleContentType reports whether a browser may send a body of this
// type to another site without asking first (a CORS "simple" request):
// no type, text/plain, a form or multipart. An API write in one of those
// could be a cross-site forgery, so the API refuses them.
func simpleContentType(ct string) bool {
	if strings.TrimSpace(ct) == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return true
	}
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

// crossSite returns why a request that may change state is refused as a
// cross-site write, or "" when it is not one. Ingest doors are exempt
// (they take ingest keys); everything else, with or without an operator
// key, accepts writes only from this site's own pages or from clients that
// are not browsers, and API bodies only in types a foreign page cannot send
// without a CORS preflight, which this server never grants.
func (s *Server) crossSite(r *http.Request, n need) string {
	if safeMethod(r.Method) || n == needIngest {
		return ""
	}
	if err := s.csrf.Check(r); err != nil {
		return "cross-site request refused: " + r.Method + " " + r.URL.Path + " must come from this server's own pages (Origin/Sec-Fetch-Site)"
	}
	if strings.HasPrefix(r.URL.Path, "/api/") && (r.ContentLength != 0 || len(r.TransferEncoding) > 0) && simpleContentType(r.Header.Get("Content-Type")) {
		return "send the body of " + r.Method + " " + r.URL.Path + " as Content-Type: application/json (application/yaml for monitor files); text/plain, form and multipart bodies are refused"
	}
	return ""
}

// deny answers a request refused before routing: an API error envelope,
// plain text elsewhere.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, msg string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, r, s.log, errorf(kindRefused, "%s", msg))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, msg+"\n")
}
