package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/store"
)

// maxSpecBody caps a dashboard or saved search upload.
const maxSpecBody = 1 << 20

// readJSON decodes a request body into v, refusing unknown fields so that
// typos in an imported dashboard are reported instead of dropped.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSpecBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(kindTooLarge, "request body over %d bytes", maxSpecBody)
		}
		return errorf(kindBadRequest, "cannot read request body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(kindBadRequest, "request body is not the expected JSON: %v", err)
	}
	return nil
}

// chartRange reads from and to (default: the last hour) for a chart.
func (s *Server) chartRange(r *http.Request, defFrom, defTo string) (time.Time, time.Time, error) {
	now := s.deps.Now()
	f, t := r.URL.Query().Get("from"), r.URL.Query().Get("to")
	if f == "" {
		f = defFrom
	}
	if t == "" {
		t = defTo
	}
	return resolveRange(f, t, now)
}

func resolveRange(f, t string, now time.Time) (time.Time, time.Time, error) {
	from, err := parseTime(f, now)
	if err != nil {
		return from, from, errorf(kindBadRequest, "from: %v", err)
	}
	to, err := parseTime(t, now)
	if err != nil {
		return from, to, errorf(kindBadRequest, "to: %v", err)
	}
	if from.IsZero() {
		from = now.Add(-time.Hour)
	}
	if to.IsZero() {
		to = now
	}
	if !from.Before(to) {
		return from, to, errorf(kindBadRequest, "from (%s) must be before to (%s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}

// handleChart evaluates a query with a pipe into chart series:
// GET /api/v1/chart?q=&from=&to=.
func (s *Server) handleChart(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	from, to, err := s.chartRange(r, "now-1h", "now")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := dashboard.Evaluate(r.Context(), s.deps.Search, q, from, to)
	if err != nil {
		s.searchError(w, r, q, err)
		return
	}
	writeData(w, res)
}

func (s *Server) handleDashboards(w http.ResponseWriter, r *http.Request) {
	ds, err := s.dash.Dashboards(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ds)
}

func (s *Server) handleDashboard(w http.ResponseWriter, r *http.Request) {
	d, err := s.dash.Dashboard(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, d)
}

// handleCreateDashboard stores a new dashboard; it is also the import of
// an exported one (its id, if any, is replaced).
func (s *Server) handleCreateDashboard(w http.ResponseWriter, r *http.Request) {
	var d dashboard.Dashboard
	if err := readJSON(w, r, &d); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d.ID = ""
	d, err := s.dash.Save(r.Context(), d)
	if err != nil {
		s.searchError(w, r, "", err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: d})
}

func (s *Server) handlePutDashboard(w http.ResponseWriter, r *http.Request) {
	var d dashboard.Dashboard
	if err := readJSON(w, r, &d); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	d.ID = r.PathValue("id")
	d, err := s.dash.Save(r.Context(), d)
	if err != nil {
		s.searchError(w, r, "", err)
		return
	}
	writeData(w, d)
}

func (s *Server) handleDeleteDashboard(w http.ResponseWriter, r *http.Request) {
	if err := s.dash.Delete(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}

func (s *Server) handleSavedSearches(w http.ResponseWriter, r *http.Request) {
	ss, err := s.dash.SavedSearches(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if ss == nil {
		ss = []store.SavedSearch{}
	}
	writeData(w, ss)
}

func (s *Server) handleSavedSearch(w http.ResponseWriter, r *http.Request) {
	ss, err := s.dash.SavedSearch(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ss)
}

func (s *Server) handleCreateSavedSearch(w http.ResponseWriter, r *http.Request) {
	var ss store.SavedSearch
	if err := readJSON(w, r, &ss); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ss.ID = ""
	ss, err := s.dash.SaveSearch(r.Context(), ss)
	if err != nil {
		s.searchError(w, r, ss.Query, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: ss})
}

func (s *Server) handlePutSavedSearch(w http.ResponseWriter, r *http.Request) {
	var ss store.SavedSearch
	if err := readJSON(w, r, &ss); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ss.ID = r.PathValue("id")
	ss, err := s.dash.SaveSearch(r.Context(), ss)
	if err != nil {
		s.searchError(w, r, ss.Query, err)
		return
	}
	writeData(w, ss)
}

func (s *Server) handleDeleteSavedSearch(w http.ResponseWriter, r *http.Request) {
	if err := s.dash.DeleteSearch(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}
