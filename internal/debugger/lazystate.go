package debugger

import (
	"context"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/holiman/uint256"
)

// Local replay runs go-ethereum's own state.StateDB over a state.Reader
// that answers from a cache filled on demand. Reusing StateDB (through
// state.NewWithReader) rather than writing a vm.StateDB keeps the journal,
// snapshots, access lists, transient storage, refunds and every fork's
// account rules exactly as the node executes them; only the reads differ.

// stateFetcher is where a lazy reader gets what it has not seen.
type stateFetcher interface {
	// account returns an account's fields; exists is false when there is no
	// such account.
	account(addr common.Address) (nonce uint64, balance *big.Int, code []byte, exists bool, err error)
	storage(addr common.Address, slot common.Hash) (common.Hash, error)
}

// lazyReader is a state.Reader that fetches each account and slot once.
// It is safe for concurrent use, as state.Reader requires.
type lazyReader struct {
	fetch stateFetcher

	mu      sync.Mutex
	acct    map[common.Address]*types.StateAccount // nil value: no account
	code    map[common.Hash][]byte
	storage map[common.Address]map[common.Hash]common.Hash
	fetched int // remote reads, for progress and tests
}

func newLazyReader(f stateFetcher) *lazyReader {
	return &lazyReader{
		fetch:   f,
		acct:    make(map[common.Address]*types.StateAccount),
		code:    make(map[common.Hash][]byte),
		storage: make(map[common.Address]map[common.Hash]common.Hash),
	}
}

// nonEmptyRoot stands for "has storage" where the real storage root is
// unknown: go-ethereum only compares it with the empty root (contract
// creation collisions, EIP-7610), never opens a trie with it here.
var nonEmptyRoot = common.Hash{0x01}

func (r *lazyReader) Account(addr common.Address) (*types.StateAccount, error) {
	r.mu.Lock()
	a, ok := r.acct[addr]
	r.mu.Unlock()
	if ok {
		if a == nil {
			return nil, nil
		}
		return a.Copy(), nil
	}
	nonce, balance, code, exists, err := r.fetch.account(addr)
	if err != nil {
		return nil, fmt.Errorf("cannot fetch account %s: %w", addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetched++
	if !exists {
		r.acct[addr] = nil
		return nil, nil
	}
	a = &types.StateAccount{Nonce: nonce, Balance: uint256.MustFromBig(balance), Root: types.EmptyRootHash, CodeHash: types.EmptyCodeHash.Bytes()}
	if len(code) > 0 {
		h := crypto.Keccak256Hash(code)
		a.CodeHash = h.Bytes()
		a.Root = nonEmptyRoot
		r.code[h] = code
	}
	if sf, ok := r.fetch.(interface{ hasStorage(common.Address) bool }); ok && sf.hasStorage(addr) {
		a.Root = nonEmptyRoot
	}
	r.acct[addr] = a
	return a.Copy(), nil
}

func (r *lazyReader) Storage(addr common.Address, slot common.Hash) (common.Hash, error) {
	r.mu.Lock()
	if v, ok := r.storage[addr][slot]; ok {
		r.mu.Unlock()
		return v, nil
	}
	r.mu.Unlock()
	v, err := r.fetch.storage(addr, slot)
	if err != nil {
		return common.Hash{}, fmt.Errorf("cannot fetch storage %s of %s: %w", slot, addr, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fetched++
	m := r.storage[addr]
	if m == nil {
		m = make(map[common.Hash]common.Hash)
		r.storage[addr] = m
	}
	m[slot] = v
	return v, nil
}

func (r *lazyReader) Has(addr common.Address, codeHash common.Hash) bool {
	return len(r.Code(addr, codeHash)) > 0
}

func (r *lazyReader) Code(addr common.Address, codeHash common.Hash) []byte {
	if codeHash == types.EmptyCodeHash {
		return nil
	}
	r.mu.Lock()
	c, ok := r.code[codeHash]
	r.mu.Unlock()
	if ok {
		return c
	}
	// Code is fetched with its account; an unknown hash means the account
	// was not read through this reader.
	if _, err := r.Account(addr); err != nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.code[codeHash]
}

func (r *lazyReader) CodeSize(addr common.Address, codeHash common.Hash) int {
	return len(r.Code(addr, codeHash))
}

// newStateDB returns a StateDB reading through reader. The database behind
// it is an empty in-memory one: nothing is ever committed.
func newStateDB(reader state.Reader) (*state.StateDB, error) {
	mem := rawdb.NewMemoryDatabase()
	db := state.NewDatabase(triedb.NewDatabase(mem, nil), state.NewCodeDB(mem))
	sdb, err := state.NewWithReader(types.EmptyRootHash, db, reader)
	if err != nil {
		return nil, fmt.Errorf("cannot create replay state: %w", err)
	}
	return sdb, nil
}

// rpcFetcher reads state at one block from a node.
type rpcFetcher struct {
	ctx   context.Context
	rc    *rpc.Client
	block string // hex block number
}

func (f *rpcFetcher) account(addr common.Address) (uint64, *big.Int, []byte, bool, error) {
	var (
		balance hexutil.Big
		nonce   hexutil.Uint64
		code    hexutil.Bytes
	)
	batch := []rpc.BatchElem{
		{Method: "eth_getBalance", Args: []any{addr, f.block}, Result: &balance},
		{Method: "eth_getTransactionCount", Args: []any{addr, f.block}, Result: &nonce},
		{Method: "eth_getCode", Args: []any{addr, f.block}, Result: &code},
	}
	if err := f.rc.BatchCallContext(f.ctx, batch); err != nil {
		return 0, nil, nil, false, err
	}
	for _, e := range batch {
		if e.Error != nil {
			return 0, nil, nil, false, fmt.Errorf("%s: %w", e.Method, e.Error)
		}
	}
	// JSON-RPC cannot tell an empty account from a missing one; after
	// EIP-161 empty accounts do not exist, which is what this assumes.
	b := (*big.Int)(&balance)
	return uint64(nonce), b, code, nonce > 0 || b.Sign() > 0 || len(code) > 0, nil
}

func (f *rpcFetcher) storage(addr common.Address, slot common.Hash) (common.Hash, error) {
	var v hexutil.Bytes
	if err := f.rc.CallContext(f.ctx, &v, "eth_getStorageAt", addr, slot, f.block); err != nil {
		return common.Hash{}, err
	}
	if len(v) > 32 {
		return common.Hash{}, fmt.Errorf("eth_getStorageAt returned %d bytes", len(v))
	}
	return common.BytesToHash(v), nil
}

// allocFetcher reads state from a genesis allocation (tests, fixtures).
type allocFetcher types.GenesisAlloc

func (f allocFetcher) account(addr common.Address) (uint64, *big.Int, []byte, bool, error) {
	a, ok := f[addr]
	if !ok {
		return 0, new(big.Int), nil, false, nil
	}
	bal := new(big.Int)
	if a.Balance != nil {
		bal.Set(a.Balance)
	}
	return a.Nonce, bal, a.Code, true, nil
}

func (f allocFetcher) storage(addr common.Address, slot common.Hash) (common.Hash, error) {
	return f[addr].Storage[slot], nil
}

func (f allocFetcher) hasStorage(addr common.Address) bool { return len(f[addr].Storage) > 0 }
