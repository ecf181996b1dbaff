package web

import (
	"net/http"
	"net/url"
	"strings"
)

// openPrefixes are the paths anyone may reach when an operator key is
// set: share links, health, metrics, assets, the login, and log ingest
// (which checks its own ingest keys). Everything else, mounted routes
// included, is the operator's: deny by default.
var openPrefixes = []string{"/s/", "/api/v1/shared/", "/static/", "/healthz", "/metrics", "/login", "/logout",
	"/api/v1/logs", "/v1/logs", "/loki/api/v1/push", "/sdk/"}

func openPath(p string) bool {
	for _, o := range openPrefixes {
		if p == o || strings.HasPrefix(p, o) && (strings.HasSuffix(o, "/") || p[len(o)] == '/' || p[len(o)] == '?') {
			return true
		}
	}
	return false
}

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
	if !s.op.Login(w, r, r.FormValue("key")) {
		s.render(w, r, http.StatusUnauthorized, "login.html", map[string]any{"Title": "Log in", "Nav": false, "Next": next, "Failed": true})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	s.op.Logout(w)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext keeps a post-login redirect on this site: a path, not
// "//host" or a URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
