package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The simulator's API (routes.go lists it): POST /api/v1/simulate runs a
// call or transaction that is not sent, as the simulator page and
// `blocktorch simulate` ask.

// maxSimBody bounds a simulation request: room for a code override of
// debugger.MaxOverrideCode bytes in hex and the rest of the request.
const maxSimBody = 1 << 20

// simulateRequest is a debugger.SimRequest whose calldata may be given as
// a function of the target's ABI and its arguments instead of data.
type simulateRequest struct {
	debugger.SimRequest
	// Function is a signature ("transfer(address,uint256)") or a name that
	// is not overloaded, of the ABI of ABIAddress (default: To). Args are
	// its arguments as the contract page's reads take them (decode.ParseArg):
	// strings, numbers, booleans, and JSON arrays or objects for arrays
	// and tuples. Data must then be empty.
	Function   string            `json:"function,omitempty"`
	Args       []json.RawMessage `json:"args,omitempty"`
	ABIAddress *common.Address   `json:"abiAddress,omitempty"`
}

// handleSimulate serves POST /api/v1/simulate with a simulateRequest: the
// run's debugger.Result (call tree, events, state and balance changes,
// failure), its trace kept for /debug/{result.txHash}.
func (s *Server) handleSimulate(w http.ResponseWriter, r *http.Request) {
	req, err := parseSimulateRequest(http.MaxBytesReader(w, r.Body, maxSimBody))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Function != "" {
		data, err := s.encodeSimCall(r, &req)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		req.Data = data
	}
	res, err := s.deps.Debug.Simulate(r.Context(), req.SimRequest)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, res)
}

// parseSimulateRequest reads one simulateRequest, refusing unknown
// fields, trailing data and arguments without a function.
func parseSimulateRequest(body io.Reader) (simulateRequest, error) {
	var req simulateRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return req, errorf(kindTooLarge, "the simulation is over %d bytes: a code override holds at most %d bytes", maxSimBody, debugger.MaxOverrideCode)
		}
		return req, errorf(kindBadRequest, "cannot decode the simulation: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return req, errorf(kindBadRequest, "cannot decode the simulation: more than one JSON value")
	}
	if req.Function == "" && len(req.Args) > 0 {
		return req, errorf(kindBadRequest, "args were given without a function")
	}
	if req.Function != "" && len(req.Data) > 0 {
		return req, errorf(kindBadRequest, "give either data or a function with args, not both")
	}
	return req, nil
}

// encodeSimCall encodes req's function call with the ABI of its
// ABIAddress or recipient, through decode's one text → ABI converter.
func (s *Server) encodeSimCall(r *http.Request, req *simulateRequest) ([]byte, error) {
	abiAddr := req.ABIAddress
	if abiAddr == nil {
		abiAddr = req.To
	}
	if abiAddr == nil {
		return nil, errorf(kindBadRequest, "a function needs a contract: give to (or abiAddress)")
	}
	c, err := s.deps.Contracts.Contract(r.Context(), *abiAddr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errorf(kindNotFound, "no ABI is known for %s: verify the contract or add its ABI first, or give the calldata", abiAddr.Hex())
	} else if err != nil {
		return nil, err
	}
	a, err := decode.ParseABI(c.ABI)
	if err != nil {
		return nil, errorf(kindBadRequest, "the stored ABI of %s cannot be read: %v", abiAddr.Hex(), err)
	}
	m, err := decode.FindMethod(a, req.Function)
	if err != nil {
		return nil, errorf(kindBadRequest, "%v", err)
	}
	data, err := decode.EncodeCall(m, req.Args)
	if err != nil {
		return nil, errorf(kindBadRequest, "%v", err)
	}
	return data, nil
}
