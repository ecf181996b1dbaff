package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Snapshot is a read-only, consistent view of a SQLite store's tables, for
// copying the store elsewhere (blocktorch export): every read sees the
// database as it was when the snapshot was opened, whatever a server
// writes meanwhile, and nothing is ever written to the file.
type Snapshot struct {
	path    string
	db      *sql.DB
	tx      *sql.Tx
	version int
}

// TableKind says what a table of a SQLite store's schema is.
type TableKind int

const (
	// DataTable is a table the store's migrations created.
	DataTable TableKind = iota
	// VirtualTable is a virtual table (the records' full-text index).
	VirtualTable
	// ShadowTable is a table SQLite keeps for a virtual table.
	ShadowTable
	// InternalTable is SQLite's own (sqlite_sequence, sqlite_stat1).
	InternalTable
)

// Table is one table of a snapshot, with its columns in schema order and
// its row count in the snapshot.
type Table struct {
	Name    string
	Kind    TableKind
	Columns []string
	Rows    int64
	// notNull holds the columns declared NOT NULL.
	notNull map[string]bool
}

// OpenSnapshot opens the SQLite store at path read-only and begins its
// snapshot. It refuses a file that does not exist, is not a SQLite
// database, is not a blocktorch store, or whose schema is not the one this
// program's migrations make (newer: written by a newer blocktorch; older:
// to be upgraded first with "blocktorch migrate schema"), so that a copy
// is always of a known schema.
func OpenSnapshot(ctx context.Context, path string) (*Snapshot, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open sqlite store %q: %w", path, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no SQLite store at %s: the file does not exist", abs)
	case err != nil:
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	case fi.IsDir():
		return nil, fmt.Errorf("%s is a directory, not a SQLite store (a data directory holds blocktorch.db)", abs)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "query_only(1)")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("cannot open sqlite store %s: %w", abs, err)
	}
	db.SetMaxOpenConns(1)
	s := &Snapshot{path: abs, db: db}
	if err := s.begin(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Snapshot) begin(ctx context.Context) error {
	var err error
	if s.tx, err = s.db.BeginTx(ctx, nil); err != nil {
		return fmt.Errorf("cannot read %s: %w", s.path, err)
	}
	// The first read starts the snapshot; this one also says whether the
	// file is a SQLite database and a blocktorch store.
	var n int
	err = s.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'settings')`).Scan(&n)
	if err != nil {
		if strings.Contains(err.Error(), "not a database") {
			return fmt.Errorf("%s is not a SQLite database", s.path)
		}
		return fmt.Errorf("cannot read %s: %w", s.path, err)
	}
	if n != 2 {
		return fmt.Errorf("%s is a SQLite database but not a blocktorch store (it has no schema_migrations and settings tables)", s.path)
	}
	if err := s.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&s.version); err != nil {
		return fmt.Errorf("cannot read the schema version of %s: %w", s.path, err)
	}
	ms, err := migrations()
	if err != nil {
		return err
	}
	switch {
	case s.version > len(ms):
		return fmt.Errorf("%s was written by a newer blocktorch (schema version %d; this one knows %d): use that version", s.path, s.version, len(ms))
	case s.version < len(ms):
		return fmt.Errorf("%s is at schema version %d, older than this blocktorch's %d: upgrade it first with: blocktorch migrate schema --db sqlite:%s", s.path, s.version, len(ms), s.path)
	}
	return nil
}

// Path is the store's file.
func (s *Snapshot) Path() string { return s.path }

// SchemaVersion is the newest migration applied to the store.
func (s *Snapshot) SchemaVersion() int { return s.version }

// Tables lists every table of the store's schema by name, with its kind,
// columns and rows.
func (s *Snapshot) Tables(ctx context.Context) ([]Table, error) {
	rows, err := s.tx.QueryContext(ctx, `SELECT name, COALESCE(sql, '') FROM sqlite_schema WHERE type = 'table' ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("cannot list the tables of %s: %w", s.path, err)
	}
	var ts []Table
	virtual := map[string]bool{}
	for rows.Next() {
		var t Table
		var ddl string
		if err := rows.Scan(&t.Name, &ddl); err != nil {
			rows.Close()
			return nil, fmt.Errorf("cannot list the tables of %s: %w", s.path, err)
		}
		switch {
		case strings.HasPrefix(t.Name, "sqlite_"):
			t.Kind = InternalTable
		case strings.HasPrefix(strings.ToUpper(ddl), "CREATE VIRTUAL TABLE"):
			t.Kind = VirtualTable
			virtual[t.Name] = true
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the tables of %s: %w", s.path, err)
	}
	for i := range ts {
		t := &ts[i]
		if t.Kind == DataTable {
			for v := range virtual {
				if strings.HasPrefix(t.Name, v+"_") {
					t.Kind = ShadowTable
				}
			}
		}
		if t.Kind == VirtualTable {
			// A contentless full-text table has no columns to read back.
			continue
		}
		if err := s.describe(ctx, t); err != nil {
			return nil, err
		}
	}
	return ts, nil
}

func (s *Snapshot) describe(ctx context.Context, t *Table) error {
	rows, err := s.tx.QueryContext(ctx, `SELECT name, "notnull" OR pk > 0 FROM pragma_table_info(?) ORDER BY cid`, t.Name)
	if err != nil {
		return fmt.Errorf("cannot read the columns of %s: %w", t.Name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var notNull bool
		if err := rows.Scan(&c, &notNull); err != nil {
			return fmt.Errorf("cannot read the columns of %s: %w", t.Name, err)
		}
		t.Columns = append(t.Columns, c)
		if notNull {
			if t.notNull == nil {
				t.notNull = map[string]bool{}
			}
			t.notNull[c] = true
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot read the columns of %s: %w", t.Name, err)
	}
	// The name comes from the schema itself, quoted as an identifier.
	if err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM `+ident(t.Name)).Scan(&t.Rows); err != nil {
		return fmt.Errorf("cannot count the rows of %s: %w", t.Name, err)
	}
	return nil
}

// Rows reads the given columns of every row of table t, in the snapshot.
// Values are what the driver returns: int64, float64, string, []byte or
// nil (NULL). Close the iterator when done.
func (s *Snapshot) Rows(ctx context.Context, t Table, cols []string) (*RowIter, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("cannot read %s: no columns", t.Name)
	}
	qs := make([]string, len(cols))
	notNull := make([]bool, len(cols))
	for i, c := range cols {
		qs[i] = ident(c)
		notNull[i] = t.notNull[c]
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT `+strings.Join(qs, ", ")+` FROM `+ident(t.Name))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", t.Name, err)
	}
	it := &RowIter{table: t.Name, rows: rows, notNull: notNull, vals: make([]any, len(cols)), ptrs: make([]any, len(cols))}
	for i := range it.vals {
		it.ptrs[i] = &it.vals[i]
	}
	return it, nil
}

// Sequences returns the highest id each AUTOINCREMENT table has ever
// handed out (sqlite_sequence), by table: ids of deleted rows included,
// which a copy must not hand out again.
func (s *Snapshot) Sequences(ctx context.Context) (map[string]int64, error) {
	seqs := map[string]int64{}
	var n int
	if err := s.tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_sequence'`).Scan(&n); err != nil || n == 0 {
		return seqs, err
	}
	rows, err := s.tx.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err != nil {
		return nil, fmt.Errorf("cannot read sqlite_sequence: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, fmt.Errorf("cannot read sqlite_sequence: %w", err)
		}
		seqs[name] = seq
	}
	return seqs, rows.Err()
}

// Close ends the snapshot and closes the file.
func (s *Snapshot) Close() error {
	if s.tx != nil {
		s.tx.Rollback()
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("cannot close %s: %w", s.path, err)
	}
	return nil
}

// RowIter reads the rows of one table. It is not safe for concurrent use.
type RowIter struct {
	table   string
	rows    *sql.Rows
	notNull []bool
	vals    []any
	ptrs    []any
}

// Next returns the next row's values, nil after the last. The slice is
// reused by the next call.
func (it *RowIter) Next() ([]any, error) {
	if !it.rows.Next() {
		if err := it.rows.Err(); err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", it.table, err)
		}
		return nil, nil
	}
	clear(it.vals)
	if err := it.rows.Scan(it.ptrs...); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", it.table, err)
	}
	for i, v := range it.vals {
		// The driver reads an empty BLOB as a nil []byte, which is not
		// NULL; in a NOT NULL column, nothing else can be nil.
		if b, ok := v.([]byte); (ok && b == nil) || (v == nil && it.notNull[i]) {
			it.vals[i] = []byte{}
		}
	}
	return it.vals, nil
}

// Close ends the read.
func (it *RowIter) Close() error { return it.rows.Close() }

// ident quotes a name as an SQL identifier.
func ident(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }
