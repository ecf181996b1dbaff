package response

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// arming holds the sends made ready on the latest head for urgent runs.
type arming struct {
	mu sync.Mutex
	// head is the latest head Arm was told of; a send armed on another
	// one is stale.
	head  common.Hash
	sends map[string]*armedSend // armKey(to, data) → send
	// chainID is read once: it does not change under a running node.
	chainID *big.Int
}

// armedSend is the first action of a scenario made ready on one head: its
// call simulated from the signer on that head's state, and what signing it
// needs (nonce, base fee, suggested tip, balance). An urgent run (the
// mempool guard's pause) then only signs and sends: the milliseconds the
// reads and the simulation take are the ones a pause needs to reach the
// pool before the block that would include the exploit is built.
type armedSend struct {
	head    common.Hash
	gen     uint64 // Service.sendGen when armed
	sim     *Simulation
	chainID *big.Int
	nonce   uint64
	baseFee *big.Int
	tip     *big.Int
	balance *big.Int
}

func armKey(to common.Address, data []byte) string { return to.Hex() + "|" + string(data) }

// Arm makes the first action of every scenario ready to send on head, the
// chain's new latest block: it resolves the action, simulates it on the
// head state from the signer and reads the signer's nonce, the base fee,
// the suggested tip and the balance (see armSim for what is simulated on
// each head). An urgent run (SendOptions.Urgent)
// asked for while head is still the latest and before the signer sent
// anything else only signs and sends it; otherwise a run reads and
// simulates as it always does. A scenario whose action would revert is
// not armed (its run simulates again and says why). Call it on every new
// head, from one goroutine; without a signer it does nothing.
func (s *Service) Arm(ctx context.Context, head *types.Header) error {
	if s.Signer == nil {
		return nil
	}
	h := head.Hash()
	gen := s.sendGen.Load()
	s.arm.mu.Lock()
	s.arm.head = h
	chainID := s.arm.chainID
	s.arm.mu.Unlock()
	if chainID == nil {
		var err error
		if chainID, err = s.Node.ChainID(ctx); err != nil {
			return fmt.Errorf("cannot read the chain id: %w", err)
		}
	}
	from := s.Signer.Address()
	nonce, err := s.Node.PendingNonceAt(ctx, from)
	if err != nil {
		return fmt.Errorf("cannot read the nonce of %s: %w", from, err)
	}
	tip, err := s.Node.SuggestGasTipCap(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the suggested priority fee: %w", err)
	}
	balance, err := s.Node.BalanceAt(ctx, from, nil)
	if err != nil {
		return fmt.Errorf("cannot read the balance of %s: %w", from, err)
	}
	s.arm.mu.Lock()
	prev := s.arm.sends
	s.arm.mu.Unlock()
	sends := map[string]*armedSend{}
	var errs []error
	for _, sc := range s.Scenarios() {
		if sc.DryRun {
			continue
		}
		sa := sc.Actions[0]
		sim, key, err := s.armSim(ctx, sa, from, head, prev, gen)
		if err != nil {
			errs = append(errs, fmt.Errorf("scenario %s, %s on %s: %w", sc.Name, sa.Action, sa.Contract, err))
			continue
		}
		sends[key] = &armedSend{head: h, gen: gen, sim: sim, chainID: chainID, nonce: nonce, baseFee: head.BaseFee, tip: tip, balance: balance}
	}
	s.arm.mu.Lock()
	defer s.arm.mu.Unlock()
	s.arm.chainID = chainID
	if s.arm.head == h {
		s.arm.sends = sends
	}
	return errors.Join(errs...)
}

// armSim checks a scenario step on head: the first time, and after the
// signer sent anything, by the full simulation (whose trace is kept);
// otherwise by running the call again on head (eth_call), which keeps
// no trace, so that arming on every block does not keep a trace per
// block. The simulation returned then is the last full one, with
// CheckedBlock set to head.
func (s *Service) armSim(ctx context.Context, sa ScenarioAction, from common.Address, head *types.Header, prev map[string]*armedSend, gen uint64) (*Simulation, string, error) {
	a, c, err := s.resolveStep(ctx, sa, true)
	if err != nil {
		return nil, "", err
	}
	_, data, err := s.stepCall(a, c, sa.Args)
	if err != nil {
		return nil, "", err
	}
	key := armKey(a.Contract, data)
	if p := prev[key]; p != nil && p.gen == gen {
		to := a.Contract
		if _, err := s.Node.CallContract(ctx, ethereum.CallMsg{From: from, To: &to, Data: data}, head.Number); err != nil {
			return nil, "", fmt.Errorf("%w from %s on block %d: %v", ErrWouldRevert, from, head.Number, err)
		}
		sim := *p.sim
		sim.CheckedBlock = head.Number.Uint64()
		return &sim, key, nil
	}
	sim, err := s.simulate(ctx, Call{From: from, To: a.Contract, Data: data})
	if err != nil {
		return nil, "", err
	}
	if sim.Reverted {
		return nil, "", fmt.Errorf("%w from %s: %s", ErrWouldRevert, from, sim.Reason)
	}
	return sim, key, nil
}

// sendArmed sends the call as armed on the latest head, when it is (ok
// false otherwise, nothing sent: the caller sends the usual way). The
// priority fee and fee cap are raised to opts' as sendCall does.
func (s *Service) sendArmed(ctx context.Context, to common.Address, data []byte, opts SendOptions) (_ *Sent, ok bool, _ error) {
	s.arm.mu.Lock()
	a := s.arm.sends[armKey(to, data)]
	fresh := a != nil && a.head == s.arm.head
	s.arm.mu.Unlock()
	if !fresh {
		return nil, false, nil
	}
	s.sendMu.Lock()
	if a.gen != s.sendGen.Load() {
		s.sendMu.Unlock()
		return nil, false, nil
	}
	signed, err := s.signAt(a.chainID, to, data, a.sim, a.nonce, a.baseFee, a.tip, opts.Tip, opts.FeeCap)
	if err != nil {
		s.sendMu.Unlock()
		return nil, true, err
	}
	from := signed.From
	if a.balance.Cmp(signed.needsWei) < 0 {
		s.sendMu.Unlock()
		return nil, true, fmt.Errorf("%w: %s has %s wei, the transaction may cost %s", ErrInsufficientFunds, from, a.balance, signed.needsWei)
	}
	sendErr := s.Node.SendTransaction(ctx, signed.tx)
	s.sendGen.Add(1)
	s.sendMu.Unlock()
	sent := &Sent{Hash: signed.Hash, From: from, Nonce: signed.Nonce, Simulation: a.sim}
	if sendErr != nil && !s.nodeHas(ctx, signed.Hash) {
		// Refused, so not sent: the nonce read on the head may have been
		// taken by another sender of the same key. The usual path reads
		// it again.
		s.log().Warn("response: the node refused an armed send; sending it the usual way", "tx", signed.Hash, "nonce", signed.Nonce, "err", sendErr)
		return nil, false, nil
	}
	return sent, true, s.sent(ctx, sent, to, opts)
}
