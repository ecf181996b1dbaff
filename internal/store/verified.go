package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Verification statuses a VerifiedContract may have: the code at the
// address is identical to the artifact's (full), or identical except for
// the CBOR metadata section (partial). A failed verification is not stored.
const (
	VerifiedFull    = "full"
	VerifiedPartial = "partial"
)

// VerifiedContract is what verifying the code at an address against its
// compiler artifacts produced: everything the contract page and the
// debugger need, so that they keep working after a restart without the
// contract being verified again.
type VerifiedContract struct {
	Address common.Address `json:"address"`
	// Status is VerifiedFull or VerifiedPartial.
	Status string `json:"status"`
	// ContractName and SourceName name the matched contract ("Vault",
	// "src/Vault.sol"); Compiler is its compiler version. They are copies
	// of what Result holds, kept apart for listings.
	ContractName string `json:"contractName"`
	SourceName   string `json:"sourceName"`
	Compiler     string `json:"compiler"`
	// Result is the rest of the verification (compiler settings, the
	// matched artifact with its code and source maps, the match detail) as
	// JSON the contracts package defines; the store keeps it as it is.
	Result json.RawMessage `json:"result"`
	// Sources are the source texts by source unit name. Contracts of one
	// build share their sources: backends keep each distinct text once.
	Sources map[string]string `json:"sources"`
	// Verified is when the verification was recorded; backends keep it to
	// the microsecond.
	Verified time.Time `json:"verified"`
}

// VerifiedStore keeps verified contracts with their sources. Safe for
// concurrent use.
type VerifiedStore interface {
	// PutVerified inserts or replaces the verification of v.Address, its
	// sources included, atomically. A Status other than VerifiedFull or
	// VerifiedPartial, or a Result that is not JSON, is ErrInvalid.
	PutVerified(ctx context.Context, v VerifiedContract) error
	// Verified returns the verification of addr with its sources, or
	// ErrNotFound.
	Verified(ctx context.Context, addr common.Address) (VerifiedContract, error)
	// EachVerified calls fn with every stored verification, sources
	// included, ordered by address, from one consistent snapshot. An error
	// from fn stops the walk and is returned as it is. Source texts shared
	// by several contracts are the same strings, not copies.
	EachVerified(ctx context.Context, fn func(VerifiedContract) error) error
}
