package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

const (
	insertBlock = `INSERT INTO blocks (number, hash, parent_hash, time, miner, gas_used, gas_limit, base_fee, tx_count, log_count)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertTx = `INSERT INTO txs (hash, block_number, block_hash, idx, time, type, from_addr, to_addr, value, nonce, gas,
		input, selector, status, gas_used, effective_gas_price, fee, contract_address, revert_data,
		method, call, revert_kind, revert_name, revert_message, revert)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	insertLog = `INSERT INTO logs (block_number, log_index, tx_hash, tx_index, address, topic0, topic1, topic2, topic3,
		data, event_name, event, time)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
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
	case err == sql.ErrNoRows:
		// An empty store accepts any first block.
	case err != nil:
		return fmt.Errorf("cannot read head: %w", translate(err))
	default:
		first := blocks[0]
		if first.Number != uint64(head.number)+1 {
			return fmt.Errorf("%w: block %d does not follow the stored head %d", store.ErrConflict, first.Number, head.number)
		}
		if !bytes.Equal(first.ParentHash[:], head.hash) {
			return fmt.Errorf("%w: block %d has parent %s, but the stored head %d is %s",
				store.ErrConflict, first.Number, first.ParentHash, head.number, common.BytesToHash(head.hash))
		}
	}

	w, err := newBatchWriter(ctx, tx)
	if err != nil {
		return translate(err)
	}
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
		if b.Number > math.MaxInt64 {
			return fmt.Errorf("%w: block number %d is out of range", store.ErrInvalid, b.Number)
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

// batchWriter holds the prepared inserts of one WriteBlocks transaction.
type batchWriter struct {
	insBlock, insTx, insLog *sql.Stmt
}

func newBatchWriter(ctx context.Context, tx *sql.Tx) (*batchWriter, error) {
	w := &batchWriter{}
	var err error
	if w.insBlock, err = tx.PrepareContext(ctx, insertBlock); err != nil {
		return nil, err
	}
	if w.insTx, err = tx.PrepareContext(ctx, insertTx); err != nil {
		w.close()
		return nil, err
	}
	if w.insLog, err = tx.PrepareContext(ctx, insertLog); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *batchWriter) close() {
	for _, s := range []*sql.Stmt{w.insBlock, w.insTx, w.insLog} {
		if s != nil {
			s.Close()
		}
	}
}

func (w *batchWriter) block(ctx context.Context, b *chain.Block) error {
	var nLogs int
	for i := range b.Txs {
		nLogs += len(b.Txs[i].Logs)
	}
	t := b.Time.Unix()
	if _, err := w.insBlock.ExecContext(ctx, b.Number, b.Hash[:], b.ParentHash[:], t, b.Miner[:],
		i64(b.GasUsed), i64(b.GasLimit), bigText(b.BaseFee), len(b.Txs), nLogs); err != nil {
		return fmt.Errorf("cannot insert block %d: %w", b.Number, translate(err))
	}
	for i := range b.Txs {
		tx := &b.Txs[i]
		if err := w.tx(ctx, b, tx); err != nil {
			return fmt.Errorf("cannot insert transaction %s of block %d: %w", tx.Hash, b.Number, err)
		}
		for j := range tx.Logs {
			l := &tx.Logs[j]
			if err := w.log(ctx, b, tx, l); err != nil {
				return fmt.Errorf("cannot insert log %d of block %d: %w", l.Index, b.Number, err)
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
	_, err := w.insTx.ExecContext(ctx,
		tx.Hash[:], b.Number, b.Hash[:], int64(tx.Index), b.Time.Unix(), int64(tx.Type),
		tx.From[:], addrOrNil(tx.To), bigText(tx.Value), i64(tx.Nonce), i64(tx.Gas),
		input, selector, i64(tx.Status), i64(tx.GasUsed), bigText(tx.EffectiveGasPrice), tx.Fee().String(),
		addrOrNil(tx.ContractAddress), bytesOrNil(tx.RevertData),
		method, callJSON, kind, name, msg, revertJSON)
	return translate(err)
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
	_, err := w.insLog.ExecContext(ctx, b.Number, int64(l.Index), tx.Hash[:], int64(tx.Index), l.Address[:],
		topics[0], topics[1], topics[2], topics[3], data, name, eventJSON, b.Time.Unix())
	return translate(err)
}

// RollbackTo deletes every block numbered above n with its transactions and
// logs, in one transaction.
func (db *DB) RollbackTo(ctx context.Context, n uint64) error {
	if n >= math.MaxInt64 {
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
	for _, q := range []string{
		`DELETE FROM logs WHERE block_number > ?`,
		`DELETE FROM txs WHERE block_number > ?`,
		`DELETE FROM blocks WHERE number > ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, n); err != nil {
			return translate(err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE chain_counts SET blocks = blocks - ?, txs = txs - ?, logs = logs - ?`,
		blocks, txs, logs); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

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
