package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Column is one column of a table of the store's schema.
type Column struct {
	Name string
	// Type is the column's data type as information_schema names it
	// (bigint, integer, text, bytea, double precision).
	Type string
}

// Tables returns the columns of every table of the store's schema, by
// table name, in column order. schema_migrations is left out: each store
// keeps its own.
func (db *DB) Tables(ctx context.Context) (map[string][]Column, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type IN ('BASE TABLE', 'PARTITIONED TABLE')
			AND c.table_name <> 'schema_migrations'
			AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = format('%I.%I', c.table_schema, c.table_name)::regclass)
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, fmt.Errorf("cannot list the tables: %w", translate(err))
	}
	defer rows.Close()
	ts := map[string][]Column{}
	for rows.Next() {
		var table string
		var c Column
		if err := rows.Scan(&table, &c.Name, &c.Type); err != nil {
			return nil, fmt.Errorf("cannot list the tables: %w", translate(err))
		}
		ts[table] = append(ts[table], c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("cannot list the tables: %w", translate(err))
	}
	return ts, nil
}

// seeded are the tables a new store already holds a row in (the counts of
// an empty chain, the cursor key Open makes), with the condition those
// rows meet: a table holding only such rows is empty, and an import
// replaces them with the copied ones.
var seeded = map[string]string{
	"chain_counts": "blocks = 0 AND txs = 0 AND logs = 0",
	"settings":     "name = 'cursor_key'",
}

// Import is a bulk copy into the store, in one transaction: until Commit,
// other sessions see none of it, and a copy that fails or is cancelled
// leaves the store as it was. It is not safe for concurrent use.
type Import struct {
	db     *DB
	tx     pgx.Tx
	tables map[string][]Column
	copied []string
	// Replaced counts the text values that PostgreSQL cannot hold (NUL
	// bytes, invalid UTF-8) and that were stored with U+FFFD in their
	// place, as the store's own writes do.
	Replaced int64
}

// BeginImport begins a copy into the given tables, which must be empty:
// it locks them against every other session until the import ends, then
// fails with an error wrapping store.ErrConflict, naming a table, when one
// holds data.
func (db *DB) BeginImport(ctx context.Context, tables []string) (*Import, error) {
	all, err := db.Tables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if _, ok := all[t]; !ok {
			return nil, fmt.Errorf("cannot import into %s: the store has no such table", t)
		}
	}
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot begin the import: %w", translate(err))
	}
	im := &Import{db: db, tx: tx, tables: all}
	if err := im.lock(ctx, tables); err != nil {
		tx.Rollback(context.Background())
		return nil, err
	}
	return im, nil
}

func (im *Import) lock(ctx context.Context, tables []string) error {
	if len(tables) == 0 {
		return nil
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t}.Sanitize()
	}
	if _, err := im.tx.Exec(ctx, `LOCK TABLE `+strings.Join(names, ", ")+` IN ACCESS EXCLUSIVE MODE`); err != nil {
		return fmt.Errorf("cannot lock the tables to import into: %w", translate(err))
	}
	for i, t := range tables {
		cond := "true"
		if c, ok := seeded[t]; ok {
			cond = "NOT (" + c + ")"
		}
		var full bool
		if err := im.tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+names[i]+` WHERE `+cond+`)`).Scan(&full); err != nil {
			return fmt.Errorf("cannot look into %s: %w", t, translate(err))
		}
		if full {
			return fmt.Errorf("%w: table %s already holds data", store.ErrConflict, t)
		}
		if _, ok := seeded[t]; ok {
			if _, err := im.tx.Exec(ctx, `DELETE FROM `+names[i]); err != nil {
				return fmt.Errorf("cannot empty %s: %w", t, translate(err))
			}
		}
	}
	return nil
}

// Copy copies rows into table's columns with COPY: next returns each row's
// values in the order of cols, and nil after the last. Values are
// converted to the columns' types: text to bytea and back, integers to
// double precision, and integral doubles to integers. It returns the
// number of rows copied.
func (im *Import) Copy(ctx context.Context, table string, cols []string, next func() ([]any, error)) (int64, error) {
	tcols, ok := im.tables[table]
	if !ok {
		return 0, fmt.Errorf("cannot import into %s: the store has no such table", table)
	}
	types := make([]string, len(cols))
	for i, c := range cols {
		j := slices.IndexFunc(tcols, func(tc Column) bool { return tc.Name == c })
		if j < 0 {
			return 0, fmt.Errorf("cannot import into %s: it has no column %s", table, c)
		}
		types[i] = tcols[j].Type
	}
	row := make([]any, len(cols))
	var convErr error
	src := pgx.CopyFromFunc(func() ([]any, error) {
		vals, err := next()
		if err != nil || vals == nil {
			return nil, err
		}
		if len(vals) != len(cols) {
			return nil, fmt.Errorf("BUG: a row of %d values for %d columns", len(vals), len(cols))
		}
		for i, v := range vals {
			if row[i], err = im.convert(v, types[i]); err != nil {
				convErr = fmt.Errorf("column %s: %w", cols[i], err)
				return nil, convErr
			}
		}
		return row, nil
	})
	n, err := im.tx.CopyFrom(ctx, pgx.Identifier{table}, cols, src)
	if err != nil {
		if convErr != nil {
			err = convErr
		}
		return n, fmt.Errorf("cannot copy into %s after %d rows: %w", table, n, translate(err))
	}
	im.copied = append(im.copied, table)
	return n, nil
}

// convert makes a value read from another store fit a column of type typ.
func (im *Import) convert(v any, typ string) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		switch typ {
		case "bytea":
			return []byte(x), nil
		case "text", "character varying":
			if t := text(x); t != x {
				im.Replaced++
				return t, nil
			}
			return x, nil
		}
	case []byte:
		switch typ {
		case "bytea":
			return x, nil
		case "text", "character varying":
			s := string(x)
			if t := text(s); t != s {
				im.Replaced++
				return t, nil
			}
			return s, nil
		}
	case int64:
		switch typ {
		case "bigint", "integer", "smallint":
			return x, nil
		case "double precision", "real", "numeric":
			return float64(x), nil
		case "text":
			return nil, fmt.Errorf("an integer (%d) for a text column", x)
		}
	case float64:
		switch typ {
		case "double precision", "real", "numeric":
			return x, nil
		case "bigint", "integer", "smallint":
			if x == math.Trunc(x) && math.Abs(x) < 1<<63 {
				return int64(x), nil
			}
			return nil, fmt.Errorf("a fraction (%v) for an integer column", x)
		}
	case bool:
		if typ == "bigint" || typ == "integer" || typ == "smallint" {
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		}
	}
	return nil, fmt.Errorf("a value of type %T for a %s column", v, typ)
}

// Commit sets every identity column's sequence of the copied tables past
// the highest id copied, and past floors[table] (the highest id the source
// ever handed out, deleted rows included), so that new rows get new ids;
// then it commits the copy.
func (im *Import) Commit(ctx context.Context, floors map[string]int64) error {
	defer im.tx.Rollback(context.Background())
	rows, err := im.tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')
		ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("cannot list the identity columns: %w", translate(err))
	}
	type idCol struct{ table, col string }
	var ids []idCol
	for rows.Next() {
		var c idCol
		if err := rows.Scan(&c.table, &c.col); err != nil {
			rows.Close()
			return fmt.Errorf("cannot list the identity columns: %w", translate(err))
		}
		if slices.Contains(im.copied, c.table) {
			ids = append(ids, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("cannot list the identity columns: %w", translate(err))
	}
	for _, c := range ids {
		var top int64
		q := `SELECT COALESCE(max(` + pgx.Identifier{c.col}.Sanitize() + `), 0) FROM ` + pgx.Identifier{c.table}.Sanitize()
		if err := im.tx.QueryRow(ctx, q).Scan(&top); err != nil {
			return fmt.Errorf("cannot read the highest id of %s: %w", c.table, translate(err))
		}
		top = max(top, floors[c.table])
		if top <= 0 {
			continue
		}
		if _, err := im.tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence(format('%I', $1::text), $2), $3, true)`, c.table, c.col, top); err != nil {
			return fmt.Errorf("cannot set the id sequence of %s: %w", c.table, translate(err))
		}
	}
	if err := im.tx.Commit(ctx); err != nil {
		return fmt.Errorf("cannot commit the import: %w", translate(err))
	}
	return nil
}

// Rollback abandons the import: the store is left as it was.
func (im *Import) Rollback() error {
	err := im.tx.Rollback(context.Background())
	if errors.Is(err, pgx.ErrTxClosed) {
		return nil
	}
	return err
}

// References returns, for every table of the store's schema that has
// foreign keys, the tables they reference: an import copies those first.
func (db *DB) References(ctx context.Context) (map[string][]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
		FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("cannot list the foreign keys: %w", translate(err))
	}
	defer rows.Close()
	refs := map[string][]string{}
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			return nil, fmt.Errorf("cannot list the foreign keys: %w", translate(err))
		}
		if from != to {
			refs[unquote(from)] = append(refs[unquote(from)], unquote(to))
		}
	}
	return refs, rows.Err()
}

// unquote turns a regclass's text (a name, quoted when it must be) back
// into the name.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}
