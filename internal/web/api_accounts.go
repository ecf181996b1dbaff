package web

// This file is the accounts API, an admin's (routes.go):
//
//	GET    /api/v1/me                            who the caller is and what they may do
//	GET    /api/v1/users                         the users
//	POST   /api/v1/users                         {"name","role","password"?} (no password: answers a setup link)
//	PATCH  /api/v1/users/{name}                  {"role"?,"disabled"?,"password"?}
//	POST   /api/v1/users/{name}/setup-link       a new one-time link to set the password
//	GET    /api/v1/keys                          the API keys (never their secrets)
//	POST   /api/v1/keys                          {"name","scopes":[…]}: the secret, shown this once
//	DELETE /api/v1/keys/{id}                     revoke
//	GET    /api/v1/audit/accounts?limit=N        logins, key and user changes, newest first
//
// Answers never hold a password, a hash or a key's secret, except the new
// key's secret in the answer that creates it.

import (
	"net/http"
	"strconv"
	"time"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/store"
)

type userView struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Disabled    bool      `json:"disabled"`
	HasPassword bool      `json:"hasPassword"`
	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
}

func viewUser(u store.User) userView {
	return userView{ID: u.ID, Name: u.Name, Role: u.Role, Disabled: u.Disabled, HasPassword: u.PasswordHash != "", Created: u.Created, Updated: u.Updated}
}

type keyView struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Prefix   string     `json:"prefix"`
	Scopes   []string   `json:"scopes"`
	Owner    string     `json:"owner"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"lastUsed"`
	Revoked  *time.Time `json:"revoked"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// viewKeys shows keys with their owners' names.
func viewKeys(keys []store.APIKey, users []store.User) []keyView {
	names := map[int64]string{0: "operator"}
	for _, u := range users {
		names[u.ID] = u.Name
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: k.Scopes, Owner: names[k.UserID],
			Created: k.Created, LastUsed: optTime(k.LastUsed), Revoked: optTime(k.Revoked)})
	}
	return out
}

type auditView struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail"`
	Client string    `json:"client"`
}

func viewAudit(evs []store.AuditEvent) []auditView {
	out := make([]auditView, 0, len(evs))
	for _, e := range evs {
		out = append(out, auditView{At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail, Client: e.Client})
	}
	return out
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	writeData(w, map[string]any{"name": p.Name, "kind": p.Kind, "role": p.Role, "permissions": p.Perms.String()})
}

func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request) {
	users, err := s.acct.Users(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]userView, 0, len(users))
	for _, u := range users {
		out = append(out, viewUser(u))
	}
	writeData(w, out)
}

// setupURL is the absolute setup link of tok, on the host the request
// named.
func setupURL(r *http.Request, tok string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/setup/" + tok
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name     string `json:"name"`
		Role     string `json:"role"`
		Password string `json:"password"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p := principalOf(r)
	u, err := s.acct.CreateUser(r.Context(), p, req.Name, req.Role, req.Password, clientIP(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := map[string]any{"user": viewUser(u)}
	if req.Password == "" {
		tok, err := s.acct.SetupToken(r.Context(), p, u.ID, clientIP(r))
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		out["setupLink"] = setupURL(r, tok)
		out["setupExpires"] = s.deps.Now().Add(auth.SetupTTL).UTC()
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCreated(w, out)
}

// userByPath reads the {name} path value.
func (s *Server) userByPath(r *http.Request) (store.User, error) {
	return s.acct.UserByName(r.Context(), r.PathValue("name"))
}

func (s *Server) handleEditUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Role     *string `json:"role"`
		Disabled *bool   `json:"disabled"`
		Password *string `json:"password"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	u, err := s.userByPath(r)
	if err == nil {
		u, err = s.acct.UpdateUser(r.Context(), principalOf(r), u.ID, auth.UserChange{Role: req.Role, Disabled: req.Disabled, Password: req.Password}, clientIP(r))
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, viewUser(u))
}

func (s *Server) handleSetupLink(w http.ResponseWriter, r *http.Request) {
	u, err := s.userByPath(r)
	var tok string
	if err == nil {
		tok, err = s.acct.SetupToken(r.Context(), principalOf(r), u.ID, clientIP(r))
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeData(w, map[string]any{"user": u.Name, "setupLink": setupURL(r, tok), "setupExpires": s.deps.Now().Add(auth.SetupTTL).UTC()})
}

func (s *Server) handleKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.acct.Keys(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	users, err := s.acct.Users(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, viewKeys(keys, users))
}

func (s *Server) handleCreateKey(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string   `json:"name"`
		Scopes []string `json:"scopes"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p := principalOf(r)
	k, err := s.acct.CreateKey(r.Context(), p, req.Name, req.Scopes, clientIP(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	owner := p.Name
	if k.Key.UserID == 0 {
		owner = "operator"
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCreated(w, map[string]any{"key": k.Secret, "id": k.Key.ID, "name": k.Key.Name, "prefix": k.Key.Prefix,
		"scopes": k.Key.Scopes, "owner": owner, "created": k.Key.Created})
}

func (s *Server) handleRevokeKey(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, r, s.log, errorf(kindBadRequest, "the key id %q is not a positive integer (blocktorch keys list shows them)", r.PathValue("id")))
		return
	}
	k, err := s.acct.RevokeKey(r.Context(), principalOf(r), id, clientIP(r))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, viewKeys([]store.APIKey{k}, nil)[0])
}

// maxAuditLimit bounds one page of the audit log.
const maxAuditLimit = 1000

func (s *Server) handleAccountsAudit(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			writeError(w, r, s.log, errorf(kindBadRequest, "limit must be 1 to %d", maxAuditLimit))
			return
		}
		limit = n
	}
	evs, err := s.acct.AuditLog(r.Context(), limit)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, viewAudit(evs))
}
