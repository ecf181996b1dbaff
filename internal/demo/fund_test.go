package demo

import (
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
)

// TestFund funds the demo keys on an in-process node set up as geth --dev sets itself up: a
// developer genesis that funds a keystore account, unlocked, and a simulated beacon.
func TestFund(t *testing.T) {
	ctx := testContext(t)
	ks := keystore.NewKeyStore(t.TempDir(), keystore.LightScryptN, keystore.LightScryptP)
	devKey, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	dev, err := ks.ImportECDSA(devKey, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Unlock(dev, ""); err != nil {
		t.Fatal(err)
	}

	nodeConf := node.DefaultConfig
	nodeConf.DataDir = ""
	nodeConf.P2P = p2p.Config{NoDiscovery: true}
	stack, err := node.New(&nodeConf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stack.Close() })
	stack.AccountManager().AddBackend(ks)
	ethConf := ethconfig.Defaults
	ethConf.Genesis = core.DeveloperGenesisBlock(ethconfig.Defaults.Miner.GasCeil, &dev.Address)
	ethConf.SyncMode = ethconfig.FullSync
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		t.Fatal(err)
	}
	if err := stack.Start(); err != nil {
		t.Fatal(err)
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				beacon.Commit()
			}
		}
	}()
	defer func() { close(done); wg.Wait() }()

	client := stack.Attach()
	to := Addresses(Keys(DefaultKeyCount))
	amount := new(big.Int).Mul(big.NewInt(250), ether)
	if err := Fund(ctx, client, to, amount); err != nil {
		t.Fatal(err)
	}
	ec := ethclient.NewClient(client)
	for _, a := range to {
		bal, err := ec.BalanceAt(ctx, a, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bal.Cmp(amount) != 0 {
			t.Errorf("%s holds %s wei, want %s", a, bal, amount)
		}
	}
	// Funded keys can deploy the app.
	if _, err := Deploy(ctx, ec, Keys(1)[Deployer]); err != nil {
		t.Fatal(err)
	}
}
