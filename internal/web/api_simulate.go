package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"

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
	// Decimals, when its i-th entry is set, reads the i-th argument as a
	// decimal amount in units of 10^-decimals ("1.5" with 18 is
	// 1500000000000000000), as amounts of a token are written.
	Decimals []*uint8 `json:"decimals,omitempty"`
}

// maxDecimals bounds a decimals entry: 10^77 is the largest power of ten
// a uint256 holds.
const maxDecimals = 77

// scaleAmount reads text, a decimal number ("1.5", "-2", "0.000001"), as
// an amount with dec decimals and returns the whole number of smallest
// units it is, in decimal. More fraction digits than dec is an error: the
// amount cannot be sent as it was written.
func scaleAmount(text string, dec int) (string, error) {
	s := strings.ReplaceAll(strings.TrimSpace(text), "_", "")
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	digits := func(d string) bool {
		for _, c := range d {
			if c < '0' || c > '9' {
				return false
			}
		}
		return true
	}
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) || len(s) > 100 {
		return "", fmt.Errorf("%q is not a decimal number", text)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > dec {
		return "", fmt.Errorf("%q has more than %d decimals", text, dec)
	}
	v, _ := new(big.Int).SetString("0"+whole+frac+strings.Repeat("0", dec-len(frac)), 10)
	if neg {
		v.Neg(v)
	}
	return v.String(), nil
}

// scaleArgs applies req.Decimals to the arguments they name.
func scaleArgs(req *simulateRequest) error {
	if len(req.Decimals) > len(req.Args) {
		return errorf(kindBadRequest, "decimals has %d entries for %d arguments", len(req.Decimals), len(req.Args))
	}
	for i, d := range req.Decimals {
		if d == nil {
			continue
		}
		if *d > maxDecimals {
			return errorf(kindBadRequest, "decimals of argument %d must be 0-%d", i+1, maxDecimals)
		}
		var text string
		if err := json.Unmarshal(req.Args[i], &text); err != nil {
			return errorf(kindBadRequest, "argument %d has decimals, so it must be a decimal number as a string", i+1)
		}
		v, err := scaleAmount(text, int(*d))
		if err != nil {
			return errorf(kindBadRequest, "argument %d: %v", i+1, err)
		}
		req.Args[i], _ = json.Marshal(v)
	}
	return nil
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
	if req.Function == "" && (len(req.Args) > 0 || len(req.Decimals) > 0) {
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
	if err := scaleArgs(req); err != nil {
		return nil, err
	}
	data, err := decode.EncodeCall(m, req.Args)
	if err != nil {
		return nil, errorf(kindBadRequest, "%v", err)
	}
	return data, nil
}
