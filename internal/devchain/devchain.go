package devchain

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/eth"
	"github.com/ethereum/go-ethereum/eth/catalyst"
	"github.com/ethereum/go-ethereum/eth/ethconfig"
	"github.com/ethereum/go-ethereum/eth/filters"
	"github.com/ethereum/go-ethereum/eth/tracers"
	gethlog "github.com/ethereum/go-ethereum/log"
	"github.com/ethereum/go-ethereum/node"
	"github.com/ethereum/go-ethereum/p2p"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"

	// Registers callTracer and prestateTracer for debug_traceTransaction.
	_ "github.com/ethereum/go-ethereum/eth/tracers/native"
)

// ChainID is the chain id of the embedded chain (the dev chain's).
var ChainID = params.AllDevChainProtocolChanges.ChainID

// Config configures an embedded chain. The zero value is a usable in-memory
// chain sealing a block every second, with no JSON-RPC listener.
type Config struct {
	// DataDir keeps the chain on disk so a restart resumes it; empty keeps
	// it in memory.
	DataDir string
	// BlockInterval is how often a block is sealed. Zero means the default
	// of one second; a negative value seals only on Commit (for tests).
	BlockInterval time.Duration
	// Alloc funds accounts at genesis, in wei.
	Alloc map[common.Address]*big.Int
	// RPCAddr, when set (host:port, port 0 picks a free one), serves HTTP and
	// WebSocket JSON-RPC there. Only loopback hosts are accepted: the node
	// exposes the debug API and must not be reachable from the network.
	RPCAddr string
	// Logger receives the chain's own log lines; nil discards them.
	Logger *slog.Logger
}

// Chain is a running embedded node. Its methods are safe for concurrent use.
type Chain struct {
	stack  *node.Node
	eth    *eth.Ethereum
	beacon *catalyst.SimulatedBeacon

	mu     sync.Mutex // serialises sealing, forks and rollbacks
	stop   chan struct{}
	done   chan struct{}
	client *rpc.Client
	closed bool
}

// Start boots the node and, unless BlockInterval is negative, starts sealing
// blocks.
func Start(cfg Config) (*Chain, error) {
	nodeConf := node.DefaultConfig
	nodeConf.Name = "blocktorch-devchain"
	nodeConf.DataDir = cfg.DataDir
	nodeConf.P2P = p2p.Config{NoDiscovery: true, MaxPeers: 0, ListenAddr: ""}
	nodeConf.AuthPort = 0
	nodeConf.HTTPHost = ""
	nodeConf.WSHost = ""
	nodeConf.IPCPath = ""
	if cfg.RPCAddr != "" {
		host, port, err := splitLoopback(cfg.RPCAddr)
		if err != nil {
			return nil, err
		}
		modules := []string{"eth", "net", "web3", "debug", "txpool"}
		nodeConf.HTTPHost, nodeConf.HTTPPort = host, port
		nodeConf.HTTPModules = modules
		nodeConf.HTTPVirtualHosts = []string{"*"}
		nodeConf.HTTPCors = []string{"*"}
		nodeConf.WSHost, nodeConf.WSPort = host, port
		nodeConf.WSModules = modules
		nodeConf.WSOrigins = []string{"*"}
	}
	if cfg.Logger != nil {
		nodeConf.Logger = gethlog.NewLogger(cfg.Logger.Handler())
	} else {
		nodeConf.Logger = gethlog.NewLogger(slog.DiscardHandler)
	}

	alloc := core.SystemContractAllocs()
	for addr, bal := range cfg.Alloc {
		alloc[addr] = types.Account{Balance: new(big.Int).Set(bal)}
	}
	ethConf := ethconfig.Defaults
	ethConf.Genesis = &core.Genesis{
		Config:     params.AllDevChainProtocolChanges,
		GasLimit:   ethconfig.Defaults.Miner.GasCeil,
		BaseFee:    big.NewInt(params.InitialBaseFee),
		Difficulty: big.NewInt(0),
		Alloc:      maps.Clone(alloc),
	}
	ethConf.NetworkId = ChainID.Uint64()
	ethConf.SyncMode = ethconfig.FullSync
	ethConf.TxPool.NoLocals = true
	// Archive mode: the debugger replays old transactions, which needs the
	// state of any past block.
	ethConf.NoPruning = true
	ethConf.StateScheme = rawdb.HashScheme
	ethConf.Miner.GasPrice = big.NewInt(1)
	// No log index: on the in-memory database its rendering holds the
	// database's one lock while it writes, stalling block production more
	// and more as the chain grows (seen at ~7,000 blocks). eth_getLogs
	// still works, by scanning.
	ethConf.LogNoHistory = true

	stack, err := node.New(&nodeConf)
	if err != nil {
		return nil, fmt.Errorf("cannot create embedded node: %w", err)
	}
	backend, err := eth.New(stack, &ethConf)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("cannot create embedded chain: %w", err)
	}
	filterSystem := filters.NewFilterSystem(backend.APIBackend, filters.Config{})
	stack.RegisterAPIs([]rpc.API{{Namespace: "eth", Service: filters.NewFilterAPI(filterSystem)}})
	stack.RegisterAPIs(tracers.APIs(backend.APIBackend))
	if err := stack.Start(); err != nil {
		stack.Close()
		return nil, fmt.Errorf("cannot start embedded node (is %s free?): %w", cfg.RPCAddr, err)
	}
	beacon, err := catalyst.NewSimulatedBeacon(0, common.Address{}, backend)
	if err != nil {
		stack.Close()
		return nil, fmt.Errorf("cannot start simulated beacon: %w", err)
	}
	c := &Chain{
		stack:  stack,
		eth:    backend,
		beacon: beacon,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
		client: stack.Attach(),
	}
	interval := cfg.BlockInterval
	if interval == 0 {
		interval = time.Second
	}
	if interval > 0 {
		go c.seal(interval)
	} else {
		close(c.done)
	}
	return c, nil
}

func splitLoopback(addr string) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("bad RPC address %q (want 127.0.0.1:PORT): %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad RPC port in %q (want 127.0.0.1:PORT)", addr)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", 0, fmt.Errorf("RPC address %q must be on loopback (127.0.0.1): the embedded node exposes its debug API", addr)
	}
	return host, port, nil
}

func (c *Chain) seal(interval time.Duration) {
	defer close(c.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			c.Commit()
		}
	}
}

// Client returns the in-process JSON-RPC client. It must not be closed by
// the caller; Close closes it.
func (c *Chain) Client() *rpc.Client { return c.client }

// HTTPEndpoint returns the HTTP JSON-RPC URL, or "" when not listening.
func (c *Chain) HTTPEndpoint() string {
	if c.stack.Config().HTTPHost == "" {
		return ""
	}
	return c.stack.HTTPEndpoint()
}

// WSEndpoint returns the WebSocket JSON-RPC URL, or "" when not listening.
func (c *Chain) WSEndpoint() string {
	if c.stack.Config().WSHost == "" {
		return ""
	}
	return c.stack.WSEndpoint()
}

// Commit seals a block with the pending transactions and returns its hash.
func (c *Chain) Commit() common.Hash {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.beacon.Commit()
}

// Head returns the current head block's header.
func (c *Chain) Head() *types.Header {
	return c.eth.BlockChain().CurrentBlock()
}

// CanonicalHash returns the canonical hash at number.
func (c *Chain) CanonicalHash(number uint64) common.Hash {
	return c.eth.BlockChain().GetCanonicalHash(number)
}

// Fork rewinds the head to the block parent, dropping pending transactions
// first. Blocks sealed afterwards build a side chain that becomes canonical
// at once, so the blocks above parent are orphaned: a reorg of that depth.
// Orphaned transactions return to the pool and are re-mined unless a
// conflicting transaction (same sender and nonce) is mined first.
func (c *Chain) Fork(parent common.Hash) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beacon.Rollback()
	if err := c.beacon.Fork(parent); err != nil {
		return fmt.Errorf("cannot fork at %s: %w", parent, err)
	}
	return nil
}

// Rollback drops every pending transaction.
func (c *Chain) Rollback() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.beacon.Rollback()
}

// Close stops sealing and shuts the node down.
func (c *Chain) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.stop)
	c.mu.Unlock()
	<-c.done
	c.client.Close()
	return errors.Join(c.beacon.Stop(), c.stack.Close())
}

// WaitHead blocks until the head is at least number, or ctx ends.
func (c *Chain) WaitHead(ctx context.Context, number uint64) error {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for c.Head().Number.Uint64() < number {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
