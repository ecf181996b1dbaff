package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// maxBody bounds request bodies: a monitors file is small.
const maxBody = 1 << 20

// Register mounts the monitors API on mux:
//
//	GET    /api/v1/monitors                  monitors with their active alerts
//	POST   /api/v1/monitors                  create one (JSON spec)
//	GET    /api/v1/monitors/{id}
//	PUT    /api/v1/monitors/{id}             replace one created through the API
//	DELETE /api/v1/monitors/{id}
//	GET    /api/v1/monitors/{id}/series      a state or balance watch's values (?from=&to= blocks)
//	POST   /api/v1/monitors/apply            a monitors file (YAML or JSON) as the whole "code" set (?file=name);
//	                                         ?mode=merge only creates or replaces what the body holds and
//	                                         deletes the monitors named by ?delete=ID (the UI's way)
//	POST   /api/v1/monitors/dry-run          a monitors file or one JSON spec over past data (?hours=24)
//	GET    /api/v1/alerts                    alert history, newest first (?monitor=&limit=&before=)
//	GET    /api/v1/alerts/active             pending and firing alerts
//	GET    /api/v1/silences                  silences in force or to come
//	POST   /api/v1/silences                  {"matchers":["monitor == x"],"duration":"2h","comment":""}
//	DELETE /api/v1/silences/{id}
//	GET    /api/v1/channels                  channels, secrets redacted
//	GET    /api/v1/deadletters               notifications given up on (?limit=)
//	POST   /api/v1/deadletters/{id}/retry
//
// Answers use the /api/v1 envelope: {"status":"success","data":…} or
// {"status":"error","errorKind":…,"error":…}.
func (e *Engine) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/monitors", e.handleList)
	mux.HandleFunc("POST /api/v1/monitors", e.handleCreate)
	mux.HandleFunc("GET /api/v1/monitors/{id}", e.handleGet)
	mux.HandleFunc("PUT /api/v1/monitors/{id}", e.handlePut)
	mux.HandleFunc("DELETE /api/v1/monitors/{id}", e.handleDelete)
	mux.HandleFunc("GET /api/v1/monitors/{id}/series", e.handleSeries)
	mux.HandleFunc("POST /api/v1/monitors/apply", e.handleApply)
	mux.HandleFunc("POST /api/v1/monitors/dry-run", e.handleDryRun)
	mux.HandleFunc("GET /api/v1/alerts", e.handleAlerts)
	mux.HandleFunc("GET /api/v1/alerts/active", e.handleActive)
	mux.HandleFunc("GET /api/v1/silences", e.handleSilences)
	mux.HandleFunc("POST /api/v1/silences", e.handleAddSilence)
	mux.HandleFunc("DELETE /api/v1/silences/{id}", e.handleDeleteSilence)
	mux.HandleFunc("GET /api/v1/channels", e.handleChannels)
	mux.HandleFunc("GET /api/v1/deadletters", e.handleDeadLetters)
	mux.HandleFunc("POST /api/v1/deadletters/{id}/retry", e.handleRetry)
}

type envelope struct {
	Status    string `json:"status"`
	Data      any    `json:"data,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeData(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, envelope{Status: "success", Data: v})
}

// writeError maps domain errors to the API's kinds, as the web server does.
func (e *Engine) writeError(w http.ResponseWriter, r *http.Request, err error) {
	kind, code := "internal", http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound):
		kind, code = "not_found", http.StatusNotFound
	case errors.Is(err, store.ErrInvalid):
		kind, code = "bad_request", http.StatusBadRequest
	case errors.Is(err, store.ErrConflict):
		kind, code = "conflict", http.StatusConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = http.StatusServiceUnavailable
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		kind, code = "too_large", http.StatusRequestEntityTooLarge
	}
	msg := err.Error()
	if code >= 500 {
		e.log.Error("monitors API request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log"
	}
	writeJSON(w, code, envelope{Status: "error", ErrorKind: kind, Error: msg})
}

func badRequest(msg string) error { return &apiErr{msg} }

type apiErr struct{ msg string }

func (e *apiErr) Error() string { return e.msg }
func (e *apiErr) Unwrap() error { return store.ErrInvalid }

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
}

func (e *Engine) handleList(w http.ResponseWriter, r *http.Request) { writeData(w, e.Monitors()) }

func (e *Engine) find(id string) (MonitorInfo, error) {
	for _, m := range e.Monitors() {
		if m.Spec.ID == id {
			return m, nil
		}
	}
	return MonitorInfo{}, &notFound{id}
}

type notFound struct{ id string }

func (e *notFound) Error() string { return "no monitor " + strconv.Quote(e.id) }
func (e *notFound) Unwrap() error { return store.ErrNotFound }

func (e *Engine) handleGet(w http.ResponseWriter, r *http.Request) {
	m, err := e.find(r.PathValue("id"))
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, m)
}

func decodeSpec(w http.ResponseWriter, r *http.Request) (Spec, error) {
	body, err := readBody(w, r)
	if err != nil {
		return Spec{}, err
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Spec{}, badRequest("the body is not a monitor: " + err.Error())
	}
	return s, nil
}

func (e *Engine) handleCreate(w http.ResponseWriter, r *http.Request) {
	s, err := decodeSpec(w, r)
	if err == nil {
		err = e.PutMonitor(r.Context(), s, true)
	}
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	m, err := e.find(s.ID)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: m})
}

func (e *Engine) handlePut(w http.ResponseWriter, r *http.Request) {
	s, err := decodeSpec(w, r)
	if err == nil && s.ID != r.PathValue("id") {
		err = badRequest("the body's id " + strconv.Quote(s.ID) + " is not the URL's")
	}
	if err == nil {
		err = e.PutMonitor(r.Context(), s, false)
	}
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	m, err := e.find(s.ID)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, m)
}

func (e *Engine) handleDelete(w http.ResponseWriter, r *http.Request) {
	if err := e.DeleteMonitor(r.Context(), r.PathValue("id")); err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}

func queryUint(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, badRequest(name + " must be a non-negative integer")
	}
	return n, nil
}

func (e *Engine) handleSeries(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := e.find(id); err != nil {
		e.writeError(w, r, err)
		return
	}
	from, err := queryUint(r, "from", 0)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	to, err := queryUint(r, "to", 1<<62)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	limit, err := queryUint(r, "limit", 1000)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	pts, err := e.d.Store.Series(r.Context(), id, from, to, int(min(limit, 10000)))
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, pts)
}

// parseBody reads a monitors file: YAML (JSON is YAML too) with
// positions, and every problem of it (see parseChecked).
func (e *Engine) parseBody(w http.ResponseWriter, r *http.Request, origin string, merge bool) (File, *Source, error) {
	body, err := readBody(w, r)
	if err != nil {
		return File{}, nil, err
	}
	name := r.URL.Query().Get("file")
	if name == "" {
		name = "monitors.yaml"
	}
	return e.parseChecked(r.Context(), origin, merge, name, body)
}

func (e *Engine) handleApply(w http.ResponseWriter, r *http.Request) {
	mode, del := r.URL.Query().Get("mode"), r.URL.Query()["delete"]
	switch {
	case mode != "" && mode != "replace" && mode != "merge":
		e.writeError(w, r, badRequest("mode must be replace (the default: the file is the whole set) or merge"))
		return
	case len(del) > 0 && mode != "merge":
		e.writeError(w, r, badRequest("delete= needs mode=merge: a replace deletes what the file does not hold"))
		return
	}
	f, src, err := e.parseBody(w, r, OriginCode, mode == "merge")
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	var res ApplyResult
	if mode == "merge" {
		res, err = e.Merge(r.Context(), OriginCode, f, del)
	} else {
		res, err = e.Apply(r.Context(), OriginCode, f)
	}
	if err != nil {
		e.writeError(w, r, src.Locate(err))
		return
	}
	writeData(w, res)
}

func (e *Engine) handleDryRun(w http.ResponseWriter, r *http.Request) {
	hours := 24.0
	if v := r.URL.Query().Get("hours"); v != "" {
		h, err := strconv.ParseFloat(v, 64)
		if err != nil || h <= 0 || h > 24*31 {
			e.writeError(w, r, badRequest("hours must be a number in (0, 744]"))
			return
		}
		hours = h
	}
	// A dry run replays the file's monitors whoever manages them: only
	// what the file itself gets wrong matters.
	f, src, err := e.parseBody(w, r, "", true)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	to := e.opts.Now()
	from := to.Add(-time.Duration(hours * float64(time.Hour)))
	res, err := e.DryRun(r.Context(), f, from, to)
	if err != nil {
		e.writeError(w, r, src.Locate(err))
		return
	}
	writeData(w, res)
}

func (e *Engine) handleAlerts(w http.ResponseWriter, r *http.Request) {
	limit, err := queryUint(r, "limit", 100)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	before, err := queryUint(r, "before", 0)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	evs, err := e.d.Store.AlertEvents(r.Context(), store.AlertQuery{MonitorID: r.URL.Query().Get("monitor"), Limit: int(min(limit, 1000)), Before: int64(min(before, 1<<62))})
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, evs)
}

func (e *Engine) handleActive(w http.ResponseWriter, r *http.Request) {
	as := e.ActiveAlerts()
	if as == nil {
		as = []Alert{}
	}
	writeData(w, as)
}

func (e *Engine) handleSilences(w http.ResponseWriter, r *http.Request) {
	ss, err := e.d.Store.Silences(r.Context(), e.opts.Now())
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, ss)
}

func (e *Engine) handleAddSilence(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	var req SilenceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		e.writeError(w, r, badRequest("the body is not a silence: "+err.Error()))
		return
	}
	s, err := e.AddSilence(r.Context(), req)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: s})
}

func (e *Engine) handleDeleteSilence(w http.ResponseWriter, r *http.Request) {
	if err := e.DeleteSilence(r.Context(), r.PathValue("id")); err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}

func (e *Engine) handleChannels(w http.ResponseWriter, r *http.Request) { writeData(w, e.Channels()) }

func (e *Engine) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	if e.d.Notifier == nil {
		writeData(w, []store.Delivery{})
		return
	}
	limit, err := queryUint(r, "limit", 100)
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	ds, err := e.d.Notifier.DeadLetters(r.Context(), int(min(limit, 1000)))
	if err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, ds)
}

func (e *Engine) handleRetry(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		e.writeError(w, r, badRequest("the id must be an integer"))
		return
	}
	if e.d.Notifier == nil {
		e.writeError(w, r, store.ErrNotFound)
		return
	}
	if err := e.d.Notifier.Retry(r.Context(), id); err != nil {
		e.writeError(w, r, err)
		return
	}
	writeData(w, map[string]int64{"requeued": id})
}
