package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/store"
)

// dashboardPage renders a dashboard; its panels are drawn by dashboard.js from
// /api/v1/dashboards/{id} and /api/v1/chart. The home dashboard also lists
// the latest chain activity.
func (s *Server) dashboardPage(w http.ResponseWriter, r *http.Request, id string) {
	name := dashboard.Home().Name
	if s.dash != nil {
		d, err := s.dash.Dashboard(r.Context(), id)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		name = d.Name
	}
	data := map[string]any{"Title": name, "Page": "dashboard", "DashboardID": id, "Editable": s.dash != nil,
		"Shareable": s.dash != nil && s.shares != nil}
	if id == dashboard.HomeID {
		data["Active"] = "home"
		if err := s.chainTables(r.Context(), data); err != nil {
			s.renderError(w, r, err)
			return
		}
	} else {
		data["Active"] = "dashboards"
	}
	s.render(w, r, http.StatusOK, "dashboard.html", data)
}

func (s *Server) handleDashboardPage(w http.ResponseWriter, r *http.Request) {
	s.dashboardPage(w, r, r.PathValue("id"))
}

func (s *Server) handleDashboardsPage(w http.ResponseWriter, r *http.Request) {
	ds, err := s.dash.Dashboards(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "dashboards.html", map[string]any{"Title": "Dashboards", "Page": "dashboards", "Active": "dashboards", "Dashboards": ds})
}

func (s *Server) handleSearchesPage(w http.ResponseWriter, r *http.Request) {
	ss, err := s.dash.SavedSearches(r.Context())
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "searches.html", map[string]any{"Title": "Saved searches", "Page": "searches", "Active": "searches",
		"Searches": ss, "Shareable": s.shares != nil})
}

func (s *Server) handleSharesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "shares.html", map[string]any{"Title": "Share links", "Page": "shares", "Active": "shares"})
}

// handleExplorePage serves the search page; its state lives in the URL
// (q, from, to, live), so every view is a permalink.
func (s *Server) handleExplorePage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "explore.html", map[string]any{"Title": "Explore", "Page": "explore", "Active": "explore",
		"Help": syntaxHelp, "CanSave": s.dash != nil, "CanIncident": s.deps.Incidents != nil})
}

func (s *Server) handleBlockPage(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseUint(r.PathValue("number"), 10, 64)
	if err != nil {
		s.renderError(w, r, errorf(kindBadRequest, "%q is not a block number", r.PathValue("number")))
		return
	}
	blocks, err := s.deps.Chain.Blocks(r.Context(), store.BlockQuery{Before: n + 1, Limit: 1})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if len(blocks) == 0 || blocks[0].Number != n {
		s.renderError(w, r, errorf(kindNotFound, "block %d is not indexed", n))
		return
	}
	txs, err := s.deps.Chain.Txs(r.Context(), store.TxQuery{Block: &n, Limit: 1000})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	// Transactions come newest first; a block reads in index order.
	for i, j := 0, len(txs)-1; i < j; i, j = i+1, j-1 {
		txs[i], txs[j] = txs[j], txs[i]
	}
	s.render(w, r, http.StatusOK, "block.html", map[string]any{"Title": "Block " + strconv.FormatUint(n, 10), "Page": "block",
		"Block": blocks[0], "Txs": txs, "HasPrev": n > 0, "Prev": n - 1, "Next": n + 1})
}

// handleSharedPage serves a share link's page. It shows only what the
// link shares: shared.js reads it from /api/v1/shared/{token}.
func (s *Server) handleSharedPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	sh, err := s.shares.Open(r.Context(), token, "page")
	if err != nil {
		code := http.StatusInternalServerError
		msg := "internal error; see the server log"
		if errors.Is(err, auth.ErrRefused) {
			code, msg = http.StatusGone, err.Error()
		} else {
			s.log.Error("cannot open share", "err", err)
		}
		s.render(w, r, code, "error.html", map[string]any{"Title": "Link not valid", "Message": msg, "Nav": false})
		return
	}
	s.render(w, r, http.StatusOK, "shared.html", map[string]any{"Title": sh.Title, "Page": "shared", "Token": token, "Nav": false})
}
