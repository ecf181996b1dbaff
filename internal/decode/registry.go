package decode

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common"
)

// Registry holds contract ABIs by address and decodes transactions, logs and
// revert data with them, falling back to the bundled table of common ABIs.
// It is safe for concurrent use; lookups take a read lock only, so many
// decoders run in parallel while Add and Remove are rare.
type Registry struct {
	bundled *contractABI // immutable, shared by every Registry

	mu        sync.RWMutex
	contracts map[common.Address]*contractABI
	// errs indexes the custom errors of every registered ABI by selector:
	// an error raised by a callee bubbles up through its callers, so the
	// reverting transaction's target may not declare it.
	errs map[[4]byte][]errorRef
}

type errorRef struct {
	addr common.Address
	f    *fragment
}

// NewRegistry returns a registry that knows only the bundled ABIs.
func NewRegistry() *Registry {
	return &Registry{
		bundled:   bundledABI(),
		contracts: make(map[common.Address]*contractABI),
		errs:      make(map[[4]byte][]errorRef),
	}
}

// Add registers the ABI of the contract at addr under name, replacing any
// ABI registered there before. An ABI that cannot be used is refused with
// an *ABIError that says where and what is wrong.
func (r *Registry) Add(addr common.Address, name string, abiJSON []byte) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &ABIError{Msg: fmt.Sprintf("BUG: parsing panicked: %v", p)}
		}
	}()
	c, err := parseABI(name, abiJSON)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(addr)
	r.contracts[addr] = c
	for sel, f := range c.errors {
		refs := append(r.errs[sel], errorRef{addr: addr, f: f})
		// A stable order makes the choice among ABIs declaring the same
		// selector deterministic.
		slices.SortFunc(refs, func(a, b errorRef) int {
			return cmp.Or(cmp.Compare(a.f.owner, b.f.owner), bytes.Compare(a.addr[:], b.addr[:]))
		})
		r.errs[sel] = refs
	}
	return nil
}

// Remove forgets the ABI registered at addr, if any.
func (r *Registry) Remove(addr common.Address) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked(addr)
}

func (r *Registry) removeLocked(addr common.Address) {
	old, ok := r.contracts[addr]
	if !ok {
		return
	}
	delete(r.contracts, addr)
	for sel := range old.errors {
		refs := slices.DeleteFunc(r.errs[sel], func(e errorRef) bool { return e.addr == addr })
		if len(refs) == 0 {
			delete(r.errs, sel)
		} else {
			r.errs[sel] = refs
		}
	}
}

// Name returns the name the ABI at addr was registered under.
func (r *Registry) Name(addr common.Address) (string, bool) {
	c := r.contract(&addr)
	if c == nil {
		return "", false
	}
	return c.name, true
}

// contract returns the ABI registered at addr, or nil. The result is
// immutable and may be used after the lock is released.
func (r *Registry) contract(addr *common.Address) *contractABI {
	if addr == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.contracts[*addr]
}

// DecodeTx fills tx.Call from its input, the Event of every log, and, when
// the transaction failed, tx.Revert from tx.RevertData. Whatever no ABI
// knows is left nil; the raw data stays on tx.
func (r *Registry) DecodeTx(tx *chain.Tx) {
	tx.Call = nil
	if tx.To != nil && len(tx.Input) >= 4 {
		if call, err := r.DecodeCall(tx.To, tx.Input); err == nil {
			tx.Call = call
		}
	}
	for i := range tx.Logs {
		r.DecodeLog(&tx.Logs[i])
	}
	tx.Revert = nil
	if tx.Failed() {
		tx.Revert = r.DecodeRevert(tx.To, tx.RevertData)
	}
}

// panicError turns a recovered panic into an error.
func panicError(what string, p any) error {
	return fmt.Errorf("BUG: decoder panicked while decoding %s: %v", what, p)
}
