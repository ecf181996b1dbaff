package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The contracts API (routes.go lists it): known contracts and their ABIs,
// events, verification, the contract page's data and its read functions.

func (s *Server) handleContracts(w http.ResponseWriter, r *http.Request) {
	cs, err := s.deps.Contracts.Contracts(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// Each contract with its verification, when it has one.
	type entry struct {
		store.Contract
		Verification *contracts.Summary `json:"verification,omitempty"`
	}
	list := make([]entry, 0, len(cs))
	for _, c := range cs {
		e := entry{Contract: c}
		if s.deps.Verification != nil {
			if v, ok := s.deps.Verification(c.Address); ok {
				e.Verification = &v
			}
		}
		list = append(list, e)
	}
	writeData(w, list)
}

// addContractRequest is the body of POST /api/v1/contracts. abi is the ABI
// JSON array itself, or a string holding it (as Hardhat/Foundry artifacts
// and block explorers give it).
type addContractRequest struct {
	Address string          `json:"address"`
	Name    string          `json:"name"`
	ABI     json.RawMessage `json:"abi"`
}

func (s *Server) handleAddContract(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxABIBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, r, s.log, errorf(kindTooLarge, "request body over %d bytes", maxABIBody))
			return
		}
		writeError(w, r, s.log, errorf(kindBadRequest, "cannot read request body: %v", err))
		return
	}
	var req addContractRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "request body is not JSON {address, name, abi}: %v", err))
		return
	}
	addr, err := parseAddress(req.Address)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	abiJSON := []byte(req.ABI)
	var asString string
	if json.Unmarshal(req.ABI, &asString) == nil {
		abiJSON = []byte(asString)
	}
	if len(abiJSON) == 0 {
		writeError(w, r, s.log, errorf(kindBadRequest, "abi is missing"))
		return
	}
	if err := s.deps.AddContract(r.Context(), addr, req.Name, abiJSON); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	c, err := s.deps.Contracts.Contract(r.Context(), addr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, envelope{Status: "success", Data: c})
}

func (s *Server) handleContractEvents(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	logs, err := s.deps.Chain.Logs(r.Context(), store.LogQuery{Limit: limit, Address: &addr, Event: r.URL.Query().Get("event")})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]logJSON, 0, len(logs))
	for _, l := range logs {
		out = append(out, toLogJSON(l))
	}
	writeData(w, out)
}

// handleContract serves GET /api/v1/contracts/{address}: the contract
// page's data, its verification and live capabilities (contracts.Page).
func (s *Server) handleContract(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, s.deps.Verify.Contract(r.Context(), addr))
}

// handleVerify serves POST /api/v1/contracts/{address}/verify with a
// contracts.VerifyRequest body: {"status":"success","data": Result} (a
// failed verification is a success with status "none" and its mismatch).
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	limit := s.deps.Verify.MaxBody
	if limit <= 0 {
		limit = contracts.MaxVerifyBody
	}
	var body contracts.VerifyRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit)).Decode(&body); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, r, s.log, errorf(kindTooLarge,
				"the verification request is over %s: send only the artifact of the contract to verify (blocktorch verify does)", byteSize(limit)))
			return
		}
		writeError(w, r, s.log, errorf(kindBadRequest, "cannot decode the verification request: %v", err))
		return
	}
	res, err := s.deps.Verify.Submit(r.Context(), addr, body)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, res)
}

// byteSize renders a byte count as the limits are documented: MiB when
// whole.
func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return sprintf("%d MiB", n>>20)
	}
	return sprintf("%d bytes", n)
}

// The contract page's read functions: the browser sends a function and its
// arguments as JSON, decode encodes them with the contract's ABI, the
// server runs eth_call and decode decodes the outputs or the revert.

// CallRevert is a read that reverted.
type CallRevert struct {
	Reason string `json:"reason"`
	Data   string `json:"data,omitempty"`
}

// callRevert reads the revert of an eth_call error, decoding Error(string),
// Panic(uint256) and the custom errors of abiJSON (or the bundled table);
// nil when err is no revert.
func callRevert(abiJSON []byte, err error) *CallRevert {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return nil
	}
	s, _ := de.ErrorData().(string)
	data, derr := hexutil.Decode(s)
	if derr != nil {
		return &CallRevert{Reason: de.Error()}
	}
	rev := &CallRevert{Reason: de.Error(), Data: s}
	switch r := decode.Revert(data, abiJSON); r.Kind {
	case chain.RevertError, chain.RevertPanic, chain.RevertCustom:
		rev.Reason = r.Message
	}
	return rev
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
