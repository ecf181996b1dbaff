package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// monitorRow is one monitor as the monitors page lists it, read from the
// monitors API's JSON (GET /api/v1/monitors).
type monitorRow struct {
	Spec struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Kind     string            `json:"kind"`
		Severity string            `json:"severity"`
		Disabled bool              `json:"disabled"`
		Labels   map[string]string `json:"labels"`
		Channels []string          `json:"channels"`
	} `json:"spec"`
	Origin string `json:"origin"`
	Error  string `json:"error"`
	Alerts []struct {
		State string    `json:"state"`
		Since time.Time `json:"since"`
	} `json:"alerts"`
}

// Title is the name shown, the ID when there is none.
func (m monitorRow) Title() string {
	if m.Spec.Name != "" {
		return m.Spec.Name
	}
	return m.Spec.ID
}

// State is the monitor's worst alert state: firing, pending or ok.
func (m monitorRow) State() string {
	st := "ok"
	for _, a := range m.Alerts {
		if a.State == "firing" {
			return "firing"
		}
		if a.State == "pending" {
			st = "pending"
		}
	}
	if m.Spec.Disabled {
		return "disabled"
	}
	return st
}

// LabelList is the monitor's labels as sorted "k=v" strings.
func (m monitorRow) LabelList() []string {
	out := make([]string, 0, len(m.Spec.Labels))
	for k, v := range m.Spec.Labels {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// handleMonitorsPage serves /monitors. The list is rendered here from the
// monitors API so that it reads without scripts; monitors.js refreshes it
// and draws the editor, dry run, silences, alert history and dead letters
// from the API. Without a monitors API mounted the page says so.
func (s *Server) handleMonitorsPage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Title": "Monitors", "Page": "monitors", "Active": "monitors"}
	// The monitors API is a mounted capability: ask it through the mux as
	// a browser would, so the page shows exactly what the API says.
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/api/v1/monitors", nil)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	rec := &bufferWriter{header: http.Header{}, code: http.StatusOK}
	s.mux.ServeHTTP(rec, req)
	var body struct {
		Status string       `json:"status"`
		Data   []monitorRow `json:"data"`
		Error  string       `json:"error"`
	}
	switch {
	case rec.code == http.StatusNotFound:
		data["NoEngine"] = true
	case json.Unmarshal(rec.body.Bytes(), &body) != nil || body.Status != "success":
		s.log.Error("monitors page: cannot list monitors", "status", rec.code, "body", strings.TrimSpace(rec.body.String()))
		data["ListError"] = "cannot list the monitors; see the server log"
	default:
		data["Monitors"] = body.Data
	}
	s.render(w, r, http.StatusOK, "monitors.html", data)
}

// bufferWriter keeps an inner request's answer.
type bufferWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header         { return b.header }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferWriter) WriteHeader(code int)        { b.code = code }
