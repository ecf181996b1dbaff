package contracts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// MaxVerifyBody caps a verification request: a build's sources and outputs
// are a few megabytes; 64 MiB leaves room for large projects. What is
// stored of a match is smaller than its request.
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
	// CodeChanged, when set, says why the code now at the address no
	// longer matches the recorded verification (a chain reset, a
	// destroyed and redeployed contract): the verification is kept, but
	// its sources are not what runs there.
	CodeChanged string `json:"codeChanged,omitempty"`
	// OfImplementation is set when the address, a proxy verified as
	// nothing itself, shows its implementation's verification: the code
	// its calls run.
	OfImplementation bool `json:"ofImplementation,omitempty"`
}

// Registry holds the verified contracts of a running server and serves the
// verification API. It re-verifies every submission against its own node:
// a client's claim is never trusted. With a Store, every match is stored
// before it is shown, and Load reads the stored ones back after a restart.
// Safe for concurrent use.
type Registry struct {
	node  Node
	store Store // nil: verifications live in memory only
	// Now is the clock that stamps Result.Verified; nil means time.Now.
	Now func() time.Time
	// MaxBody caps a verification request body; 0 means MaxVerifyBody.
	MaxBody int64
	// OnVerified, when set, is called after a full or partial match is
	// recorded (for example to register the ABI with the decoder). It runs
	// on the request's goroutine, one call at a time; an error fails the
	// request (the match stays recorded).
	OnVerified func(ctx context.Context, r Result) error

	// record serializes recording, so that the store, the memory and
	// OnVerified see the matches of one address in the same order.
	record   sync.Mutex
	mu       sync.RWMutex
	verified map[common.Address]Result
}

// NewRegistry returns an empty registry reading code and state from node
// and keeping matches in st (nil: in memory only). Call Load to read what
// st already holds.
func NewRegistry(node Node, st Store) *Registry {
	return &Registry{node: node, store: st, verified: map[common.Address]Result{}}
}

// ErrBadRequest marks a verification request the registry refuses.
var ErrBadRequest = store.Sentinel("bad request", store.ErrInvalid)

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
	r.record.Lock()
	defer r.record.Unlock()
	if prev, had := r.Verified(addr); had && prev.Status == StatusFull && res.Status == StatusPartial {
		return res, nil
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	res.Verified = now().UTC().Truncate(time.Microsecond)
	if r.store != nil {
		v, err := toStored(res)
		if err == nil {
			err = r.store.PutVerified(ctx, v)
		}
		if err != nil {
			return res, fmt.Errorf("cannot record the verification of %s: %w", addr, err)
		}
	}
	r.mu.Lock()
	r.verified[addr] = res
	r.mu.Unlock()
	if r.OnVerified != nil {
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
		p.CodeChanged = r.codeChanged(ctx, res)
	}
	caps, err := Detect(ctx, r.node, addr, nil)
	if err != nil {
		p.CapabilitiesError = err.Error()
	} else {
		p.Capabilities = &caps
	}
	if p.Verification == nil && p.Capabilities != nil && p.Capabilities.Proxy != nil {
		if res, ok := r.Verified(p.Capabilities.Proxy.Implementation); ok {
			p.Verification, p.Status, p.OfImplementation = &res, res.Status, true
			p.CodeChanged = r.codeChanged(ctx, res)
		}
	}
	return p
}

// codeChanged compares the code at a recorded verification's address with
// its artifact again: a verification read back after a restart may
// describe a chain that has since been reset. It says nothing when the
// code cannot be read.
func (r *Registry) codeChanged(ctx context.Context, res Result) string {
	if res.Artifact == nil {
		return ""
	}
	now, err := Verify(ctx, r.node, res.Address, []Artifact{*res.Artifact}, Options{Libraries: res.Libraries})
	if err != nil || now.Status != StatusNone || now.Mismatch == nil {
		return ""
	}
	return "the code at this address no longer matches the build verified on " + res.Verified.Format(time.RFC3339) + ": " + now.Mismatch.Reason
}
