package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.OracleStore = (*DB)(nil)

func unixMicro(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUnixMicro(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

func unixSec(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnixSec(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}

// PutOracleFeed inserts or replaces a followed feed, keeping its Added time.
func (db *DB) PutOracleFeed(ctx context.Context, f store.OracleFeed) error {
	switch {
	case f.Address == (common.Address{}):
		return fmt.Errorf("cannot store a feed: %w: zero address", store.ErrInvalid)
	case f.Source != store.FeedSourceManual && f.Source != store.FeedSourceABI && f.Source != store.FeedSourceTrace:
		return fmt.Errorf("cannot store feed %s: %w: source %q", f.Address, store.ErrInvalid, f.Source)
	case f.Heartbeat < 0 || f.DeviationPct < 0:
		return fmt.Errorf("cannot store feed %s: %w: negative threshold", f.Address, store.ErrInvalid)
	case f.Kind != "" && f.Kind != store.FeedKindPrice && f.Kind != store.FeedKindSequencer:
		return fmt.Errorf("cannot store feed %s: %w: kind %q", f.Address, store.ErrInvalid, f.Kind)
	}
	kind := f.Kind
	if kind == "" {
		kind = store.FeedKindPrice
	}
	var ref []byte
	if f.Reference != nil {
		ref = f.Reference.Bytes()
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oracle_feeds
		(address, source, heartbeat, deviation_pct, reference, aggregator, prev_aggregator, aggregator_changed, added, updated, kind)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (address) DO UPDATE SET source = excluded.source, kind = excluded.kind, heartbeat = excluded.heartbeat,
			deviation_pct = excluded.deviation_pct, reference = excluded.reference, aggregator = excluded.aggregator,
			prev_aggregator = excluded.prev_aggregator, aggregator_changed = excluded.aggregator_changed,
			updated = excluded.updated`,
		f.Address[:], f.Source, int64(f.Heartbeat), f.DeviationPct, ref, f.Aggregator[:], f.PrevAggregator[:],
		unixMicro(f.AggregatorChanged), unixMicro(f.Added), unixMicro(f.Updated), kind)
	if err != nil {
		return fmt.Errorf("cannot store feed %s: %w", f.Address, translate(err))
	}
	return nil
}

const feedColumns = `address, source, heartbeat, deviation_pct, reference, aggregator, prev_aggregator, aggregator_changed, added, updated, kind`

func scanFeed(s scanner) (store.OracleFeed, error) {
	var (
		f                           store.OracleFeed
		addr, ref, agg, prev        []byte
		hb, changed, added, updated int64
	)
	if err := s.Scan(&addr, &f.Source, &hb, &f.DeviationPct, &ref, &agg, &prev, &changed, &added, &updated, &f.Kind); err != nil {
		return f, err
	}
	f.Address = common.BytesToAddress(addr)
	if ref != nil {
		r := common.BytesToAddress(ref)
		f.Reference = &r
	}
	f.Heartbeat = time.Duration(hb)
	f.Aggregator, f.PrevAggregator = common.BytesToAddress(agg), common.BytesToAddress(prev)
	f.AggregatorChanged, f.Added, f.Updated = fromUnixMicro(changed), fromUnixMicro(added), fromUnixMicro(updated)
	return f, nil
}

// OracleFeed returns the feed at addr.
func (db *DB) OracleFeed(ctx context.Context, addr common.Address) (store.OracleFeed, error) {
	f, err := scanFeed(db.pool.QueryRow(ctx, `SELECT `+feedColumns+` FROM oracle_feeds WHERE address = $1`, addr[:]))
	if err != nil {
		return store.OracleFeed{}, fmt.Errorf("cannot read feed %s: %w", addr, translate(err))
	}
	return f, nil
}

// OracleFeeds returns every followed feed by address.
func (db *DB) OracleFeeds(ctx context.Context) ([]store.OracleFeed, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+feedColumns+` FROM oracle_feeds ORDER BY address`)
	if err != nil {
		return nil, fmt.Errorf("cannot list feeds: %w", translate(err))
	}
	defer rows.Close()
	out := []store.OracleFeed{}
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list feeds: %w", translate(err))
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list feeds: %w", translate(err))
	}
	return out, nil
}

// RecordOracleRead keeps the newest read of a (feed, reader) pair and
// counts every read.
func (db *DB) RecordOracleRead(ctx context.Context, r store.OracleRead) error {
	stale := boolInt(r.Stale)
	var staleTx []byte
	var staleBlock uint64
	if r.Stale {
		staleTx, staleBlock = r.Tx[:], r.Block
	} else {
		staleTx = common.Hash{}.Bytes()
	}
	// The stored row is named o: PostgreSQL reads a bare column in DO
	// UPDATE as ambiguous with excluded's. Every SET reads the old row.
	_, err := db.pool.Exec(ctx, `INSERT INTO oracle_reads AS o
		(feed, reader, block, tx, time, method, round_id, answer, updated_at, stale, reads, stale_reads, last_stale_tx, last_stale_block)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13)
		ON CONFLICT (feed, reader) DO UPDATE SET
			reads = o.reads + 1,
			stale_reads = o.stale_reads + excluded.stale,
			last_stale_tx = CASE WHEN excluded.stale = 1 AND excluded.block >= o.last_stale_block THEN excluded.last_stale_tx ELSE o.last_stale_tx END,
			last_stale_block = CASE WHEN excluded.stale = 1 AND excluded.block >= o.last_stale_block THEN excluded.block ELSE o.last_stale_block END,
			block = CASE WHEN excluded.block >= o.block THEN excluded.block ELSE o.block END,
			tx = CASE WHEN excluded.block >= o.block THEN excluded.tx ELSE o.tx END,
			time = CASE WHEN excluded.block >= o.block THEN excluded.time ELSE o.time END,
			method = CASE WHEN excluded.block >= o.block THEN excluded.method ELSE o.method END,
			round_id = CASE WHEN excluded.block >= o.block THEN excluded.round_id ELSE o.round_id END,
			answer = CASE WHEN excluded.block >= o.block THEN excluded.answer ELSE o.answer END,
			updated_at = CASE WHEN excluded.block >= o.block THEN excluded.updated_at ELSE o.updated_at END,
			stale = CASE WHEN excluded.block >= o.block THEN excluded.stale ELSE o.stale END`,
		r.Feed[:], r.Reader[:], i64(r.Block), r.Tx[:], unixSec(r.Time), r.Method, r.RoundID, r.Answer, unixSec(r.UpdatedAt),
		stale, stale, staleTx, i64(staleBlock))
	if err != nil {
		return fmt.Errorf("cannot record a read of feed %s by %s: %w", r.Feed, r.Reader, translate(err))
	}
	return nil
}

// OracleReads returns the newest read of feed by every reader.
func (db *DB) OracleReads(ctx context.Context, feed common.Address) ([]store.OracleRead, error) {
	rows, err := db.pool.Query(ctx, `SELECT reader, block, tx, time, method, round_id, answer, updated_at, stale,
		reads, stale_reads, last_stale_tx, last_stale_block
		FROM oracle_reads WHERE feed = $1 ORDER BY block DESC, reader`, feed[:])
	if err != nil {
		return nil, fmt.Errorf("cannot list the readers of %s: %w", feed, translate(err))
	}
	defer rows.Close()
	out := []store.OracleRead{}
	for rows.Next() {
		r := store.OracleRead{Feed: feed}
		var reader, tx, staleTx []byte
		var t, upd int64
		var stale int
		if err := rows.Scan(&reader, &r.Block, &tx, &t, &r.Method, &r.RoundID, &r.Answer, &upd, &stale,
			&r.Reads, &r.StaleReads, &staleTx, &r.LastStaleBlock); err != nil {
			return nil, fmt.Errorf("cannot list the readers of %s: %w", feed, translate(err))
		}
		r.Reader, r.Tx, r.LastStaleTx = common.BytesToAddress(reader), common.BytesToHash(tx), common.BytesToHash(staleTx)
		r.Time, r.UpdatedAt, r.Stale = fromUnixSec(t), fromUnixSec(upd), stale == 1
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the readers of %s: %w", feed, translate(err))
	}
	return out, nil
}
