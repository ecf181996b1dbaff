package storetest

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
)

// Hash kinds keep the hashes of blocks, transactions and topics of the
// generated chains apart.
const (
	kindBlock byte = 'b'
	kindTx    byte = 't'
	kindTopic byte = 'e'
)

func hashOf(kind, fork byte, n uint64, i int) common.Hash {
	var h common.Hash
	h[0], h[1] = kind, fork
	binary.BigEndian.PutUint64(h[16:], n)
	binary.BigEndian.PutUint64(h[24:], uint64(i))
	return h
}

// Addr returns a test address: the same k gives the same address.
func Addr(k byte) common.Address {
	var a common.Address
	a[0], a[19] = 0xaa, k
	return a
}

// BlockHash returns the hash that Chain gives block n of fork.
func BlockHash(fork byte, n uint64) common.Hash { return hashOf(kindBlock, fork, n, 0) }

// TxHash returns the hash that Chain gives transaction i of block n of fork.
func TxHash(fork byte, n uint64, i int) common.Hash { return hashOf(kindTx, fork, n, i) }

// Senders and recipients of the generated transactions, so that tests can
// filter by them.
var (
	Senders    = []common.Address{Addr(1), Addr(2), Addr(3)}
	Recipients = []common.Address{Addr(10), Addr(11)}
	// Emitters are the addresses whose logs Chain generates.
	Emitters = []common.Address{Addr(20), Addr(21)}
)

// TransferTopic is the topic0 of the generated "Transfer" events.
var TransferTopic = common.HexToHash("0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")

// Chain returns n contiguous blocks of fork starting at number first, the
// first one a child of parent, each with txsPerBlock transactions of
// logsPerTx logs. The content varies with the position so that every shape
// the store must keep appears: contract creations (nil To, a contract
// address), failed transactions with revert data and a decoded revert,
// decoded calls and events, values above 2^64, logs with 0 to 4 topics,
// blocks without a base fee. Redundant fields (a transaction's block hash, a
// log's transaction hash…) are set as a store returns them.
func Chain(fork byte, first uint64, parent common.Hash, n, txsPerBlock, logsPerTx int) []chain.Block {
	blocks := make([]chain.Block, n)
	for k := range blocks {
		num := first + uint64(k)
		b := chain.Block{
			Number:     num,
			Hash:       BlockHash(fork, num),
			ParentHash: parent,
			Time:       time.Unix(1_700_000_000+int64(num%(1<<32))*12, 0).UTC(), // within JSON's years
			Miner:      Addr(99),
			GasUsed:    21_000 * uint64(txsPerBlock),
			GasLimit:   30_000_000,
			TxCount:    txsPerBlock,
			Txs:        make([]chain.Tx, txsPerBlock),
		}
		if num%7 != 0 { // every seventh block predates the base fee
			b.BaseFee = new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 66), new(big.Int).SetUint64(num))
		}
		var logIndex uint
		for i := range b.Txs {
			b.Txs[i] = genTx(fork, &b, i, logsPerTx, &logIndex)
		}
		parent = b.Hash
		blocks[k] = b
	}
	return blocks
}

func genTx(fork byte, b *chain.Block, i, logsPerTx int, logIndex *uint) chain.Tx {
	tx := chain.Tx{
		Hash:        TxHash(fork, b.Number, i),
		BlockNumber: b.Number,
		BlockHash:   b.Hash,
		Index:       uint(i),
		Time:        b.Time,
		Type:        uint8(i % 3),
		From:        Senders[i%len(Senders)],
		// 2^70 + block·1000 + i: above what an int64 or uint64 holds.
		Value:             new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 70), big.NewInt(int64(b.Number)*1000+int64(i))),
		Nonce:             b.Number*100 + uint64(i),
		Gas:               100_000 + uint64(i),
		Status:            1,
		GasUsed:           21_000 + uint64(i),
		EffectiveGasPrice: big.NewInt(1_000_000_000 + int64(i)),
	}
	switch i % 5 {
	case 4: // contract creation
		created := Addr(byte(100 + i%50))
		created[1], created[2] = byte(b.Number>>8), byte(b.Number)
		tx.ContractAddress = &created
		tx.Input = []byte{0x60, 0x80, 0x60, 0x40, 0x52}
	case 2: // plain transfer
		to := Recipients[i%len(Recipients)]
		tx.To = &to
		tx.Input = []byte{}
	default: // a decoded call
		to := Recipients[i%len(Recipients)]
		tx.To = &to
		tx.Input = append([]byte{0xa9, 0x05, 0x9c, 0xbb}, make([]byte, 64)...)
		tx.Input[35] = byte(i)
		tx.Call = &chain.Call{
			Contract:  "Token",
			Method:    "transfer",
			Signature: "transfer(address,uint256)",
			Args: []chain.Arg{
				{Name: "to", Type: "address", Value: Addr(byte(i)).Hex()},
				{Name: "amount", Type: "uint256", Value: tx.Value.String()},
			},
		}
	}
	if i%4 == 3 { // a failed transaction: no logs, a decoded revert
		tx.Status = 0
		tx.RevertData = []byte{0x08, 0xc3, 0x79, 0xa0, byte(i)}
		tx.Revert = &chain.Revert{
			Kind:      chain.RevertError,
			Name:      "Error",
			Signature: "Error(string)",
			Message:   fmt.Sprintf("insufficient balance %d", i),
			Args:      []chain.Arg{{Name: "message", Type: "string", Value: fmt.Sprintf("insufficient balance %d", i)}},
		}
		return tx
	}
	for j := range logsPerTx {
		tx.Logs = append(tx.Logs, genLog(fork, b, &tx, j, *logIndex))
		*logIndex++
	}
	return tx
}

func genLog(fork byte, b *chain.Block, tx *chain.Tx, j int, index uint) chain.Log {
	l := chain.Log{
		Address:     Emitters[j%len(Emitters)],
		Data:        []byte{byte(j), byte(index), 0xff},
		BlockNumber: b.Number,
		BlockHash:   b.Hash,
		TxHash:      tx.Hash,
		TxIndex:     tx.Index,
		Index:       index,
		Topics:      []common.Hash{},
	}
	// 0 to 4 topics; the first is the event signature.
	nTopics := (int(index) + j) % 5
	for t := range nTopics {
		if t == 0 {
			l.Topics = append(l.Topics, TransferTopic)
			continue
		}
		l.Topics = append(l.Topics, hashOf(kindTopic, fork, b.Number, int(index)*4+t))
	}
	if nTopics == 3 {
		l.Event = &chain.Event{
			Contract:  "Token",
			Name:      "Transfer",
			Signature: "Transfer(address,address,uint256)",
			Args: []chain.Arg{
				{Name: "from", Type: "address", Value: tx.From.Hex()},
				{Name: "to", Type: "address", Value: Addr(byte(j)).Hex()},
				{Name: "value", Type: "uint256", Value: "115792089237316195423570985008687907853269984665640564039457584007913129639935"},
			},
		}
	}
	return l
}
