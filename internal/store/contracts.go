package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// Contract is a contract whose ABI is known, so its calls, events and
// reverts are decoded.
type Contract struct {
	Address common.Address  `json:"address"`
	Name    string          `json:"name"`
	ABI     json.RawMessage `json:"abi"`
	// Origin says where the ABI came from: "demo", "user", …
	Origin string    `json:"origin"`
	Added  time.Time `json:"added"`
}

// ContractStore keeps the registry of known contracts. Safe for concurrent
// use.
type ContractStore interface {
	// PutContract inserts or replaces the contract at c.Address.
	PutContract(ctx context.Context, c Contract) error
	// Contract returns the contract at addr, or ErrNotFound.
	Contract(ctx context.Context, addr common.Address) (Contract, error)
	// Contracts returns every known contract, ordered by address.
	Contracts(ctx context.Context) ([]Contract, error)
}
