package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/jackc/pgx/v5"
)

var (
	_ store.IncidentStore        = (*DB)(nil)
	_ store.FlagStore            = (*DB)(nil)
	_ store.StatusComponentStore = (*DB)(nil)
)

// Times in the incident tables are Unix nanoseconds, like the monitor
// tables': a timeline orders entries made within the same second.

const incidentColumns = `id, title, severity, status, owner, summary, contracts, services, channels,
	public, public_title, banner, source, source_ref, started, resolved, created, updated, postmortem`

func jsonList(ss []string) string {
	if ss == nil {
		ss = []string{}
	}
	b, _ := json.Marshal(ss)
	return string(b)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func incidentArgs(inc store.Incident) []any {
	return []any{inc.Title, inc.Severity, inc.Status, inc.Owner, inc.Summary,
		jsonList(inc.Contracts), jsonList(inc.Services), jsonList(inc.Channels),
		boolInt(inc.Public), inc.PublicTitle, inc.Banner, inc.Source, inc.SourceRef,
		unixNano(inc.Started), unixNano(inc.Resolved), unixNano(inc.Created), unixNano(inc.Updated),
		string(inc.Postmortem)}
}

type scanner interface{ Scan(dest ...any) error }

func scanIncident(s scanner) (store.Incident, error) {
	var (
		inc                                 store.Incident
		contracts, services, channels, pm   string
		public                              int
		started, resolved, created, updated int64
	)
	if err := s.Scan(&inc.ID, &inc.Title, &inc.Severity, &inc.Status, &inc.Owner, &inc.Summary,
		&contracts, &services, &channels, &public, &inc.PublicTitle, &inc.Banner, &inc.Source, &inc.SourceRef,
		&started, &resolved, &created, &updated, &pm); err != nil {
		return store.Incident{}, translate(err)
	}
	for _, l := range []struct {
		src string
		dst *[]string
	}{{contracts, &inc.Contracts}, {services, &inc.Services}, {channels, &inc.Channels}} {
		if err := json.Unmarshal([]byte(l.src), l.dst); err != nil {
			return store.Incident{}, fmt.Errorf("incident %d has a malformed list: %w", inc.ID, err)
		}
	}
	inc.Public = public != 0
	inc.Started, inc.Resolved = fromUnixNano(started), fromUnixNano(resolved)
	inc.Created, inc.Updated = fromUnixNano(created), fromUnixNano(updated)
	if pm != "" {
		inc.Postmortem = []byte(pm)
	}
	return inc, nil
}

// CreateIncident stores a new incident and returns it with its ID.
func (db *DB) CreateIncident(ctx context.Context, inc store.Incident) (store.Incident, error) {
	err := db.pool.QueryRow(ctx, `INSERT INTO incidents (title, severity, status, owner, summary,
		contracts, services, channels, public, public_title, banner, source, source_ref, started, resolved,
		created, updated, postmortem) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
		RETURNING id`, incidentArgs(inc)...).Scan(&inc.ID)
	if err != nil {
		return store.Incident{}, fmt.Errorf("cannot store incident %q: %w", inc.Title, translate(err))
	}
	return inc, nil
}

// UpdateIncident replaces the stored incident with inc.ID.
func (db *DB) UpdateIncident(ctx context.Context, inc store.Incident) error {
	tag, err := db.pool.Exec(ctx, `UPDATE incidents SET title = $1, severity = $2, status = $3, owner = $4,
		summary = $5, contracts = $6, services = $7, channels = $8, public = $9, public_title = $10, banner = $11,
		source = $12, source_ref = $13, started = $14, resolved = $15, created = $16, updated = $17, postmortem = $18
		WHERE id = $19`, append(incidentArgs(inc), inc.ID)...)
	if err != nil {
		return fmt.Errorf("cannot update incident %d: %w", inc.ID, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot update incident %d: %w", inc.ID, store.ErrNotFound)
	}
	return nil
}

// Incident returns one incident.
func (db *DB) Incident(ctx context.Context, id int64) (store.Incident, error) {
	inc, err := scanIncident(db.pool.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if err != nil {
		return store.Incident{}, fmt.Errorf("cannot load incident %d: %w", id, err)
	}
	return inc, nil
}

// Incidents returns the incidents q selects, newest first.
func (db *DB) Incidents(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	limit := q.Limit
	switch {
	case limit < 0:
		return nil, fmt.Errorf("cannot list incidents: %w: negative limit", store.ErrInvalid)
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	rows, err := db.pool.Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE ($1 = 0 OR resolved = 0) AND ($2 = 0 OR public = 1) ORDER BY id DESC LIMIT $3`,
		boolInt(q.Open), boolInt(q.Public), limit)
	if err != nil {
		return nil, fmt.Errorf("cannot list incidents: %w", translate(err))
	}
	defer rows.Close()
	out := []store.Incident{}
	for rows.Next() {
		inc, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot list incidents: %w", err)
		}
		out = append(out, inc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list incidents: %w", translate(err))
	}
	return out, nil
}

const entryColumns = `id, incident_id, time, kind, text, link, author, public, notify, ref`

func scanEntry(s scanner) (store.IncidentEntry, error) {
	var (
		e              store.IncidentEntry
		t              int64
		public, notify int
		ref            sql.NullString
	)
	if err := s.Scan(&e.ID, &e.IncidentID, &t, &e.Kind, &e.Text, &e.Link, &e.Author, &public, &notify, &ref); err != nil {
		return store.IncidentEntry{}, translate(err)
	}
	e.Time, e.Public, e.Notify, e.Ref = fromUnixNano(t), public != 0, notify != 0, ref.String
	return e, nil
}

// AddIncidentEntry appends an entry to an incident's timeline.
func (db *DB) AddIncidentEntry(ctx context.Context, e store.IncidentEntry) (store.IncidentEntry, error) {
	var ref any
	if e.Ref != "" {
		ref = e.Ref
	}
	var out store.IncidentEntry
	err := db.monitorTx(ctx, func(tx pgx.Tx) error {
		// The incident's row lock orders concurrent entries, so the check
		// for the same Ref below is final.
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM incidents WHERE id = $1 FOR UPDATE`, e.IncidentID).Scan(&one); err != nil {
			return translate(err)
		}
		if ref != nil {
			old, err := scanEntry(tx.QueryRow(ctx, `SELECT `+entryColumns+` FROM incident_entries
				WHERE incident_id = $1 AND ref = $2`, e.IncidentID, ref))
			if err == nil {
				out = old
				return fmt.Errorf("%w: %q is already in the timeline", store.ErrConflict, e.Ref)
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		err := tx.QueryRow(ctx, `INSERT INTO incident_entries (incident_id, time, kind, text, link, author,
			public, notify, ref) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`, e.IncidentID, unixNano(e.Time), e.Kind, e.Text,
			e.Link, e.Author, boolInt(e.Public), boolInt(e.Notify), ref).Scan(&e.ID)
		if err != nil {
			return translate(err)
		}
		out = e
		return nil
	})
	if err != nil {
		return out, fmt.Errorf("cannot add to the timeline of incident %d: %w", e.IncidentID, err)
	}
	return out, nil
}

// IncidentEntries returns an incident's timeline, oldest first.
func (db *DB) IncidentEntries(ctx context.Context, incidentID int64) ([]store.IncidentEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+entryColumns+` FROM incident_entries
		WHERE incident_id = $1 ORDER BY time, id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("cannot read the timeline of incident %d: %w", incidentID, translate(err))
	}
	defer rows.Close()
	out := []store.IncidentEntry{}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("cannot read the timeline of incident %d: %w", incidentID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot read the timeline of incident %d: %w", incidentID, translate(err))
	}
	return out, nil
}

// IncidentTemplate returns the stored template with that name.
func (db *DB) IncidentTemplate(ctx context.Context, name string) (string, error) {
	var body string
	if err := db.pool.QueryRow(ctx, `SELECT body FROM incident_templates WHERE name = $1`, name).Scan(&body); err != nil {
		return "", fmt.Errorf("cannot load template %q: %w", name, translate(err))
	}
	return body, nil
}

// PutIncidentTemplate stores a template; an empty body deletes it.
func (db *DB) PutIncidentTemplate(ctx context.Context, name, body string) error {
	var err error
	if body == "" {
		_, err = db.pool.Exec(ctx, `DELETE FROM incident_templates WHERE name = $1`, name)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO incident_templates (name, body, updated) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO UPDATE SET body = excluded.body, updated = excluded.updated`,
			name, body, time.Now().UnixNano())
	}
	if err != nil {
		return fmt.Errorf("cannot store template %q: %w", name, translate(err))
	}
	return nil
}

// LogIncidentAudit appends to the audit log.
func (db *DB) LogIncidentAudit(ctx context.Context, a store.IncidentAudit) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO incident_audit (time, actor, action, target, detail)
		VALUES ($1, $2, $3, $4, $5)`, unixNano(a.Time), a.Actor, a.Action, a.Target, a.Detail); err != nil {
		return fmt.Errorf("cannot write the incident audit log: %w", translate(err))
	}
	return nil
}

// IncidentAuditLog returns the newest limit lines, newest first.
func (db *DB) IncidentAuditLog(ctx context.Context, limit int) ([]store.IncidentAudit, error) {
	switch {
	case limit < 0:
		return nil, fmt.Errorf("cannot read the incident audit log: %w: negative limit", store.ErrInvalid)
	case limit == 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	rows, err := db.pool.Query(ctx, `SELECT time, actor, action, target, detail FROM incident_audit
		ORDER BY id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("cannot read the incident audit log: %w", translate(err))
	}
	defer rows.Close()
	out := []store.IncidentAudit{}
	for rows.Next() {
		var (
			a store.IncidentAudit
			t int64
		)
		if err := rows.Scan(&t, &a.Actor, &a.Action, &a.Target, &a.Detail); err != nil {
			return nil, fmt.Errorf("cannot read the incident audit log: %w", translate(err))
		}
		a.Time = fromUnixNano(t)
		out = append(out, a)
	}
	return out, translate(rows.Err())
}

// PutFlag inserts or replaces a flag.
func (db *DB) PutFlag(ctx context.Context, f store.Flag) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO flags (deployment, name, enabled, percent, description,
		updated, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (deployment, name) DO UPDATE SET enabled = excluded.enabled, percent = excluded.percent,
		description = excluded.description, updated = excluded.updated, updated_by = excluded.updated_by`,
		f.Deployment, f.Name, boolInt(f.Enabled), f.Percent, f.Description, unixNano(f.Updated), f.UpdatedBy); err != nil {
		return fmt.Errorf("cannot store flag %s/%s: %w", f.Deployment, f.Name, translate(err))
	}
	return nil
}

// DeleteFlag deletes a flag.
func (db *DB) DeleteFlag(ctx context.Context, deployment, name string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM flags WHERE deployment = $1 AND name = $2`, deployment, name)
	if err != nil {
		return fmt.Errorf("cannot delete flag %s/%s: %w", deployment, name, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot delete flag %s/%s: %w", deployment, name, store.ErrNotFound)
	}
	return nil
}

// Flags returns a deployment's flags ("" every deployment's).
func (db *DB) Flags(ctx context.Context, deployment string) ([]store.Flag, error) {
	rows, err := db.pool.Query(ctx, `SELECT deployment, name, enabled, percent, description, updated,
		updated_by FROM flags WHERE $1 = '' OR deployment = $2 ORDER BY deployment, name`, deployment, deployment)
	if err != nil {
		return nil, fmt.Errorf("cannot list flags: %w", translate(err))
	}
	defer rows.Close()
	out := []store.Flag{}
	for rows.Next() {
		var (
			f       store.Flag
			enabled int
			updated int64
		)
		if err := rows.Scan(&f.Deployment, &f.Name, &enabled, &f.Percent, &f.Description, &updated, &f.UpdatedBy); err != nil {
			return nil, fmt.Errorf("cannot list flags: %w", translate(err))
		}
		f.Enabled, f.Updated = enabled != 0, fromUnixNano(updated)
		out = append(out, f)
	}
	return out, translate(rows.Err())
}

// PutStatusComponent inserts or replaces a status page component.
func (db *DB) PutStatusComponent(ctx context.Context, c store.StatusComponent) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO status_components (id, name, kind, ref, position, status)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET name = excluded.name, kind = excluded.kind,
		ref = excluded.ref, position = excluded.position, status = excluded.status`, c.ID, c.Name, c.Kind, c.Ref, c.Position, c.Status); err != nil {
		return fmt.Errorf("cannot store status component %s: %w", c.ID, translate(err))
	}
	return nil
}

// DeleteStatusComponent deletes a status page component.
func (db *DB) DeleteStatusComponent(ctx context.Context, id string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM status_components WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("cannot delete status component %s: %w", id, translate(err))
	}
	if n := tag.RowsAffected(); n == 0 {
		return fmt.Errorf("cannot delete status component %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// StatusComponents returns every component by position, then ID.
func (db *DB) StatusComponents(ctx context.Context) ([]store.StatusComponent, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, kind, ref, position, status FROM status_components
		ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("cannot list status components: %w", translate(err))
	}
	defer rows.Close()
	out := []store.StatusComponent{}
	for rows.Next() {
		var c store.StatusComponent
		if err := rows.Scan(&c.ID, &c.Name, &c.Kind, &c.Ref, &c.Position, &c.Status); err != nil {
			return nil, fmt.Errorf("cannot list status components: %w", translate(err))
		}
		out = append(out, c)
	}
	return out, translate(rows.Err())
}
