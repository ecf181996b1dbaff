package debugger

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/consensus/misc/eip4844"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/types/bal"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

// Local replays transactions by re-executing them with go-ethereum's EVM on
// state fetched lazily from a node: no debug API needed. The node must
// still serve state at the block before the transaction (an archive node,
// or a recent block on a full node).
type Local struct {
	RPC *rpc.Client
	// Config is the chain's configuration; nil picks it by chain id
	// (mainnet, Sepolia, Holesky, Hoodi, the dev chain), and any other
	// chain is assumed to run every fork the dev chain runs.
	Config *params.ChainConfig
}

// ChainConfig returns the configuration Local uses for chainID.
func ChainConfig(chainID *big.Int) *params.ChainConfig {
	for _, c := range []*params.ChainConfig{params.MainnetChainConfig, params.SepoliaChainConfig, params.HoodiChainConfig, params.AllDevChainProtocolChanges} {
		if c.ChainID.Cmp(chainID) == 0 {
			return c
		}
	}
	c := *params.AllDevChainProtocolChanges
	c.ChainID = new(big.Int).Set(chainID)
	return &c
}

func (l *Local) config(ctx context.Context) (*params.ChainConfig, error) {
	if l.Config != nil {
		return l.Config, nil
	}
	var id hexutil.Big
	if err := l.RPC.CallContext(ctx, &id, "eth_chainId"); err != nil {
		return nil, fmt.Errorf("cannot read the chain id: %w", err)
	}
	return ChainConfig((*big.Int)(&id)), nil
}

// Replay re-executes the block's transactions before tx, then tx with the
// tracer, and writes the trace under opts.Dir.
func (l *Local) Replay(ctx context.Context, txHash common.Hash, opts Options) (*Result, error) {
	ec := ethclient.NewClient(l.RPC)
	receipt, err := ec.TransactionReceipt(ctx, txHash)
	if err != nil {
		return nil, fmt.Errorf("cannot read the receipt of %s: %w", txHash, err)
	}
	block, err := ec.BlockByHash(ctx, receipt.BlockHash)
	if err != nil {
		return nil, fmt.Errorf("cannot read block %s: %w", receipt.BlockHash, err)
	}
	config, err := l.config(ctx)
	if err != nil {
		return nil, err
	}
	header := block.Header()
	if header.Number.Sign() == 0 {
		return nil, errors.New("cannot replay a genesis transaction")
	}
	fetch := &rpcFetcher{ctx: ctx, rc: l.RPC, block: hexutil.EncodeBig(new(big.Int).Sub(header.Number, common.Big1))}
	eng, err := newEngine(config, header, newLazyReader(fetch), rpcGetHash(ctx, l.RPC, header))
	if err != nil {
		return nil, err
	}
	eng.systemCalls(header)
	idx := int(receipt.TransactionIndex)
	txs := block.Transactions()
	if idx >= len(txs) || txs[idx].Hash() != txHash {
		return nil, fmt.Errorf("transaction %s is not at index %d of block %d", txHash, idx, header.Number)
	}
	for i := 0; i < idx; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if opts.Progress != nil {
			opts.Progress(i, idx)
		}
		if err := eng.apply(txs[i], i); err != nil {
			return nil, fmt.Errorf("cannot apply transaction %d of block %d before the target: %w", i, header.Number, err)
		}
	}
	if opts.Progress != nil {
		opts.Progress(idx, idx)
	}
	tx := txs[idx]
	msg, err := core.TransactionToMessage(tx, eng.signer, header.BaseFee)
	if err != nil {
		return nil, fmt.Errorf("cannot read transaction %s: %w", txHash, err)
	}
	res := &Result{TxHash: txHash, BlockNumber: header.Number.Uint64(), BlockHash: block.Hash(), TxIndex: idx, Mode: ModeLocal, From: msg.From}
	out, err := eng.trace(tx, msg, idx, res, opts)
	if err != nil {
		return nil, err
	}
	if out.Status != receipt.Status || out.GasUsed != receipt.GasUsed {
		return out, fmt.Errorf("local replay of %s diverged from the chain: status %d gas %d, receipt says status %d gas %d: %w",
			txHash, out.Status, out.GasUsed, receipt.Status, receipt.GasUsed, ErrDiverged)
	}
	return out, nil
}

// ErrDiverged is returned (with the result) when a local replay's outcome
// differs from the receipt: the chain configuration or state is not what
// the node executed with.
var ErrDiverged = errors.New("replay diverged")

// rpcGetHash answers BLOCKHASH from the node, caching every hash.
func rpcGetHash(ctx context.Context, rc *rpc.Client, header *types.Header) vm.GetHashFunc {
	var mu sync.Mutex
	cache := map[uint64]common.Hash{header.Number.Uint64() - 1: header.ParentHash}
	return func(n uint64) common.Hash {
		mu.Lock()
		defer mu.Unlock()
		if h, ok := cache[n]; ok {
			return h
		}
		var head struct {
			Hash common.Hash `json:"hash"`
		}
		if err := rc.CallContext(ctx, &head, "eth_getBlockByNumber", hexutil.EncodeUint64(n), false); err != nil {
			return common.Hash{}
		}
		cache[n] = head.Hash
		return head.Hash
	}
}

// engine executes transactions of one block on one StateDB.
type engine struct {
	config   *params.ChainConfig
	blockCtx vm.BlockContext
	sdb      *state.StateDB
	reader   *lazyReader
	signer   types.Signer
	number   *big.Int
	hash     common.Hash
	time     uint64
	gp       *core.GasPool
}

func newEngine(config *params.ChainConfig, header *types.Header, reader *lazyReader, getHash vm.GetHashFunc) (*engine, error) {
	sdb, err := newStateDB(reader)
	if err != nil {
		return nil, err
	}
	return &engine{
		config: config, blockCtx: blockContext(config, header, getHash), sdb: sdb, reader: reader,
		signer: types.MakeSigner(config, header.Number, header.Time),
		number: header.Number, hash: header.Hash(), time: header.Time,
		gp: core.NewGasPool(header.GasLimit),
	}, nil
}

// blockContext is core.NewEVMBlockContext without a chain to ask.
func blockContext(config *params.ChainConfig, header *types.Header, getHash vm.GetHashFunc) vm.BlockContext {
	bc := vm.BlockContext{
		CanTransfer: core.CanTransfer, Transfer: core.Transfer, GetHash: getHash,
		Coinbase: header.Coinbase, BlockNumber: new(big.Int).Set(header.Number), Time: header.Time,
		Difficulty: new(big.Int), GasLimit: header.GasLimit, CostPerStateByte: params.CostPerStateByte,
	}
	if header.Difficulty != nil {
		bc.Difficulty.Set(header.Difficulty)
	}
	if header.BaseFee != nil {
		bc.BaseFee = new(big.Int).Set(header.BaseFee)
	}
	if header.ExcessBlobGas != nil {
		bc.BlobBaseFee = eip4844.CalcBlobFee(config, header)
	}
	if header.Difficulty == nil || header.Difficulty.Sign() == 0 {
		random := header.MixDigest
		bc.Random = &random
	}
	if header.SlotNumber != nil {
		bc.SlotNum = *header.SlotNumber
	}
	return bc
}

// systemCalls runs what the block does before its transactions
// (EIP-4788 beacon root, EIP-2935 parent hash), which later transactions
// may read.
func (e *engine) systemCalls(header *types.Header) {
	evm := vm.NewEVM(e.blockCtx, e.sdb, e.config, vm.Config{})
	if header.ParentBeaconRoot != nil && e.config.IsCancun(header.Number, header.Time) {
		core.ProcessBeaconBlockRoot(*header.ParentBeaconRoot, evm, bal.NewConstructionBlockAccessList())
	}
	if e.config.IsPrague(header.Number, header.Time) {
		core.ProcessParentBlockHash(header.ParentHash, evm, bal.NewConstructionBlockAccessList())
	}
}

// finalise ends a transaction. Before Byzantium the chain computed a state
// root here; replay needs only the state, so Finalise is used throughout
// (the root would need tries this replay does not have).
func (e *engine) finalise(evm *vm.EVM) {
	e.sdb.Finalise(evm.GetRules())
}

// apply executes tx without tracing.
func (e *engine) apply(tx *types.Transaction, idx int) error {
	msg, err := core.TransactionToMessage(tx, e.signer, e.blockCtx.BaseFee)
	if err != nil {
		return err
	}
	evm := vm.NewEVM(e.blockCtx, e.sdb, e.config, vm.Config{})
	e.sdb.SetTxContext(tx.Hash(), idx, uint32(idx+1))
	if _, err := core.ApplyMessage(evm, msg, e.gp); err != nil {
		return err
	}
	e.finalise(evm)
	return e.sdb.Error()
}

// trace executes msg with the tracer, writing res's trace. tx may be nil
// (a simulated call).
func (e *engine) trace(tx *types.Transaction, msg *core.Message, idx int, res *Result, opts Options) (*Result, error) {
	rec, err := newRecorder(opts, res)
	if err != nil {
		return nil, err
	}
	lt := &localTracer{rec: rec, pre: newPreState()}
	hooks := lt.hooks()
	evm := vm.NewEVM(e.blockCtx, state.NewHookedState(e.sdb, hooks), e.config, vm.Config{Tracer: hooks})
	e.sdb.SetTxContext(res.TxHash, idx, uint32(idx+1))
	if tx == nil {
		tx = types.NewTx(&types.LegacyTx{Gas: msg.GasLimit})
	}
	lt.gasLimit = msg.GasLimit
	hooks.OnTxStart(evm.GetVMContext(), tx, msg.From)
	out, err := core.ApplyMessage(evm, msg, e.gp)
	if err != nil {
		rec.w.abort()
		return nil, fmt.Errorf("cannot execute transaction: %w", err)
	}
	if lt.err != nil {
		rec.w.abort()
		return nil, lt.err
	}
	if len(rec.frames) > 0 {
		rec.frames[0].GasUsed = out.UsedGas
	}
	e.finalise(evm)
	if err := e.sdb.Error(); err != nil {
		rec.w.abort()
		return nil, fmt.Errorf("cannot read state for the replay: %w", err)
	}
	res.GasUsed = out.UsedGas
	res.Status = types.ReceiptStatusSuccessful
	if out.Failed() {
		res.Status = types.ReceiptStatusFailed
	}
	return rec.finish(&localState{pre: lt.pre, sdb: e.sdb})
}

// localTracer feeds the recorder from go-ethereum's tracing hooks.
type localTracer struct {
	rec      *recorder
	vmctx    *tracing.VMContext
	active   []*Frame
	gasLimit uint64
	step     rawStep
	pre      *preState
	err      error
}

func (t *localTracer) hooks() *tracing.Hooks {
	return &tracing.Hooks{
		OnTxStart:       func(vm *tracing.VMContext, _ *types.Transaction, _ common.Address) { t.vmctx = vm },
		OnEnter:         t.onEnter,
		OnExit:          t.onExit,
		OnOpcode:        t.onOpcode,
		OnLog:           t.onLog,
		OnBalanceChange: t.pre.onBalance,
		OnNonceChangeV2: t.pre.onNonce,
		OnCodeChangeV2:  t.pre.onCode,
		OnStorageChange: t.pre.onStorage,
	}
}

func (t *localTracer) onEnter(depth int, typ byte, from, to common.Address, input []byte, gas uint64, value *big.Int) {
	var parent *Frame
	if n := len(t.active); n > 0 {
		parent = t.active[n-1]
	}
	if depth == 0 {
		gas = t.gasLimit
	}
	var code []byte
	switch vm.OpCode(typ) {
	case vm.CREATE, vm.CREATE2:
		code = input
	case vm.SELFDESTRUCT:
	default:
		if t.vmctx != nil {
			code = t.vmctx.StateDB.GetCode(to)
		}
	}
	f := t.rec.addFrame(parent, typ, from, to, input, gas, value, code)
	t.active = append(t.active, f)
}

func (t *localTracer) onExit(depth int, output []byte, gasUsed uint64, err error, reverted bool) {
	n := len(t.active)
	if n == 0 {
		return
	}
	t.rec.exitFrame(t.active[n-1], output, gasUsed, err, reverted)
	t.active = t.active[:n-1]
}

func (t *localTracer) onOpcode(pc uint64, op byte, gas, cost uint64, scope tracing.OpContext, _ []byte, depth int, err error) {
	if t.err != nil || len(t.active) == 0 {
		return
	}
	s := &t.step
	*s = rawStep{PC: pc, Op: op, Gas: gas, Cost: cost, Depth: depth, Frame: t.active[len(t.active)-1].ID,
		Stack: scope.StackData(), Memory: scope.MemoryData()}
	if err != nil {
		s.Err = err.Error()
	}
	if err == nil {
		st := s.Stack
		switch vm.OpCode(op) {
		case vm.SLOAD:
			if len(st) >= 1 {
				s.Access, s.Address = accessRead, scope.Address()
				s.Slot = common.Hash(st[len(st)-1].Bytes32())
				s.Value = t.vmctx.StateDB.GetState(s.Address, s.Slot)
			}
		case vm.SSTORE:
			if len(st) >= 2 {
				s.Access, s.Address = accessWrite, scope.Address()
				s.Slot = common.Hash(st[len(st)-1].Bytes32())
				s.Value = common.Hash(st[len(st)-2].Bytes32())
			}
		}
	}
	if e := t.rec.step(s); e != nil {
		t.err = e
	}
}

func (t *localTracer) onLog(l *types.Log) {
	if len(t.active) == 0 {
		return
	}
	t.rec.addLog(t.active[len(t.active)-1].ID, t.rec.w.n-1, int(l.Index), l.Address, l.Topics, l.Data)
}

// preState remembers each account's and slot's value before the
// transaction first changed it.
type preState struct {
	balance map[common.Address]*big.Int
	nonce   map[common.Address]uint64
	code    map[common.Address]bool
	slots   map[common.Address]map[common.Hash]common.Hash
	order   []common.Address
	seen    map[common.Address]bool
}

func newPreState() *preState {
	return &preState{
		balance: make(map[common.Address]*big.Int), nonce: make(map[common.Address]uint64),
		code: make(map[common.Address]bool), slots: make(map[common.Address]map[common.Hash]common.Hash),
		seen: make(map[common.Address]bool),
	}
}

func (p *preState) touch(a common.Address) {
	if !p.seen[a] {
		p.seen[a] = true
		p.order = append(p.order, a)
	}
}

func (p *preState) onBalance(a common.Address, prev, _ *big.Int, _ tracing.BalanceChangeReason) {
	p.touch(a)
	if _, ok := p.balance[a]; !ok {
		p.balance[a] = new(big.Int).Set(prev)
	}
}

func (p *preState) onNonce(a common.Address, prev, _ uint64, _ tracing.NonceChangeReason) {
	p.touch(a)
	if _, ok := p.nonce[a]; !ok {
		p.nonce[a] = prev
	}
}

func (p *preState) onCode(a common.Address, _ common.Hash, _ []byte, _ common.Hash, _ []byte, _ tracing.CodeChangeReason) {
	p.touch(a)
	p.code[a] = true
}

func (p *preState) onStorage(a common.Address, slot, prev, _ common.Hash) {
	m := p.slots[a]
	if m == nil {
		m = make(map[common.Hash]common.Hash)
		p.slots[a] = m
	}
	if _, ok := m[slot]; !ok {
		m[slot] = prev
	}
}

// localState is the stateSource of a local replay: values before from the
// hooks, values after from the StateDB.
type localState struct {
	pre *preState
	sdb *state.StateDB
}

func (s *localState) accounts() []common.Address { return s.pre.order }

func (s *localState) balance(a common.Address) (*big.Int, *big.Int) {
	b, ok := s.pre.balance[a]
	after := s.sdb.GetBalance(a).ToBig()
	if !ok {
		return after, after
	}
	return b, after
}

func (s *localState) nonce(a common.Address) (uint64, uint64) {
	after := s.sdb.GetNonce(a)
	if b, ok := s.pre.nonce[a]; ok {
		return b, after
	}
	return after, after
}

func (s *localState) codeChanged(a common.Address) bool { return s.pre.code[a] }

func (s *localState) slot(a common.Address, slot common.Hash) (common.Hash, common.Hash, bool) {
	after := s.sdb.GetState(a, slot)
	if b, ok := s.pre.slots[a][slot]; ok {
		return b, after, true
	}
	// Never changed: it holds what it held before, which is what a read saw.
	return after, after, true
}

func (s *localState) written() map[common.Address][]common.Hash {
	out := make(map[common.Address][]common.Hash)
	for a, m := range s.pre.slots {
		for slot := range m {
			out[a] = append(out[a], slot)
		}
	}
	return out
}
