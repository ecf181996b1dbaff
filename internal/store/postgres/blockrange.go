package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.BlockRangeReader = (*DB)(nil)

// maxRange bounds one BlockRange call, so a caller walking history cannot
// load the whole chain into memory at once.
const maxRange = 10000

// BlockRange returns whole blocks from..to, in one read snapshot.
func (db *DB) BlockRange(ctx context.Context, from, to uint64) ([]chain.Block, error) {
	if to > maxBlock {
		to = maxBlock
	}
	if from > to {
		return []chain.Block{}, nil
	}
	if to-from >= maxRange {
		return nil, fmt.Errorf("cannot read blocks %d to %d: %w: at most %d blocks at once", from, to, store.ErrInvalid, maxRange)
	}
	blocks, err := db.blockRange(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("cannot read blocks %d to %d: %w", from, to, err)
	}
	return blocks, nil
}

func (db *DB) blockRange(ctx context.Context, from, to uint64) ([]chain.Block, error) {
	rtx, err := db.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer rtx.Rollback(ctx)

	rows, err := rtx.Query(ctx, `SELECT `+blockColumns+` FROM blocks WHERE number >= $1 AND number <= $2 ORDER BY number`,
		int64(from), int64(to))
	if err != nil {
		return nil, translate(err)
	}
	var blocks []chain.Block
	index := map[uint64]int{}
	for rows.Next() {
		b, err := scanBlock(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		index[b.Number] = len(blocks)
		blocks = append(blocks, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}
	if len(blocks) == 0 {
		return []chain.Block{}, nil
	}

	rows, err = rtx.Query(ctx, `SELECT `+txColumns+` FROM txs t WHERE t.id >= $1 AND t.id < $2 ORDER BY t.id`,
		txID(from, 0), txID(to+1, 0))
	if err != nil {
		return nil, translate(err)
	}
	for rows.Next() {
		tx, err := scanTx(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		if i, ok := index[tx.BlockNumber]; ok {
			blocks[i].Txs = append(blocks[i].Txs, tx)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, translate(err)
	}

	rows, err = rtx.Query(ctx, `SELECT `+logColumns+` FROM logs l JOIN blocks b ON b.number = l.block_number
		WHERE l.id >= $1 AND l.id < $2 ORDER BY l.id`, logID(from, 0), logID(to+1, 0))
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanLog(rows)
		if err != nil {
			return nil, err
		}
		i, ok := index[l.BlockNumber]
		if !ok {
			continue
		}
		txs := blocks[i].Txs
		if int(l.TxIndex) < len(txs) && txs[l.TxIndex].Hash == l.TxHash {
			txs[l.TxIndex].Logs = append(txs[l.TxIndex].Logs, l)
			continue
		}
		for j := range txs {
			if txs[j].Hash == l.TxHash {
				txs[j].Logs = append(txs[j].Logs, l)
				break
			}
		}
	}
	return blocks, translate(rows.Err())
}

// BlockAt returns the newest block with a time at or before t.
func (db *DB) BlockAt(ctx context.Context, t time.Time) (chain.BlockRef, error) {
	ref, err := db.blockRef(ctx, `SELECT number, hash, parent_hash FROM blocks WHERE time <= $1 ORDER BY time DESC, number DESC LIMIT 1`, t.Unix())
	if err != nil {
		return chain.BlockRef{}, fmt.Errorf("cannot find the block at %s: %w", t.Format(time.RFC3339), err)
	}
	return ref, nil
}
