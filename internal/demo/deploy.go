package demo

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const (
	// PriceDecimals is the number of decimals of the ETH/USD feed, as on Chainlink.
	PriceDecimals = 8
	// MaxPriceAge is how old a feed answer the vault accepts before refusing with StalePrice.
	MaxPriceAge = 60 * time.Second
)

var (
	ether      = big.NewInt(1e18)
	dollar     = ether // DUSD has 18 decimals and is worth one dollar
	priceUnit  = big.NewInt(1e8)
	startPrice = new(big.Int).Mul(big.NewInt(3000), priceUnit) // ETH/USD 3000

	vaultLiquidity   = dollars(10_000_000)
	liquidatorFloat  = dollars(1_000_000)
	userFloat        = dollars(10_000)
	maxUint256       = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	demoContractKeys = []string{"DemoToken", "PriceFeed", "LendingVault", "ERC1967Proxy", "Router", "Attacker"}
)

func dollars(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), dollar) }

// Contract is a deployed contract with its ABI, for registering it with the indexer.
type Contract struct {
	Name    string
	Address common.Address
	ABI     json.RawMessage
	// Implementation, when set, is where the code behind Address (an ERC-1967 proxy) is: the
	// contract Name of the build is deployed there, and Address answers with its ABI.
	Implementation common.Address
}

// App is a deployed instance of the demo app.
type App struct {
	ChainID  *big.Int
	Deployer common.Address
	Token    common.Address // DemoToken (DUSD)
	Feed     common.Address // PriceFeed (ETH / USD, 8 decimals)
	Vault    common.Address // LendingVault, behind an ERC1967Proxy: the address everyone uses
	// VaultImpl is the LendingVault implementation the proxy delegates to.
	VaultImpl common.Address
	// PatchedVault is the demo's fix of its incident (contracts/patched), deployed as an
	// implementation the proxy does not use until someone upgrades it.
	PatchedVault common.Address
	Router       common.Address // Router

	arts map[string]Artifact
	abis map[string]abi.ABI

	mu       sync.Mutex
	attacker common.Address // the Attacker contract, once the incident has deployed it
}

// Contracts returns the app's contracts with their ABIs: the four deployed by Deploy and,
// once the incident has deployed it, the Attacker.
func (a *App) Contracts() []Contract {
	cs := []Contract{
		{Name: "DemoToken", Address: a.Token, ABI: a.arts["DemoToken"].ABI},
		{Name: "PriceFeed", Address: a.Feed, ABI: a.arts["PriceFeed"].ABI},
		{Name: "LendingVault", Address: a.Vault, ABI: a.arts["LendingVault"].ABI, Implementation: a.VaultImpl},
		{Name: "Router", Address: a.Router, ABI: a.arts["Router"].ABI},
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.attacker != (common.Address{}) {
		cs = append(cs, Contract{Name: "Attacker", Address: a.attacker, ABI: a.arts["Attacker"].ABI})
	}
	return cs
}

// ABI returns the parsed ABI of one of the app's contracts by name (e.g. "LendingVault").
func (a *App) ABI(name string) (abi.ABI, bool) {
	x, ok := a.abis[name]
	return x, ok
}

func (a *App) setAttacker(addr common.Address) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.attacker = addr
}

// pack encodes a call to a method of one of the app's contracts. The method names are fixed in
// this package, so a failure is a mismatch between this code and the contracts.
func (a *App) pack(contract, method string, args ...any) []byte {
	data, err := a.abis[contract].Pack(method, args...)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot encode %s.%s: %v", contract, method, err))
	}
	return data
}

func loadArtifacts() (map[string]Artifact, map[string]abi.ABI, error) {
	arts, err := Artifacts()
	if err != nil {
		return nil, nil, fmt.Errorf("cannot load the demo contracts: %w", err)
	}
	abis := make(map[string]abi.ABI, len(demoContractKeys))
	for _, name := range demoContractKeys {
		art, ok := arts[name]
		if !ok || len(art.Bytecode) == 0 {
			return nil, nil, fmt.Errorf("the embedded build has no deployable %s", name)
		}
		parsed, err := abi.JSON(bytes.NewReader(art.ABI))
		if err != nil {
			return nil, nil, fmt.Errorf("cannot parse the ABI of %s: %w", name, err)
		}
		abis[name] = parsed
	}
	return arts, abis, nil
}

// creation returns the creation code of a contract followed by its encoded constructor arguments.
func creation(arts map[string]Artifact, abis map[string]abi.ABI, name string, args ...any) ([]byte, error) {
	ctor, err := abis[name].Pack("", args...)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the constructor arguments of %s: %w", name, err)
	}
	code := append([]byte(nil), arts[name].Bytecode...)
	return append(code, ctor...), nil
}

// Deploy deploys DemoToken, PriceFeed (ETH/USD at 3000, 8 decimals), LendingVault (an
// implementation behind OpenZeppelin's ERC1967Proxy, initialized by the proxy's constructor) and
// Router from deployer, then the patched LendingVault implementation (unused), mints the vault's lending liquidity and the starting token balances of the
// liquidator and the users of Keys(DefaultKeyCount), and waits until all of it is mined.
// The deployer needs a few ETH for gas.
func Deploy(ctx context.Context, backend Backend, deployer *ecdsa.PrivateKey) (*App, error) {
	arts, abis, err := loadArtifacts()
	if err != nil {
		return nil, err
	}
	s, err := newSender(ctx, backend)
	if err != nil {
		return nil, err
	}
	from := crypto.PubkeyToAddress(deployer.PublicKey)
	nonce, err := backend.PendingNonceAt(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("cannot read the deployer's nonce: %w", err)
	}
	patched, err := PatchedArtifacts()
	if err != nil {
		return nil, err
	}
	fix, ok := patched["LendingVault"]
	if !ok || len(fix.Bytecode) == 0 {
		return nil, fmt.Errorf("the embedded patched build has no deployable LendingVault")
	}
	app := &App{
		ChainID:      s.chainID,
		Deployer:     from,
		Token:        crypto.CreateAddress(from, nonce),
		Feed:         crypto.CreateAddress(from, nonce+1),
		VaultImpl:    crypto.CreateAddress(from, nonce+2),
		Vault:        crypto.CreateAddress(from, nonce+3),
		Router:       crypto.CreateAddress(from, nonce+4),
		PatchedVault: crypto.CreateAddress(from, nonce+5),
		arts:         arts,
		abis:         abis,
	}
	f, _, err := s.fees(ctx)
	if err != nil {
		return nil, err
	}

	// The deployments are sent in nonce order, so each constructor sees the contracts before it
	// even when they all land in one block.
	type creationTx struct {
		name string
		args []any
	}
	var txs []*types.Transaction
	initialize := app.pack("LendingVault", "initialize", from, app.Token, app.Feed, big.NewInt(int64(MaxPriceAge/time.Second)))
	for _, c := range []creationTx{
		{"DemoToken", []any{from}},
		{"PriceFeed", []any{from, uint8(PriceDecimals), "ETH / USD", startPrice}},
		{"LendingVault", nil},
		{"ERC1967Proxy", []any{app.VaultImpl, initialize}},
		{"Router", []any{app.Vault}},
	} {
		code, err := creation(arts, abis, c.name, c.args...)
		if err != nil {
			return nil, err
		}
		tx, err := s.send(ctx, deployer, nil, nil, code, gasDeploy, f)
		if err != nil {
			return nil, fmt.Errorf("cannot deploy %s: %w", c.name, err)
		}
		txs = append(txs, tx)
	}
	tx, err := s.send(ctx, deployer, nil, nil, fix.Bytecode, gasDeploy, f)
	if err != nil {
		return nil, fmt.Errorf("cannot deploy the patched LendingVault: %w", err)
	}
	txs = append(txs, tx)

	type mint struct {
		to     common.Address
		amount *big.Int
	}
	mints := []mint{{app.Vault, vaultLiquidity}}
	for i, addr := range Addresses(Keys(DefaultKeyCount)) {
		switch {
		case i == Liquidator:
			mints = append(mints, mint{addr, liquidatorFloat})
		case i >= FirstUser:
			mints = append(mints, mint{addr, userFloat})
		}
	}
	for _, m := range mints {
		tx, err := s.send(ctx, deployer, &app.Token, nil, app.pack("DemoToken", "mint", m.to, m.amount), gasSimple, f)
		if err != nil {
			return nil, fmt.Errorf("cannot mint tokens for %s: %w", m.to, err)
		}
		txs = append(txs, tx)
	}

	receipts, err := waitAll(ctx, backend, txs)
	if err != nil {
		return nil, fmt.Errorf("deploying the demo app: %w", err)
	}
	for i, r := range receipts {
		if r.Status != types.ReceiptStatusSuccessful {
			return nil, fmt.Errorf("deploying the demo app: transaction %d (%s) failed", i, r.TxHash)
		}
	}
	for name, addr := range map[string]common.Address{"DemoToken": app.Token, "PriceFeed": app.Feed, "LendingVault": app.VaultImpl,
		"LendingVault's proxy": app.Vault, "Router": app.Router, "the patched LendingVault": app.PatchedVault} {
		code, err := backend.CodeAt(ctx, addr, nil)
		if err != nil {
			return nil, fmt.Errorf("cannot read the code of %s: %w", name, err)
		}
		if len(code) == 0 {
			return nil, fmt.Errorf("%s has no code at %s after deployment", name, addr)
		}
	}
	return app, nil
}
