package contracts

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// ABIRegistrar is the decoder that learns a contract's ABI;
// decode.Registry satisfies it. Add refuses a malformed ABI with an error
// that names the position of the fault.
type ABIRegistrar interface {
	Add(addr common.Address, name string, abiJSON []byte) error
}

// Catalog is the one way a contract becomes known (by `abi add`, the web
// form, a verification or the demo): its ABI is registered with the decoder,
// stored, and the change announced. Safe for concurrent use when its parts
// are.
type Catalog struct {
	Decoder ABIRegistrar
	Store   store.ContractStore
	// Origin names where the ABI of addr came from ("demo", …); nil or ""
	// means "user".
	Origin func(addr common.Address) string
	// Changed, when set, is called after a contract was added (for example
	// so that monitors naming it compile now). It runs on the caller's
	// goroutine and must not call Add.
	Changed func(ctx context.Context, addr common.Address)
	// Now stamps Contract.Added; nil means time.Now.
	Now func() time.Time
}

// Add registers an ABI with the decoder and the store. A malformed ABI is
// refused with an error wrapping store.ErrInvalid that names the position of
// the fault; nothing is stored then.
func (c *Catalog) Add(ctx context.Context, addr common.Address, name string, abiJSON []byte) error {
	if err := c.Decoder.Add(addr, name, abiJSON); err != nil {
		return fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	origin := ""
	if c.Origin != nil {
		origin = c.Origin(addr)
	}
	if origin == "" {
		origin = "user"
	}
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	row := store.Contract{Address: addr, Name: name, ABI: append([]byte(nil), abiJSON...), Origin: origin, Added: now().UTC()}
	if err := c.Store.PutContract(ctx, row); err != nil {
		return fmt.Errorf("cannot store contract %s: %w", addr, err)
	}
	if c.Changed != nil {
		c.Changed(ctx, addr)
	}
	return nil
}

// Load registers the stored contracts with the decoder, after a restart.
// A stored ABI that no longer loads leaves its contract undecoded: it is
// returned in skipped, not as an error.
func (c *Catalog) Load(ctx context.Context) (skipped []error, err error) {
	cs, err := c.Store.Contracts(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot load known contracts: %w", err)
	}
	for _, k := range cs {
		if err := c.Decoder.Add(k.Address, k.Name, k.ABI); err != nil {
			skipped = append(skipped, fmt.Errorf("contract %s: %w", k.Address, err))
		}
	}
	return skipped, nil
}
