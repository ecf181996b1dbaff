package response

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Service finds, prepares, simulates and sends emergency actions. Its
// methods are safe for concurrent use; sends from its signer are made one
// at a time so that no two take the same nonce.
type Service struct {
	Node Node
	// Simulate runs a call on the head state (the debugger's simulation).
	Simulate SimulateFunc
	// Contracts returns the watched contracts.
	Contracts func(ctx context.Context) ([]Contract, error)
	// Signer, when set, signs and sends actions as an EOA.
	Signer Signer
	// History, when set, records every send and scenario run.
	History store.ResponseRunStore
	// Timeline, when set, receives every scenario run while an incident
	// is open.
	Timeline Timeline
	// Safe, when set, is a Safe whose owners sign actions proposed to it
	// (ProposeSafe); Signer sends its execTransaction.
	Safe common.Address
	// Proposals, when set, keeps the proposed Safe transactions and their
	// signatures across restarts; without it they are kept in memory.
	Proposals store.SafeProposalStore
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Log receives one line per send; nil discards them.
	Log *slog.Logger
	// Poll is how often a sent transaction's receipt is looked for
	// (100 ms when zero); DropAfter is how long the node may not know a
	// sent transaction before it counts as dropped (30 s when zero).
	Poll      time.Duration
	DropAfter time.Duration

	sendMu sync.Mutex
	// sendGen counts the signer's sends: a send armed before the last one
	// is stale (its nonce may be taken).
	sendGen atomic.Uint64
	arm     arming

	sc scenarios

	safeMu    sync.Mutex
	proposals map[common.Hash]*SafeProposal // by SafeTx hash, without Proposals
}

// Prepared is an action in its four forms, with its simulation.
type Prepared struct {
	Action   Action         `json:"action"`
	To       common.Address `json:"to"`
	Calldata hexutil.Bytes  `json:"calldata"`
	// Cast is a `cast send` command line; it names no key: add your
	// wallet option (--account NAME, --ledger, --interactive).
	Cast string `json:"cast"`
	// SafeBatch is a Safe Transaction Builder batch file of the call.
	SafeBatch json.RawMessage `json:"safeBatch"`
	// Signed is the call signed by the configured signer, ready to send
	// (cast publish); nil when no signer is configured.
	Signed *SignedTx `json:"signed,omitempty"`
	// SimulatedFrom is the account the simulation called from: the
	// signer, else the role's first holder.
	SimulatedFrom common.Address `json:"simulatedFrom"`
	Simulation    *Simulation    `json:"simulation"`
}

// SignedTx is a signed transaction.
type SignedTx struct {
	From      common.Address `json:"from"`
	Nonce     uint64         `json:"nonce"`
	Gas       uint64         `json:"gas"`
	MaxFee    *hexutil.Big   `json:"maxFeePerGas"`
	Tip       *hexutil.Big   `json:"maxPriorityFeePerGas"`
	Hash      common.Hash    `json:"hash"`
	Raw       hexutil.Bytes  `json:"raw"`
	SignerIs  string         `json:"signer"`
	ChainID   *hexutil.Big   `json:"chainId"`
	tx        *types.Transaction
	needsWei  *big.Int
	simulated *Simulation
}

// SendOptions change how an action is sent.
type SendOptions struct {
	// Force sends even when the simulation reverts.
	Force bool
	// Tip is the least priority fee per gas to pay (wei); the node's
	// suggestion is used when it is higher.
	Tip *big.Int
	// FeeCap is the least fee cap per gas (wei): with Tip, it orders the
	// send before a transaction that pays less (the mempool guard's pause).
	FeeCap *big.Int
	// Urgent skips the discovery of a scenario step's action (role holders
	// read from the chain) when an earlier run or PrimeScenarios resolved
	// it: the guard's pause cannot wait for it. The send is still
	// simulated on the head state first.
	Urgent bool
	// NoWait returns once the node accepted the transaction instead of
	// waiting for its receipt.
	NoWait bool
	// Trigger is who asked for the send, for the history (TriggerHand
	// when empty).
	Trigger string
}

// Sent is the outcome of a send.
type Sent struct {
	Action     Action         `json:"action"`
	Hash       common.Hash    `json:"hash"`
	From       common.Address `json:"from"`
	Nonce      uint64         `json:"nonce"`
	Simulation *Simulation    `json:"simulation"`
	// Mined is set once a receipt was seen; Status is its status (1 ok).
	Mined  bool   `json:"mined"`
	Status uint64 `json:"status"`
	Block  uint64 `json:"block,omitempty"`
	// Run is the send's id in the history; 0 without one.
	Run int64 `json:"run,omitempty"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// contract returns the watched contract at addr.
func (s *Service) contract(ctx context.Context, addr common.Address) (Contract, error) {
	if s.Contracts == nil {
		return Contract{}, fmt.Errorf("%w: no contracts are watched", ErrNotFound)
	}
	cs, err := s.Contracts(ctx)
	if err != nil {
		return Contract{}, fmt.Errorf("cannot list the watched contracts: %w", err)
	}
	for _, c := range cs {
		if c.Address == addr {
			return c, nil
		}
	}
	return Contract{}, fmt.Errorf("%w: %s is not a watched contract", ErrNotFound, addr)
}

// Actions returns the emergency actions of the watched contract at addr,
// with the role each needs and its holders read from the head block.
func (s *Service) Actions(ctx context.Context, addr common.Address) ([]Action, error) {
	c, err := s.contract(ctx, addr)
	if err != nil {
		return nil, err
	}
	return discover(ctx, s.Node, c)
}

// RoleFor returns the role a call of the watched contract at addr with
// data needs, and who holds it at the head block, learnt as the actions'
// roles are: the call is sent by a stranger and its revert read.
func (s *Service) RoleFor(ctx context.Context, addr common.Address, data []byte) (Role, error) {
	c, err := s.contract(ctx, addr)
	if err != nil {
		return Role{}, err
	}
	info, err := newContractInfo(ctx, s.Node, c)
	if err != nil {
		return Role{}, err
	}
	fn := "the call"
	if len(data) >= 4 {
		if m, err := info.abi.MethodById(data[:4]); err == nil {
			fn = m.Name
		}
	}
	return info.probeCall(ctx, s.Node, fn, data)
}

// Action returns one action by id.
func (s *Service) Action(ctx context.Context, id string) (Action, error) {
	a, _, err := s.action(ctx, id)
	return a, err
}

func (s *Service) action(ctx context.Context, id string) (Action, Contract, error) {
	addrText, _, ok := strings.Cut(id, ":")
	if !ok || !common.IsHexAddress(addrText) {
		return Action{}, Contract{}, fmt.Errorf("%w: action id %q is not ADDRESS:FUNCTION", ErrInvalid, id)
	}
	c, err := s.contract(ctx, common.HexToAddress(addrText))
	if err != nil {
		return Action{}, Contract{}, err
	}
	actions, err := discover(ctx, s.Node, c)
	if err != nil {
		return Action{}, Contract{}, err
	}
	// Ids are matched without regard to the address's case.
	for _, a := range actions {
		if strings.EqualFold(a.ID, id) {
			return a, c, nil
		}
	}
	return Action{}, Contract{}, fmt.Errorf("%w: %s has no emergency action %q", ErrNotFound, c.Address, id)
}

// callOf returns the method and calldata of an action with its arguments:
// a template takes args, an action with fixed arguments takes none.
func callOf(a Action, c Contract, args []string) (abi.Method, []string, []byte, error) {
	parsed, err := decode.ParseABI(c.ABI)
	if err != nil {
		return abi.Method{}, nil, nil, fmt.Errorf("cannot read the ABI of %s: %w", c.Address, err)
	}
	m, err := decode.FindMethod(parsed, a.Function)
	if err != nil {
		return abi.Method{}, nil, nil, fmt.Errorf("BUG: action %s names no function: %v", a.ID, err)
	}
	if len(a.Args) > 0 {
		if len(args) > 0 && !slices.Equal(args, a.Args) {
			return abi.Method{}, nil, nil, fmt.Errorf("%w: %s takes no arguments (they are fixed)", ErrInvalid, a.ID)
		}
		args = a.Args
	}
	data, err := encodeArgs(m, args)
	if err != nil {
		return abi.Method{}, nil, nil, err
	}
	return m, args, data, nil
}

// Prepare returns an action in its four forms, simulated on the head
// state from the signer (or, without one, the role's first holder).
func (s *Service) Prepare(ctx context.Context, id string, args []string) (*Prepared, error) {
	a, c, err := s.action(ctx, id)
	if err != nil {
		return nil, err
	}
	m, args, data, err := callOf(a, c, args)
	if err != nil {
		return nil, err
	}
	chainID, err := s.Node.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the chain id: %w", err)
	}
	p := &Prepared{Action: a, To: a.Contract, Calldata: data, Cast: castLine(a.Contract, m, args)}
	batch, err := newBatch(chainID, common.Address{}, s.now().UnixMilli(), a.ContractName+" "+a.Kind, []batchCall{{to: a.Contract, data: data, method: &m, args: args}})
	if err != nil {
		return nil, err
	}
	if p.SafeBatch, err = json.Marshal(batch); err != nil {
		return nil, fmt.Errorf("cannot encode the Safe batch: %w", err)
	}
	switch {
	case s.Signer != nil:
		p.SimulatedFrom = s.Signer.Address()
	case len(a.Role.Holders) > 0:
		p.SimulatedFrom = a.Role.Holders[0]
	default:
		p.SimulatedFrom = probeAddress
	}
	if p.Simulation, err = s.simulate(ctx, Call{From: p.SimulatedFrom, To: a.Contract, Data: data}); err != nil {
		return nil, err
	}
	if s.Signer != nil {
		signed, err := s.sign(ctx, chainID, a.Contract, data, p.Simulation, nil, nil)
		if err != nil {
			return nil, err
		}
		p.Signed = signed
	}
	return p, nil
}

func (s *Service) simulate(ctx context.Context, call Call) (*Simulation, error) {
	if s.Simulate == nil {
		return nil, errors.New("no simulator is configured")
	}
	sim, err := s.Simulate(ctx, call)
	if err != nil {
		return nil, fmt.Errorf("cannot simulate the call of %s: %w", call.To, err)
	}
	return sim, nil
}

// Gas of a sent action: what the simulation used with a margin, as an
// estimate would add (the 63/64 rule, refunds).
const (
	gasMargin  = 50_000
	minSendGas = 60_000
)

// sign builds and signs a transaction of the signer calling to with data
// at the signer's pending nonce.
func (s *Service) sign(ctx context.Context, chainID *big.Int, to common.Address, data []byte, sim *Simulation, minTip, minFeeCap *big.Int) (*SignedTx, error) {
	from := s.Signer.Address()
	nonce, err := s.Node.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("cannot read the nonce of %s: %w", from, err)
	}
	head, err := s.Node.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot read the head block: %w", err)
	}
	tip, err := s.Node.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the suggested priority fee: %w", err)
	}
	return s.signAt(chainID, to, data, sim, nonce, head.BaseFee, tip, minTip, minFeeCap)
}

// signAt signs the call at nonce, paying the suggested tip (at least
// minTip) and a fee cap of twice the base fee plus the tip (at least
// minFeeCap).
func (s *Service) signAt(chainID *big.Int, to common.Address, data []byte, sim *Simulation, nonce uint64, baseFee, tip, minTip, minFeeCap *big.Int) (*SignedTx, error) {
	from := s.Signer.Address()
	if minTip != nil && minTip.Cmp(tip) > 0 {
		tip = minTip
	}
	tip = new(big.Int).Set(tip)
	base := baseFee
	if base == nil {
		base = new(big.Int)
	}
	maxFee := new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	if minFeeCap != nil && minFeeCap.Cmp(maxFee) > 0 {
		maxFee = new(big.Int).Set(minFeeCap)
	}
	gas := max(sim.GasUsed*3/2+gasMargin, minSendGas)
	tx := types.NewTx(&types.DynamicFeeTx{ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: maxFee, Gas: gas, To: &to, Data: data})
	signed, err := s.Signer.SignTx(tx, chainID)
	if err != nil {
		return nil, fmt.Errorf("cannot sign the transaction: %w", err)
	}
	raw, err := signed.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("cannot encode the signed transaction: %w", err)
	}
	return &SignedTx{
		From: from, Nonce: nonce, Gas: gas, MaxFee: (*hexutil.Big)(maxFee), Tip: (*hexutil.Big)(tip), Hash: signed.Hash(), Raw: raw,
		SignerIs: fmt.Sprint(s.Signer), ChainID: (*hexutil.Big)(chainID),
		tx: signed, needsWei: new(big.Int).Mul(maxFee, new(big.Int).SetUint64(gas)), simulated: sim,
	}, nil
}

// Send simulates the action from the signer and, unless the simulation
// reverts (and opts.Force is not set), signs and sends it, then waits for
// its receipt. A transaction the node refused, dropped or mined as failed
// is an error naming it; nothing is ever sent twice.
func (s *Service) Send(ctx context.Context, id string, args []string, opts SendOptions) (*Sent, error) {
	if s.Signer == nil {
		return nil, ErrNoSigner
	}
	a, c, err := s.action(ctx, id)
	if err != nil {
		return nil, err
	}
	_, args, data, err := callOf(a, c, args)
	if err != nil {
		return nil, err
	}
	run := &Run{Trigger: opts.Trigger, Started: s.now()}
	if run.Trigger == "" {
		run.Trigger = TriggerHand
	}
	sent, err := s.sendCall(ctx, a.Contract, data, opts)
	step := stepOf(a, args)
	if sent != nil {
		sent.Action = a
		step.Simulation, step.Hash, step.From, step.Nonce = sent.Simulation, sent.Hash, sent.From, sent.Nonce
		step.Mined, step.Status, step.Block = sent.Mined, sent.Status, sent.Block
	}
	run.Status = RunDone
	if opts.NoWait {
		run.Status = RunSent
	}
	if err != nil {
		step.Error, run.Status, run.Error = err.Error(), RunFailed, err.Error()
	}
	run.Steps, run.Finished = []Step{step}, s.now()
	s.record(ctx, run)
	s.writeTimeline(ctx, run)
	if sent != nil {
		sent.Run = run.ID
	}
	return sent, err
}

// sendCall is Send once the call is known.
func (s *Service) sendCall(ctx context.Context, to common.Address, data []byte, opts SendOptions) (*Sent, error) {
	if opts.Urgent {
		if sent, ok, err := s.sendArmed(ctx, to, data, opts); ok {
			return sent, err
		}
	}
	from := s.Signer.Address()
	sim, err := s.simulate(ctx, Call{From: from, To: to, Data: data})
	if err != nil {
		return nil, err
	}
	if sim.Reverted && !opts.Force {
		return &Sent{From: from, Simulation: sim}, fmt.Errorf("%w from %s: %s; not sent (force to send anyway)", ErrWouldRevert, from, sim.Reason)
	}
	chainID, err := s.Node.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the chain id: %w", err)
	}
	s.sendMu.Lock()
	signed, err := s.sign(ctx, chainID, to, data, sim, opts.Tip, opts.FeeCap)
	if err != nil {
		s.sendMu.Unlock()
		return nil, err
	}
	balance, err := s.Node.BalanceAt(ctx, from, nil)
	if err != nil {
		s.sendMu.Unlock()
		return nil, fmt.Errorf("cannot read the balance of %s: %w", from, err)
	}
	if balance.Cmp(signed.needsWei) < 0 {
		s.sendMu.Unlock()
		return nil, fmt.Errorf("%w: %s has %s wei, the transaction may cost %s", ErrInsufficientFunds, from, balance, signed.needsWei)
	}
	sendErr := s.Node.SendTransaction(ctx, signed.tx)
	// Whatever became of it, the sends armed before it may hold its nonce.
	s.sendGen.Add(1)
	s.sendMu.Unlock()
	sent := &Sent{Hash: signed.Hash, From: from, Nonce: signed.Nonce, Simulation: sim}
	if sendErr != nil && !s.nodeHas(ctx, signed.Hash) {
		return sent, fmt.Errorf("the node refused transaction %s (nonce %d from %s): %w", signed.Hash, signed.Nonce, from, sendErr)
	}
	return sent, s.sent(ctx, sent, to, opts)
}

// nodeHas reports whether the node knows a transaction whose send
// failed: it may have taken it and failed to answer, and then it must
// never be sent again.
func (s *Service) nodeHas(ctx context.Context, h common.Hash) bool {
	_, _, err := s.Node.TransactionByHash(ctx, h)
	return err == nil
}

// sent logs a transaction the node took and, unless opts.NoWait, waits
// for its receipt.
func (s *Service) sent(ctx context.Context, sent *Sent, to common.Address, opts SendOptions) error {
	s.log().Info("response: sent", "tx", sent.Hash, "from", sent.From, "to", to, "nonce", sent.Nonce)
	if opts.NoWait {
		return nil
	}
	return s.wait(ctx, sent)
}

// wait polls for the receipt of sent, and reports a transaction the node
// stopped knowing as dropped.
func (s *Service) wait(ctx context.Context, sent *Sent) error {
	poll := s.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	dropAfter := s.DropAfter
	if dropAfter <= 0 {
		dropAfter = 30 * time.Second
	}
	var unknownSince time.Time
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		r, err := s.Node.TransactionReceipt(ctx, sent.Hash)
		if err == nil {
			sent.Mined, sent.Status, sent.Block = true, r.Status, r.BlockNumber.Uint64()
			if r.Status != types.ReceiptStatusSuccessful {
				return fmt.Errorf("transaction %s was mined in block %d and failed", sent.Hash, sent.Block)
			}
			return nil
		}
		if !errors.Is(err, ethereum.NotFound) && !isIndexing(err) {
			return fmt.Errorf("cannot read the receipt of %s: %w", sent.Hash, err)
		}
		if _, _, err := s.Node.TransactionByHash(ctx, sent.Hash); errors.Is(err, ethereum.NotFound) {
			if unknownSince.IsZero() {
				unknownSince = s.now()
			} else if s.now().Sub(unknownSince) >= dropAfter {
				return fmt.Errorf("%w: %s (nonce %d from %s) is neither pending nor mined; it was not sent again", ErrDropped, sent.Hash, sent.Nonce, sent.From)
			}
		} else {
			unknownSince = time.Time{}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for %s: %w", sent.Hash, ctx.Err())
		case <-t.C:
		}
	}
}

func isIndexing(err error) bool { return strings.Contains(err.Error(), "indexing") }

// shellWord matches words the shell takes as they are.
var shellWord = regexp.MustCompile(`^[A-Za-z0-9_./:=,+-]+$`)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if shellWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// castLine is the `cast send` command of a call.
func castLine(to common.Address, m abi.Method, args []string) string {
	parts := []string{"cast", "send", "--rpc-url", `"$ETH_RPC_URL"`, to.Hex(), shellQuote(m.Sig)}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}
