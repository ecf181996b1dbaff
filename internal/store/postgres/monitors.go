package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/jackc/pgx/v5"
)

// The backend plays every monitor role; MonitorStore embeds them all.
var (
	_ store.MonitorStore    = (*DB)(nil)
	_ store.MonitorDefStore = (*DB)(nil)
	_ store.AlertStore      = (*DB)(nil)
	_ store.SilenceStore    = (*DB)(nil)
	_ store.SeriesStore     = (*DB)(nil)
)

// Times in the monitor tables are Unix nanoseconds: backoffs and alert
// timings are finer than seconds.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// monitorSetLock is the advisory lock key ReplaceMonitorSet holds
// ("btmonset").
const monitorSetLock int64 = 0x62746d6f6e736574

// ReplaceMonitorSet makes set the whole of its origin's definitions.
func (db *DB) ReplaceMonitorSet(ctx context.Context, set store.MonitorSet) error {
	if set.Origin == "" {
		return fmt.Errorf("cannot replace monitors: %w: empty origin", store.ErrInvalid)
	}
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		// One set replacement at a time, so that the origin check below
		// stays true until the commit.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, monitorSetLock); err != nil {
			return translate(err)
		}
		for _, t := range []struct{ table, key string }{{"monitors", "id"}, {"monitor_channels", "name"}} {
			var ids []string
			if t.table == "monitors" {
				for _, m := range set.Monitors {
					ids = append(ids, m.ID)
				}
			} else {
				for _, c := range set.Channels {
					ids = append(ids, c.Name)
				}
			}
			for _, id := range ids {
				var origin string
				err := tx.QueryRow(ctx, `SELECT origin FROM `+t.table+` WHERE `+t.key+` = $1`, id).Scan(&origin)
				if err == nil && origin != set.Origin {
					return fmt.Errorf("%w: %q is managed by %s", store.ErrConflict, id, origin)
				}
				if err != nil && err != pgx.ErrNoRows {
					return translate(err)
				}
			}
			if _, err := tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE origin = $1`, set.Origin); err != nil {
				return translate(err)
			}
		}
		for _, m := range set.Monitors {
			if _, err := tx.Exec(ctx, `INSERT INTO monitors (id, spec, origin, updated) VALUES ($1, $2, $3, $4)`,
				m.ID, string(m.Spec), set.Origin, unixNano(m.Updated)); err != nil {
				return translate(err)
			}
		}
		for _, c := range set.Channels {
			if _, err := tx.Exec(ctx, `INSERT INTO monitor_channels (name, spec, origin, updated) VALUES ($1, $2, $3, $4)`,
				c.Name, string(c.Spec), set.Origin, unixNano(c.Updated)); err != nil {
				return translate(err)
			}
		}
		// State and series of monitors that no longer exist go with them.
		for _, q := range []string{
			`DELETE FROM alert_states WHERE monitor_id NOT IN (SELECT id FROM monitors)`,
			`DELETE FROM monitor_series WHERE monitor_id NOT IN (SELECT id FROM monitors)`,
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return translate(err)
			}
		}
		return translate(notifyTx(ctx, tx, store.ChangeMonitors, set.Origin))
	})
	if err != nil {
		return fmt.Errorf("cannot replace the %s monitors: %w", set.Origin, err)
	}
	return nil
}

// PutMonitor inserts or replaces one monitor.
func (db *DB) PutMonitor(ctx context.Context, m store.MonitorDef) error {
	if _, err := db.execNotify(ctx, store.ChangeMonitors, m.ID, `INSERT INTO monitors (id, spec, origin, updated) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, origin = excluded.origin, updated = excluded.updated`,
		m.ID, string(m.Spec), m.Origin, unixNano(m.Updated)); err != nil {
		return fmt.Errorf("cannot store monitor %s: %w", m.ID, translate(err))
	}
	return nil
}

// DeleteMonitor deletes a monitor, its alert state and series.
func (db *DB) DeleteMonitor(ctx context.Context, id string) error {
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM monitors WHERE id = $1`, id)
		if err != nil {
			return translate(err)
		}
		if n := tag.RowsAffected(); n == 0 {
			return store.ErrNotFound
		}
		for _, q := range []string{`DELETE FROM alert_states WHERE monitor_id = $1`, `DELETE FROM monitor_series WHERE monitor_id = $1`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return translate(err)
			}
		}
		return translate(notifyTx(ctx, tx, store.ChangeMonitors, id))
	})
	if err != nil {
		return fmt.Errorf("cannot delete monitor %s: %w", id, err)
	}
	return nil
}

// MonitorDefs returns every monitor, ordered by ID.
func (db *DB) MonitorDefs(ctx context.Context) ([]store.MonitorDef, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, spec, origin, updated FROM monitors ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("cannot list monitors: %w", translate(err))
	}
	defer rows.Close()
	out := []store.MonitorDef{}
	for rows.Next() {
		var (
			m       store.MonitorDef
			spec    string
			updated int64
		)
		if err := rows.Scan(&m.ID, &spec, &m.Origin, &updated); err != nil {
			return nil, fmt.Errorf("cannot list monitors: %w", translate(err))
		}
		m.Spec, m.Updated = []byte(spec), fromUnixNano(updated)
		out = append(out, m)
	}
	return out, translate(rows.Err())
}

// ChannelDefs returns every channel, ordered by name.
func (db *DB) ChannelDefs(ctx context.Context) ([]store.ChannelDef, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, spec, origin, updated FROM monitor_channels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("cannot list channels: %w", translate(err))
	}
	defer rows.Close()
	out := []store.ChannelDef{}
	for rows.Next() {
		var (
			c       store.ChannelDef
			spec    string
			updated int64
		)
		if err := rows.Scan(&c.Name, &spec, &c.Origin, &updated); err != nil {
			return nil, fmt.Errorf("cannot list channels: %w", translate(err))
		}
		c.Spec, c.Updated = []byte(spec), fromUnixNano(updated)
		out = append(out, c)
	}
	return out, translate(rows.Err())
}

// SaveAlerts upserts alert states and appends events in one transaction.
func (db *DB) SaveAlerts(ctx context.Context, states []store.AlertState, events []store.AlertEvent) error {
	if len(states) == 0 && len(events) == 0 {
		return nil
	}
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		for _, s := range states {
			var err error
			if s.State == nil {
				_, err = tx.Exec(ctx, `DELETE FROM alert_states WHERE monitor_id = $1 AND key = $2`, s.MonitorID, s.Key)
			} else {
				_, err = tx.Exec(ctx, `INSERT INTO alert_states (monitor_id, key, state) VALUES ($1, $2, $3)
					ON CONFLICT (monitor_id, key) DO UPDATE SET state = excluded.state`, s.MonitorID, s.Key, string(s.State))
			}
			if err != nil {
				return translate(err)
			}
		}
		for _, e := range events {
			detail := string(e.Detail)
			if detail == "" {
				detail = "{}"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO alert_events (monitor_id, key, status, time, block, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
				e.MonitorID, e.Key, e.Status, unixNano(e.Time), int64(e.Block), detail); err != nil {
				return translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot save alerts: %w", err)
	}
	return nil
}

// AlertStates returns every persisted alert state.
func (db *DB) AlertStates(ctx context.Context) ([]store.AlertState, error) {
	rows, err := db.pool.Query(ctx, `SELECT monitor_id, key, state FROM alert_states ORDER BY monitor_id, key`)
	if err != nil {
		return nil, fmt.Errorf("cannot read alert states: %w", translate(err))
	}
	defer rows.Close()
	out := []store.AlertState{}
	for rows.Next() {
		var (
			s     store.AlertState
			state string
		)
		if err := rows.Scan(&s.MonitorID, &s.Key, &state); err != nil {
			return nil, fmt.Errorf("cannot read alert states: %w", translate(err))
		}
		s.State = []byte(state)
		out = append(out, s)
	}
	return out, translate(rows.Err())
}

// AlertEvents returns alert history newest first.
func (db *DB) AlertEvents(ctx context.Context, q store.AlertQuery) ([]store.AlertEvent, error) {
	n := q.Limit
	switch {
	case n < 0:
		return nil, fmt.Errorf("cannot list alerts: %w: negative limit", store.ErrInvalid)
	case n == 0:
		n = 100
	case n > 1000:
		n = 1000
	}
	before := q.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	var a args
	query := `SELECT id, monitor_id, key, status, time, block, detail FROM alert_events WHERE id < ` + a.add(before)
	if q.MonitorID != "" {
		query += ` AND monitor_id = ` + a.add(q.MonitorID)
	}
	query += ` ORDER BY id DESC LIMIT ` + a.add(n)
	rows, err := db.pool.Query(ctx, query, a...)
	if err != nil {
		return nil, fmt.Errorf("cannot list alerts: %w", translate(err))
	}
	defer rows.Close()
	out := []store.AlertEvent{}
	for rows.Next() {
		var (
			e       store.AlertEvent
			t       int64
			block   sql.NullInt64
			details string
		)
		if err := rows.Scan(&e.ID, &e.MonitorID, &e.Key, &e.Status, &t, &block, &details); err != nil {
			return nil, fmt.Errorf("cannot list alerts: %w", translate(err))
		}
		e.Time, e.Block, e.Detail = fromUnixNano(t), uint64(block.Int64), []byte(details)
		out = append(out, e)
	}
	return out, translate(rows.Err())
}

// PutSilence inserts or replaces a silence.
func (db *DB) PutSilence(ctx context.Context, s store.Silence) error {
	if _, err := db.execNotify(ctx, store.ChangeMonitors, s.ID, `INSERT INTO silences (id, matchers, comment, created_by, starts, ends) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (id) DO UPDATE SET matchers = excluded.matchers, comment = excluded.comment,
		created_by = excluded.created_by, starts = excluded.starts, ends = excluded.ends`,
		s.ID, string(s.Matchers), s.Comment, s.CreatedBy, unixNano(s.Starts), unixNano(s.Ends)); err != nil {
		return fmt.Errorf("cannot store silence %s: %w", s.ID, translate(err))
	}
	return nil
}

// DeleteSilence deletes a silence.
func (db *DB) DeleteSilence(ctx context.Context, id string) error {
	n, err := db.execNotify(ctx, store.ChangeMonitors, id, `DELETE FROM silences WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("cannot delete silence %s: %w", id, translate(err))
	}
	if n == 0 {
		return fmt.Errorf("cannot delete silence %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// Silences returns the silences that end after now.
func (db *DB) Silences(ctx context.Context, now time.Time) ([]store.Silence, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, matchers, comment, created_by, starts, ends FROM silences WHERE ends > $1 ORDER BY ends`, unixNano(now))
	if err != nil {
		return nil, fmt.Errorf("cannot list silences: %w", translate(err))
	}
	defer rows.Close()
	out := []store.Silence{}
	for rows.Next() {
		var (
			s            store.Silence
			matchers     string
			starts, ends int64
		)
		if err := rows.Scan(&s.ID, &matchers, &s.Comment, &s.CreatedBy, &starts, &ends); err != nil {
			return nil, fmt.Errorf("cannot list silences: %w", translate(err))
		}
		s.Matchers, s.Starts, s.Ends = []byte(matchers), fromUnixNano(starts), fromUnixNano(ends)
		out = append(out, s)
	}
	return out, translate(rows.Err())
}

// AppendSeries stores state-watch points; a point at a block already
// stored replaces it.
func (db *DB) AppendSeries(ctx context.Context, pts []store.SeriesPoint) error {
	if len(pts) == 0 {
		return nil
	}
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		for _, p := range pts {
			if _, err := tx.Exec(ctx, `INSERT INTO monitor_series (monitor_id, block, time, value) VALUES ($1, $2, $3, $4)
				ON CONFLICT (monitor_id, block) DO UPDATE SET time = excluded.time, value = excluded.value`,
				p.MonitorID, int64(p.Block), unixNano(p.Time), p.Value); err != nil {
				return translate(err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot store series points: %w", err)
	}
	return nil
}

// Series returns a monitor's points in a block range, oldest first.
func (db *DB) Series(ctx context.Context, monitorID string, from, to uint64, limit int) ([]store.SeriesPoint, error) {
	if limit <= 0 || limit > 10000 {
		limit = 1000
	}
	if to > maxBlock {
		to = maxBlock
	}
	if from > to {
		return []store.SeriesPoint{}, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT block, time, value FROM monitor_series
		WHERE monitor_id = $1 AND block >= $2 AND block <= $3 ORDER BY block LIMIT $4`, monitorID, int64(from), int64(to), limit)
	if err != nil {
		return nil, fmt.Errorf("cannot read series of %s: %w", monitorID, translate(err))
	}
	defer rows.Close()
	out := []store.SeriesPoint{}
	for rows.Next() {
		var (
			p        = store.SeriesPoint{MonitorID: monitorID}
			block, t int64
		)
		if err := rows.Scan(&block, &t, &p.Value); err != nil {
			return nil, fmt.Errorf("cannot read series of %s: %w", monitorID, translate(err))
		}
		p.Block, p.Time = uint64(block), fromUnixNano(t)
		out = append(out, p)
	}
	return out, translate(rows.Err())
}

// DeleteSeriesAbove deletes every point above block n.
func (db *DB) DeleteSeriesAbove(ctx context.Context, n uint64) error {
	if n >= maxBlock {
		return nil
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM monitor_series WHERE block > $1`, int64(n)); err != nil {
		return fmt.Errorf("cannot delete series above block %d: %w", n, translate(err))
	}
	return nil
}

// monitorTx runs fn in a write transaction, committed when fn returns nil.
func (db *DB) monitorTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return translate(tx.Commit(ctx))
}
