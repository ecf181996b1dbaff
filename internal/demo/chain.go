package demo

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/devchain"
)

// GenesisFund is what each demo account holds at genesis: 1,000,000 ETH, for
// collateral and gas.
var GenesisFund = new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))

// Alloc funds every key's account at genesis.
func Alloc(keys []*ecdsa.PrivateKey) map[common.Address]*big.Int {
	alloc := map[common.Address]*big.Int{}
	for _, a := range Addresses(keys) {
		alloc[a] = GenesisFund
	}
	return alloc
}

// ChainConfig configures StartChain. Zero values take the defaults.
type ChainConfig struct {
	// Keys is how many demo accounts to fund (default DefaultKeyCount).
	Keys int
	// Chain configures the embedded node; the demo accounts are added to its Alloc. A
	// negative BlockInterval seals only on Commit: StartChain then seals while
	// deploying and leaves sealing to the caller afterwards.
	Chain devchain.Config
}

// Chain is the embedded chain with the demo app on it.
type Chain struct {
	*devchain.Chain
	// Eth is a client over the chain's in-process connection.
	Eth  *ethclient.Client
	App  *App
	Keys []*ecdsa.PrivateKey
}

// StartChain boots the chain and deploys the demo app.
func StartChain(ctx context.Context, cfg ChainConfig) (*Chain, error) {
	if cfg.Keys == 0 {
		cfg.Keys = DefaultKeyCount
	}
	keys := Keys(cfg.Keys)
	// Accounts the caller funds (a guardian) keep their funds.
	alloc := Alloc(keys)
	for a, v := range cfg.Chain.Alloc {
		alloc[a] = v
	}
	cfg.Chain.Alloc = alloc
	ch, err := devchain.Start(cfg.Chain)
	if err != nil {
		return nil, err
	}
	ec := ethclient.NewClient(ch.Client())
	// Deploy waits for its receipts: a chain that seals only on Commit
	// must be sealed meanwhile.
	var stop chan struct{}
	var wg sync.WaitGroup
	if cfg.Chain.BlockInterval < 0 {
		stop = make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					ch.Commit()
				}
			}
		}()
	}
	app, err := Deploy(ctx, ec, keys[Deployer])
	if stop != nil {
		close(stop)
		wg.Wait()
	}
	if err != nil {
		ch.Close()
		return nil, fmt.Errorf("cannot deploy the demo app: %w", err)
	}
	return &Chain{Chain: ch, Eth: ec, App: app, Keys: keys}, nil
}

// Traffic returns a traffic generator for the app, from the chain's keys.
func (c *Chain) Traffic(opts Options) (*Traffic, error) {
	return NewTraffic(c.App, c.Eth, c.Keys, opts)
}
