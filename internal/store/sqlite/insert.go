package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// table describes a table that WriteBlocks inserts into.
type table struct {
	name string
	cols []string
	// rowsPerInsert is how many rows one INSERT carries, kept well under
	// SQLite's limit of 32766 parameters per statement.
	rowsPerInsert int
}

// insertSQL returns the INSERT statement for n rows. It is built from the
// table's fixed names only; values are always parameters.
func (t *table) insertSQL(n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.cols)), ", ") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO " + t.name + " (" + strings.Join(t.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// inserter buffers rows of one table within a transaction and inserts them
// rowsPerInsert at a time with a prepared statement.
type inserter struct {
	tx   *sql.Tx
	t    *table
	full *sql.Stmt // prepared on first use
	args []any
	rows int
}

func newInserter(tx *sql.Tx, t *table) *inserter {
	return &inserter{tx: tx, t: t, args: make([]any, 0, len(t.cols)*t.rowsPerInsert)}
}

// add buffers one row, inserting the buffer when it is full.
func (in *inserter) add(ctx context.Context, values ...any) error {
	if len(values) != len(in.t.cols) {
		return fmt.Errorf("BUG: %d values for the %d columns of %s", len(values), len(in.t.cols), in.t.name)
	}
	in.args = append(in.args, values...)
	in.rows++
	if in.rows < in.t.rowsPerInsert {
		return nil
	}
	if in.full == nil {
		stmt, err := in.tx.PrepareContext(ctx, in.t.insertSQL(in.t.rowsPerInsert))
		if err != nil {
			return fmt.Errorf("cannot prepare insert into %s: %w", in.t.name, translate(err))
		}
		in.full = stmt
	}
	if _, err := in.full.ExecContext(ctx, in.args...); err != nil {
		return fmt.Errorf("cannot insert into %s: %w", in.t.name, translate(err))
	}
	in.reset()
	return nil
}

// flush inserts the rows still buffered.
func (in *inserter) flush(ctx context.Context) error {
	if in.rows == 0 {
		return nil
	}
	if _, err := in.tx.ExecContext(ctx, in.t.insertSQL(in.rows), in.args...); err != nil {
		return fmt.Errorf("cannot insert into %s: %w", in.t.name, translate(err))
	}
	in.reset()
	return nil
}

func (in *inserter) reset() {
	clear(in.args) // drop references to the batch's data
	in.args, in.rows = in.args[:0], 0
}

func (in *inserter) close() {
	if in.full != nil {
		in.full.Close()
	}
}
