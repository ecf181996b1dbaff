package response

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/store"
)

// A Safe signs an action when the service has a Safe (Service.Safe): the
// action is proposed as a Safe transaction, its owners sign the EIP-712
// SafeTx hash off-chain (each with its own key: cast wallet sign
// --no-hash, a hardware wallet), and once the Safe's threshold of owners
// signed, the service's EOA signer sends execTransaction and pays its gas.

// Errors of Safe transactions.
var (
	// ErrBelowThreshold is an execution asked for before enough owners
	// signed.
	ErrBelowThreshold = store.Sentinel("the Safe transaction has too few owner signatures", store.ErrConflict)
	// ErrStale is a proposal whose nonce the Safe has used since.
	ErrStale = store.Sentinel("the Safe transaction is stale", store.ErrConflict)
	// ErrNoSafe is a Safe operation asked of a service without a Safe.
	ErrNoSafe = store.Sentinel("no Safe is configured", store.ErrConflict)
)

// safeABI is the part of Safe 1.4.1's interface the service calls.
var safeABI = func() abi.ABI {
	const js = `[
{"type":"function","name":"nonce","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"getThreshold","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"uint256"}]},
{"type":"function","name":"getOwners","stateMutability":"view","inputs":[],"outputs":[{"name":"","type":"address[]"}]},
{"type":"function","name":"getTransactionHash","stateMutability":"view","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"_nonce","type":"uint256"}],"outputs":[{"name":"","type":"bytes32"}]},
{"type":"function","name":"execTransaction","stateMutability":"payable","inputs":[{"name":"to","type":"address"},{"name":"value","type":"uint256"},{"name":"data","type":"bytes"},{"name":"operation","type":"uint8"},{"name":"safeTxGas","type":"uint256"},{"name":"baseGas","type":"uint256"},{"name":"gasPrice","type":"uint256"},{"name":"gasToken","type":"address"},{"name":"refundReceiver","type":"address"},{"name":"signatures","type":"bytes"}],"outputs":[{"name":"success","type":"bool"}]}
]`
	a, err := abi.JSON(strings.NewReader(js))
	if err != nil {
		panic("BUG: the Safe ABI does not parse: " + err.Error())
	}
	return a
}()

// EIP-712 type hashes of Safe 1.4.1 (Safe.sol, SafeTx and its domain).
var (
	safeDomainTypeHash = crypto.Keccak256Hash([]byte("EIP712Domain(uint256 chainId,address verifyingContract)"))
	safeTxTypeHash     = crypto.Keccak256Hash([]byte("SafeTx(address to,uint256 value,bytes data,uint8 operation,uint256 safeTxGas,uint256 baseGas,uint256 gasPrice,address gasToken,address refundReceiver,uint256 nonce)"))
)

// SafeTxHash is the EIP-712 hash a Safe's owners sign for a plain call
// (operation CALL, no gas refund) of data to to with value, at nonce.
func SafeTxHash(chainID *big.Int, safe, to common.Address, value *big.Int, data []byte, nonce uint64) common.Hash {
	word := func(b []byte) []byte { return common.LeftPadBytes(b, 32) }
	domain := crypto.Keccak256(safeDomainTypeHash[:], word(chainID.Bytes()), word(safe[:]))
	dataHash := crypto.Keccak256(data)
	zero := make([]byte, 32)
	body := crypto.Keccak256(safeTxTypeHash[:], word(to[:]), word(value.Bytes()), dataHash,
		zero /* operation */, zero /* safeTxGas */, zero /* baseGas */, zero /* gasPrice */, zero /* gasToken */, zero, /* refundReceiver */
		word(new(big.Int).SetUint64(nonce).Bytes()))
	return crypto.Keccak256Hash([]byte{0x19, 0x01}, domain, body)
}

// SafeSignature is one owner's signature of a Safe transaction.
type SafeSignature struct {
	Owner     common.Address `json:"owner"`
	Signature hexutil.Bytes  `json:"signature"`
}

// SafeProposal is an action proposed as a Safe transaction, with the
// owner signatures collected so far.
type SafeProposal struct {
	// Hash is the SafeTx hash the owners sign.
	Hash       common.Hash      `json:"hash"`
	Safe       common.Address   `json:"safe"`
	ChainID    *hexutil.Big     `json:"chainId"`
	Action     Action           `json:"action"`
	Args       []string         `json:"args,omitempty"`
	To         common.Address   `json:"to"`
	Data       hexutil.Bytes    `json:"data"`
	Nonce      uint64           `json:"nonce"`
	Owners     []common.Address `json:"owners"`
	Threshold  uint64           `json:"threshold"`
	Signatures []SafeSignature  `json:"signatures"`
	// Simulation is the call simulated from the Safe on the head state.
	Simulation *Simulation `json:"simulation"`
	Created    time.Time   `json:"created"`
	// Executed is the execTransaction that carried it out, once sent.
	Executed common.Hash `json:"executed,omitzero"`
}

// SafeStatus is the configured Safe as the chain reports it now.
type SafeStatus struct {
	Address   common.Address   `json:"address"`
	Owners    []common.Address `json:"owners"`
	Threshold uint64           `json:"threshold"`
	Nonce     uint64           `json:"nonce"`
	Error     string           `json:"error,omitempty"`
}

// safeCall calls a view of the Safe at the head block.
func (s *Service) safeCall(ctx context.Context, method string, out any, args ...any) error {
	data, err := safeABI.Pack(method, args...)
	if err != nil {
		return fmt.Errorf("BUG: cannot encode Safe.%s: %v", method, err)
	}
	res, err := s.Node.CallContract(ctx, ethereum.CallMsg{To: &s.Safe, Data: data}, nil)
	if err != nil {
		return fmt.Errorf("cannot call %s on the Safe %s: %w", method, s.Safe, err)
	}
	vals, err := safeABI.Unpack(method, res)
	if err != nil || len(vals) != 1 {
		return fmt.Errorf("the Safe %s answered %s with %x: is it a Safe?", s.Safe, method, res)
	}
	switch o := out.(type) {
	case *uint64:
		v, ok := vals[0].(*big.Int)
		if !ok || !v.IsUint64() {
			return fmt.Errorf("the Safe %s answered %s out of range", s.Safe, method)
		}
		*o = v.Uint64()
	case *[]common.Address:
		v, ok := vals[0].([]common.Address)
		if !ok {
			return fmt.Errorf("the Safe %s answered %s with no address list", s.Safe, method)
		}
		*o = v
	case *common.Hash:
		v, ok := vals[0].([32]byte)
		if !ok {
			return fmt.Errorf("the Safe %s answered %s with no hash", s.Safe, method)
		}
		*o = v
	default:
		return fmt.Errorf("BUG: safeCall into %T", out)
	}
	return nil
}

// SafeStatus reads the configured Safe's owners, threshold and nonce.
func (s *Service) SafeStatus(ctx context.Context) (SafeStatus, error) {
	if s.Safe == (common.Address{}) {
		return SafeStatus{}, ErrNoSafe
	}
	st := SafeStatus{Address: s.Safe}
	if err := s.safeCall(ctx, "getOwners", &st.Owners); err != nil {
		return st, err
	}
	if err := s.safeCall(ctx, "getThreshold", &st.Threshold); err != nil {
		return st, err
	}
	if err := s.safeCall(ctx, "nonce", &st.Nonce); err != nil {
		return st, err
	}
	return st, nil
}

// ProposeSafe prepares an action as a transaction of the Safe at its
// current nonce, simulates the call from the Safe, and keeps the proposal
// for owners to sign. Proposing the same call twice at one nonce returns
// the same proposal with its signatures.
func (s *Service) ProposeSafe(ctx context.Context, id string, args []string) (*SafeProposal, error) {
	if s.Safe == (common.Address{}) {
		return nil, ErrNoSafe
	}
	a, c, err := s.action(ctx, id)
	if err != nil {
		return nil, err
	}
	_, args, data, err := callOf(a, c, args)
	if err != nil {
		return nil, err
	}
	st, err := s.SafeStatus(ctx)
	if err != nil {
		return nil, err
	}
	chainID, err := s.Node.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read the chain id: %w", err)
	}
	hash := SafeTxHash(chainID, s.Safe, a.Contract, new(big.Int), data, st.Nonce)
	if p, err := s.SafeProposal(ctx, hash); err == nil || !errors.Is(err, ErrNotFound) {
		return p, err
	}
	sim, err := s.simulate(ctx, Call{From: s.Safe, To: a.Contract, Data: data})
	if err != nil {
		return nil, err
	}
	p := &SafeProposal{Hash: hash, Safe: s.Safe, ChainID: (*hexutil.Big)(chainID), Action: a, Args: args, To: a.Contract, Data: data,
		Nonce: st.Nonce, Owners: st.Owners, Threshold: st.Threshold, Signatures: []SafeSignature{}, Simulation: sim, Created: s.now()}
	s.safeMu.Lock()
	defer s.safeMu.Unlock()
	// Proposed at the same time by another request: theirs stands.
	if old, err := s.loadProposal(ctx, hash); err == nil || !errors.Is(err, ErrNotFound) {
		return old, err
	}
	if err := s.saveProposal(ctx, p); err != nil {
		return nil, err
	}
	return p.copy(), nil
}

// loadProposal reads a proposal from the store (or, without one, the
// service's memory); the caller holds safeMu.
func (s *Service) loadProposal(ctx context.Context, hash common.Hash) (*SafeProposal, error) {
	if s.Proposals == nil {
		p, ok := s.proposals[hash]
		if !ok {
			return nil, fmt.Errorf("%w: no Safe transaction %s was proposed here", ErrNotFound, hash)
		}
		return p.copy(), nil
	}
	stored, err := s.Proposals.SafeProposal(ctx, hash.Hex())
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("%w: no Safe transaction %s was proposed here", ErrNotFound, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the Safe transaction %s: %w", hash, err)
	}
	var p SafeProposal
	if err := json.Unmarshal(stored.Proposal, &p); err != nil {
		return nil, fmt.Errorf("the kept Safe transaction %s is malformed: %w", hash, err)
	}
	return &p, nil
}

// saveProposal keeps a proposal in the store (or the service's memory);
// the caller holds safeMu.
func (s *Service) saveProposal(ctx context.Context, p *SafeProposal) error {
	if s.Proposals == nil {
		if s.proposals == nil {
			s.proposals = map[common.Hash]*SafeProposal{}
		}
		s.proposals[p.Hash] = p.copy()
		return nil
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("cannot encode the Safe transaction %s: %w", p.Hash, err)
	}
	err = s.Proposals.PutSafeProposal(context.WithoutCancel(ctx), store.SafeProposal{Hash: p.Hash.Hex(), Safe: p.Safe.Hex(), Nonce: p.Nonce, Created: p.Created, Proposal: data})
	if err != nil {
		return fmt.Errorf("cannot keep the Safe transaction %s: %w", p.Hash, err)
	}
	return nil
}

func (p *SafeProposal) copy() *SafeProposal {
	c := *p
	c.Signatures = slices.Clone(p.Signatures)
	c.Owners = slices.Clone(p.Owners)
	return &c
}

// SafeProposals lists the kept proposals of the configured Safe, newest
// first.
func (s *Service) SafeProposals(ctx context.Context) ([]*SafeProposal, error) {
	s.safeMu.Lock()
	defer s.safeMu.Unlock()
	out := []*SafeProposal{}
	if s.Proposals == nil {
		for _, p := range s.proposals {
			out = append(out, p.copy())
		}
	} else if s.Safe != (common.Address{}) {
		stored, err := s.Proposals.SafeProposals(ctx, s.Safe.Hex())
		if err != nil {
			return nil, fmt.Errorf("cannot list the Safe transactions: %w", err)
		}
		for _, sp := range stored {
			var p SafeProposal
			if err := json.Unmarshal(sp.Proposal, &p); err != nil {
				return nil, fmt.Errorf("the kept Safe transaction %s is malformed: %w", sp.Hash, err)
			}
			out = append(out, &p)
		}
	}
	slices.SortStableFunc(out, func(a, b *SafeProposal) int { return b.Created.Compare(a.Created) })
	return out, nil
}

// SafeProposal returns one kept proposal.
func (s *Service) SafeProposal(ctx context.Context, hash common.Hash) (*SafeProposal, error) {
	s.safeMu.Lock()
	defer s.safeMu.Unlock()
	return s.loadProposal(ctx, hash)
}

// AddSafeSignature adds an owner's signature (65 bytes r‖s‖v, v 27 or 28,
// over the SafeTx hash itself) to a proposal. A signature that does not
// recover to an owner of the Safe is ErrInvalid; an owner's second
// signature replaces the first.
func (s *Service) AddSafeSignature(ctx context.Context, hash common.Hash, sig []byte) (*SafeProposal, error) {
	if len(sig) != crypto.SignatureLength {
		return nil, fmt.Errorf("%w: a signature is %d bytes (r, s, v), not %d", ErrInvalid, crypto.SignatureLength, len(sig))
	}
	v := sig[64]
	if v != 27 && v != 28 {
		return nil, fmt.Errorf("%w: the signature's v is %d; sign the SafeTx hash itself (v 27 or 28, no message prefix: cast wallet sign --no-hash)", ErrInvalid, v)
	}
	rsv := slices.Clone(sig)
	rsv[64] -= 27
	pub, err := crypto.SigToPub(hash[:], rsv)
	if err != nil {
		return nil, fmt.Errorf("%w: the signature does not recover: %v", ErrInvalid, err)
	}
	signer := crypto.PubkeyToAddress(*pub)
	s.safeMu.Lock()
	defer s.safeMu.Unlock()
	p, err := s.loadProposal(ctx, hash)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(p.Owners, signer) {
		return nil, fmt.Errorf("%w: the signature is by %s, not an owner of the Safe %s", ErrInvalid, signer, p.Safe)
	}
	p.Signatures = slices.DeleteFunc(p.Signatures, func(x SafeSignature) bool { return x.Owner == signer })
	p.Signatures = append(p.Signatures, SafeSignature{Owner: signer, Signature: slices.Clone(sig)})
	slices.SortFunc(p.Signatures, func(a, b SafeSignature) int { return bytes.Compare(a.Owner[:], b.Owner[:]) })
	if err := s.saveProposal(ctx, p); err != nil {
		return nil, err
	}
	return p.copy(), nil
}

// SignSafe signs a proposal with an owner's signer and adds the signature.
func (s *Service) SignSafe(ctx context.Context, hash common.Hash, owner Signer) (*SafeProposal, error) {
	sig, err := owner.SignHash(hash)
	if err != nil {
		return nil, fmt.Errorf("cannot sign the Safe transaction: %w", err)
	}
	return s.AddSafeSignature(ctx, hash, sig)
}

// ExecuteSafe sends a proposal's execTransaction from the service's EOA
// signer once the Safe's threshold of its current owners signed; below it,
// nothing is sent and the error says how many signatures are missing. The
// execution is simulated first and refused if it reverts, unless forced,
// and recorded in the run history.
func (s *Service) ExecuteSafe(ctx context.Context, hash common.Hash, opts SendOptions) (*Sent, error) {
	if s.Signer == nil {
		return nil, fmt.Errorf("%w: a Safe transaction is executed by an EOA that pays its gas", ErrNoSigner)
	}
	p, err := s.SafeProposal(ctx, hash)
	if err != nil {
		return nil, err
	}
	if p.Executed != (common.Hash{}) {
		return nil, fmt.Errorf("%w: %s was already executed by transaction %s", ErrStale, hash, p.Executed)
	}
	st, err := s.SafeStatus(ctx)
	if err != nil {
		return nil, err
	}
	if st.Nonce != p.Nonce {
		return nil, fmt.Errorf("%w: it was proposed at nonce %d and the Safe %s is at nonce %d now; propose it again", ErrStale, p.Nonce, p.Safe, st.Nonce)
	}
	var sigs []byte
	var signed []string
	for _, sg := range p.Signatures {
		if slices.Contains(st.Owners, sg.Owner) {
			sigs = append(sigs, sg.Signature...)
			signed = append(signed, sg.Owner.Hex())
		}
	}
	if uint64(len(signed)) < st.Threshold {
		who := "none"
		if len(signed) > 0 {
			who = strings.Join(signed, ", ")
		}
		return nil, fmt.Errorf("%w: the Safe %s needs %d owner signatures and has %d (%s); nothing was sent", ErrBelowThreshold, p.Safe, st.Threshold, len(signed), who)
	}
	zero := common.Address{}
	data, err := safeABI.Pack("execTransaction", p.To, new(big.Int), []byte(p.Data), uint8(0), new(big.Int), new(big.Int), new(big.Int), zero, zero, sigs)
	if err != nil {
		return nil, fmt.Errorf("BUG: cannot encode execTransaction: %v", err)
	}
	run := &Run{Trigger: opts.Trigger, Started: s.now()}
	if run.Trigger == "" {
		run.Trigger = TriggerHand
	}
	sent, err := s.sendCall(ctx, p.Safe, data, opts)
	step := stepOf(p.Action, p.Args)
	step.Safe, step.SafeTxHash = p.Safe, p.Hash
	if sent != nil {
		sent.Action = p.Action
		step.Simulation, step.Hash, step.From, step.Nonce = sent.Simulation, sent.Hash, sent.From, sent.Nonce
		step.Mined, step.Status, step.Block = sent.Mined, sent.Status, sent.Block
		if sent.Hash != (common.Hash{}) {
			// Sent: kept as executed, so that it is never sent twice.
			s.safeMu.Lock()
			if q, lerr := s.loadProposal(ctx, hash); lerr == nil {
				q.Executed = sent.Hash
				if serr := s.saveProposal(ctx, q); serr != nil {
					s.log().Error("response: cannot mark a Safe transaction executed", "safeTx", hash, "tx", sent.Hash, "err", serr)
				}
			}
			s.safeMu.Unlock()
		}
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
