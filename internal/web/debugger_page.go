package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/ethereum/go-ethereum"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/store"
)

// handleDebugPage serves the step debugger of a transaction. The page is a
// shell: debugger.js reads the call tree from /api/v1/debug/{tx}, moves
// with /api/v1/debug/{tx}/nav and reads steps a page at a time from
// /api/v1/debug/{tx}/steps, so a trace is never loaded whole.
func (s *Server) handleDebugPage(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("tx"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	data := map[string]any{"Title": "Debug " + h.Hex(), "Page": "debug", "Hash": h.Hex(), "Nav": true}
	// The indexed transaction, when there is one, gives the header its
	// method and reason before the replay answers.
	if tx, err := s.deps.Chain.Tx(r.Context(), h); err == nil {
		data["Tx"] = &tx
		// The header names the called contract when it is known.
		if tx.To != nil {
			if c, err := s.deps.Contracts.Contract(r.Context(), *tx.To); err == nil && c.Name != "" {
				data["ToName"] = c.Name
			} else if tx.Call != nil && tx.Call.Contract != "" {
				data["ToName"] = tx.Call.Contract
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "debugger.html", data)
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
	t, err := s.deps.Trace(r.Context(), h)
	if err != nil {
		writeError(w, r, s.log, debugError(err))
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
		writeError(w, r, s.log, debugError(err))
		return
	}
	writeData(w, map[string]int{"step": step, "total": t.Result.Steps})
}

// debugError gives the debugger's errors their API kinds.
func debugError(err error) error {
	switch {
	case errors.Is(err, debugger.ErrNoStep), errors.Is(err, debugger.ErrInvalid), errors.Is(err, debugger.ErrBadRequest):
		return errorf(kindBadRequest, "%v", err)
	case errors.Is(err, debugger.ErrNotFound), errors.Is(err, ethereum.NotFound):
		return errorf(kindNotFound, "%v", err)
	}
	return err
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
