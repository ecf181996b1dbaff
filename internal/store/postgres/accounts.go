package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.AccountStore = (*DB)(nil)

const userColumns = `id, name, role, password_hash, disabled, created, updated`

func scanUser(sc interface{ Scan(...any) error }) (store.User, error) {
	var u store.User
	var disabled int
	var created, updated int64
	if err := sc.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &disabled, &created, &updated); err != nil {
		return u, err
	}
	u.Disabled = disabled != 0
	u.Created, u.Updated = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return u, nil
}

func fromMicros(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// nullID is id, NULL for 0.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// CreateUser stores u.
func (db *DB) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	err := db.pool.QueryRow(ctx, `INSERT INTO users (name, role, password_hash, disabled, created, updated)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, u.Name, u.Role, u.PasswordHash, boolInt(u.Disabled),
		u.Created.UnixMicro(), u.Updated.UnixMicro()).Scan(&u.ID)
	if err != nil {
		return store.User{}, fmt.Errorf("cannot create user %q: %w", u.Name, translate(err))
	}
	u.Created, u.Updated = time.UnixMicro(u.Created.UnixMicro()).UTC(), time.UnixMicro(u.Updated.UnixMicro()).UTC()
	return u, nil
}

// User returns the user with id.
func (db *DB) User(ctx context.Context, id int64) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return store.User{}, fmt.Errorf("user %d: %w", id, translate(err))
	}
	return u, nil
}

// UserByName returns the user named name.
func (db *DB) UserByName(ctx context.Context, name string) (store.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE name = $1`, name))
	if err != nil {
		return store.User{}, fmt.Errorf("user %q: %w", name, translate(err))
	}
	return u, nil
}

// Users lists the users by name.
func (db *DB) Users(ctx context.Context) ([]store.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("cannot list users: %w", translate(err))
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list users: %w", translate(err))
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list users: %w", translate(err))
	}
	return out, nil
}

// CountUsers counts the users.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("cannot count users: %w", translate(err))
	}
	return n, nil
}

// UpdateUser writes u's role, password hash, disabled flag and time.
func (db *DB) UpdateUser(ctx context.Context, u store.User) error {
	res, err := db.pool.Exec(ctx, `UPDATE users SET role = $1, password_hash = $2, disabled = $3, updated = $4 WHERE id = $5`,
		u.Role, u.PasswordHash, boolInt(u.Disabled), u.Updated.UnixMicro(), u.ID)
	if err != nil {
		return fmt.Errorf("cannot update user %d: %w", u.ID, translate(err))
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("user %d: %w", u.ID, store.ErrNotFound)
	}
	return nil
}

// SetSetupToken gives user id a setup token.
func (db *DB) SetSetupToken(ctx context.Context, id int64, hash [32]byte, expires time.Time) error {
	res, err := db.pool.Exec(ctx, `UPDATE users SET setup_hash = $1, setup_expires = $2 WHERE id = $3`, hash[:], expires.UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("cannot store a setup token: %w", translate(err))
	}
	if res.RowsAffected() == 0 {
		return fmt.Errorf("user %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// UseSetupToken spends a live setup token, setting the password hash.
func (db *DB) UseSetupToken(ctx context.Context, hash [32]byte, now time.Time, passwordHash string) (store.User, error) {
	var u store.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `UPDATE users SET password_hash = $1, setup_hash = NULL, setup_expires = NULL, updated = $2
			WHERE setup_hash = $3 AND setup_expires > $4 RETURNING id`, passwordHash, now.UnixMicro(), hash[:], now.UnixMicro()).Scan(&id); err != nil {
			return err
		}
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return store.User{}, fmt.Errorf("setup token: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("cannot use a setup token: %w", translate(err))
	}
	return u, nil
}

const keyColumns = `id, name, hash, prefix, scopes, user_id, created, last_used, revoked`

func scanKey(sc interface{ Scan(...any) error }) (store.APIKey, error) {
	var k store.APIKey
	var hash []byte
	var scopes string
	var user, lastUsed, revoked sql.NullInt64
	var created int64
	if err := sc.Scan(&k.ID, &k.Name, &hash, &k.Prefix, &scopes, &user, &created, &lastUsed, &revoked); err != nil {
		return k, err
	}
	copy(k.Hash[:], hash)
	k.Scopes = splitScopes(scopes)
	k.UserID = user.Int64
	k.Created, k.LastUsed, k.Revoked = time.UnixMicro(created).UTC(), fromMicros(lastUsed), fromMicros(revoked)
	return k, nil
}

func splitScopes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateAPIKey stores k.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) (store.APIKey, error) {
	err := db.pool.QueryRow(ctx, `INSERT INTO api_keys (name, hash, prefix, scopes, user_id, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, k.Name, k.Hash[:], k.Prefix, strings.Join(k.Scopes, ","), nullID(k.UserID),
		k.Created.UnixMicro()).Scan(&k.ID)
	if err != nil {
		return store.APIKey{}, fmt.Errorf("cannot create API key %q: %w", k.Name, translate(err))
	}
	k.Created = time.UnixMicro(k.Created.UnixMicro()).UTC()
	k.LastUsed, k.Revoked = time.Time{}, time.Time{}
	return k, nil
}

// APIKeyByHash returns the key whose secret hashes to hash.
func (db *DB) APIKeyByHash(ctx context.Context, hash [32]byte) (store.APIKey, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = $1`, hash[:]))
	if err != nil {
		return store.APIKey{}, fmt.Errorf("API key: %w", translate(err))
	}
	return k, nil
}

// APIKeys lists the keys, newest first.
func (db *DB) APIKeys(ctx context.Context) ([]store.APIKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("cannot list API keys: %w", translate(err))
	}
	defer rows.Close()
	out := []store.APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list API keys: %w", translate(err))
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list API keys: %w", translate(err))
	}
	return out, nil
}

// RevokeAPIKey revokes key id.
func (db *DB) RevokeAPIKey(ctx context.Context, id int64, at time.Time) (store.APIKey, error) {
	var k store.APIKey
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE api_keys SET revoked = $1 WHERE id = $2 AND revoked IS NULL`, at.UnixMicro(), id); err != nil {
			return err
		}
		var err error
		k, err = scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id))
		return err
	})
	if err != nil {
		return store.APIKey{}, fmt.Errorf("cannot revoke API key %d: %w", id, translate(err))
	}
	return k, nil
}

// TouchAPIKey records a use of key id.
func (db *DB) TouchAPIKey(ctx context.Context, id int64, at time.Time) error {
	if _, err := db.pool.Exec(ctx, `UPDATE api_keys SET last_used = $1 WHERE id = $2 AND (last_used IS NULL OR last_used < $3)`,
		at.UnixMicro(), id, at.UnixMicro()); err != nil {
		return fmt.Errorf("cannot record the use of API key %d: %w", id, translate(err))
	}
	return nil
}

// CountLiveKeys counts the live keys with scope.
func (db *DB) CountLiveKeys(ctx context.Context, scope string) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM api_keys WHERE revoked IS NULL AND (',' || scopes || ',') LIKE $1`,
		"%,"+scope+",%").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("cannot count API keys: %w", translate(err))
	}
	return n, nil
}

// Session returns a live session.
func (db *DB) Session(ctx context.Context, hash [32]byte, now time.Time) (store.OperatorSession, error) {
	var created, expires int64
	var user sql.NullInt64
	err := db.pool.QueryRow(ctx, `SELECT created, expires, user_id FROM operator_sessions WHERE hash = $1 AND expires > $2`,
		hash[:], now.UnixMicro()).Scan(&created, &expires, &user)
	if err != nil {
		return store.OperatorSession{}, fmt.Errorf("session: %w", translate(err))
	}
	return store.OperatorSession{Hash: hash, Created: time.UnixMicro(created).UTC(), Expires: time.UnixMicro(expires).UTC(), UserID: user.Int64}, nil
}

// DeleteUserSessions ends the sessions of user id.
func (db *DB) DeleteUserSessions(ctx context.Context, id int64) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM operator_sessions WHERE user_id = $1`, id); err != nil {
		return fmt.Errorf("cannot end the sessions of user %d: %w", id, translate(err))
	}
	return nil
}

// AddAudit appends e.
func (db *DB) AddAudit(ctx context.Context, e store.AuditEvent) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO audit_events (at, actor, action, target, detail, client) VALUES ($1, $2, $3, $4, $5, $6)`,
		e.At.UnixMicro(), e.Actor, e.Action, e.Target, e.Detail, e.Client); err != nil {
		return fmt.Errorf("cannot write the audit log: %w", translate(err))
	}
	return nil
}

// Audit lists the newest events.
func (db *DB) Audit(ctx context.Context, limit int) ([]store.AuditEvent, error) {
	if limit < 1 {
		return nil, fmt.Errorf("cannot read the audit log: %w: the limit must be positive", store.ErrInvalid)
	}
	rows, err := db.pool.Query(ctx, `SELECT id, at, actor, action, target, detail, client FROM audit_events
		ORDER BY at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot read the audit log: %w", translate(err))
	}
	defer rows.Close()
	out := []store.AuditEvent{}
	for rows.Next() {
		var e store.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Client); err != nil {
			return nil, fmt.Errorf("cannot read the audit log: %w", translate(err))
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the audit log: %w", translate(err))
	}
	return out, nil
}
