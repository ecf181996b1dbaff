package demo

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// Backend is the part of a JSON-RPC client the demo app needs. *ethclient.Client and the
// client of go-ethereum's ethclient/simulated backend both satisfy it.
type Backend interface {
	ChainID(ctx context.Context) (*big.Int, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
	SuggestGasTipCap(ctx context.Context) (*big.Int, error)
	PendingNonceAt(ctx context.Context, account common.Address) (uint64, error)
	SendTransaction(ctx context.Context, tx *types.Transaction) error
	TransactionReceipt(ctx context.Context, txHash common.Hash) (*types.Receipt, error)
	CallContract(ctx context.Context, call ethereum.CallMsg, blockNumber *big.Int) ([]byte, error)
	CodeAt(ctx context.Context, account common.Address, blockNumber *big.Int) ([]byte, error)
}

// Gas limits. Every transaction carries an explicit limit instead of an estimate, because
// estimation refuses transactions that revert and the failing ones must reach the chain. They
// are generous: on the dev chain's latest forks creating a storage slot costs about 100k gas
// (EIP-8037), so a first mint to an account takes some 250k.
const (
	gasSimple = 500_000    // token transfer/approve/mint, oracle update, operator, pause
	gasVault  = 1_000_000  // vault calls that read the feed and move tokens or ETH
	gasRouter = 1_500_000  // router calls into the vault and on into the token
	gasDeploy = 10_000_000 // contract creation
)

// pollInterval is how often receipts and heads are polled while waiting.
const pollInterval = 50 * time.Millisecond

// fees are the EIP-1559 fee caps for the transactions of one batch.
type fees struct {
	tip, cap *big.Int
}

// sender signs and sends transactions, keeping each account's next nonce locally so that
// many transactions can be in flight without waiting for blocks. Safe for concurrent use.
type sender struct {
	backend Backend
	chainID *big.Int
	signer  types.Signer

	mu     sync.Mutex
	nonces map[common.Address]uint64
	tip    *big.Int // fixed after the first read: equal tips keep the chain's order that of sending
}

func newSender(ctx context.Context, b Backend) (*sender, error) {
	id, err := b.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot read chain id: %w", err)
	}
	return &sender{backend: b, chainID: id, signer: types.LatestSignerForChainID(id), nonces: make(map[common.Address]uint64)}, nil
}

// fees reads the latest head and returns fee caps that stay valid for a few blocks of
// rising base fee, along with the head.
func (s *sender) fees(ctx context.Context) (fees, *types.Header, error) {
	head, err := s.backend.HeaderByNumber(ctx, nil)
	if err != nil {
		return fees{}, nil, fmt.Errorf("cannot read the latest header: %w", err)
	}
	s.mu.Lock()
	tip := s.tip
	s.mu.Unlock()
	if tip == nil {
		if tip, err = s.backend.SuggestGasTipCap(ctx); err != nil {
			return fees{}, nil, fmt.Errorf("cannot read the suggested gas tip: %w", err)
		}
		s.mu.Lock()
		s.tip = tip
		s.mu.Unlock()
	}
	base := head.BaseFee
	if base == nil {
		base = new(big.Int)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(base, big.NewInt(2)), tip)
	return fees{tip: tip, cap: feeCap}, head, nil
}

// send signs and sends one transaction; to == nil creates a contract.
func (s *sender) send(ctx context.Context, key *ecdsa.PrivateKey, to *common.Address, value *big.Int, data []byte, gas uint64, f fees) (*types.Transaction, error) {
	from := crypto.PubkeyToAddress(key.PublicKey)
	s.mu.Lock()
	defer s.mu.Unlock()
	nonce, ok := s.nonces[from]
	if !ok {
		n, err := s.backend.PendingNonceAt(ctx, from)
		if err != nil {
			return nil, fmt.Errorf("cannot read the nonce of %s: %w", from, err)
		}
		nonce = n
	}
	if value == nil {
		value = new(big.Int)
	}
	tx, err := types.SignTx(types.NewTx(&types.DynamicFeeTx{
		ChainID:   s.chainID,
		Nonce:     nonce,
		GasTipCap: f.tip,
		GasFeeCap: f.cap,
		Gas:       gas,
		To:        to,
		Value:     value,
		Data:      data,
	}), s.signer, key)
	if err != nil {
		return nil, fmt.Errorf("cannot sign a transaction from %s: %w", from, err)
	}
	if err := s.backend.SendTransaction(ctx, tx); err != nil {
		// The node's view of the nonce may differ from ours now: ask it again next time.
		delete(s.nonces, from)
		return nil, fmt.Errorf("cannot send a transaction from %s with nonce %d: %w", from, nonce, err)
	}
	s.nonces[from] = nonce + 1
	return tx, nil
}

// waitMined polls until the transaction has a receipt or ctx ends.
func waitMined(ctx context.Context, b Backend, hash common.Hash) (*types.Receipt, error) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		r, err := b.TransactionReceipt(ctx, hash)
		switch {
		case err == nil:
			return r, nil
		case errors.Is(err, ethereum.NotFound), strings.Contains(err.Error(), "indexing is in progress"):
			// Not mined yet, or a freshly started geth still indexing: try again.
		default:
			return nil, fmt.Errorf("cannot read the receipt of %s: %w", hash, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s to be mined: %w", hash, ctx.Err())
		case <-t.C:
		}
	}
}

// waitAll waits for every transaction and returns the receipts in order.
func waitAll(ctx context.Context, b Backend, txs []*types.Transaction) ([]*types.Receipt, error) {
	rs := make([]*types.Receipt, len(txs))
	for i, tx := range txs {
		r, err := waitMined(ctx, b, tx.Hash())
		if err != nil {
			return nil, err
		}
		rs[i] = r
	}
	return rs, nil
}
