package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

const (
	defaultLimit = 50
	maxLimit     = 1000
)

// limit applies the documented default and cap.
func limit(n int) (int, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("%w: negative limit %d", store.ErrInvalid, n)
	case n == 0:
		return defaultLimit, nil
	case n > maxLimit:
		return maxLimit, nil
	}
	return n, nil
}

// args collects the arguments of a query built from fixed fragments and
// names each one's placeholder ($1, $2, …) as it is added.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// snapshot begins a read-only transaction that sees one snapshot of the
// database for all its statements.
func (db *DB) snapshot(ctx context.Context) (pgx.Tx, error) {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, translate(err)
	}
	return tx, nil
}

// Head returns the newest stored block.
func (db *DB) Head(ctx context.Context) (chain.BlockRef, error) {
	ref, err := db.blockRef(ctx, `SELECT number, hash, parent_hash FROM blocks ORDER BY number DESC LIMIT 1`)
	if err != nil {
		return chain.BlockRef{}, fmt.Errorf("cannot read head block: %w", err)
	}
	return ref, nil
}

// Tail returns the oldest stored block.
func (db *DB) Tail(ctx context.Context) (chain.BlockRef, error) {
	ref, err := db.blockRef(ctx, `SELECT number, hash, parent_hash FROM blocks ORDER BY number ASC LIMIT 1`)
	if err != nil {
		return chain.BlockRef{}, fmt.Errorf("cannot read tail block: %w", err)
	}
	return ref, nil
}

// BlockRef returns the stored block numbered n.
func (db *DB) BlockRef(ctx context.Context, n uint64) (chain.BlockRef, error) {
	if n > maxBlock {
		return chain.BlockRef{}, fmt.Errorf("cannot read block %d: %w", n, store.ErrNotFound)
	}
	ref, err := db.blockRef(ctx, `SELECT number, hash, parent_hash FROM blocks WHERE number = $1`, int64(n))
	if err != nil {
		return chain.BlockRef{}, fmt.Errorf("cannot read block %d: %w", n, err)
	}
	return ref, nil
}

func (db *DB) blockRef(ctx context.Context, query string, args ...any) (chain.BlockRef, error) {
	var (
		ref          chain.BlockRef
		n            int64
		hash, parent []byte
	)
	if err := db.pool.QueryRow(ctx, query, args...).Scan(&n, &hash, &parent); err != nil {
		return ref, translate(err)
	}
	ref.Number = uint64(n)
	ref.Hash = common.BytesToHash(hash)
	ref.ParentHash = common.BytesToHash(parent)
	return ref, nil
}

// blockColumns are the columns scanBlock reads, in order.
const blockColumns = `number, hash, parent_hash, time, miner, gas_used, gas_limit, base_fee, tx_count`

func scanBlock(rows pgx.Rows) (chain.Block, error) {
	var (
		b                          chain.Block
		number, t, gasUsed, gasLim int64
		hash, parent, miner        []byte
		baseFee                    sql.NullString
		txCount                    int32
	)
	if err := rows.Scan(&number, &hash, &parent, &t, &miner, &gasUsed, &gasLim, &baseFee, &txCount); err != nil {
		return b, translate(err)
	}
	b.Number = uint64(number)
	b.Hash = common.BytesToHash(hash)
	b.ParentHash = common.BytesToHash(parent)
	b.Time = time.Unix(t, 0).UTC()
	b.Miner = common.BytesToAddress(miner)
	b.GasUsed, b.GasLimit = u64(gasUsed), u64(gasLim)
	b.TxCount = int(txCount)
	var err error
	if b.BaseFee, err = parseBig(baseFee); err != nil {
		return b, fmt.Errorf("block %d base fee: %w", number, err)
	}
	return b, nil
}

// Blocks returns blocks newest first, without their transactions.
func (db *DB) Blocks(ctx context.Context, q store.BlockQuery) ([]chain.Block, error) {
	blocks, err := db.blocks(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("cannot list blocks: %w", err)
	}
	return blocks, nil
}

func (db *DB) blocks(ctx context.Context, q store.BlockQuery) ([]chain.Block, error) {
	n, err := limit(q.Limit)
	if err != nil {
		return nil, err
	}
	// Before above every storable number filters nothing.
	before := int64(math.MaxInt64)
	if q.Before != 0 && q.Before <= maxBlock {
		before = int64(q.Before)
	}
	rows, err := db.pool.Query(ctx, `SELECT `+blockColumns+` FROM blocks WHERE number < $1 ORDER BY number DESC LIMIT $2`, before, n)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	blocks := []chain.Block{}
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			return nil, err
		}
		blocks = append(blocks, b)
	}
	return blocks, translate(rows.Err())
}

// txColumns are the columns scanTx reads, in order.
const txColumns = `t.hash, t.block_number, t.block_hash, t.idx, t.time, t.type, t.from_addr, t.to_addr, t.value,
	t.nonce, t.gas, t.input, t.status, t.gas_used, t.effective_gas_price, t.contract_address, t.revert_data,
	t.call, t.revert`

func scanTx(row pgx.Row) (chain.Tx, error) {
	var (
		tx                                  chain.Tx
		number, t                           int64
		idx, typ                            int32
		nonce, gas, status, gasUsed         int64
		hash, blockHash, from, to, contract []byte
		value, price, call, revert          sql.NullString
	)
	if err := row.Scan(&hash, &number, &blockHash, &idx, &t, &typ, &from, &to, &value,
		&nonce, &gas, &tx.Input, &status, &gasUsed, &price, &contract, &tx.RevertData,
		&call, &revert); err != nil {
		return tx, translate(err)
	}
	tx.Hash = common.BytesToHash(hash)
	tx.BlockNumber = uint64(number)
	tx.BlockHash = common.BytesToHash(blockHash)
	tx.Index = uint(idx)
	tx.Time = time.Unix(t, 0).UTC()
	tx.Type = uint8(typ)
	tx.From = common.BytesToAddress(from)
	tx.To = addrPtr(to)
	tx.Nonce, tx.Gas, tx.Status, tx.GasUsed = u64(nonce), u64(gas), u64(status), u64(gasUsed)
	tx.ContractAddress = addrPtr(contract)
	if tx.Input == nil {
		tx.Input = []byte{}
	}
	if len(tx.RevertData) == 0 {
		tx.RevertData = nil
	}
	var err error
	if tx.Value, err = parseBig(value); err != nil {
		return tx, fmt.Errorf("transaction %s value: %w", tx.Hash, err)
	}
	if tx.EffectiveGasPrice, err = parseBig(price); err != nil {
		return tx, fmt.Errorf("transaction %s gas price: %w", tx.Hash, err)
	}
	if call.Valid {
		tx.Call = new(chain.Call)
		if err := json.Unmarshal([]byte(call.String), tx.Call); err != nil {
			return tx, fmt.Errorf("transaction %s decoded call: %w", tx.Hash, err)
		}
	}
	if revert.Valid {
		tx.Revert = new(chain.Revert)
		if err := json.Unmarshal([]byte(revert.String), tx.Revert); err != nil {
			return tx, fmt.Errorf("transaction %s decoded revert: %w", tx.Hash, err)
		}
	}
	return tx, nil
}

// Txs returns transactions newest first, without their logs.
func (db *DB) Txs(ctx context.Context, q store.TxQuery) ([]chain.Tx, error) {
	txs, err := db.txs(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("cannot list transactions: %w", err)
	}
	return txs, nil
}

func (db *DB) txs(ctx context.Context, q store.TxQuery) ([]chain.Tx, error) {
	n, err := limit(q.Limit)
	if err != nil {
		return nil, err
	}
	switch q.Status {
	case "", "success", "failed":
	default:
		return nil, fmt.Errorf("%w: unknown status %q (want success or failed)", store.ErrInvalid, q.Status)
	}
	if q.Block != nil && *q.Block > maxBlock {
		return []chain.Tx{}, nil
	}
	var a args
	// conds returns the filters other than the address, as fixed fragments
	// whose values are parameters.
	conds := func(col func(string) string) string {
		var s strings.Builder
		switch q.Status {
		case "success":
			s.WriteString(" AND " + col("status") + " <> 0")
		case "failed":
			s.WriteString(" AND " + col("status") + " = 0")
		}
		if q.Block != nil {
			s.WriteString(" AND " + col("id") + " >= " + a.add(txID(*q.Block, 0)) + " AND " + col("id") + " < " + a.add(txID(*q.Block+1, 0)))
		}
		return s.String()
	}
	var query strings.Builder
	query.WriteString(`SELECT ` + txColumns + ` FROM txs t`)
	if q.Address == nil {
		query.WriteString(` WHERE TRUE` + conds(func(c string) string { return "t." + c }))
	} else {
		// One newest-first branch per address column, each walking its own
		// index, merged: an OR over the three columns would instead collect
		// every transaction of a busy contract and sort them.
		query.WriteString(` WHERE t.id IN (`)
		for i, col := range []string{"from_addr", "to_addr", "contract_address"} {
			if i > 0 {
				query.WriteString(` UNION `)
			}
			query.WriteString(`(SELECT id FROM txs WHERE ` + col + ` = ` + a.add(q.Address[:]))
			query.WriteString(conds(func(c string) string { return c }))
			query.WriteString(` ORDER BY id DESC LIMIT ` + a.add(n) + `)`)
		}
		query.WriteString(`)`)
	}
	query.WriteString(` ORDER BY t.id DESC LIMIT ` + a.add(n))

	rows, err := db.pool.Query(ctx, query.String(), a...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	txs := []chain.Tx{}
	for rows.Next() {
		tx, err := scanTx(rows)
		if err != nil {
			return nil, err
		}
		txs = append(txs, tx)
	}
	return txs, translate(rows.Err())
}

// Tx returns one transaction with its logs.
func (db *DB) Tx(ctx context.Context, hash common.Hash) (chain.Tx, error) {
	tx, err := db.tx(ctx, hash)
	if err != nil {
		return chain.Tx{}, fmt.Errorf("cannot read transaction %s: %w", hash, err)
	}
	return tx, nil
}

func (db *DB) tx(ctx context.Context, hash common.Hash) (chain.Tx, error) {
	// One snapshot, so that the logs belong to the same chain as the
	// transaction even if a rollback commits in between; sent as one
	// batch, so the transaction costs one round trip instead of four. A
	// connection left inside it by an error is not reused by the pool.
	b := &pgx.Batch{}
	b.Queue(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY`)
	b.Queue(`SELECT `+txColumns+` FROM txs t WHERE t.hash = $1`, hash[:])
	b.Queue(`SELECT `+logColumns+` FROM logs l JOIN blocks b ON b.number = l.block_number
		WHERE l.tx_hash = $1 ORDER BY l.id`, hash[:])
	b.Queue(`COMMIT`)
	br := db.pool.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return chain.Tx{}, translate(err)
	}
	tx, err := scanTx(br.QueryRow())
	if err != nil {
		return chain.Tx{}, err
	}
	rows, err := br.Query()
	if err != nil {
		return chain.Tx{}, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLog(rows)
		if err != nil {
			return chain.Tx{}, err
		}
		tx.Logs = append(tx.Logs, l)
	}
	return tx, translate(rows.Err())
}

// logColumns are the columns scanLog reads, in order.
const logColumns = `l.block_number, b.hash, l.log_index, l.tx_hash, l.tx_index, l.address,
	l.topic0, l.topic1, l.topic2, l.topic3, l.data, l.event`

func scanLog(rows pgx.Rows) (chain.Log, error) {
	var (
		l                       chain.Log
		number                  int64
		idx, txIdx              int32
		blockHash, txHash, addr []byte
		topics                  [4][]byte
		event                   sql.NullString
	)
	if err := rows.Scan(&number, &blockHash, &idx, &txHash, &txIdx, &addr,
		&topics[0], &topics[1], &topics[2], &topics[3], &l.Data, &event); err != nil {
		return l, translate(err)
	}
	l.BlockNumber = uint64(number)
	l.BlockHash = common.BytesToHash(blockHash)
	l.Index = uint(idx)
	l.TxHash = common.BytesToHash(txHash)
	l.TxIndex = uint(txIdx)
	l.Address = common.BytesToAddress(addr)
	l.Topics = make([]common.Hash, 0, 4)
	for _, t := range topics {
		if t == nil {
			break
		}
		l.Topics = append(l.Topics, common.BytesToHash(t))
	}
	if l.Data == nil {
		l.Data = []byte{}
	}
	if event.Valid {
		l.Event = new(chain.Event)
		if err := json.Unmarshal([]byte(event.String), l.Event); err != nil {
			return l, fmt.Errorf("log %d of block %d decoded event: %w", idx, number, err)
		}
	}
	return l, nil
}

// Logs returns logs newest first.
func (db *DB) Logs(ctx context.Context, q store.LogQuery) ([]chain.Log, error) {
	logs, err := db.logs(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("cannot list logs: %w", err)
	}
	return logs, nil
}

func (db *DB) logs(ctx context.Context, q store.LogQuery) ([]chain.Log, error) {
	n, err := limit(q.Limit)
	if err != nil {
		return nil, err
	}
	var a args
	query := `SELECT ` + logColumns + ` FROM logs l JOIN blocks b ON b.number = l.block_number WHERE TRUE`
	if q.Address != nil {
		query += ` AND l.address = ` + a.add(q.Address[:])
	}
	if q.Topic0 != nil {
		query += ` AND l.topic0 = ` + a.add(q.Topic0[:])
	}
	if q.Event != "" {
		query += ` AND l.event_name = ` + a.add(text(q.Event))
	}
	query += ` ORDER BY l.id DESC LIMIT ` + a.add(n)

	rows, err := db.pool.Query(ctx, query, a...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	logs := []chain.Log{}
	for rows.Next() {
		l, err := scanLog(rows)
		if err != nil {
			return nil, err
		}
		logs = append(logs, l)
	}
	return logs, translate(rows.Err())
}

// Counts returns how many blocks, transactions and logs are stored.
func (db *DB) Counts(ctx context.Context) (store.Counts, error) {
	var c store.Counts
	if err := db.pool.QueryRow(ctx, `SELECT blocks, txs, logs FROM chain_counts WHERE id = 1`).
		Scan(&c.Blocks, &c.Txs, &c.Logs); err != nil {
		return c, fmt.Errorf("cannot count chain data: %w", translate(err))
	}
	return c, nil
}

func parseBig(s sql.NullString) (*big.Int, error) {
	if !s.Valid {
		return nil, nil
	}
	x, ok := new(big.Int).SetString(s.String, 10)
	if !ok {
		return nil, fmt.Errorf("stored value %q is not a decimal integer", s.String)
	}
	return x, nil
}

func addrPtr(b []byte) *common.Address {
	if b == nil {
		return nil
	}
	a := common.BytesToAddress(b)
	return &a
}
