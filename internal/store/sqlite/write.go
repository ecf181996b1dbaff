package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The tables WriteBlocks fills, with their columns in the order the
// batchWriter passes values.
var (
	blockTable = table{name: "blocks", rowsPerInsert: 100, cols: []string{
		"number", "hash", "parent_hash", "time", "miner", "gas_used", "gas_limit", "base_fee", "tx_count", "log_count"}}
	txTable = table{name: "txs", rowsPerInsert: 32, cols: []string{
		"id", "hash", "block_number", "block_hash", "idx", "time", "type", "from_addr", "to_addr", "value", "nonce", "gas",
		"input", "selector", "status", "gas_used", "effective_gas_price", "fee", "contract_address", "revert_data",
		"method", "call", "revert_kind", "revert_name", "revert_message", "revert"}}
	logTable = table{name: "logs", rowsPerInsert: 64, cols: []string{
		"id", "block_number", "log_index", "tx_hash", "tx_index", "address", "topic0", "topic1", "topic2", "topic3",
		"data", "event_name", "event", "time"}}
)

// WriteBlocks stores blocks with their transactions, logs and decoded data
// in one transaction. The block number, block hash and time of every
// transaction and log, and the transaction hash and index of every log, are
// taken from the block and transaction that contain them.
func (db *DB) WriteBlocks(ctx context.Context, blocks []chain.Block) error {
	if len(blocks) == 0 {
		return nil
	}
	if err := db.writeBlocks(ctx, blocks); err != nil {
		return fmt.Errorf("cannot write blocks %d-%d: %w", blocks[0].Number, blocks[len(blocks)-1].Number, err)
	}
	return nil
}

func (db *DB) writeBlocks(ctx context.Context, blocks []chain.Block) error {
	if err := checkBatch(blocks); err != nil {
		return err
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()

	var head struct {
		number int64
		hash   []byte
	}
	err = tx.QueryRowContext(ctx, `SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1`).Scan(&head.number, &head.hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// An empty store accepts any first block.
	case err != nil:
		return fmt.Errorf("cannot read head: %w", translate(err))
	default:
		first := &blocks[0]
		if first.Number != uint64(head.number)+1 {
			return fmt.Errorf("%w: block %d does not follow the stored head %d", store.ErrConflict, first.Number, head.number)
		}
		if !bytes.Equal(first.ParentHash[:], head.hash) {
			return fmt.Errorf("%w: block %d has parent %s, but the stored head %d is %s",
				store.ErrConflict, first.Number, first.ParentHash, head.number, common.BytesToHash(head.hash))
		}
	}

	w := newBatchWriter(tx)
	defer w.close()
	var nTxs, nLogs int64
	for i := range blocks {
		if err := w.block(ctx, &blocks[i]); err != nil {
			return err
		}
		nTxs += int64(len(blocks[i].Txs))
		for j := range blocks[i].Txs {
			nLogs += int64(len(blocks[i].Txs[j].Logs))
		}
	}
	if err := w.flush(ctx); err != nil {
		return err
	}
	if !db.noChainRecords.Load() {
		if err := writeChainRecords(ctx, tx, blocks); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chain_counts SET blocks = blocks + ?, txs = txs + ?, logs = logs + ?`,
		len(blocks), nTxs, nLogs); err != nil {
		return fmt.Errorf("cannot update counts: %w", translate(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cannot commit: %w", translate(err))
	}
	return nil
}

// checkBatch checks what can be checked without the stored head: the
// blocks are contiguous and each one's parent is the previous one.
func checkBatch(blocks []chain.Block) error {
	for i := range blocks {
		b := &blocks[i]
		if b.Number > maxBlock {
			return fmt.Errorf("%w: block number %d is above the largest storable, %d", store.ErrInvalid, b.Number, uint64(maxBlock))
		}
		for j := range b.Txs {
			tx := &b.Txs[j]
			if tx.Index > maxTxIndex {
				return fmt.Errorf("%w: transaction index %d of block %d is above the largest storable, %d",
					store.ErrInvalid, tx.Index, b.Number, maxTxIndex)
			}
			for k := range tx.Logs {
				if l := &tx.Logs[k]; l.Index > maxLogIndex {
					return fmt.Errorf("%w: log index %d of block %d is above the largest storable, %d",
						store.ErrInvalid, l.Index, b.Number, maxLogIndex)
				}
			}
		}
		if b.TxCount != 0 && b.TxCount != len(b.Txs) {
			return fmt.Errorf("%w: block %d says it has %d transactions but carries %d", store.ErrInvalid, b.Number, b.TxCount, len(b.Txs))
		}
		if i == 0 {
			continue
		}
		prev := &blocks[i-1]
		if b.Number != prev.Number+1 {
			return fmt.Errorf("%w: block %d follows block %d in the batch", store.ErrConflict, b.Number, prev.Number)
		}
		if b.ParentHash != prev.Hash {
			return fmt.Errorf("%w: block %d has parent %s, but block %d in the batch is %s",
				store.ErrConflict, b.Number, b.ParentHash, prev.Number, prev.Hash)
		}
	}
	return nil
}

// batchWriter holds the inserts of one WriteBlocks transaction. Rows are
// inserted many per statement: per-statement overhead, not SQLite's b-tree
// work, dominates single-row inserts.
type batchWriter struct {
	blocks, txs, logs *inserter
}

func newBatchWriter(tx *sql.Tx) *batchWriter {
	return &batchWriter{blocks: newInserter(tx, &blockTable), txs: newInserter(tx, &txTable), logs: newInserter(tx, &logTable)}
}

// flush inserts the buffered rows.
func (w *batchWriter) flush(ctx context.Context) error {
	for _, in := range []*inserter{w.blocks, w.txs, w.logs} {
		if err := in.flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (w *batchWriter) close() {
	for _, in := range []*inserter{w.blocks, w.txs, w.logs} {
		in.close()
	}
}

func (w *batchWriter) block(ctx context.Context, b *chain.Block) error {
	var nLogs int
	for i := range b.Txs {
		nLogs += len(b.Txs[i].Logs)
	}
	t := b.Time.Unix()
	if err := w.blocks.add(ctx, int64(b.Number), b.Hash[:], b.ParentHash[:], t, b.Miner[:],
		i64(b.GasUsed), i64(b.GasLimit), bigText(b.BaseFee), len(b.Txs), nLogs); err != nil {
		return err
	}
	for i := range b.Txs {
		tx := &b.Txs[i]
		if err := w.tx(ctx, b, tx); err != nil {
			return fmt.Errorf("cannot store transaction %s of block %d: %w", tx.Hash, b.Number, err)
		}
		for j := range tx.Logs {
			l := &tx.Logs[j]
			if err := w.log(ctx, b, tx, l); err != nil {
				return fmt.Errorf("cannot store log %d of block %d: %w", l.Index, b.Number, err)
			}
		}
	}
	return nil
}

func (w *batchWriter) tx(ctx context.Context, b *chain.Block, tx *chain.Tx) error {
	var method, callJSON any
	if tx.Call != nil {
		j, err := json.Marshal(tx.Call)
		if err != nil {
			return fmt.Errorf("cannot encode call: %w", err)
		}
		method, callJSON = tx.Call.Method, string(j)
	}
	var kind, name, msg, revertJSON any
	if tx.Revert != nil {
		j, err := json.Marshal(tx.Revert)
		if err != nil {
			return fmt.Errorf("cannot encode revert: %w", err)
		}
		kind, name, msg, revertJSON = tx.Revert.Kind, tx.Revert.Name, tx.Revert.Message, string(j)
	}
	input := tx.Input
	if input == nil {
		input = []byte{} // the column is NOT NULL; an empty input is a plain transfer
	}
	var selector any
	if s := tx.Selector(); s != nil {
		selector = s
	}
	return w.txs.add(ctx,
		txID(b.Number, tx.Index), tx.Hash[:], b.Number, b.Hash[:], int64(tx.Index), b.Time.Unix(), int64(tx.Type),
		tx.From[:], addrOrNil(tx.To), bigText(tx.Value), i64(tx.Nonce), i64(tx.Gas),
		input, selector, i64(tx.Status), i64(tx.GasUsed), bigText(tx.EffectiveGasPrice), tx.Fee().String(),
		addrOrNil(tx.ContractAddress), bytesOrNil(tx.RevertData),
		method, callJSON, kind, name, msg, revertJSON)
}

func (w *batchWriter) log(ctx context.Context, b *chain.Block, tx *chain.Tx, l *chain.Log) error {
	if len(l.Topics) > 4 {
		return fmt.Errorf("%w: log has %d topics, at most 4 exist", store.ErrInvalid, len(l.Topics))
	}
	var topics [4]any
	for i := range l.Topics {
		topics[i] = l.Topics[i][:]
	}
	var name, eventJSON any
	if l.Event != nil {
		j, err := json.Marshal(l.Event)
		if err != nil {
			return fmt.Errorf("cannot encode event: %w", err)
		}
		name, eventJSON = l.Event.Name, string(j)
	}
	data := l.Data
	if data == nil {
		data = []byte{}
	}
	return w.logs.add(ctx, logID(b.Number, l.Index), b.Number, int64(l.Index), tx.Hash[:], int64(tx.Index), l.Address[:],
		topics[0], topics[1], topics[2], topics[3], data, name, eventJSON, b.Time.Unix())
}

// RollbackTo deletes every block numbered above n with its transactions and
// logs, in one transaction.
func (db *DB) RollbackTo(ctx context.Context, n uint64) error {
	if n >= maxBlock {
		return nil // no block can be stored above it
	}
	if err := db.rollbackTo(ctx, int64(n)); err != nil {
		return fmt.Errorf("cannot roll back to block %d: %w", n, err)
	}
	return nil
}

func (db *DB) rollbackTo(ctx context.Context, n int64) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	var blocks, txs, logs int64
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(tx_count), 0), COALESCE(SUM(log_count), 0)
		FROM blocks WHERE number > ?`, n).Scan(&blocks, &txs, &logs); err != nil {
		return translate(err)
	}
	if blocks == 0 {
		return nil
	}
	// The ids of the rows above block n start at the first id of n+1.
	for _, q := range []struct {
		sql string
		arg int64
	}{
		{`DELETE FROM logs WHERE id >= ?`, logID(uint64(n)+1, 0)},
		{`DELETE FROM txs WHERE id >= ?`, txID(uint64(n)+1, 0)},
		{`DELETE FROM blocks WHERE number > ?`, n},
		{`DELETE FROM records WHERE block > ?`, n},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.arg); err != nil {
			return translate(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chain_counts SET blocks = blocks - ?, txs = txs - ?, logs = logs - ?`,
		blocks, txs, logs); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// Transactions and logs are keyed by their position in the chain (see
// migrations/0001_chain.sql), which bounds the numbers a store can hold.
const (
	txIndexBits  = 20
	logIndexBits = 24
	maxTxIndex   = 1<<txIndexBits - 1
	maxLogIndex  = 1<<logIndexBits - 1
	// maxBlock keeps both ids within int64: 2^39 blocks last 17,000 years
	// at one block a second.
	maxBlock = 1<<(63-logIndexBits) - 1
)

// txID is the key of transaction idx of block n.
func txID(n uint64, idx uint) int64 { return int64(n<<txIndexBits | uint64(idx)) }

// logID is the key of log idx of block n.
func logID(n uint64, idx uint) int64 { return int64(n<<logIndexBits | uint64(idx)) }

// i64 stores a uint64 in an INTEGER column as its two's complement, so that
// values above MaxInt64 (an attacker can choose a nonce or gas limit) survive
// the round trip; u64 reverses it.
func i64(u uint64) int64 { return int64(u) }
func u64(i int64) uint64 { return uint64(i) }

func bigText(x *big.Int) any {
	if x == nil {
		return nil
	}
	return x.String()
}

func addrOrNil(a *common.Address) any {
	if a == nil {
		return nil
	}
	return a[:]
}

func bytesOrNil(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
