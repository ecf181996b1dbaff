package web

import (
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

// refuse answers a request that is not the operator's: a 401 from the
// API, the login page otherwise.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeError(w, r, s.log, errorf(kindForbidden, "log in to use the API: this server has an operator key"))
		return
	}
	http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

func (s *Server) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login.html", map[string]any{"Title": "Log in", "Nav": false, "Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	next := safeNext(r.FormValue("next"))
	client := clientIP(r)
	if wait := s.throttle.Wait(client); wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.render(w, r, http.StatusTooManyRequests, "login.html", map[string]any{"Title": "Log in", "Nav": false, "Next": next,
			"Throttled": fmt.Sprintf("Too many wrong keys from your address: try again in %d s.", secs)})
		return
	}
	sess, ok, err := s.op.Login(r.Context(), r.FormValue("key"))
	if err != nil {
		s.log.Error("login failed", "err", err)
		s.render(w, r, http.StatusInternalServerError, "login.html", map[string]any{"Title": "Log in", "Nav": false, "Next": next,
			"Throttled": "The server could not start your session; try again."})
		return
	}
	if !ok {
		s.throttle.Failed(client)
		s.render(w, r, http.StatusUnauthorized, "login.html", map[string]any{"Title": "Log in", "Nav": false, "Next": next, "Failed": true})
		return
	}
	s.throttle.Succeeded(client)
	if sess.ID != "" {
		http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: sess.ID, Path: "/", HttpOnly: true, Expires: sess.Expires,
			MaxAge: int(auth.SessionTTL / time.Second), Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
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
		if err := s.op.Logout(r.Context(), c.Value); err != nil {
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
func (s *Server) crossSite(r *http.Request, acc access) string {
	if safeMethod(r.Method) || acc == ingest {
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
