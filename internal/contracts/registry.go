package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/ethereum/go-ethereum/common"
)

// MaxVerifyBody caps a verification request: a build's sources and outputs
// are a few megabytes; 64 MiB leaves room for large projects.
const MaxVerifyBody = 64 << 20

// VerifyRequest is the body of POST /api/v1/contracts/{address}/verify.
type VerifyRequest struct {
	// Artifacts are the candidates (as Load* return them); the CLI sends the
	// one it matched.
	Artifacts []Artifact `json:"artifacts"`
	// Contract and Libraries are Options.Contract and Options.Libraries.
	Contract  string                    `json:"contract,omitempty"`
	Libraries map[string]common.Address `json:"libraries,omitempty"`
}

// Page is what GET /api/v1/contracts/{address} shows.
type Page struct {
	Address common.Address `json:"address"`
	// Verification is the latest verification of the address, nil if none.
	Verification *Result `json:"verification"`
	// Status is Verification.Status, or "none" when never verified.
	Status string `json:"status"`
	// Capabilities are read live from the node; CapabilitiesError says why
	// they are missing when the node could not be read.
	Capabilities      *Capabilities `json:"capabilities,omitempty"`
	CapabilitiesError string        `json:"capabilitiesError,omitempty"`
}

// Registry holds the verified contracts of a running server and serves the
// verification API. It re-verifies every submission against its own node:
// a client's claim is never trusted. Safe for concurrent use.
type Registry struct {
	node Node
	// OnVerified, when set, is called after a full or partial match is
	// recorded (for example to register the ABI with the decoder or persist
	// the result). It runs on the request's goroutine; an error fails the
	// request.
	OnVerified func(ctx context.Context, r Result) error

	mu       sync.RWMutex
	verified map[common.Address]Result
}

// NewRegistry returns an empty registry reading code and state from node.
func NewRegistry(node Node) *Registry {
	return &Registry{node: node, verified: map[common.Address]Result{}}
}

// ErrBadRequest marks a verification request the registry refuses.
var ErrBadRequest = errors.New("bad request")

// Submit verifies addr against the request's artifacts and records a full
// or partial match (a full match is never replaced by a partial one).
func (r *Registry) Submit(ctx context.Context, addr common.Address, req VerifyRequest) (Result, error) {
	res, err := Verify(ctx, r.node, addr, req.Artifacts, Options{Contract: req.Contract, Libraries: req.Libraries})
	if errors.Is(err, ErrNoArtifacts) {
		return res, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err != nil || res.Status == StatusNone {
		return res, err
	}
	r.mu.Lock()
	prev, had := r.verified[addr]
	keep := had && prev.Status == StatusFull && res.Status == StatusPartial
	if !keep {
		r.verified[addr] = res
	}
	r.mu.Unlock()
	if r.OnVerified != nil && !keep {
		if err := r.OnVerified(ctx, res); err != nil {
			return res, fmt.Errorf("cannot record the verification of %s: %w", addr, err)
		}
	}
	return res, nil
}

// Verified returns the recorded verification of addr.
func (r *Registry) Verified(addr common.Address) (Result, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	res, ok := r.verified[addr]
	return res, ok
}

// Contract returns the contract page data of addr: its verification and its
// live capabilities (proxy, owner, paused, access control).
func (r *Registry) Contract(ctx context.Context, addr common.Address) Page {
	p := Page{Address: addr, Status: StatusNone}
	if res, ok := r.Verified(addr); ok {
		p.Verification, p.Status = &res, res.Status
	}
	caps, err := Detect(ctx, r.node, addr, nil)
	if err != nil {
		p.CapabilitiesError = err.Error()
	} else {
		p.Capabilities = &caps
	}
	return p
}

// HandleVerify serves POST /api/v1/contracts/{address}/verify with a
// VerifyRequest body. It answers the /api/v1 envelope: {"status":"success",
// "data": Result} (a failed verification is a success with status "none" and
// its mismatch), or {"status":"error","errorKind":"bad_request"|"internal",
// "error": …}.
func (r *Registry) HandleVerify(w http.ResponseWriter, req *http.Request) {
	if !common.IsHexAddress(req.PathValue("address")) {
		writeEnvelope(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%q is not an address", req.PathValue("address")), nil)
		return
	}
	addr := common.HexToAddress(req.PathValue("address"))
	var body VerifyRequest
	dec := json.NewDecoder(io.LimitReader(req.Body, MaxVerifyBody))
	if err := dec.Decode(&body); err != nil {
		writeEnvelope(w, http.StatusBadRequest, "bad_request", "cannot decode the verification request: "+err.Error(), nil)
		return
	}
	res, err := r.Submit(req.Context(), addr, body)
	switch {
	case errors.Is(err, ErrBadRequest):
		writeEnvelope(w, http.StatusBadRequest, "bad_request", err.Error(), nil)
	case err != nil:
		writeEnvelope(w, http.StatusInternalServerError, "internal", err.Error(), nil)
	default:
		writeEnvelope(w, http.StatusOK, "", "", res)
	}
}

// HandleContract serves GET /api/v1/contracts/{address} with a Page.
func (r *Registry) HandleContract(w http.ResponseWriter, req *http.Request) {
	if !common.IsHexAddress(req.PathValue("address")) {
		writeEnvelope(w, http.StatusBadRequest, "bad_request", fmt.Sprintf("%q is not an address", req.PathValue("address")), nil)
		return
	}
	writeEnvelope(w, http.StatusOK, "", "", r.Contract(req.Context(), common.HexToAddress(req.PathValue("address"))))
}

func writeEnvelope(w http.ResponseWriter, code int, kind, msg string, data any) {
	env := struct {
		Status    string `json:"status"`
		Data      any    `json:"data,omitempty"`
		ErrorKind string `json:"errorKind,omitempty"`
		Error     string `json:"error,omitempty"`
	}{Status: "success", Data: data}
	if kind != "" {
		env.Status, env.ErrorKind, env.Error = "error", kind, msg
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(env)
}
