package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.SessionStore = (*DB)(nil)

// PutSession stores s, deleting the ended sessions and, past max, the
// ones that end first. Times are kept to the microsecond.
func (db *DB) PutSession(ctx context.Context, s store.OperatorSession, max int) error {
	if max < 1 {
		return fmt.Errorf("cannot store a session: %w: the bound must be positive", store.ErrInvalid)
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM operator_sessions WHERE expires <= $1`, s.Created.UnixMicro()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO operator_sessions (hash, created, expires, user_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (hash) DO UPDATE SET created = excluded.created, expires = excluded.expires, user_id = excluded.user_id`,
			s.Hash[:], s.Created.UnixMicro(), s.Expires.UnixMicro(), nullID(s.UserID)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM operator_sessions WHERE hash IN (
			SELECT hash FROM operator_sessions ORDER BY expires DESC, hash OFFSET $1)`, max)
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot store a session: %w", translate(err))
	}
	return nil
}

// SessionExpires returns when the session hash names ends.
func (db *DB) SessionExpires(ctx context.Context, hash [32]byte, now time.Time) (time.Time, error) {
	var exp int64
	err := db.pool.QueryRow(ctx, `SELECT expires FROM operator_sessions WHERE hash = $1 AND expires > $2`,
		hash[:], now.UnixMicro()).Scan(&exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("cannot read a session: %w", translate(err))
	}
	return time.UnixMicro(exp).UTC(), nil
}

// DeleteSession deletes a session.
func (db *DB) DeleteSession(ctx context.Context, hash [32]byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM operator_sessions WHERE hash = $1`, hash[:]); err != nil {
		return fmt.Errorf("cannot delete a session: %w", translate(err))
	}
	return nil
}
