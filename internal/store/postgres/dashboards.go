package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

var (
	_ store.DashboardStore = (*DB)(nil)
	_ store.ShareStore     = (*DB)(nil)
)

// nanos stores a time as unix nanoseconds, the zero time as 0.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// PutDashboard inserts or replaces a dashboard.
func (db *DB) PutDashboard(ctx context.Context, d store.Dashboard) error {
	if d.ID == "" || d.Name == "" {
		return fmt.Errorf("cannot store dashboard: %w: id and name are required", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO dashboards (id, name, spec, created, updated) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, spec = excluded.spec, updated = excluded.updated`,
		d.ID, d.Name, string(d.Spec), nanos(d.Created), nanos(d.Updated))
	if err != nil {
		return fmt.Errorf("cannot store dashboard %s: %w", d.ID, translate(err))
	}
	return nil
}

const dashboardColumns = `id, name, spec, created, updated`

func scanDashboard(row interface{ Scan(...any) error }) (store.Dashboard, error) {
	var (
		d                store.Dashboard
		spec             string
		created, updated int64
	)
	if err := row.Scan(&d.ID, &d.Name, &spec, &created, &updated); err != nil {
		return d, translate(err)
	}
	d.Spec, d.Created, d.Updated = []byte(spec), fromNanos(created), fromNanos(updated)
	return d, nil
}

// Dashboard returns one dashboard, or ErrNotFound.
func (db *DB) Dashboard(ctx context.Context, id string) (store.Dashboard, error) {
	d, err := scanDashboard(db.pool.QueryRow(ctx, `SELECT `+dashboardColumns+` FROM dashboards WHERE id = $1`, id))
	if err != nil {
		return d, fmt.Errorf("cannot load dashboard %q: %w", id, err)
	}
	return d, nil
}

// Dashboards returns every dashboard by name.
func (db *DB) Dashboards(ctx context.Context) ([]store.Dashboard, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+dashboardColumns+` FROM dashboards ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("cannot list dashboards: %w", translate(err))
	}
	defer rows.Close()
	var out []store.Dashboard
	for rows.Next() {
		d, err := scanDashboard(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list dashboards: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list dashboards: %w", translate(err))
	}
	return out, nil
}

// DeleteDashboard deletes one dashboard, or returns ErrNotFound.
func (db *DB) DeleteDashboard(ctx context.Context, id string) error {
	return db.deleteByID(ctx, "dashboards", "dashboard", id)
}

// deleteByID deletes the row of table with that id; table is a constant of
// this package, never input.
func (db *DB) deleteByID(ctx context.Context, table, what, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM `+table+` WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("cannot delete %s %q: %w", what, id, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot delete %s %q: %w", what, id, store.ErrNotFound)
	}
	return nil
}

// PutSavedSearch inserts or replaces a saved search.
func (db *DB) PutSavedSearch(ctx context.Context, s store.SavedSearch) error {
	if s.ID == "" || s.Name == "" {
		return fmt.Errorf("cannot store saved search: %w: id and name are required", store.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO saved_searches (id, name, query, range_from, range_to, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, query = excluded.query, range_from = excluded.range_from,
			range_to = excluded.range_to, updated = excluded.updated`,
		s.ID, s.Name, s.Query, s.From, s.To, nanos(s.Created), nanos(s.Updated))
	if err != nil {
		return fmt.Errorf("cannot store saved search %s: %w", s.ID, translate(err))
	}
	return nil
}

const savedSearchColumns = `id, name, query, range_from, range_to, created, updated`

func scanSavedSearch(row interface{ Scan(...any) error }) (store.SavedSearch, error) {
	var (
		s                store.SavedSearch
		created, updated int64
	)
	if err := row.Scan(&s.ID, &s.Name, &s.Query, &s.From, &s.To, &created, &updated); err != nil {
		return s, translate(err)
	}
	s.Created, s.Updated = fromNanos(created), fromNanos(updated)
	return s, nil
}

// SavedSearch returns one saved search, or ErrNotFound.
func (db *DB) SavedSearch(ctx context.Context, id string) (store.SavedSearch, error) {
	s, err := scanSavedSearch(db.pool.QueryRow(ctx, `SELECT `+savedSearchColumns+` FROM saved_searches WHERE id = $1`, id))
	if err != nil {
		return s, fmt.Errorf("cannot load saved search %q: %w", id, err)
	}
	return s, nil
}

// SavedSearches returns every saved search by name.
func (db *DB) SavedSearches(ctx context.Context) ([]store.SavedSearch, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+savedSearchColumns+` FROM saved_searches ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("cannot list saved searches: %w", translate(err))
	}
	defer rows.Close()
	var out []store.SavedSearch
	for rows.Next() {
		s, err := scanSavedSearch(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list saved searches: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list saved searches: %w", translate(err))
	}
	return out, nil
}

// DeleteSavedSearch deletes one saved search, or returns ErrNotFound.
func (db *DB) DeleteSavedSearch(ctx context.Context, id string) error {
	return db.deleteByID(ctx, "saved_searches", "saved search", id)
}

// CreateShare stores a new share link.
func (db *DB) CreateShare(ctx context.Context, s store.Share) error {
	if s.ID == "" || len(s.TokenHash) == 0 || s.Kind == "" {
		return fmt.Errorf("cannot store share: %w: id, token hash and kind are required", store.ErrInvalid)
	}
	var snap any
	if s.Snapshot != nil {
		snap = []byte(s.Snapshot)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO shares (id, token_hash, kind, target, title, range_from, range_to, expires, created, revoked, snapshot)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		s.ID, s.TokenHash, s.Kind, s.Target, s.Title, s.From, s.To, nanos(s.Expires), nanos(s.Created), nanos(s.Revoked), snap)
	if err != nil {
		return fmt.Errorf("cannot store share %s: %w", s.ID, translate(err))
	}
	return nil
}

const shareColumns = `id, token_hash, kind, target, title, range_from, range_to, expires, created, revoked`

func scanShare(row interface{ Scan(...any) error }, extra ...any) (store.Share, error) {
	var (
		s                         store.Share
		expires, created, revoked int64
	)
	dest := append([]any{&s.ID, &s.TokenHash, &s.Kind, &s.Target, &s.Title, &s.From, &s.To, &expires, &created, &revoked}, extra...)
	if err := row.Scan(dest...); err != nil {
		return s, translate(err)
	}
	s.Expires, s.Created, s.Revoked = fromNanos(expires), fromNanos(created), fromNanos(revoked)
	return s, nil
}

// ShareByTokenHash returns the share with that token hash, or ErrNotFound.
func (db *DB) ShareByTokenHash(ctx context.Context, hash []byte) (store.Share, error) {
	var snap []byte
	s, err := scanShare(db.pool.QueryRow(ctx, `SELECT `+shareColumns+`, snapshot FROM shares WHERE token_hash = $1`, hash), &snap)
	if err != nil {
		return s, fmt.Errorf("cannot load share: %w", err)
	}
	s.Snapshot = snap
	return s, nil
}

// Shares returns every share, newest first.
func (db *DB) Shares(ctx context.Context) ([]store.Share, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+shareColumns+` FROM shares ORDER BY created DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("cannot list shares: %w", translate(err))
	}
	defer rows.Close()
	var out []store.Share
	for rows.Next() {
		s, err := scanShare(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list shares: %w", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list shares: %w", translate(err))
	}
	return out, nil
}

// RevokeShare marks a share revoked.
func (db *DB) RevokeShare(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE shares SET revoked = CASE WHEN revoked = 0 THEN $1 ELSE revoked END WHERE id = $2`, nanos(at), id)
	if err != nil {
		return fmt.Errorf("cannot revoke share %q: %w", id, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot revoke share %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// LogShareEvent appends to the share audit log.
func (db *DB) LogShareEvent(ctx context.Context, e store.ShareEvent) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO share_events (time, share_id, action, detail) VALUES ($1, $2, $3, $4)`,
		nanos(e.Time), e.ShareID, e.Action, e.Detail); err != nil {
		return fmt.Errorf("cannot log share event: %w", translate(err))
	}
	return nil
}

// ShareEvents returns the newest audit events first.
func (db *DB) ShareEvents(ctx context.Context, limit int) ([]store.ShareEvent, error) {
	if limit <= 0 || limit > 10000 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT time, share_id, action, detail FROM share_events ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot list share events: %w", translate(err))
	}
	defer rows.Close()
	var out []store.ShareEvent
	for rows.Next() {
		var (
			e store.ShareEvent
			t int64
		)
		if err := rows.Scan(&t, &e.ShareID, &e.Action, &e.Detail); err != nil {
			return nil, fmt.Errorf("cannot list share events: %w", translate(err))
		}
		e.Time = fromNanos(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list share events: %w", translate(err))
	}
	return out, nil
}
