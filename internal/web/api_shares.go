package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// snapshotLimit is how many records a snapshot share copies.
const snapshotLimit = 500

// createShareRequest is the body of POST /api/v1/shares.
type createShareRequest struct {
	Kind   string `json:"kind"`   // dashboard, search or snapshot
	Target string `json:"target"` // dashboard or saved search ID
	// Freeze fixes the range the link shows to From and To (resolved
	// now, so "now-1h" means the hour before the link was made).
	Freeze bool   `json:"freeze"`
	From   string `json:"from"`
	To     string `json:"to"`
	// ExpiresIn is how long the link works ("24h", "7d"); "" forever.
	ExpiresIn string `json:"expiresIn"`
}

type shareJSON struct {
	store.Share
	Active bool `json:"active"`
}

// snapshotJSON is what a snapshot share froze.
type snapshotJSON struct {
	Query     string          `json:"query"`
	From      time.Time       `json:"from"`
	To        time.Time       `json:"to"`
	Taken     time.Time       `json:"taken"`
	Records   []record.Record `json:"records"`
	Truncated bool            `json:"truncated"`
	Histogram []store.Bucket  `json:"histogram"`
}

func (s *Server) handleCreateShare(w http.ResponseWriter, r *http.Request) {
	var req createShareRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ctx := r.Context()
	n := auth.NewShare{Kind: req.Kind, Target: req.Target}
	if req.ExpiresIn != "" {
		d, err := query.ParseDuration(req.ExpiresIn)
		if err != nil || d <= 0 {
			writeError(w, r, s.log, errorf(kindBadRequest, "expiresIn must be a duration such as 1h or 7d, got %q", req.ExpiresIn))
			return
		}
		n.TTL = d
	}
	var defFrom, defTo string
	switch req.Kind {
	case store.ShareDashboard:
		d, err := s.dash.Dashboard(ctx, req.Target)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		n.Title, defFrom, defTo = d.Name, d.Spec.From, d.Spec.To
	case store.ShareSearch, store.ShareSnapshot:
		ss, err := s.dash.SavedSearch(ctx, req.Target)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		n.Title, defFrom, defTo = ss.Name, ss.From, ss.To
	default:
		writeError(w, r, s.log, errorf(kindBadRequest, "kind must be dashboard, search or snapshot, got %q", req.Kind))
		return
	}
	if req.From == "" {
		req.From = defFrom
	}
	if req.To == "" {
		req.To = defTo
	}
	if req.Freeze || req.Kind == store.ShareSnapshot {
		from, to, err := resolveRange(req.From, req.To, s.deps.Now())
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		n.From, n.To = from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano)
	}
	if req.Kind == store.ShareSnapshot {
		snap, err := s.snapshot(r, req.Target, n.From, n.To)
		if err != nil {
			s.searchError(w, r, "", err)
			return
		}
		if n.Snapshot, err = json.Marshal(snap); err != nil {
			writeError(w, r, s.log, fmt.Errorf("cannot encode snapshot: %w", err))
			return
		}
	}
	token, sh, err := s.shares.Create(ctx, n)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: map[string]any{
		"share": shareJSON{Share: sh, Active: true}, "token": token, "url": "/s/" + token,
	}})
}

// snapshot copies what a saved search shows over [from, to) now.
func (s *Server) snapshot(r *http.Request, searchID, from, to string) (snapshotJSON, error) {
	ss, err := s.dash.SavedSearch(r.Context(), searchID)
	if err != nil {
		return snapshotJSON{}, err
	}
	q, err := query.Parse(ss.Query)
	if err != nil {
		return snapshotJSON{}, err
	}
	f, t, err := resolveRange(from, to, s.deps.Now())
	if err != nil {
		return snapshotJSON{}, err
	}
	snap := snapshotJSON{Query: q.String(), From: f.UTC(), To: t.UTC(), Taken: s.deps.Now().UTC(), Records: []record.Record{}}
	req := store.SearchRequest{Query: &query.Query{Filter: q.Filter}, From: f, To: t, Limit: snapshotLimit}
	next, err := s.deps.Search.Search(r.Context(), req, func(rec record.Record) error {
		snap.Records = append(snap.Records, rec)
		return nil
	})
	if err != nil {
		return snap, err
	}
	snap.Truncated = next != ""
	if snap.Histogram, err = s.deps.Search.Histogram(r.Context(), req, 60); err != nil {
		return snap, err
	}
	return snap, nil
}

func (s *Server) handleShares(w http.ResponseWriter, r *http.Request) {
	list, err := s.shares.List(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.deps.Now()
	out := make([]shareJSON, 0, len(list))
	for _, sh := range list {
		out = append(out, shareJSON{Share: sh, Active: auth.Active(sh, now)})
	}
	writeData(w, out)
}

func (s *Server) handleRevokeShare(w http.ResponseWriter, r *http.Request) {
	if err := s.shares.Revoke(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"revoked": r.PathValue("id")})
}

func (s *Server) handleShareEvents(w http.ResponseWriter, r *http.Request) {
	ev, err := s.shares.Events(r.Context(), 200)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if ev == nil {
		ev = []store.ShareEvent{}
	}
	writeData(w, ev)
}

// openShare checks the token of a shared request, answering the error
// itself when the link does not open.
func (s *Server) openShare(w http.ResponseWriter, r *http.Request, detail string) (store.Share, bool) {
	sh, err := s.shares.Open(r.Context(), r.PathValue("token"), detail)
	if err != nil {
		writeError(w, r, s.log, err)
		return sh, false
	}
	return sh, true
}

// sharedJSON is what a share link shows: only the shared object.
type sharedJSON struct {
	Kind      string          `json:"kind"`
	Title     string          `json:"title"`
	From      string          `json:"from"`
	To        string          `json:"to"`
	Frozen    bool            `json:"frozen"`
	Expires   time.Time       `json:"expires,omitzero"` // absent: never expires
	Dashboard *dashboard.Spec `json:"dashboard,omitempty"`
	Query     string          `json:"query,omitempty"`
	Snapshot  json.RawMessage `json:"snapshot,omitempty"`
}

func (s *Server) handleShared(w http.ResponseWriter, r *http.Request) {
	sh, ok := s.openShare(w, r, "open")
	if !ok {
		return
	}
	out := sharedJSON{Kind: sh.Kind, Title: sh.Title, From: sh.From, To: sh.To, Frozen: sh.From != "", Expires: sh.Expires}
	switch sh.Kind {
	case store.ShareDashboard:
		d, err := s.dash.Dashboard(r.Context(), sh.Target)
		if err != nil {
			writeError(w, r, s.log, sharedGone(err))
			return
		}
		out.Dashboard = &d.Spec
		if !out.Frozen {
			out.From, out.To = d.Spec.From, d.Spec.To
		}
	case store.ShareSearch:
		ss, err := s.dash.SavedSearch(r.Context(), sh.Target)
		if err != nil {
			writeError(w, r, s.log, sharedGone(err))
			return
		}
		out.Query = ss.Query
		if !out.Frozen {
			out.From, out.To = ss.From, ss.To
		}
	case store.ShareSnapshot:
		out.Snapshot = sh.Snapshot
	}
	writeData(w, out)
}

// sharedGone turns a deleted target into a refused link.
func sharedGone(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return errorf(kindGone, "what this link shared has been deleted")
	}
	return err
}

// sharedRange is the range of a shared view: the frozen one, or the
// viewer's within the link's defaults.
func (s *Server) sharedRange(r *http.Request, sh store.Share, defFrom, defTo string) (time.Time, time.Time, error) {
	if sh.From != "" {
		return resolveRange(sh.From, sh.To, s.deps.Now())
	}
	return s.chartRange(r, defFrom, defTo)
}

func (s *Server) handleSharedPanel(w http.ResponseWriter, r *http.Request) {
	pid := r.PathValue("panel")
	sh, ok := s.openShare(w, r, "panel "+pid)
	if !ok {
		return
	}
	if sh.Kind != store.ShareDashboard {
		writeError(w, r, s.log, errorf(kindNotFound, "this link shares no dashboard"))
		return
	}
	d, err := s.dash.Dashboard(r.Context(), sh.Target)
	if err != nil {
		writeError(w, r, s.log, sharedGone(err))
		return
	}
	for _, p := range d.Spec.Panels {
		if p.ID != pid || p.Type == dashboard.TypeAlerts {
			continue
		}
		from, to, err := s.sharedRange(r, sh, d.Spec.From, d.Spec.To)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		res, err := dashboard.Evaluate(r.Context(), s.deps.Search, p.Query, from, to)
		if err != nil {
			s.searchError(w, r, p.Query, err)
			return
		}
		writeData(w, res)
		return
	}
	writeError(w, r, s.log, errorf(kindNotFound, "the shared dashboard has no panel %q", pid))
}

// sharedSearchRequest is the saved search of a search share, over the
// shared range; the viewer picks only the page.
func (s *Server) sharedSearchRequest(w http.ResponseWriter, r *http.Request, detail string) (store.SearchRequest, bool) {
	sh, ok := s.openShare(w, r, detail)
	if !ok {
		return store.SearchRequest{}, false
	}
	if sh.Kind != store.ShareSearch {
		writeError(w, r, s.log, errorf(kindNotFound, "this link shares no live search"))
		return store.SearchRequest{}, false
	}
	ss, err := s.dash.SavedSearch(r.Context(), sh.Target)
	if err != nil {
		writeError(w, r, s.log, sharedGone(err))
		return store.SearchRequest{}, false
	}
	q, err := query.Parse(ss.Query)
	if err != nil {
		s.searchError(w, r, ss.Query, err)
		return store.SearchRequest{}, false
	}
	from, to, err := s.sharedRange(r, sh, ss.From, ss.To)
	if err != nil {
		writeError(w, r, s.log, err)
		return store.SearchRequest{}, false
	}
	req := store.SearchRequest{Query: &query.Query{Filter: q.Filter}, From: from, To: to, Limit: 100, Cursor: r.URL.Query().Get("cursor")}
	return req, true
}

func (s *Server) handleSharedSearch(w http.ResponseWriter, r *http.Request) {
	req, ok := s.sharedSearchRequest(w, r, "search")
	if !ok {
		return
	}
	ans := searchAnswer{Query: req.Query.String(), Records: []record.Record{}}
	var err error
	ans.NextCursor, err = s.deps.Search.Search(r.Context(), req, func(rec record.Record) error {
		ans.Records = append(ans.Records, rec)
		return nil
	})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ans)
}

func (s *Server) handleSharedHistogram(w http.ResponseWriter, r *http.Request) {
	req, ok := s.sharedSearchRequest(w, r, "histogram")
	if !ok {
		return
	}
	hist, err := s.deps.Search.Histogram(r.Context(), req, 60)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if hist == nil {
		hist = []store.Bucket{}
	}
	writeData(w, map[string]any{"buckets": hist, "query": req.Query.String()})
}
