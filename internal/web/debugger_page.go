package web

import (
	"errors"
	"net/http"

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
