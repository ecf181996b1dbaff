package debugger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// Replaying mined transactions against changed code (a patch check): each
// transaction runs twice on the state before it (its block's earlier
// transactions applied as mined), once as mined and once with the
// overrides, and both runs' effects are compared by the caller. The runs
// are untraced; a run with the overrides that fails is traced once more so
// that its failure has a source line. Blocks are independent and replayed
// in parallel.

// ReplaySet is a set of mined transactions to replay with overrides.
type ReplaySet struct {
	Txs []common.Hash
	// Overrides replace parts of accounts just before each transaction's
	// run with them; the run as mined sees the chain's state.
	Overrides map[common.Address]Override
	// Setup are overrides applied once per replayed range of blocks,
	// before its first transaction, for both runs: accounts that only the
	// overridden runs reach (the new code at its own address), which
	// are then not rehashed for every transaction.
	Setup map[common.Address]Override
	// TraceFailures traces the overridden run of each transaction that
	// fails, for Outcome.Failure and a trace under Outcome.TraceID.
	TraceFailures bool
	// TraceSalt tells the stored traces of different overrides apart: the
	// trace of tx is stored under keccak256("blocktorch-replay", salt, tx).
	TraceSalt []byte
	// Progress, when set, is told how many transactions are done. It is
	// called from several goroutines, one call at a time.
	Progress func(done, total int)
}

// Effects are what one run of a transaction did.
type Effects struct {
	// Status is 1 when the run succeeded, 0 when it failed.
	Status  uint64 `json:"status"`
	GasUsed uint64 `json:"gasUsed"`
	// Output is the return or revert data of the top call.
	Output hexutil.Bytes `json:"output,omitempty"`
	// Error is the EVM's error of a failed run ("execution reverted").
	Error string `json:"error,omitempty"`
	// Logs are the logs that survived, in order.
	Logs []EffectLog `json:"logs"`
	// Storage are the slots whose value changed, sorted by address, slot.
	Storage []EffectSlot `json:"storage"`
	// Balances are the ether balances that changed other than by the
	// fees (the sender's gas and the block's coinbase are left out),
	// sorted by address.
	Balances []EffectBalance `json:"balances"`
}

// EffectLog is a log a run emitted.
type EffectLog struct {
	Address common.Address `json:"address"`
	Topics  []common.Hash  `json:"topics"`
	Data    hexutil.Bytes  `json:"data"`
}

// EffectSlot is a storage slot a run changed.
type EffectSlot struct {
	Address common.Address `json:"address"`
	Slot    common.Hash    `json:"slot"`
	Before  common.Hash    `json:"before"`
	After   common.Hash    `json:"after"`
}

// EffectBalance is an ether balance a run changed, in wei.
type EffectBalance struct {
	Address common.Address `json:"address"`
	Delta   *hexutil.Big   `json:"delta"`
}

// UnmarshalJSON reads an EffectBalance as MarshalJSON writes it: a
// negative delta is "-0x…", which hexutil.Big does not read back, and a
// saved outcome (a patch check's permalink) must.
func (b *EffectBalance) UnmarshalJSON(data []byte) error {
	var raw struct {
		Address common.Address `json:"address"`
		Delta   *string        `json:"delta"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	b.Address, b.Delta = raw.Address, nil
	if raw.Delta == nil {
		return nil
	}
	text, neg := strings.CutPrefix(*raw.Delta, "-")
	v, err := hexutil.DecodeBig(text)
	if err != nil {
		return fmt.Errorf("cannot read the balance delta %q of %s: %w", *raw.Delta, raw.Address, err)
	}
	if neg {
		v.Neg(v)
	}
	b.Delta = (*hexutil.Big)(v)
	return nil
}

// Outcome is one transaction replayed as mined and with the overrides.
type Outcome struct {
	Tx    common.Hash     `json:"tx"`
	Block uint64          `json:"block"`
	Index int             `json:"index"`
	From  common.Address  `json:"from"`
	To    *common.Address `json:"to,omitempty"`
	Input hexutil.Bytes   `json:"input"`
	// Mined is the run as mined; Patched the run with the overrides.
	Mined   Effects `json:"mined"`
	Patched Effects `json:"patched"`
	// Failure is where the overridden run failed (TraceFailures).
	Failure *Failure `json:"failure,omitempty"`
	// TraceID names the overridden run's stored trace, when traced.
	TraceID *common.Hash `json:"traceId,omitempty"`
	// Err says why the transaction could not be replayed; the effects
	// are then empty.
	Err string `json:"error,omitempty"`
}

// TraceIDOf is where ReplaySet's trace of tx with salt is stored.
func TraceIDOf(salt []byte, tx common.Hash) common.Hash {
	return crypto.Keccak256Hash([]byte("blocktorch-replay"), salt, tx[:])
}

// ReplayOverridden replays each transaction of set as mined and with its
// overrides, on the state before it. The outcomes are in chain order
// (block, then index). A transaction the node does not know is an error;
// one that cannot run is an Outcome with Err.
func (l *Local) ReplayOverridden(ctx context.Context, set ReplaySet, opts Options) ([]Outcome, error) {
	config, err := l.config(ctx)
	if err != nil {
		return nil, err
	}
	pos, err := txPositions(ctx, l.RPC, set.Txs)
	if err != nil {
		return nil, err
	}
	byBlock := make(map[uint64][]txPos)
	for _, p := range pos {
		byBlock[p.block] = append(byBlock[p.block], p)
	}
	blocks := make([]uint64, 0, len(byBlock))
	for b := range byBlock {
		blocks = append(blocks, b)
	}
	slices.Sort(blocks)
	var (
		mu   sync.Mutex
		out  []Outcome
		done int
		errs []error
	)
	work := make(chan []uint64)
	var wg sync.WaitGroup
	for range min(replayWorkers(), len(blocks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for run := range work {
				err := l.replayRun(ctx, config, run, byBlock, set, opts, func(o []Outcome) {
					mu.Lock()
					out = append(out, o...)
					done += len(o)
					if set.Progress != nil {
						set.Progress(done, len(pos))
					}
					mu.Unlock()
				})
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		}()
	}
	for _, run := range runsOf(blocks) {
		if ctx.Err() != nil {
			break
		}
		work <- run
	}
	close(work)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Block != out[j].Block {
			return out[i].Block < out[j].Block
		}
		return out[i].Index < out[j].Index
	})
	return out, nil
}

type txPos struct {
	hash  common.Hash
	block uint64
	index int
}

// txPositions finds where each transaction was mined, in batches.
func txPositions(ctx context.Context, rc *rpc.Client, txs []common.Hash) ([]txPos, error) {
	type txJSON struct {
		BlockNumber *hexutil.Uint64 `json:"blockNumber"`
		Index       *hexutil.Uint64 `json:"transactionIndex"`
	}
	seen := make(map[common.Hash]bool, len(txs))
	var out []txPos
	const batch = 100
	for i := 0; i < len(txs); i += batch {
		chunk := txs[i:min(i+batch, len(txs))]
		res := make([]*txJSON, len(chunk))
		elems := make([]rpc.BatchElem, len(chunk))
		for j, h := range chunk {
			elems[j] = rpc.BatchElem{Method: "eth_getTransactionByHash", Args: []any{h}, Result: &res[j]}
		}
		if err := rc.BatchCallContext(ctx, elems); err != nil {
			return nil, fmt.Errorf("cannot look the transactions up: %w", err)
		}
		for j, e := range elems {
			h := chunk[j]
			if e.Error != nil {
				return nil, fmt.Errorf("cannot look transaction %s up: %w", h, e.Error)
			}
			if res[j] == nil || res[j].BlockNumber == nil || res[j].Index == nil {
				return nil, fmt.Errorf("transaction %s is not mined on this chain: %w", h, ErrNotFound)
			}
			if seen[h] {
				continue
			}
			seen[h] = true
			out = append(out, txPos{hash: h, block: uint64(*res[j].BlockNumber), index: int(*res[j].Index)})
		}
	}
	return out, nil
}

// Nearby target blocks are replayed on one engine: the blocks between
// them are applied as mined, so that state read from the node once serves
// them all (the node is asked for each account and slot once per run, not
// once per block). A run ends at a gap of more than runGap blocks, or
// after runMax blocks so that the workers share a dense range.
const (
	runGap = 8
	runMax = 8
)

// runsOf splits sorted block numbers into runs of nearby blocks, each
// holding every block number from its first to its last.
func runsOf(blocks []uint64) [][]uint64 {
	var runs [][]uint64
	for i := 0; i < len(blocks); {
		first, last := blocks[i], blocks[i]
		i++
		for i < len(blocks) && blocks[i]-last <= runGap && blocks[i]-first < runMax {
			last = blocks[i]
			i++
		}
		run := make([]uint64, 0, last-first+1)
		for b := first; b <= last; b++ {
			run = append(run, b)
		}
		runs = append(runs, run)
	}
	return runs
}

// replayRun replays the targets of a run of consecutive blocks, applying
// every other transaction as mined; done receives each block's outcomes.
func (l *Local) replayRun(ctx context.Context, config *params.ChainConfig, run []uint64, targets map[uint64][]txPos, set ReplaySet, opts Options, done func([]Outcome)) error {
	ec := ethclient.NewClient(l.RPC)
	var eng *engine
	for _, number := range run {
		if number == 0 {
			return errors.New("cannot replay a genesis transaction")
		}
		block, err := ec.BlockByNumber(ctx, new(big.Int).SetUint64(number))
		if err != nil {
			return fmt.Errorf("cannot read block %d: %w", number, err)
		}
		header := block.Header()
		getHash := rpcGetHash(ctx, l.RPC, header)
		if eng == nil {
			fetch := &rpcFetcher{ctx: ctx, rc: l.RPC, block: hexutil.EncodeUint64(number - 1)}
			if eng, err = newEngine(config, header, newLazyReader(fetch), getHash); err != nil {
				return err
			}
			if err := eng.override(set.Setup); err != nil {
				return err
			}
		} else {
			eng.nextBlock(header, getHash)
		}
		eng.systemCalls(header)
		out, err := eng.replayBlock(ctx, block, targets[number], set, opts)
		if err != nil {
			return err
		}
		if len(out) > 0 {
			if err := l.checkMined(ctx, block, out); err != nil {
				return err
			}
		}
		done(out)
		// What the block does after its transactions: the beacon
		// chain's withdrawals. (The EIP-7002/7251 request queues it also
		// processes touch only their own system contracts.)
		for _, w := range block.Withdrawals() {
			amount := new(uint256.Int).Mul(uint256.NewInt(w.Amount), uint256.NewInt(params.GWei))
			eng.sdb.AddBalance(w.Address, amount, tracing.BalanceIncreaseWithdrawal)
		}
		eng.sdb.Finalise(config.Rules(header.Number, true, header.Time))
	}
	return nil
}

// nextBlock moves the engine, its state kept, to the next block.
func (e *engine) nextBlock(header *types.Header, getHash vm.GetHashFunc) {
	e.blockCtx = blockContext(e.config, header, getHash)
	e.signer = types.MakeSigner(e.config, header.Number, header.Time)
	e.number, e.hash, e.time = header.Number, header.Hash(), header.Time
	e.gp = core.NewGasPool(header.GasLimit)
}

// replayBlock replays the block's targets, applying its other
// transactions as mined; it leaves the engine after the whole block.
func (e *engine) replayBlock(ctx context.Context, block *types.Block, targets []txPos, set ReplaySet, opts Options) ([]Outcome, error) {
	number := block.NumberU64()
	slices.SortFunc(targets, func(a, b txPos) int { return a.index - b.index })
	txs := block.Transactions()
	var out []Outcome
	next := 0
	apply := func(until int) error {
		for ; next < until; next++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := e.apply(txs[next], next); err != nil {
				return fmt.Errorf("cannot apply transaction %d of block %d: %w", next, number, err)
			}
		}
		return nil
	}
	for _, t := range targets {
		if t.index >= len(txs) || txs[t.index].Hash() != t.hash {
			return nil, fmt.Errorf("transaction %s is not at index %d of block %d", t.hash, t.index, number)
		}
		if err := apply(t.index); err != nil {
			return nil, err
		}
		out = append(out, e.replayOne(txs[t.index], t.index, set, opts))
		next = t.index + 1
	}
	if err := apply(len(txs)); err != nil {
		return nil, err
	}
	return out, nil
}

// replayOne runs tx with the overrides on a copy of the state, then as
// mined on the state itself, which moves the engine past it.
func (e *engine) replayOne(tx *types.Transaction, idx int, set ReplaySet, opts Options) Outcome {
	o := Outcome{Tx: tx.Hash(), Block: e.number.Uint64(), Index: idx, To: tx.To(), Input: tx.Data()}
	msg, err := core.TransactionToMessage(tx, e.signer, e.blockCtx.BaseFee)
	if err != nil {
		o.Err = fmt.Sprintf("cannot read the transaction: %v", err)
		return o
	}
	o.From = msg.From
	patched := e.fork()
	if err := patched.override(set.Overrides); err != nil {
		o.Err = err.Error()
		return o
	}
	var traced *engine
	if set.TraceFailures {
		traced = patched.fork()
	}
	o.Patched, err = patched.effects(tx, msg, idx)
	if err != nil {
		o.Err = fmt.Sprintf("cannot run it with the overrides: %v", err)
		return o
	}
	if o.Patched.Status == types.ReceiptStatusFailed && traced != nil {
		id := TraceIDOf(set.TraceSalt, o.Tx)
		res := &Result{TxHash: id, BlockNumber: o.Block, BlockHash: e.hash, TxIndex: idx, Mode: ModeSimulation, From: msg.From}
		// The message is rebuilt: a run consumes nothing of it, but the
		// traced run must not share the gas pool's accounting.
		if r, err := traced.trace(tx, msg, idx, res, opts); err == nil {
			o.Failure, o.TraceID = r.Failure, &id
		}
	}
	o.Mined, err = e.effects(tx, msg, idx)
	if err != nil {
		o.Err = fmt.Sprintf("cannot run it as mined: %v", err)
	}
	return o
}

// fork returns an engine on a copy of the state and gas pool.
func (e *engine) fork() *engine {
	c := *e
	c.sdb = e.sdb.Copy()
	gp := *e.gp
	c.gp = &gp
	return &c
}

// override applies account overrides to the engine's state.
func (e *engine) override(overrides map[common.Address]Override) error {
	for addr, o := range overrides {
		if o.Balance != nil {
			b, overflow := uint256.FromBig((*big.Int)(o.Balance))
			if overflow {
				return fmt.Errorf("balance override of %s does not fit 256 bits", addr)
			}
			e.sdb.SetBalance(addr, b, tracing.BalanceChangeUnspecified)
		}
		if o.Nonce != nil {
			e.sdb.SetNonce(addr, uint64(*o.Nonce), tracing.NonceChangeUnspecified)
		}
		if o.Code != nil {
			e.sdb.SetCode(addr, *o.Code, tracing.CodeChangeUnspecified)
		}
		for k, v := range o.Storage {
			e.sdb.SetState(addr, k, v)
		}
	}
	e.sdb.Finalise(e.config.Rules(e.number, true, e.time))
	return nil
}

// effects runs msg untraced but for what Effects holds.
func (e *engine) effects(tx *types.Transaction, msg *core.Message, idx int) (Effects, error) {
	slotsBefore := make(map[common.Address]map[common.Hash]common.Hash)
	balBefore := make(map[common.Address]*big.Int)
	hooks := &tracing.Hooks{
		OnStorageChange: func(a common.Address, slot, prev, _ common.Hash) {
			m := slotsBefore[a]
			if m == nil {
				m = make(map[common.Hash]common.Hash)
				slotsBefore[a] = m
			}
			if _, ok := m[slot]; !ok {
				m[slot] = prev
			}
		},
		OnBalanceChange: func(a common.Address, prev, _ *big.Int, _ tracing.BalanceChangeReason) {
			if _, ok := balBefore[a]; !ok {
				balBefore[a] = new(big.Int).Set(prev)
			}
		},
	}
	evm := vm.NewEVM(e.blockCtx, state.NewHookedState(e.sdb, hooks), e.config, vm.Config{Tracer: hooks})
	e.sdb.SetTxContext(tx.Hash(), idx, uint32(idx+1))
	res, err := core.ApplyMessage(evm, msg, e.gp)
	if err != nil {
		return Effects{}, err
	}
	e.finalise(evm)
	if err := e.sdb.Error(); err != nil {
		return Effects{}, fmt.Errorf("cannot read state for the replay: %w", err)
	}
	ef := Effects{Status: types.ReceiptStatusSuccessful, GasUsed: res.UsedGas, Logs: []EffectLog{}, Storage: []EffectSlot{}, Balances: []EffectBalance{}}
	if res.Failed() {
		ef.Status = types.ReceiptStatusFailed
		ef.Error = res.Err.Error()
		ef.Output = res.Revert()
	} else {
		ef.Output = common.CopyBytes(res.ReturnData)
	}
	for _, l := range e.sdb.GetLogs(tx.Hash(), e.number.Uint64(), e.hash, e.time) {
		ef.Logs = append(ef.Logs, EffectLog{Address: l.Address, Topics: l.Topics, Data: l.Data})
	}
	for a, m := range slotsBefore {
		for slot, before := range m {
			if after := e.sdb.GetState(a, slot); after != before {
				ef.Storage = append(ef.Storage, EffectSlot{Address: a, Slot: slot, Before: before, After: after})
			}
		}
	}
	sort.Slice(ef.Storage, func(i, j int) bool {
		if c := ef.Storage[i].Address.Cmp(ef.Storage[j].Address); c != 0 {
			return c < 0
		}
		return ef.Storage[i].Slot.Cmp(ef.Storage[j].Slot) < 0
	})
	fee := new(big.Int).Mul(new(big.Int).SetUint64(res.UsedGas), msg.GasPrice.ToBig())
	for a, before := range balBefore {
		if a == e.blockCtx.Coinbase {
			continue
		}
		d := new(big.Int).Sub(e.sdb.GetBalance(a).ToBig(), before)
		if a == msg.From {
			d.Add(d, fee)
		}
		if d.Sign() != 0 {
			ef.Balances = append(ef.Balances, EffectBalance{Address: a, Delta: (*hexutil.Big)(d)})
		}
	}
	sort.Slice(ef.Balances, func(i, j int) bool { return ef.Balances[i].Address.Cmp(ef.Balances[j].Address) < 0 })
	return ef, nil
}

// Deployed is code created by running init code on the chain's head state.
type Deployed struct {
	Address common.Address `json:"address"`
	Code    hexutil.Bytes  `json:"code"`
	GasUsed uint64         `json:"gasUsed"`
}

// ErrDeploy marks init code that does not deploy runnable code.
var ErrDeploy = errors.New("the code does not deploy")

// Deploy runs init code from from on the state after the latest block,
// as a deployment would, and returns the runtime code it leaves. Nothing
// is sent. Init code that reverts or leaves no code is ErrDeploy.
func (l *Local) Deploy(ctx context.Context, from common.Address, initCode []byte) (*Deployed, error) {
	if len(initCode) == 0 {
		return nil, fmt.Errorf("%w: there is no init code", ErrDeploy)
	}
	ec := ethclient.NewClient(l.RPC)
	parent, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read the latest block: %w", err)
	}
	config, err := l.config(ctx)
	if err != nil {
		return nil, err
	}
	header := nextHeader(parent)
	fetch := &rpcFetcher{ctx: ctx, rc: l.RPC, block: hexutil.EncodeBig(parent.Number)}
	eng, err := newEngine(config, header, newLazyReader(fetch), rpcGetHash(ctx, l.RPC, header))
	if err != nil {
		return nil, err
	}
	eng.blockCtx.BaseFee = new(big.Int)
	gas := min(uint64(defaultSimGas), header.GasLimit)
	if config.IsOsaka(header.Number, header.Time) {
		gas = min(gas, params.MaxTxGas)
	}
	nonce := eng.sdb.GetNonce(from)
	msg := (&core.Message{
		From: from, Value: new(uint256.Int), GasLimit: gas, Data: initCode,
		GasPrice: new(uint256.Int), GasFeeCap: new(uint256.Int), GasTipCap: new(uint256.Int), Nonce: nonce,
	}).SkipNonceCheck().SkipEOACheck()
	evm := vm.NewEVM(eng.blockCtx, eng.sdb, config, vm.Config{})
	res, err := core.ApplyMessage(evm, msg, eng.gp)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDeploy, err)
	}
	if res.Failed() {
		return nil, fmt.Errorf("%w: its constructor fails (%v)", ErrDeploy, res.Err)
	}
	addr := crypto.CreateAddress(from, nonce)
	code := eng.sdb.GetCode(addr)
	if len(code) == 0 {
		return nil, fmt.Errorf("%w: its constructor leaves no code", ErrDeploy)
	}
	return &Deployed{Address: addr, Code: common.CopyBytes(code), GasUsed: res.UsedGas}, nil
}

// replayWorkers is how many blocks are replayed at once: more than the
// cores, since a replay mostly waits for the node's answers.
func replayWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

// checkMined compares each run as mined with the chain's receipt: a
// replay that does not reproduce the chain (a chain configuration the
// engine does not know, state the node answered wrongly) makes the
// comparison meaningless, so its outcome becomes an error.
func (l *Local) checkMined(ctx context.Context, block *types.Block, out []Outcome) error {
	ec := ethclient.NewClient(l.RPC)
	receipts := make(map[common.Hash]*types.Receipt, len(out))
	if all, err := ec.BlockReceipts(ctx, rpc.BlockNumberOrHashWithHash(block.Hash(), false)); err == nil {
		for _, r := range all {
			receipts[r.TxHash] = r
		}
	}
	for i := range out {
		o := &out[i]
		if o.Err != "" {
			continue
		}
		r, ok := receipts[o.Tx]
		if !ok {
			var err error
			if r, err = ec.TransactionReceipt(ctx, o.Tx); err != nil {
				return fmt.Errorf("cannot read the receipt of %s: %w", o.Tx, err)
			}
		}
		if r.Status != o.Mined.Status || r.GasUsed != o.Mined.GasUsed {
			o.Err = fmt.Sprintf("the replay as mined diverged from the chain (status %d, gas %d; the receipt says status %d, gas %d): %v",
				o.Mined.Status, o.Mined.GasUsed, r.Status, r.GasUsed, ErrDiverged)
		}
	}
	return nil
}
