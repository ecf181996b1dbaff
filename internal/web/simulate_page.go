package web

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/decode"
)

// handleSimulatePage serves the simulator. The page is a form that
// simulate.js fills and runs through POST /api/v1/simulate; the whole
// request lives in the page's URL (?req=, or #req= when too long for a
// query string), so a link re-runs the same simulation. With ?tx=0x… the
// form starts as that transaction on the state before its block, and runs
// at once: the "Re-simulate" buttons of the tx, debugger and incident
// pages link here.
func (s *Server) handleSimulatePage(w http.ResponseWriter, r *http.Request) {
	data := map[string]any{"Title": "Simulate", "Page": "simulate", "Active": "simulate"}
	if v := r.URL.Query().Get("tx"); v != "" {
		h, err := parseHash(v)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		tx, err := s.deps.Chain.Tx(r.Context(), h)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		req := txSimRequest(tx)
		if fn, args, ok := s.callAsFunction(r, tx); ok {
			req["function"], req["args"] = fn, args
			delete(req, "data")
		}
		prefill, err := json.Marshal(req)
		if err != nil {
			s.renderError(w, r, err)
			return
		}
		data["Prefill"] = string(prefill)
		data["FromTx"] = h.Hex()
	}
	s.render(w, r, http.StatusOK, "simulate.html", data)
}

// txSimRequest is tx as the simulator's request (the JSON of
// simulateRequest): its sender, recipient, value, input and gas, on the
// state after the block before its own. Earlier transactions of its own
// block are not applied: the simulation starts from the block boundary.
func txSimRequest(tx chain.Tx) map[string]any {
	req := map[string]any{"from": tx.From, "data": hexutil.Bytes(tx.Input), "gas": hexutil.Uint64(tx.Gas)}
	if tx.To != nil {
		req["to"] = tx.To
	}
	if tx.Value != nil && tx.Value.Sign() > 0 {
		req["value"] = (*hexutil.Big)(tx.Value)
	}
	if tx.BlockNumber > 0 {
		req["block"] = hexutil.Uint64(tx.BlockNumber - 1)
	}
	return req
}

// callAsFunction is tx's decoded call as a function of its recipient's ABI
// and arguments as text, when they encode back to exactly its input: the
// simulator then shows typed inputs to change instead of calldata.
func (s *Server) callAsFunction(r *http.Request, tx chain.Tx) (string, []json.RawMessage, bool) {
	if tx.Call == nil || tx.To == nil || tx.Call.Signature == "" {
		return "", nil, false
	}
	c, err := s.deps.Contracts.Contract(r.Context(), *tx.To)
	if err != nil {
		return "", nil, false
	}
	a, err := decode.ParseABI(c.ABI)
	if err != nil {
		return "", nil, false
	}
	m, err := decode.FindMethod(a, tx.Call.Signature)
	if err != nil {
		return "", nil, false
	}
	args := make([]json.RawMessage, len(tx.Call.Args))
	for i, arg := range tx.Call.Args {
		args[i], _ = json.Marshal(arg.Value)
	}
	data, err := decode.EncodeCall(m, args)
	if err != nil || !bytes.Equal(data, tx.Input) {
		return "", nil, false
	}
	return tx.Call.Signature, args, true
}
