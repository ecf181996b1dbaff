package web

import (
	"errors"
	"net/http"

	"github.com/blocktorch/blocktorch/internal/store"
)

// handleContractPage serves a contract's page. Recent transactions, events
// and reverts are rendered here; contract.js draws the verification,
// sources, ABI, read forms and capabilities from /api/v1/contracts/{a}.
func (s *Server) handleContractPage(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	ctx := r.Context()
	data := map[string]any{"Title": "Contract " + addr.Hex(), "Page": "contract", "Address": addr.Hex(), "CanCall": s.deps.Call != nil}
	if c, err := s.deps.Contracts.Contract(ctx, addr); err == nil {
		data["Contract"] = c
		data["Title"] = c.Name + " " + addr.Hex()
	} else if !errors.Is(err, store.ErrNotFound) {
		s.renderError(w, r, err)
		return
	}
	txs, err := s.deps.Chain.Txs(ctx, store.TxQuery{Address: &addr, Limit: 20})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	failed, err := s.deps.Chain.Txs(ctx, store.TxQuery{Address: &addr, Status: "failed", Limit: 20})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	logs, err := s.deps.Chain.Logs(ctx, store.LogQuery{Address: &addr, Limit: 20})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	data["Txs"], data["Failed"], data["Logs"] = txs, failed, logs
	if data["FeedReads"], data["IsFeed"], err = s.feedReads(ctx, addr); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "contract.html", data)
}
