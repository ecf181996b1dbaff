package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The columns WriteBlocks copies into each chain table, in the order the
// rows carry their values.
var (
	blockCols = []string{"number", "hash", "parent_hash", "time", "miner", "gas_used", "gas_limit", "base_fee", "tx_count", "log_count"}
	txCols    = []string{"id", "hash", "block_number", "block_hash", "idx", "time", "type", "from_addr", "to_addr", "value", "nonce", "gas",
		"input", "selector", "status", "gas_used", "effective_gas_price", "fee", "contract_address", "revert_data",
		"method", "call", "revert_kind", "revert_name", "revert_message", "revert"}
	logCols = []string{"id", "block_number", "log_index", "tx_hash", "tx_index", "address", "topic0", "topic1", "topic2", "topic3",
		"data", "event_name", "event", "time"}
)

// lockChain locks the chain_counts row for the rest of tx: WriteBlocks and
// RollbackTo of every node sharing the database then run one at a time, so
// the head a writer checks is still the head when it commits.
func lockChain(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `SELECT 1 FROM chain_counts WHERE id = 1 FOR UPDATE`); err != nil {
		return fmt.Errorf("cannot lock the chain tables: %w", translate(err))
	}
	return nil
}

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
	// Rows are built before the transaction starts, so that a block that
	// cannot be encoded costs no round trip and holds no lock.
	var rows chainRows
	for i := range blocks {
		if err := rows.block(&blocks[i]); err != nil {
			return err
		}
	}

	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback(ctx)
	if err := lockChain(ctx, tx); err != nil {
		return err
	}
	var head struct {
		number int64
		hash   []byte
	}
	err = tx.QueryRow(ctx, `SELECT number, hash FROM blocks ORDER BY number DESC LIMIT 1`).Scan(&head.number, &head.hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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

	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"blocks", blockCols, rows.blocks},
		{"txs", txCols, rows.txs},
		{"logs", logCols, rows.logs},
	} {
		if len(c.rows) == 0 {
			continue
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			return fmt.Errorf("cannot insert %s: %w", c.table, translate(err))
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE chain_counts SET blocks = blocks + $1, txs = txs + $2, logs = logs + $3 WHERE id = 1`,
		len(rows.blocks), len(rows.txs), len(rows.logs)); err != nil {
		return fmt.Errorf("cannot update counts: %w", translate(err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("cannot commit: %w", translate(err))
	}
	return nil
}

// checkBatch checks what can be checked without the stored head: the
// blocks are contiguous, each one's parent is the previous one, and every
// number fits the keys.
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

// chainRows are the rows of one WriteBlocks call, in the column order of
// blockCols, txCols and logCols, for COPY.
type chainRows struct {
	blocks, txs, logs [][]any
}

func (r *chainRows) block(b *chain.Block) error {
	var nLogs int
	for i := range b.Txs {
		nLogs += len(b.Txs[i].Logs)
	}
	t := b.Time.Unix()
	r.blocks = append(r.blocks, []any{int64(b.Number), b.Hash[:], b.ParentHash[:], t, b.Miner[:],
		i64(b.GasUsed), i64(b.GasLimit), bigText(b.BaseFee), int32(len(b.Txs)), int32(nLogs)})
	for i := range b.Txs {
		tx := &b.Txs[i]
		if err := r.tx(b, tx); err != nil {
			return fmt.Errorf("cannot store transaction %s of block %d: %w", tx.Hash, b.Number, err)
		}
		for j := range tx.Logs {
			l := &tx.Logs[j]
			if err := r.log(b, tx, l); err != nil {
				return fmt.Errorf("cannot store log %d of block %d: %w", l.Index, b.Number, err)
			}
		}
	}
	return nil
}

func (r *chainRows) tx(b *chain.Block, tx *chain.Tx) error {
	var method, callJSON any
	if tx.Call != nil {
		j, err := json.Marshal(tx.Call)
		if err != nil {
			return fmt.Errorf("cannot encode call: %w", err)
		}
		method, callJSON = text(tx.Call.Method), string(j)
	}
	var kind, name, msg, revertJSON any
	if tx.Revert != nil {
		j, err := json.Marshal(tx.Revert)
		if err != nil {
			return fmt.Errorf("cannot encode revert: %w", err)
		}
		kind, name, msg, revertJSON = text(tx.Revert.Kind), text(tx.Revert.Name), text(tx.Revert.Message), string(j)
	}
	input := tx.Input
	if input == nil {
		input = []byte{} // the column is NOT NULL; an empty input is a plain transfer
	}
	var selector any
	if s := tx.Selector(); s != nil {
		selector = s
	}
	r.txs = append(r.txs, []any{
		txID(b.Number, tx.Index), tx.Hash[:], int64(b.Number), b.Hash[:], int32(tx.Index), b.Time.Unix(), int32(tx.Type),
		tx.From[:], addrOrNil(tx.To), bigText(tx.Value), i64(tx.Nonce), i64(tx.Gas),
		input, selector, i64(tx.Status), i64(tx.GasUsed), bigText(tx.EffectiveGasPrice), tx.Fee().String(),
		addrOrNil(tx.ContractAddress), bytesOrNil(tx.RevertData),
		method, callJSON, kind, name, msg, revertJSON})
	return nil
}

func (r *chainRows) log(b *chain.Block, tx *chain.Tx, l *chain.Log) error {
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
		name, eventJSON = text(l.Event.Name), string(j)
	}
	data := l.Data
	if data == nil {
		data = []byte{}
	}
	r.logs = append(r.logs, []any{logID(b.Number, l.Index), int64(b.Number), int32(l.Index), tx.Hash[:], int32(tx.Index), l.Address[:],
		topics[0], topics[1], topics[2], topics[3], data, name, eventJSON, b.Time.Unix()})
	return nil
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
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback(ctx)
	if err := lockChain(ctx, tx); err != nil {
		return err
	}
	var blocks, txs, logs int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(tx_count), 0), COALESCE(SUM(log_count), 0)
		FROM blocks WHERE number > $1`, n).Scan(&blocks, &txs, &logs); err != nil {
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
		{`DELETE FROM logs WHERE id >= $1`, logID(uint64(n)+1, 0)},
		{`DELETE FROM txs WHERE id >= $1`, txID(uint64(n)+1, 0)},
		{`DELETE FROM blocks WHERE number > $1`, n},
	} {
		if _, err := tx.Exec(ctx, q.sql, q.arg); err != nil {
			return translate(err)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE chain_counts SET blocks = blocks - $1, txs = txs - $2, logs = logs - $3 WHERE id = 1`,
		blocks, txs, logs); err != nil {
		return translate(err)
	}
	return translate(tx.Commit(ctx))
}

// Transactions and logs are keyed by their position in the chain (see
// migrations/0001_chain.sql), which bounds the numbers a store can hold:
// the same bounds as the SQLite store's, so both accept the same chains.
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

// i64 stores a uint64 in a bigint column as its two's complement, so that
// values above MaxInt64 (an attacker can choose a nonce or gas limit)
// survive the round trip; u64 reverses it.
func i64(u uint64) int64 { return int64(u) }
func u64(i int64) uint64 { return uint64(i) }

// text makes s storable in a text column, which PostgreSQL refuses to
// hold NUL bytes or invalid UTF-8 in, and which on-chain strings (a
// revert message, a decoded name) may carry. Only the columns that filter
// hold it: the values read back come from the JSON columns (call, revert,
// event), which keep every string as JSON encodes it.
func text(s string) string {
	if utf8.ValidString(s) && !strings.Contains(s, "\x00") {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

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
