package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The debugger's API (routes.go lists it): a transaction's replay, its
// steps a page at a time, source-level moves, simulations, and the
// verified sources the debugger shows.

// handleDebug serves GET /api/v1/debug/{tx}: the call tree, events, state
// changes and failure of a transaction, replayed when no trace is stored.
func (s *Server) handleDebug(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("tx"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.deps.Debug.Debug(r.Context(), h)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.noteDebugged(r, res)
	writeData(w, res)
}

// noteDebugged writes a failed transaction someone debugged, with its
// failing source line, on the open incident's timeline (once per
// transaction): the root cause's evidence for the postmortem.
func (s *Server) noteDebugged(r *http.Request, res *debugger.Result) {
	// A simulation is not a transaction of the incident.
	if s.deps.Incidents == nil || res == nil || res.Failure == nil || res.Mode == debugger.ModeSimulation {
		return
	}
	f := res.Failure
	text := "Debugged " + res.TxHash.Hex() + ": " + f.Reason
	if f.Reason == "" {
		text += f.Error
	}
	if f.File != "" {
		text += " at " + f.File + ":" + strconv.Itoa(f.Line)
		if f.Approximate {
			text += fmt.Sprintf(" (somewhere in lines %d-%d)", f.FromLine, f.ToLine)
		}
	}
	err := s.deps.Incidents.AddTimelineEntry(r.Context(), incident.KindDebug, text, "/debug/"+res.TxHash.Hex())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Error("cannot add a debugged transaction to the open incident", "tx", res.TxHash.Hex(), "err", err)
	}
}

// handleDebugSteps serves GET /api/v1/debug/{tx}/steps?from=&count=: count
// steps (default 100, at most debugger.MaxStepsPage) from step from.
func (s *Server) handleDebugSteps(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("tx"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	from, count := 0, 100
	if v := q.Get("from"); v != "" {
		if from, err = strconv.Atoi(v); err != nil || from < 0 {
			writeError(w, r, s.log, errorf(kindBadRequest, "from must be a step number"))
			return
		}
	}
	if v := q.Get("count"); v != "" {
		if count, err = strconv.Atoi(v); err != nil || count < 1 || count > debugger.MaxStepsPage {
			writeError(w, r, s.log, errorf(kindBadRequest, "count must be 1-%d", debugger.MaxStepsPage))
			return
		}
	}
	page, err := s.deps.Debug.StepsPage(r.Context(), h, from, count)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, page)
}

// navMoves are the moves of GET /api/v1/debug/{tx}/nav.
var navMoves = []string{"into", "over", "out", "back", "line", "goto", "failure"}

// handleDebugNav serves GET /api/v1/debug/{tx}/nav?move=&from=[&file=&line=|&n=]:
// the step a source-level move from step from lands on, as {"step": N}.
// The moves scan the trace on disk, which the browser should not page
// through to step over a loop.
func (s *Server) handleDebugNav(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("tx"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	q := r.URL.Query()
	move := q.Get("move")
	num := func(name string) (int, error) {
		v, err := strconv.Atoi(q.Get(name))
		if err != nil || v < 0 {
			return 0, errorf(kindBadRequest, "%s must be a number ≥ 0, not %q", name, q.Get(name))
		}
		return v, nil
	}
	var from, line, n int
	switch move {
	case "into", "over", "out", "back", "line":
		if from, err = num("from"); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	case "goto":
		if n, err = num("n"); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	case "failure":
	default:
		writeError(w, r, s.log, errorf(kindBadRequest, "move must be one of %v, not %q", navMoves, move))
		return
	}
	file := q.Get("file")
	if move == "line" {
		if line, err = num("line"); err != nil || file == "" {
			writeError(w, r, s.log, errorf(kindBadRequest, "move=line needs file and line"))
			return
		}
	}
	t, err := s.deps.Debug.Open(r.Context(), h)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	defer t.Close()
	var step int
	switch move {
	case "into":
		step, err = t.StepInto(from)
	case "over":
		step, err = t.StepOver(from)
	case "out":
		step, err = t.StepOut(from)
	case "back":
		step, err = t.StepBack(from)
	case "line":
		step, err = t.RunToLine(from, file, line)
	case "goto":
		step, err = t.GoTo(n)
	case "failure":
		step, err = t.Failure()
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]int{"step": step, "total": t.Result.Steps})
}

// handleSource serves GET /api/v1/sources?file=NAME: a verified source
// file's text, by the source unit name the debugger's locations give.
func (s *Server) handleSource(w http.ResponseWriter, r *http.Request) {
	file := r.URL.Query().Get("file")
	if file == "" {
		writeError(w, r, s.log, errorf(kindBadRequest, "file is required"))
		return
	}
	text, ok := s.deps.Source(file)
	if !ok {
		writeError(w, r, s.log, errorf(kindNotFound, "no verified source file %q", file))
		return
	}
	writeData(w, map[string]string{"file": file, "content": text})
}
