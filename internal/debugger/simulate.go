package debugger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/tracing"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/holiman/uint256"

	"github.com/blocktorch/blocktorch/internal/store"
)

// SimRequest is a call or transaction to simulate.
type SimRequest struct {
	From  common.Address  `json:"from"`
	To    *common.Address `json:"to,omitempty"` // nil deploys Data
	Value *hexutil.Big    `json:"value,omitempty"`
	Data  hexutil.Bytes   `json:"data,omitempty"`
	// Gas defaults to 30M, capped by the block's gas limit.
	Gas hexutil.Uint64 `json:"gas,omitempty"`
	// Block is the block whose resulting state the simulation runs on:
	// a number, or empty for the latest.
	Block *hexutil.Uint64 `json:"block,omitempty"`
	// Overrides replace parts of accounts before the run.
	Overrides map[common.Address]Override `json:"overrides,omitempty"`
	// BlockOverrides replace the simulated block's number and time, as
	// NUMBER and TIMESTAMP (and the fork rules) see them; the state is
	// still the one after Block.
	BlockOverrides *BlockOverrides `json:"blockOverrides,omitempty"`
	// Expect lists the state changes the caller expects; each is checked.
	Expect []Expectation `json:"expect,omitempty"`
}

// Override replaces parts of an account.
type Override struct {
	Balance *hexutil.Big    `json:"balance,omitempty"`
	Nonce   *hexutil.Uint64 `json:"nonce,omitempty"`
	Code    *hexutil.Bytes  `json:"code,omitempty"`
	// Storage sets the given slots; others keep their values.
	Storage map[common.Hash]common.Hash `json:"storage,omitempty"`
}

// BlockOverrides replace fields of the simulated block. A nil field keeps
// the default: the block after the state's, one second later.
type BlockOverrides struct {
	Number *hexutil.Uint64 `json:"number,omitempty"`
	Time   *hexutil.Uint64 `json:"time,omitempty"`
}

// Expectation is one expected outcome. Exactly one of Status, Slot (with
// Value) or Balance is checked.
type Expectation struct {
	// Status expects success (1) or failure (0).
	Status *uint64 `json:"status,omitempty"`
	// Address and Slot name a storage slot whose value after the run
	// should be Value; with Unchanged, the slot must not change.
	Address   common.Address `json:"address"`
	Slot      *common.Hash   `json:"slot,omitempty"`
	Value     *common.Hash   `json:"value,omitempty"`
	Unchanged bool           `json:"unchanged,omitempty"`
	// Balance is the expected balance of Address after the run.
	Balance *hexutil.Big `json:"balance,omitempty"`
}

// AssertionResult is an expectation and whether the run met it.
type AssertionResult struct {
	Expectation
	OK bool `json:"ok"`
	// Actual is what the run produced, as text.
	Actual string `json:"actual"`
}

// defaultSimGas is the gas of a simulation that names none.
const defaultSimGas = 30_000_000

// Simulate runs req on the local engine against the state after its
// block, with overrides, and checks its expectations. The trace is stored
// under a hash derived from the request (Result.TxHash).
func (l *Local) Simulate(ctx context.Context, req SimRequest, opts Options) (*Result, error) {
	ec := ethclient.NewClient(l.RPC)
	var number *big.Int
	if req.Block != nil {
		number = new(big.Int).SetUint64(uint64(*req.Block))
	}
	parent, err := ec.HeaderByNumber(ctx, number)
	if errors.Is(err, ethereum.NotFound) && number != nil {
		// A block past the head is the caller's mistake, not the node's.
		head, herr := ec.BlockNumber(ctx)
		if herr == nil && number.Uint64() > head {
			return nil, fmt.Errorf("%w: block %d is not on the chain yet: the head is %d", ErrBadRequest, number, head)
		}
		return nil, fmt.Errorf("%w: the node has no block %d", ErrBadRequest, number)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the block to simulate on: %w", err)
	}
	config, err := l.config(ctx)
	if err != nil {
		return nil, err
	}
	// The simulated block follows the chosen one.
	header := nextHeader(parent)
	if o := req.BlockOverrides; o != nil {
		if o.Number != nil {
			header.Number = new(big.Int).SetUint64(uint64(*o.Number))
		}
		if o.Time != nil {
			header.Time = uint64(*o.Time)
		}
	}
	// The request names the block it ran on, so that "latest" and that
	// block's number are one simulation (the same Result.TxHash).
	on := hexutil.Uint64(parent.Number.Uint64())
	req.Block = &on
	fetch := &rpcFetcher{ctx: ctx, rc: l.RPC, block: hexutil.EncodeBig(parent.Number)}
	return simulate(config, header, parent.Number.Uint64(), newLazyReader(fetch), rpcGetHash(ctx, l.RPC, header), req, opts)
}

func simulate(config *params.ChainConfig, header *types.Header, stateBlock uint64, reader *lazyReader, getHash func(uint64) common.Hash, req SimRequest, opts Options) (*Result, error) {
	eng, err := newEngine(config, header, reader, getHash)
	if err != nil {
		return nil, err
	}
	for addr, o := range req.Overrides {
		if o.Balance != nil {
			b, overflow := uint256.FromBig((*big.Int)(o.Balance))
			if overflow {
				return nil, fmt.Errorf("balance override of %s does not fit 256 bits", addr)
			}
			eng.sdb.SetBalance(addr, b, tracing.BalanceChangeUnspecified)
		}
		if o.Nonce != nil {
			eng.sdb.SetNonce(addr, uint64(*o.Nonce), tracing.NonceChangeUnspecified)
		}
		if o.Code != nil {
			eng.sdb.SetCode(addr, *o.Code, tracing.CodeChangeUnspecified)
		}
		for k, v := range o.Storage {
			eng.sdb.SetState(addr, k, v)
		}
	}
	eng.sdb.Finalise(config.Rules(header.Number, true, header.Time))
	gas := uint64(req.Gas)
	if gas == 0 {
		gas = defaultSimGas
	}
	gas = min(gas, header.GasLimit)
	if config.IsOsaka(header.Number, header.Time) {
		gas = min(gas, params.MaxTxGas)
	}
	value := new(uint256.Int)
	if req.Value != nil {
		v, overflow := uint256.FromBig((*big.Int)(req.Value))
		if overflow || v == nil {
			return nil, fmt.Errorf("%w: value does not fit 256 bits", ErrBadRequest)
		}
		value = v
	}
	msg := (&core.Message{
		From: req.From, To: req.To, Value: value, GasLimit: gas, Data: req.Data,
		GasPrice: new(uint256.Int), GasFeeCap: new(uint256.Int), GasTipCap: new(uint256.Int),
		Nonce: eng.sdb.GetNonce(req.From),
	}).SkipNonceCheck().SkipEOACheck()
	id, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("cannot encode simulation: %w", err)
	}
	res := &Result{
		TxHash: crypto.Keccak256Hash([]byte("blocktorch-simulation"), header.ParentHash[:], id), BlockNumber: header.Number.Uint64(),
		Mode: ModeSimulation, From: req.From, StateBlock: stateBlock, BlockTime: header.Time,
	}
	// A zero gas price must be accepted, as eth_call does.
	eng.blockCtx.BaseFee = new(big.Int)
	out, err := eng.trace(nil, msg, 0, res, opts)
	if err != nil {
		// The request, not the engine, is at fault when the message
		// cannot start: say so with the fix.
		for _, e := range []struct {
			err error
			fix string
		}{
			{core.ErrInsufficientFunds, "override the sender's balance"},
			{core.ErrInsufficientFundsForTransfer, "override the sender's balance"},
			{core.ErrIntrinsicGas, "raise the gas"},
			{core.ErrFloorDataGas, "raise the gas"},
			{core.ErrGasLimitReached, "lower the gas"},
			{core.ErrGasLimitTooHigh, "lower the gas"},
			{core.ErrNonceMax, "override the sender's nonce"},
		} {
			if errors.Is(err, e.err) {
				return nil, fmt.Errorf("%w: %v: %s", ErrBadRequest, err, e.fix)
			}
		}
		return nil, err
	}
	out.Assertions = check(out, eng, req.Expect)
	// Tokens are asked on the state the run left: a token created or
	// overridden by the simulation answers as it would after it.
	out.BalanceChanges = BalanceChanges(out, eng.tokenInfo)
	if len(out.Assertions) > 0 || len(out.BalanceChanges) > 0 {
		if err := updateResult(opts.traces(), out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// check compares the run's outcome with the expectations.
func check(res *Result, eng *engine, expect []Expectation) []AssertionResult {
	var out []AssertionResult
	for _, e := range expect {
		a := AssertionResult{Expectation: e}
		switch {
		case e.Status != nil:
			a.Actual = fmt.Sprint(res.Status)
			a.OK = res.Status == *e.Status
		case e.Slot != nil:
			var before, after common.Hash
			found := false
			for _, d := range res.State {
				if d.Address != e.Address {
					continue
				}
				for _, s := range d.Storage {
					if s.Slot == *e.Slot {
						before, after, found = s.Before, s.After, true
					}
				}
			}
			if !found {
				after = eng.sdb.GetState(e.Address, *e.Slot)
				before = after
			}
			a.Actual = after.Hex()
			switch {
			case e.Unchanged:
				a.OK = before == after
			case e.Value != nil:
				a.OK = after == *e.Value
			}
		case e.Balance != nil:
			b := eng.sdb.GetBalance(e.Address).ToBig()
			a.Actual = b.String()
			a.OK = b.Cmp((*big.Int)(e.Balance)) == 0
		default:
			a.Actual = "nothing to check: set status, slot or balance"
		}
		out = append(out, a)
	}
	return out
}

// MaxOverrideCode is the most bytes of code an override may set: four
// times EIP-170's limit on deployed code, room for a patched contract
// built without the optimizer, while a request cannot make the engine
// analyse megabytes of code.
const MaxOverrideCode = 4 * params.MaxCodeSize

// ErrBadRequest marks a request that cannot be simulated as given.
var ErrBadRequest = store.Sentinel("bad request", store.ErrInvalid)

// Validate checks a request before it is run.
func (req *SimRequest) Validate() error {
	if req.To == nil && len(req.Data) == 0 {
		return fmt.Errorf("%w: give a recipient (to) or code to deploy (data)", ErrBadRequest)
	}
	for addr, o := range req.Overrides {
		if o.Balance != nil && ((*big.Int)(o.Balance).Sign() < 0 || (*big.Int)(o.Balance).BitLen() > 256) {
			return fmt.Errorf("%w: the balance override of %s must be 0 to 2^256-1 wei", ErrBadRequest, addr)
		}
		if o.Code != nil && len(*o.Code) > MaxOverrideCode {
			return fmt.Errorf("%w: the code override of %s is %d bytes; at most %d are run", ErrBadRequest, addr, len(*o.Code), MaxOverrideCode)
		}
	}
	if req.Value != nil && ((*big.Int)(req.Value).Sign() < 0 || (*big.Int)(req.Value).BitLen() > 256) {
		return fmt.Errorf("%w: value must be 0 to 2^256-1 wei", ErrBadRequest)
	}
	for i, e := range req.Expect {
		n := 0
		if e.Status != nil {
			n++
		}
		if e.Slot != nil {
			n++
			if e.Value == nil && !e.Unchanged {
				return fmt.Errorf("%w: expectation %d names a slot but neither a value nor unchanged", ErrBadRequest, i)
			}
		}
		if e.Balance != nil {
			n++
		}
		if n != 1 {
			return fmt.Errorf("%w: expectation %d must check exactly one of status, slot or balance", ErrBadRequest, i)
		}
	}
	return nil
}

// nextHeader is the header of a block simulated on top of parent: the next
// number, a second later, the parent's gas limit, coinbase, randomness, blob
// gas and base fee.
func nextHeader(parent *types.Header) *types.Header {
	return &types.Header{
		ParentHash: parent.Hash(), Number: new(big.Int).Add(parent.Number, common.Big1), Time: parent.Time + 1,
		GasLimit: parent.GasLimit, Coinbase: parent.Coinbase, Difficulty: new(big.Int), MixDigest: parent.MixDigest,
		ExcessBlobGas: parent.ExcessBlobGas, BaseFee: parent.BaseFee,
	}
}
