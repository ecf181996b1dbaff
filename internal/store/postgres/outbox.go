package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/jackc/pgx/v5"
)

var _ store.Outbox = (*DB)(nil)

// Enqueue adds deliveries; keys already present are skipped.
func (db *DB) Enqueue(ctx context.Context, ds []store.Delivery) (int, error) {
	added := 0
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		for _, d := range ds {
			state := d.State
			if state == "" {
				state = store.DeliveryPending
			}
			tag, err := tx.Exec(ctx, `INSERT INTO outbox (key, channel, payload, state, attempts, created, next_attempt, last_error)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (key) DO NOTHING`,
				d.Key, d.Channel, string(d.Payload), state, d.Attempts, unixNano(d.Created), unixNano(d.NextAttempt), d.LastError)
			if err != nil {
				return translate(err)
			}
			if n := tag.RowsAffected(); n > 0 {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("cannot enqueue notifications: %w", err)
	}
	return added, nil
}

const deliveryColumns = `id, key, channel, payload, state, attempts, created, next_attempt, last_error, done, claimed_by, claimed_until`

func scanDelivery(rows interface{ Scan(...any) error }) (store.Delivery, error) {
	var (
		d             store.Delivery
		payload       string
		created, next int64
		done          sql.NullInt64
		until         int64
	)
	if err := rows.Scan(&d.ID, &d.Key, &d.Channel, &payload, &d.State, &d.Attempts, &created, &next, &d.LastError, &done, &d.ClaimedBy, &until); err != nil {
		return d, translate(err)
	}
	d.Payload, d.Created, d.NextAttempt, d.Done = []byte(payload), fromUnixNano(created), fromUnixNano(next), fromUnixNano(done.Int64)
	d.ClaimedUntil = fromUnixNano(until)
	return d, nil
}

func (db *DB) deliveries(ctx context.Context, query string, args ...any) ([]store.Delivery, error) {
	rows, err := db.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, translate(rows.Err())
}

// Due returns pending deliveries due at now, oldest first.
func (db *DB) Due(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	ds, err := db.deliveries(ctx, `SELECT `+deliveryColumns+` FROM outbox WHERE state = 'pending' AND next_attempt <= $1
		ORDER BY next_attempt, id LIMIT $2`, unixNano(now), limit)
	if err != nil {
		return nil, fmt.Errorf("cannot read due notifications: %w", err)
	}
	return ds, nil
}

// Claim takes due deliveries no sender holds for owner until now+hold.
// FOR UPDATE SKIP LOCKED makes concurrent claimers, on any node, pass over
// the rows another is claiming instead of waiting for them and taking them
// again once it committed.
func (db *DB) Claim(ctx context.Context, now time.Time, limit int, owner string, hold time.Duration) ([]store.Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	if owner == "" || hold <= 0 {
		return nil, fmt.Errorf("cannot claim notifications: %w: a claim needs an owner and a positive hold", store.ErrInvalid)
	}
	ds, err := db.deliveries(ctx, `UPDATE outbox SET claimed_by = $1, claimed_until = $2
		WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt <= $3 AND claimed_until <= $3
			ORDER BY next_attempt, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, owner, unixNano(now.Add(hold)), unixNano(now), limit)
	if err != nil {
		return nil, fmt.Errorf("cannot claim notifications: %w", err)
	}
	sortDue(ds)
	return ds, nil
}

// sortDue orders deliveries oldest first, as Due does.
func sortDue(ds []store.Delivery) {
	slices.SortFunc(ds, func(a, b store.Delivery) int {
		if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
}

// NextDue returns when the first pending delivery is due and unclaimed.
func (db *DB) NextDue(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := db.pool.QueryRow(ctx, `SELECT MIN(GREATEST(next_attempt, claimed_until)) FROM outbox WHERE state = 'pending'`).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("cannot read the next notification: %w", translate(err))
	}
	if !next.Valid {
		return time.Time{}, fmt.Errorf("cannot read the next notification: %w", store.ErrNotFound)
	}
	return fromUnixNano(next.Int64), nil
}

// Settle records an attempt's outcome and releases its claim; with
// d.ClaimedBy set, only while that sender holds the claim.
func (db *DB) Settle(ctx context.Context, d store.Delivery) error {
	var done any
	if !d.Done.IsZero() {
		done = unixNano(d.Done)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET state = $1, attempts = $2, next_attempt = $3, last_error = $4, done = $5,
		claimed_by = '', claimed_until = 0 WHERE id = $6 AND ($7 = '' OR claimed_by = $7)`,
		d.State, d.Attempts, unixNano(d.NextAttempt), d.LastError, done, d.ID, d.ClaimedBy)
	if err != nil {
		return fmt.Errorf("cannot record notification %d: %w", d.ID, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		var holder string
		err := db.pool.QueryRow(ctx, `SELECT claimed_by FROM outbox WHERE id = $1`, d.ID).Scan(&holder)
		if err != nil {
			return fmt.Errorf("cannot record notification %d: %w", d.ID, translate(err))
		}
		return fmt.Errorf("cannot record notification %d: %w: %s no longer holds its claim (held by %q)", d.ID, store.ErrConflict, d.ClaimedBy, holder)
	}
	return nil
}

// Deliveries lists deliveries in a state, newest first.
func (db *DB) Deliveries(ctx context.Context, state string, limit int) ([]store.Delivery, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	ds, err := db.deliveries(ctx, `SELECT `+deliveryColumns+` FROM outbox WHERE state = $1 ORDER BY id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot list %s notifications: %w", state, err)
	}
	return ds, nil
}

// Requeue makes a dead delivery pending again.
func (db *DB) Requeue(ctx context.Context, id int64, now time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE outbox SET state = 'pending', next_attempt = $1, done = NULL, created = $2
		WHERE id = $3 AND state = 'dead'`, unixNano(now), unixNano(now), id)
	if err != nil {
		return fmt.Errorf("cannot requeue notification %d: %w", id, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot requeue notification %d: %w", id, store.ErrNotFound)
	}
	return nil
}
