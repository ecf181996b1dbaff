package web

import (
	"net/http"
	"strings"

	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/store"
)

// handleIncidentsPage serves /incidents: the incidents, newest first, and
// the form that opens one. The form comes filled in from an alert
// (?monitor=&key=, the link in every alert notification) or a search
// (?q=&from=&to=); incidents.js posts it and shows the kill switches.
func (s *Server) handleIncidentsPage(w http.ResponseWriter, r *http.Request) {
	l, err := s.deps.Incidents.List(r.Context(), store.IncidentQuery{Limit: 200})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	q := r.URL.Query()
	from := map[string]string{"Monitor": strings.TrimSpace(q.Get("monitor")), "Key": q.Get("key"),
		"Query": strings.TrimSpace(q.Get("q")), "From": q.Get("from"), "To": q.Get("to")}
	s.render(w, r, http.StatusOK, "incidents.html", map[string]any{"Title": "Incidents", "Page": "incidents", "Active": "incidents",
		"Incidents": l, "Severities": incident.Severities, "Open": from})
}

// handleIncidentPage serves /incidents/{id}: the page's frame with the
// incident's title; incident.js draws the rest from the incidents API.
func (s *Server) handleIncidentPage(w http.ResponseWriter, r *http.Request) {
	id, err := incidentID(r)
	var inc store.Incident
	if err == nil {
		inc, err = s.deps.Incidents.Get(r.Context(), id)
	}
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "incident.html", map[string]any{"Title": inc.Title, "Page": "incident", "Active": "incidents",
		"Incident": inc, "Statuses": incident.Statuses, "Severities": incident.Severities})
}
