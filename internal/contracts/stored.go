package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Store keeps verifications across restarts. store.VerifiedStore
// satisfies it.
type Store interface {
	PutVerified(ctx context.Context, v store.VerifiedContract) error
	EachVerified(ctx context.Context, fn func(store.VerifiedContract) error) error
}

// storedVersion is the version of the stored result's JSON. A reader
// refuses a version it does not know (written by a newer blocktorch)
// instead of misreading it.
const storedVersion = 1

// storedResult is store.VerifiedContract.Result: the Result without its
// source texts, which the store keeps apart (once per text).
type storedResult struct {
	Version int    `json:"version"`
	Result  Result `json:"result"`
}

// ErrStoredResult marks a stored verification that cannot be read back.
var ErrStoredResult = errors.New("unreadable stored verification")

// toStored turns a full or partial match into what the store keeps.
func toStored(r Result) (store.VerifiedContract, error) {
	sources := r.Sources
	if r.Artifact != nil && len(r.Artifact.Sources) > 0 {
		// Verify shares one map between the two; keep the union should a
		// caller have built them apart.
		merged := make(map[string]string, len(r.Artifact.Sources)+len(sources))
		for k, v := range r.Artifact.Sources {
			merged[k] = v
		}
		for k, v := range sources {
			merged[k] = v
		}
		sources = merged
	}
	bare := r
	bare.Sources = nil
	if r.Artifact != nil {
		a := *r.Artifact
		a.Sources = nil
		bare.Artifact = &a
	}
	js, err := json.Marshal(storedResult{Version: storedVersion, Result: bare})
	if err != nil {
		return store.VerifiedContract{}, fmt.Errorf("cannot encode the verification of %s: %w", r.Address, err)
	}
	return store.VerifiedContract{
		Address: r.Address, Status: r.Status, ContractName: r.ContractName, SourceName: r.SourceName,
		Compiler: r.Settings.Compiler, Result: js, Sources: sources, Verified: r.Verified,
	}, nil
}

// fromStored reads a stored verification back into a Result, refusing
// one that disagrees with its own row (another address or status) or was
// written in an unknown format. Errors wrap ErrStoredResult.
func fromStored(v store.VerifiedContract) (Result, error) {
	fail := func(format string, args ...any) (Result, error) {
		return Result{}, fmt.Errorf("%w of %s: %s", ErrStoredResult, v.Address, fmt.Sprintf(format, args...))
	}
	var sr storedResult
	if err := json.Unmarshal(v.Result, &sr); err != nil {
		return fail("cannot decode it: %v", err)
	}
	if sr.Version != storedVersion {
		return fail("format version %d, this blocktorch reads %d (was it written by a newer one?)", sr.Version, storedVersion)
	}
	r := sr.Result
	switch {
	case r.Address != v.Address:
		return fail("it describes %s", r.Address)
	case r.Status != v.Status || (r.Status != StatusFull && r.Status != StatusPartial):
		return fail("status %q in the result, %q in the row", r.Status, v.Status)
	}
	sources := v.Sources
	if sources == nil {
		sources = map[string]string{}
	}
	r.Sources = sources
	if r.Artifact != nil {
		r.Artifact.Sources = sources
	}
	r.Verified = v.Verified
	return r, nil
}

// Load reads the stored verifications into the registry and returns
// them, for the caller to hand to whatever else uses verified contracts
// (the debugger). A stored verification that cannot be read back is
// skipped and reported in skipped (errors wrapping ErrStoredResult); err is
// for a store that cannot be read. Without a store, Load loads nothing.
func (r *Registry) Load(ctx context.Context) (loaded []Result, skipped []error, err error) {
	if r.store == nil {
		return nil, nil, nil
	}
	err = r.store.EachVerified(ctx, func(v store.VerifiedContract) error {
		res, err := fromStored(v)
		if err != nil {
			skipped = append(skipped, err)
			return nil
		}
		loaded = append(loaded, res)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load verified contracts: %w", err)
	}
	r.mu.Lock()
	for _, res := range loaded {
		r.verified[res.Address] = res
	}
	r.mu.Unlock()
	return loaded, skipped, nil
}

// Summary is a verification as a list of contracts shows it.
type Summary struct {
	Status       string    `json:"status"`
	ContractName string    `json:"contractName"`
	SourceName   string    `json:"sourceName"`
	Compiler     string    `json:"compiler"`
	Verified     time.Time `json:"verified,omitzero"`
}

// Summary returns the recorded verification of addr in brief.
func (r *Registry) Summary(addr common.Address) (Summary, bool) {
	res, ok := r.Verified(addr)
	if !ok {
		return Summary{}, false
	}
	return Summary{Status: res.Status, ContractName: res.ContractName, SourceName: res.SourceName,
		Compiler: res.Settings.Compiler, Verified: res.Verified}, true
}
