package web

// This file is the Settings → Users & keys page, an admin's: users with
// their roles, API keys (a new one shown once), and the accounts audit
// log. Its forms post here rather than to the JSON API so that the page
// works without scripts; the guard refuses them from other sites like any
// write (guard.go), and the session cookie is SameSite=Strict.

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/store"
)

// settingsAudit is how many audit lines the page shows.
const settingsAudit = 50

// settingsPage renders the page with extra (an error, a notice, a new
// key or setup link) and status code.
func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request, code int, extra map[string]any) {
	ctx := r.Context()
	users, err := s.acct.Users(ctx)
	var keys []store.APIKey
	if err == nil {
		keys, err = s.acct.Keys(ctx)
	}
	var audit []store.AuditEvent
	if err == nil {
		audit, err = s.acct.AuditLog(ctx, settingsAudit)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	uv := make([]userView, 0, len(users))
	for _, u := range users {
		uv = append(uv, viewUser(u))
	}
	data := map[string]any{"Title": "Users & keys", "Active": "settings", "Users": uv, "Keys": viewKeys(keys, users),
		"Audit": viewAudit(audit), "Roles": auth.Roles, "Scopes": []string{auth.ScopeIngest, auth.ScopeRead, auth.ScopeWrite, auth.ScopeRespond, auth.ScopeAdmin}}
	for k, v := range extra {
		data[k] = v
	}
	// The answer may hold a new key or a setup link: no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, code, "settings.html", data)
}

func (s *Server) handleSettingsPage(w http.ResponseWriter, r *http.Request) {
	s.settingsPage(w, r, http.StatusOK, nil)
}

// settingsFailed shows err on the page with its status.
func (s *Server) settingsFailed(w http.ResponseWriter, r *http.Request, err error) {
	code := kindStatus(errorKind(err))
	msg := err.Error()
	if code >= 500 {
		s.log.Error("settings change failed", "err", err)
		msg = "the server could not make the change; see its log"
	}
	for _, e := range []error{auth.ErrInvalid, auth.ErrNotFound, auth.ErrConflict} {
		if errors.Is(err, e) {
			msg = strings.Replace(msg, e.Error()+": ", "", 1)
		}
	}
	s.settingsPage(w, r, code, map[string]any{"Error": msg})
}

func (s *Server) handleSettingsUser(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	ctx, p, client := r.Context(), principalOf(r), clientIP(r)
	name := strings.TrimSpace(r.FormValue("name"))
	op := r.FormValue("op")
	if op == "create" {
		u, err := s.acct.CreateUser(ctx, p, name, r.FormValue("role"), "", client)
		if err != nil {
			s.settingsFailed(w, r, err)
			return
		}
		tok, err := s.acct.SetupToken(ctx, p, u.ID, client)
		if err != nil {
			s.settingsFailed(w, r, err)
			return
		}
		s.settingsPage(w, r, http.StatusCreated, map[string]any{"Done": "Added " + u.Name + " (" + u.Role + ").",
			"SetupLink": map[string]string{"User": u.Name, "URL": setupURL(r, tok)}})
		return
	}
	u, err := s.acct.UserByName(ctx, name)
	if err != nil {
		s.settingsFailed(w, r, err)
		return
	}
	var ch auth.UserChange
	var done string
	switch op {
	case "role":
		role := r.FormValue("role")
		ch.Role, done = &role, u.Name+" is now "+role+"."
	case "disable", "enable":
		off := op == "disable"
		ch.Disabled, done = &off, u.Name+" is "+op+"d."
	case "link":
		tok, err := s.acct.SetupToken(ctx, p, u.ID, client)
		if err != nil {
			s.settingsFailed(w, r, err)
			return
		}
		s.settingsPage(w, r, http.StatusOK, map[string]any{"SetupLink": map[string]string{"User": u.Name, "URL": setupURL(r, tok)}})
		return
	default:
		s.settingsFailed(w, r, errorf(kindBadRequest, "unknown change %q", op))
		return
	}
	if _, err := s.acct.UpdateUser(ctx, p, u.ID, ch, client); err != nil {
		s.settingsFailed(w, r, err)
		return
	}
	s.settingsPage(w, r, http.StatusOK, map[string]any{"Done": done})
}

func (s *Server) handleSettingsKey(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.settingsFailed(w, r, errorf(kindBadRequest, "cannot read the form: %v", err))
		return
	}
	ctx, p, client := r.Context(), principalOf(r), clientIP(r)
	switch r.FormValue("op") {
	case "create":
		k, err := s.acct.CreateKey(ctx, p, strings.TrimSpace(r.FormValue("name")), r.PostForm["scope"], client)
		if err != nil {
			s.settingsFailed(w, r, err)
			return
		}
		s.settingsPage(w, r, http.StatusCreated, map[string]any{"NewKey": map[string]string{"Name": k.Key.Name, "Secret": k.Secret}})
	case "revoke":
		id, err := strconv.ParseInt(r.FormValue("id"), 10, 64)
		if err != nil {
			s.settingsFailed(w, r, errorf(kindBadRequest, "the key id %q is not a number", r.FormValue("id")))
			return
		}
		k, err := s.acct.RevokeKey(ctx, p, id, client)
		if err != nil {
			s.settingsFailed(w, r, err)
			return
		}
		s.settingsPage(w, r, http.StatusOK, map[string]any{"Done": "Revoked the key " + k.Name + " (" + k.Prefix + "…)."})
	default:
		s.settingsFailed(w, r, errorf(kindBadRequest, "unknown change %q", r.FormValue("op")))
	}
}
