package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/decode"
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
	s.render(w, r, http.StatusOK, "contract.html", data)
}

// callRequest is the body of POST /api/v1/contracts/{address}/call.
type callRequest struct {
	// Function is a signature ("balanceOf(address)") or a name that is
	// not overloaded.
	Function string            `json:"function"`
	Args     []json.RawMessage `json:"args"`
	// ABIAddress names whose ABI to encode with when it is not the
	// target's own: a proxy is called with its implementation's ABI.
	ABIAddress string `json:"abiAddress,omitempty"`
	// From is the caller (msg.sender) of the read, if it matters.
	From string `json:"from,omitempty"`
}

// callResult is the answer of a read: its outputs, or the revert.
type callResult struct {
	Function string          `json:"function"`
	Outputs  []decode.Output `json:"outputs,omitempty"`
	Revert   *CallRevert     `json:"revert,omitempty"`
	Raw      string          `json:"raw"`
}

// maxCallBody bounds a read request.
const maxCallBody = 64 << 10

// handleContractCall serves POST /api/v1/contracts/{address}/call: it
// encodes a view function's call with the contract's ABI, runs it on the
// node at the latest block and decodes what it returned or why it reverted.
func (s *Server) handleContractCall(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req callRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxCallBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "cannot read the call: %v", err))
		return
	}
	abiAddr := addr
	if req.ABIAddress != "" {
		if abiAddr, err = parseAddress(req.ABIAddress); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	var msg ethereum.CallMsg
	if req.From != "" {
		from, err := parseAddress(req.From)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		msg.From = from
	}
	ctx := r.Context()
	c, err := s.deps.Contracts.Contract(ctx, abiAddr)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, r, s.log, errorf(kindNotFound, "no ABI is known for %s: verify the contract or add its ABI first", abiAddr.Hex()))
		return
	} else if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	a, err := decode.ParseABI(c.ABI)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "the stored ABI of %s cannot be read: %v", abiAddr.Hex(), err))
		return
	}
	m, err := decode.FindMethod(a, req.Function)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "%v", err))
		return
	}
	if !m.IsConstant() {
		writeError(w, r, s.log, errorf(kindBadRequest, "%s is not a view function: a read cannot change state (simulate it instead)", m.Sig))
		return
	}
	input, err := decode.EncodeCall(m, req.Args)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "%v", err))
		return
	}
	msg.To, msg.Data = &addr, input
	out, err := s.deps.Call(ctx, msg, nil)
	res := callResult{Function: m.Sig}
	if err != nil {
		if rev := callRevert(c.ABI, err); rev != nil {
			res.Revert = rev
			writeData(w, res)
			return
		}
		writeError(w, r, s.log, errorf(kindConflict, "the node refused the call: %v", err))
		return
	}
	res.Raw = "0x" + common.Bytes2Hex(out)
	if len(out) == 0 && len(m.Outputs) > 0 {
		writeError(w, r, s.log, errorf(kindConflict, "%s returned nothing: is there a contract with this function at %s?", m.Sig, addr.Hex()))
		return
	}
	if res.Outputs, err = decode.DecodeOutputs(m, out); err != nil {
		writeError(w, r, s.log, errorf(kindConflict, "%v", err))
		return
	}
	writeData(w, res)
}
