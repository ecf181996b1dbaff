package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.PatchCheckStore = (*DB)(nil)

// PutPatchCheck creates or replaces a patch check.
func (db *DB) PutPatchCheck(ctx context.Context, c store.PatchCheck) error {
	if c.ID == "" || len(c.Run) == 0 {
		return fmt.Errorf("cannot keep a patch check: %w: no ID or run", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO patch_checks (id, target, started, done, run) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET target = excluded.target, started = excluded.started, done = excluded.done, run = excluded.run`,
		c.ID, strings.ToLower(c.Target), unixNano(c.Started), boolInt(c.Done), string(c.Run))
	if err != nil {
		return fmt.Errorf("cannot keep patch check %s: %w", c.ID, translate(err))
	}
	return nil
}

// PatchCheck returns one patch check.
func (db *DB) PatchCheck(ctx context.Context, id string) (store.PatchCheck, error) {
	var (
		c       = store.PatchCheck{ID: id}
		started int64
		done    int
		run     string
	)
	err := db.pool.QueryRow(ctx, `SELECT target, started, done, run FROM patch_checks WHERE id = $1`, id).
		Scan(&c.Target, &started, &done, &run)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.PatchCheck{}, fmt.Errorf("patch check %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.PatchCheck{}, fmt.Errorf("cannot read patch check %s: %w", id, translate(err))
	}
	c.Started, c.Done, c.Run = fromUnixNano(started), done != 0, []byte(run)
	return c, nil
}

// PrunePatchChecks deletes the finished checks but the keep newest.
func (db *DB) PrunePatchChecks(ctx context.Context, keep int) error {
	if keep < 0 {
		return fmt.Errorf("cannot prune patch checks: %w: negative keep", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `DELETE FROM patch_checks WHERE done = 1 AND id NOT IN
		(SELECT id FROM patch_checks WHERE done = 1 ORDER BY started DESC, id DESC LIMIT $1)`, keep)
	if err != nil {
		return fmt.Errorf("cannot prune patch checks: %w", translate(err))
	}
	return nil
}
