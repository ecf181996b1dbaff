package web

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The monitors API (routes.go lists it):
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

// maxMonitorBody bounds monitor request bodies: a monitors file is small.
const maxMonitorBody = 1 << 20

func readMonitorBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxMonitorBody))
}

func (s *Server) handleMonitors(w http.ResponseWriter, r *http.Request) {
	writeData(w, s.deps.Monitors.Monitors())
}

func (s *Server) handleMonitor(w http.ResponseWriter, r *http.Request) {
	m, err := s.deps.Monitors.Monitor(r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, m)
}

func decodeSpec(w http.ResponseWriter, r *http.Request) (monitor.Spec, error) {
	body, err := readMonitorBody(w, r)
	if err != nil {
		return monitor.Spec{}, err
	}
	var sp monitor.Spec
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sp); err != nil {
		return monitor.Spec{}, errorf(kindBadRequest, "the body is not a monitor: %v", err)
	}
	return sp, nil
}

func (s *Server) handleCreateMonitor(w http.ResponseWriter, r *http.Request) {
	sp, err := decodeSpec(w, r)
	if err == nil {
		err = s.deps.Monitors.PutMonitor(r.Context(), sp, true)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.deps.Monitors.Monitor(sp.ID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeCreated(w, m)
}

func (s *Server) handlePutMonitor(w http.ResponseWriter, r *http.Request) {
	sp, err := decodeSpec(w, r)
	if err == nil && sp.ID != r.PathValue("id") {
		err = errorf(kindBadRequest, "the body's id %s is not the URL's", strconv.Quote(sp.ID))
	}
	if err == nil {
		err = s.deps.Monitors.PutMonitor(r.Context(), sp, false)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	m, err := s.deps.Monitors.Monitor(sp.ID)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, m)
}

func (s *Server) handleDeleteMonitor(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Monitors.DeleteMonitor(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}

// queryUint reads a non-negative integer query parameter, def when absent.
func queryUint(r *http.Request, name string, def uint64) (uint64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, errorf(kindBadRequest, "%s must be a non-negative integer", name)
	}
	return n, nil
}

func (s *Server) handleMonitorSeries(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := s.deps.Monitors.Monitor(id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	from, err := queryUint(r, "from", 0)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	to, err := queryUint(r, "to", 1<<62)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, err := queryUint(r, "limit", 1000)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	pts, err := s.deps.Monitors.Series(r.Context(), id, from, to, int(min(limit, 10000)))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, pts)
}

// monitorsFileName is the file name problems of a monitors body are
// reported in: ?file=, or monitors.yaml.
func monitorsFileName(r *http.Request) string {
	if name := r.URL.Query().Get("file"); name != "" {
		return name
	}
	return "monitors.yaml"
}

func (s *Server) handleApplyMonitors(w http.ResponseWriter, r *http.Request) {
	mode, del := r.URL.Query().Get("mode"), r.URL.Query()["delete"]
	switch {
	case mode != "" && mode != "replace" && mode != "merge":
		writeError(w, r, s.log, errorf(kindBadRequest, "mode must be replace (the default: the file is the whole set) or merge"))
		return
	case len(del) > 0 && mode != "merge":
		writeError(w, r, s.log, errorf(kindBadRequest, "delete= needs mode=merge: a replace deletes what the file does not hold"))
		return
	}
	body, err := readMonitorBody(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.deps.Monitors.ApplyFile(r.Context(), monitorsFileName(r), body, mode == "merge", del)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, res)
}

func (s *Server) handleDryRunMonitors(w http.ResponseWriter, r *http.Request) {
	hours := 24.0
	if v := r.URL.Query().Get("hours"); v != "" {
		h, err := strconv.ParseFloat(v, 64)
		if err != nil || h <= 0 || h > 24*31 {
			writeError(w, r, s.log, errorf(kindBadRequest, "hours must be a number in (0, 744]"))
			return
		}
		hours = h
	}
	body, err := readMonitorBody(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.deps.Monitors.DryRunFile(r.Context(), monitorsFileName(r), body, time.Duration(hours*float64(time.Hour)))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, res)
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	limit, err := queryUint(r, "limit", 100)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	before, err := queryUint(r, "before", 0)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	evs, err := s.deps.Monitors.AlertEvents(r.Context(), store.AlertQuery{MonitorID: r.URL.Query().Get("monitor"), Limit: int(min(limit, 1000)), Before: int64(min(before, 1<<62))})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, evs)
}

func (s *Server) handleActiveAlerts(w http.ResponseWriter, r *http.Request) {
	as := s.deps.Monitors.ActiveAlerts()
	if as == nil {
		as = []monitor.Alert{}
	}
	writeData(w, as)
}

func (s *Server) handleSilences(w http.ResponseWriter, r *http.Request) {
	ss, err := s.deps.Monitors.Silences(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ss)
}

func (s *Server) handleAddSilence(w http.ResponseWriter, r *http.Request) {
	body, err := readMonitorBody(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req monitor.SilenceRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "the body is not a silence: %v", err))
		return
	}
	sil, err := s.deps.Monitors.AddSilence(r.Context(), req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeCreated(w, sil)
}

func (s *Server) handleDeleteSilence(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Monitors.DeleteSilence(r.Context(), r.PathValue("id")); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]string{"deleted": r.PathValue("id")})
}

func (s *Server) handleChannels(w http.ResponseWriter, r *http.Request) {
	writeData(w, s.deps.Monitors.Channels())
}

func (s *Server) handleDeadLetters(w http.ResponseWriter, r *http.Request) {
	limit, err := queryUint(r, "limit", 100)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	ds, err := s.deps.Monitors.DeadLetters(r.Context(), int(min(limit, 1000)))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ds)
}

func (s *Server) handleRetryDeadLetter(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "the id must be an integer"))
		return
	}
	if err := s.deps.Monitors.Retry(r.Context(), id); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]int64{"requeued": id})
}
