package storetest

import (
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
)

// The search corpus: a small chain whose transactions are decoded the way
// the demo's are, and the application, security and system logs of the
// same incident, linked to it by transaction hash and address.

// CorpusStart is the time of the corpus's first block.
var CorpusStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Addresses of the corpus.
var (
	Alice    = Addr(0x01)
	Bob      = Addr(0x02)
	Mallory  = Addr(0x66)
	Token    = Addr(0x20) // DemoToken
	Vault    = Addr(0x21) // LendingVault
	Deployed = Addr(0x30) // created by tx6
)

// CorpusTx returns the hash of corpus transaction n (1-based).
func CorpusTx(n int) common.Hash { return hashOf(kindTx, 's', 0, n) }

func arg(name, typ, value string) chain.Arg { return chain.Arg{Name: name, Type: typ, Value: value} }

// CorpusBlocks returns the corpus chain: three blocks, 12 s apart.
//
//	block 1: tx1 alice → DemoToken transfer(bob, 1000), Transfer event
//	         tx2 bob → DemoToken approve(vault, 500), Approval event
//	block 2: tx3 alice → LendingVault borrow(700), failed with the custom
//	         error InsufficientCollateral
//	         tx4 mallory → LendingVault 0xdeadbeef (undecoded), failed
//	         with "Ownable: caller is not the owner"
//	block 3: tx5 bob → DemoToken transfer(mallory, 2500 tokens of 18
//	         decimals, above int64), Transfer event and an undecoded log
//	         tx6 alice creates a contract
//	         tx7 alice → bob, 1 ether, no input
func CorpusBlocks() []chain.Block {
	blocks := make([]chain.Block, 3)
	parent := BlockHash('s', 0)
	for i := range blocks {
		n := uint64(i + 1)
		blocks[i] = chain.Block{
			Number: n, Hash: BlockHash('s', n), ParentHash: parent,
			Time:  CorpusStart.Add(time.Duration(i) * 12 * time.Second),
			Miner: Addr(99), GasLimit: 30_000_000, BaseFee: big.NewInt(7),
		}
		parent = blocks[i].Hash
	}
	tx := func(b *chain.Block, n int, from common.Address, to *common.Address, gasUsed uint64) chain.Tx {
		t := chain.Tx{
			Hash: CorpusTx(n), BlockNumber: b.Number, BlockHash: b.Hash, Time: b.Time,
			Type: 2, From: from, To: to, Value: new(big.Int), Nonce: uint64(n), Gas: 500_000, Input: []byte{},
			Status: 1, GasUsed: gasUsed, EffectiveGasPrice: big.NewInt(1_000_000_000),
		}
		return t
	}
	var logIndex uint
	event := func(b *chain.Block, t *chain.Tx, addr common.Address, e *chain.Event, topics ...common.Hash) {
		t.Logs = append(t.Logs, chain.Log{Address: addr, Topics: topics, Data: []byte{}, BlockNumber: b.Number,
			BlockHash: b.Hash, TxHash: t.Hash, TxIndex: t.Index, Index: logIndex, Event: e})
		logIndex++
	}
	sel := func(s ...byte) []byte { return append(s, make([]byte, 64)...) }

	b := &blocks[0]
	t1 := tx(b, 1, Alice, ptr(Token), 51_000)
	t1.Input = sel(0xa9, 0x05, 0x9c, 0xbb)
	t1.Call = &chain.Call{Contract: "DemoToken", Method: "transfer", Signature: "transfer(address,uint256)",
		Args: []chain.Arg{arg("to", "address", Bob.Hex()), arg("amount", "uint256", "1000")}}
	event(b, &t1, Token, &chain.Event{Contract: "DemoToken", Name: "Transfer", Signature: "Transfer(address,address,uint256)",
		Args: []chain.Arg{arg("from", "address", Alice.Hex()), arg("to", "address", Bob.Hex()), arg("value", "uint256", "1000")}},
		TransferTopic)
	t2 := tx(b, 2, Bob, ptr(Token), 46_000)
	t2.Input = sel(0x09, 0x5e, 0xa7, 0xb3)
	t2.Call = &chain.Call{Contract: "DemoToken", Method: "approve", Signature: "approve(address,uint256)",
		Args: []chain.Arg{arg("spender", "address", Vault.Hex()), arg("amount", "uint256", "500")}}
	event(b, &t2, Token, &chain.Event{Contract: "DemoToken", Name: "Approval", Signature: "Approval(address,address,uint256)",
		Args: []chain.Arg{arg("owner", "address", Bob.Hex()), arg("spender", "address", Vault.Hex()), arg("value", "uint256", "500")}},
		common.HexToHash("0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925"))
	b.Txs = []chain.Tx{t1, t2}

	b = &blocks[1]
	t3 := tx(b, 3, Alice, ptr(Vault), 30_000)
	t3.Status = 0
	t3.Input = sel(0xc5, 0xeb, 0xea, 0xec)
	t3.Call = &chain.Call{Contract: "LendingVault", Method: "borrow", Signature: "borrow(uint256)",
		Args: []chain.Arg{arg("amount", "uint256", "700")}}
	t3.RevertData = []byte{0x01, 0x02, 0x03, 0x04}
	t3.Revert = &chain.Revert{Kind: chain.RevertCustom, Name: "InsufficientCollateral",
		Signature: "InsufficientCollateral(address,uint256,uint256)", Contract: "LendingVault",
		Message: "InsufficientCollateral(account=" + Alice.Hex() + ", needed=900, have=100)",
		Args:    []chain.Arg{arg("account", "address", Alice.Hex()), arg("needed", "uint256", "900"), arg("have", "uint256", "100")}}
	t4 := tx(b, 4, Mallory, ptr(Vault), 25_000)
	t4.Status = 0
	t4.Input = sel(0xde, 0xad, 0xbe, 0xef)
	t4.RevertData = []byte{0x08, 0xc3, 0x79, 0xa0}
	t4.Revert = &chain.Revert{Kind: chain.RevertError, Name: "Error", Signature: "Error(string)",
		Message: "Ownable: caller is not the owner", Args: []chain.Arg{arg("message", "string", "Ownable: caller is not the owner")}}
	b.Txs = []chain.Tx{t3, t4}

	b = &blocks[2]
	t5 := tx(b, 5, Bob, ptr(Token), 52_000)
	t5.Input = sel(0xa9, 0x05, 0x9c, 0xbb)
	t5.Call = &chain.Call{Contract: "DemoToken", Method: "transfer", Signature: "transfer(address,uint256)",
		Args: []chain.Arg{arg("to", "address", Mallory.Hex()), arg("amount", "uint256", "2500000000000000000000")}}
	event(b, &t5, Token, &chain.Event{Contract: "DemoToken", Name: "Transfer", Signature: "Transfer(address,address,uint256)",
		Args: []chain.Arg{arg("from", "address", Bob.Hex()), arg("to", "address", Mallory.Hex()),
			arg("value", "uint256", "2500000000000000000000")}}, TransferTopic)
	event(b, &t5, Vault, nil, common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111"))
	t6 := tx(b, 6, Alice, nil, 120_000)
	t6.Input = []byte{0x60, 0x80, 0x60, 0x40}
	t6.ContractAddress = ptr(Deployed)
	t7 := tx(b, 7, Alice, ptr(Bob), 21_000)
	t7.Value = big.NewInt(1_000_000_000_000_000_000)
	b.Txs = []chain.Tx{t5, t6, t7}
	for i := range blocks {
		b := &blocks[i]
		b.TxCount = len(b.Txs)
		for j := range b.Txs {
			t := &b.Txs[j]
			t.Index = uint(j)
			for k := range t.Logs {
				t.Logs[k].TxIndex = t.Index
			}
			b.GasUsed += t.GasUsed
		}
	}
	return blocks
}

// CorpusRecords returns the off-chain records of the corpus, named r1,
// r2, … in the search script. Their times are offsets from CorpusStart.
func CorpusRecords() []record.Record {
	at := func(s float64) time.Time { return CorpusStart.Add(time.Duration(s * float64(time.Second))) }
	return []record.Record{
		{Time: at(1), Source: record.SourceApp, Kind: record.KindLog, Level: "info", Service: "frontend",
			Message:   "wallet connected " + Alice.Hex(),
			Attrs:     map[string]any{"session": "s1", "user": map[string]any{"id": int64(42), "name": "alice"}, "route": "/swap"},
			Addresses: []common.Address{Alice}},
		{Time: at(13), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "backend",
			Message:  "borrow failed for tx " + CorpusTx(3).Hex() + ": InsufficientCollateral",
			Attrs:    map[string]any{"user": map[string]any{"id": int64(42)}, "latency_ms": 350.5, "retry": true},
			TxHashes: []common.Hash{CorpusTx(3)}, Addresses: []common.Address{Alice}},
		{Time: at(14), Source: record.SourceApp, Kind: record.KindLog, Level: "warn", Service: "frontend",
			Message: "wallet rejected signature request",
			Attrs:   map[string]any{"session": "s1", "wallet": "MetaMask", "code": int64(4001)}},
		{Time: at(20), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "backend",
			Message: "RPC timeout after 5000 ms calling eth_call",
			Attrs:   map[string]any{"rpc": map[string]any{"method": "eth_call", "timeout_ms": int64(5000)}, "user": map[string]any{"id": "42"}}},
		{Time: at(25), Source: record.SourceApp, Kind: record.KindLog, Level: "info", Service: "backend",
			Message: "tx " + CorpusTx(5).Hex() + " confirmed",
			Attrs:   map[string]any{"amount": "2500000000000000000000"}, TxHashes: []common.Hash{CorpusTx(5)}},
		{Time: at(5), Source: record.SourceSecurity, Kind: "auth", Level: "warn", Service: "auth",
			Message: "failed login for admin from 203.0.113.9",
			Attrs:   map[string]any{"ip": "203.0.113.9", "user": map[string]any{"name": "admin"}}},
		{Time: at(22), Source: record.SourceSecurity, Kind: "auth", Level: "fatal", Service: "auth",
			Message: "admin key used from new IP 198.51.100.7",
			Attrs:   map[string]any{"ip": "198.51.100.7", "key": "admin-1", "new_ip": true}, Addresses: []common.Address{Mallory}},
		{Time: at(23), Source: record.SourceSecurity, Kind: "audit", Level: "info", Service: "audit",
			Message: "'; DROP TABLE records; --",
			Attrs:   map[string]any{"note": `100% legit_user \ "quoted" [x]*?`}},
		{Time: at(2), Source: record.SourceSystem, Kind: record.KindLog, Level: "debug", Service: "kernel",
			Message: "disk usage 81% on /var/lib/blocktorch",
			Attrs:   map[string]any{"disk": map[string]any{"pct": 81.5}}},
		{Time: at(30), Source: record.SourceSystem, Kind: record.KindLog, Level: "error", Service: "node",
			Message: "geth: peer dropped (too many peers)",
			Attrs:   map[string]any{"peers": int64(50)}},
		{Time: at(30), Source: record.SourceSystem, Kind: record.KindLog, Level: "trace", Service: "node",
			Message: "liquidation* scanner tick"},
		{Time: at(13), Source: record.SourceApp, Kind: record.KindLog, Level: "info", Service: "liquidator",
			Message:   "Liquidation scheduled for " + Alice.Hex(),
			Attrs:     map[string]any{"vault": "LendingVault", "pos": int64(3), "tags": []any{"risk", "auto"}},
			Addresses: []common.Address{Alice}},
		// As the OpenTelemetry SDK sends attributes: flat keys with dots,
		// and a map value whose keys have dots too.
		{Time: at(26), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "checkout",
			Message: "payment declined",
			Attrs: map[string]any{"user.id": int64(42), "http.response.status_code": int64(503), "otel.scope.name": "checkout",
				"http": map[string]any{"request.method": "POST"}, "retry": false}},
	}
}
