package demo

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	_ "embed"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

// The demo's pauser Safe: a real Safe (the singleton and proxy factory of
// the pinned @safe-global/safe-contracts 1.4.1, compiled into
// contracts/build/safe) owned by SafeOwners keys, of which SafeThreshold
// must sign. It holds the vault's PAUSER_ROLE beside the deployer.

//go:embed contracts/build/safe/output.json
var safeOutputJSON []byte

// SafeOwners is how many owners the demo's Safe has; SafeThreshold how
// many of them must sign a transaction.
const (
	SafeOwners    = 3
	SafeThreshold = 2
)

// SafeArtifacts returns the Safe singleton ("Safe") and its proxy factory
// ("SafeProxyFactory") as the pinned npm package publishes them.
func SafeArtifacts() (map[string]Artifact, error) {
	return decodeArtifacts(safeOutputJSON)
}

// SafeOwnerKeys returns the deterministic keys of the demo Safe's owners.
// They sign Safe transactions off-chain and need no ether.
func SafeOwnerKeys() []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, SafeOwners)
	for i := range keys {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("blocktorch demo safe owner %d", i))))
		if err != nil {
			panic(fmt.Sprintf("BUG: demo Safe owner key %d is not a valid private key: %v", i, err))
		}
		keys[i] = k
	}
	return keys
}

// DeploySafe deploys the Safe singleton and proxy factory from deployer and
// creates, through the factory, a Safe proxy set up with owners and
// threshold; it returns the proxy's address once all of it is mined.
func DeploySafe(ctx context.Context, backend Backend, deployer *ecdsa.PrivateKey, owners []common.Address, threshold int) (common.Address, error) {
	arts, err := SafeArtifacts()
	if err != nil {
		return common.Address{}, err
	}
	abis := map[string]abi.ABI{}
	for _, name := range []string{"Safe", "SafeProxyFactory"} {
		a, ok := arts[name]
		if !ok {
			return common.Address{}, fmt.Errorf("BUG: the Safe build has no %s", name)
		}
		if abis[name], err = abi.JSON(bytes.NewReader(a.ABI)); err != nil {
			return common.Address{}, fmt.Errorf("cannot read the ABI of %s: %w", name, err)
		}
	}
	s, err := newSender(ctx, backend)
	if err != nil {
		return common.Address{}, err
	}
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	nonce, err := backend.PendingNonceAt(ctx, from)
	if err != nil {
		return common.Address{}, fmt.Errorf("cannot read the deployer's nonce: %w", err)
	}
	singleton, factory := crypto.CreateAddress(from, nonce), crypto.CreateAddress(from, nonce+1)
	f, _, err := s.fees(ctx)
	if err != nil {
		return common.Address{}, err
	}
	var txs []*types.Transaction
	for _, name := range []string{"Safe", "SafeProxyFactory"} {
		tx, err := s.send(ctx, deployer, nil, nil, arts[name].Bytecode, gasDeploy, f)
		if err != nil {
			return common.Address{}, fmt.Errorf("cannot deploy %s: %w", name, err)
		}
		txs = append(txs, tx)
	}
	zero := common.Address{}
	setup, err := abis["Safe"].Pack("setup", owners, big.NewInt(int64(threshold)), zero, []byte{}, zero, zero, new(big.Int), zero)
	if err != nil {
		return common.Address{}, fmt.Errorf("cannot encode the Safe's setup: %w", err)
	}
	saltNonce := new(big.Int)
	create, err := abis["SafeProxyFactory"].Pack("createProxyWithNonce", singleton, setup, saltNonce)
	if err != nil {
		return common.Address{}, fmt.Errorf("cannot encode the Safe's creation: %w", err)
	}
	tx, err := s.send(ctx, deployer, &factory, nil, create, gasDeploy, f)
	if err != nil {
		return common.Address{}, fmt.Errorf("cannot create the Safe: %w", err)
	}
	txs = append(txs, tx)
	receipts, err := waitAll(ctx, backend, txs)
	if err != nil {
		return common.Address{}, fmt.Errorf("deploying the Safe: %w", err)
	}
	for i, r := range receipts {
		if r.Status != types.ReceiptStatusSuccessful {
			return common.Address{}, fmt.Errorf("deploying the Safe: transaction %d (%s) failed", i, r.TxHash)
		}
	}
	// ProxyCreation(address indexed proxy, address singleton) names it.
	created := abis["SafeProxyFactory"].Events["ProxyCreation"].ID
	for _, l := range receipts[2].Logs {
		if len(l.Topics) == 2 && l.Topics[0] == created && l.Address == factory {
			return common.BytesToAddress(l.Topics[1].Bytes()), nil
		}
	}
	return common.Address{}, fmt.Errorf("deploying the Safe: the factory logged no ProxyCreation in %s", receipts[2].TxHash)
}

// GrantPauser grants the vault's PAUSER_ROLE to account from deployer (the
// vault's admin) and waits until it is mined.
func (a *App) GrantPauser(ctx context.Context, backend Backend, deployer *ecdsa.PrivateKey, account common.Address) error {
	s, err := newSender(ctx, backend)
	if err != nil {
		return err
	}
	f, _, err := s.fees(ctx)
	if err != nil {
		return err
	}
	data := a.pack("LendingVault", "grantRole", crypto.Keccak256Hash([]byte("PAUSER_ROLE")), account)
	tx, err := s.send(ctx, deployer, &a.Vault, nil, data, gasSimple, f)
	if err != nil {
		return fmt.Errorf("cannot grant PAUSER_ROLE to %s: %w", account, err)
	}
	r, err := waitMined(ctx, backend, tx.Hash())
	if err != nil {
		return err
	}
	if r.Status != types.ReceiptStatusSuccessful {
		return fmt.Errorf("granting PAUSER_ROLE to %s failed in %s", account, r.TxHash)
	}
	return nil
}
