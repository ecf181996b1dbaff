package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// notExported are the tables of the SQLite schema that export leaves
// behind on purpose, and why. Every other table must have a table of the
// same name and columns in the PostgreSQL schema (exportPlan checks it),
// so that a table a migration adds cannot be skipped silently.
var notExported = map[string]string{
	"schema_migrations": "each store keeps its own schema version",
	"records":           "records belong to a records engine (blocktorch migrate records)",
}

// ExportOptions says how Export reports its progress.
type ExportOptions struct {
	// Progress receives the progress bar; nil draws none.
	Progress io.Writer
	// TTY redraws the bar in place; otherwise a line every few seconds
	// and one per table.
	TTY bool

	// onRows is called after each row copied (tests).
	onRows func(table string, done int64)
}

// ExportedTable is one table Export copied.
type ExportedTable struct {
	Name string
	Rows int64
}

// ExportResult is what Export did.
type ExportResult struct {
	// Target is the PostgreSQL database, without its password.
	Target string
	// SchemaVersion is the source's.
	SchemaVersion int
	Tables        []ExportedTable
	Rows          int64
	// Records is how many records the source holds, which export does
	// not copy.
	Records int64
	// Replaced counts text values PostgreSQL cannot hold (NUL bytes,
	// invalid UTF-8), stored with U+FFFD in their place.
	Replaced int64
	Elapsed  time.Duration
}

// Export copies every relational table of the SQLite store that from
// names ("sqlite:PATH" or a path) into the PostgreSQL database that to
// names (postgres://…), which is migrated first and must hold no data. The
// copy reads one snapshot of the source, which it never writes to, and is
// one transaction on the target: an export that fails or is cancelled
// leaves the target as empty as it found it, so running it again starts
// over. Identity sequences are set past the copied ids. Records (search
// data) are not copied: they belong to a records engine.
func Export(ctx context.Context, from, to string, opt ExportOptions) (ExportResult, error) {
	start := time.Now()
	var res ExportResult
	src := config.Config{DB: from}
	path, err := src.SQLitePath()
	if err != nil {
		return res, fmt.Errorf("the source: %w", err)
	}
	dst := config.Config{DB: to}
	dsn, ok := dst.PostgresDSN()
	if !ok {
		return res, errors.New("--to: want a postgres://USER@HOST:5432/DB URL")
	}
	res.Target = redactDSN(dsn)

	snap, err := sqlite.OpenSnapshot(ctx, path)
	if err != nil {
		return res, err
	}
	defer snap.Close()
	res.SchemaVersion = snap.SchemaVersion()
	tables, err := snap.Tables(ctx)
	if err != nil {
		return res, err
	}
	floors, err := snap.Sequences(ctx)
	if err != nil {
		return res, err
	}
	for _, t := range tables {
		if t.Name == "records" {
			res.Records = t.Rows
		}
	}

	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		return res, fmt.Errorf("the target: %w", err)
	}
	defer pg.Close()
	dstTables, err := pg.Tables(ctx)
	if err != nil {
		return res, fmt.Errorf("the target: %w", err)
	}
	refs, err := pg.References(ctx)
	if err != nil {
		return res, fmt.Errorf("the target: %w", err)
	}
	plan, err := exportPlan(tables, dstTables, refs)
	if err != nil {
		return res, err
	}
	names := make([]string, len(plan))
	var total int64
	for i, t := range plan {
		names[i] = t.Name
		total += t.Rows
	}
	im, err := pg.BeginImport(ctx, names)
	if errors.Is(err, store.ErrConflict) {
		return res, fmt.Errorf("the target %s is not empty (%v): export into a new, empty database (createdb …), "+
			"or drop this one and create it again; nothing was written", res.Target, err)
	}
	if err != nil {
		return res, fmt.Errorf("the target: %w", err)
	}
	defer im.Rollback()

	bar := newExportBar(opt.Progress, opt.TTY, total, len(plan))
	for i, t := range plan {
		n, err := exportTable(ctx, snap, im, t, bar, i, opt.onRows)
		if err != nil {
			return res, fmt.Errorf("nothing was written to the target: %w", err)
		}
		if n != t.Rows {
			return res, fmt.Errorf("nothing was written to the target: copied %d rows of %s, the source holds %d", n, t.Name, t.Rows)
		}
		res.Tables = append(res.Tables, ExportedTable{Name: t.Name, Rows: n})
		res.Rows += n
	}
	if err := im.Commit(ctx, floors); err != nil {
		return res, fmt.Errorf("nothing was written to the target: %w", err)
	}
	bar.finish()
	res.Replaced = im.Replaced
	res.Elapsed = time.Since(start)
	return res, nil
}

func exportTable(ctx context.Context, snap *sqlite.Snapshot, im *postgres.Import, t sqlite.Table, bar *exportBar, i int, onRows func(string, int64)) (int64, error) {
	it, err := snap.Rows(ctx, t, t.Columns)
	if err != nil {
		return 0, err
	}
	defer it.Close()
	bar.table(i, t.Name, t.Rows)
	var done int64
	return im.Copy(ctx, t.Name, t.Columns, func() ([]any, error) {
		vals, err := it.Next()
		if vals != nil {
			done++
			bar.row()
			if onRows != nil {
				onRows(t.Name, done)
			}
		}
		return vals, err
	})
}

// exportPlan returns the source tables to copy, in an order that copies
// the tables a foreign key references before the tables that reference
// them (refs). It fails, naming them, when a data table of the source has
// no table of the same name and columns in the target (dst), unless
// notExported leaves it out.
func exportPlan(src []sqlite.Table, dst map[string][]postgres.Column, refs map[string][]string) ([]sqlite.Table, error) {
	var plan []sqlite.Table
	var problems []string
	for _, t := range src {
		if t.Kind != sqlite.DataTable {
			continue // the full-text index, its shadow tables, SQLite's own
		}
		if _, skip := notExported[t.Name]; skip {
			continue
		}
		cols, ok := dst[t.Name]
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s has no table in PostgreSQL", t.Name))
			continue
		}
		var have []string
		for _, c := range cols {
			have = append(have, c.Name)
			if !slices.Contains(t.Columns, c.Name) {
				problems = append(problems, fmt.Sprintf("column %s.%s of PostgreSQL has no column in SQLite", t.Name, c.Name))
			}
		}
		for _, c := range t.Columns {
			if !slices.Contains(have, c) {
				problems = append(problems, fmt.Sprintf("column %s.%s has no column in PostgreSQL", t.Name, c))
			}
		}
		plan = append(plan, t)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("BUG: the SQLite schema has data with no place in PostgreSQL: %s", strings.Join(problems, "; "))
	}
	// Referenced tables first; by name otherwise, so the order is stable.
	sort.Slice(plan, func(i, j int) bool { return plan[i].Name < plan[j].Name })
	var ordered []sqlite.Table
	placed := map[string]bool{}
	var place func(t sqlite.Table, depth int)
	place = func(t sqlite.Table, depth int) {
		if placed[t.Name] || depth > len(plan) {
			return
		}
		for _, r := range refs[t.Name] {
			if k := slices.IndexFunc(plan, func(p sqlite.Table) bool { return p.Name == r }); k >= 0 {
				place(plan[k], depth+1)
			}
		}
		placed[t.Name] = true
		ordered = append(ordered, t)
	}
	for _, t := range plan {
		place(t, 0)
	}
	return ordered, nil
}

// redactDSN is the target as it can be printed: host, port and database.
func redactDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the PostgreSQL database"
	}
	return u.Host + u.Path
}

// exportBar draws an export's progress: the table being copied and its
// rows, all rows, the rate and the time left. Redrawn in place on a
// terminal; otherwise a line when a table is done and every few seconds.
type exportBar struct {
	w      io.Writer
	tty    bool
	total  int64
	tables int
	now    func() time.Time

	start    time.Time
	last     time.Time
	done     int64
	idx      int
	name     string
	rows     int64
	tableRow int64
}

func newExportBar(w io.Writer, tty bool, total int64, tables int) *exportBar {
	b := &exportBar{w: w, tty: tty, total: total, tables: tables, now: time.Now}
	b.start = b.now()
	return b
}

func (b *exportBar) table(i int, name string, rows int64) {
	if i > 0 && !b.tty {
		b.draw() // the table before, done
	}
	b.idx, b.name, b.rows, b.tableRow = i, name, rows, 0
	if b.tty {
		b.draw()
	}
}

func (b *exportBar) row() {
	b.done++
	b.tableRow++
	if b.done%256 != 0 || b.w == nil {
		return
	}
	every := 200 * time.Millisecond
	if !b.tty {
		every = 3 * time.Second
	}
	if b.now().Sub(b.last) >= every {
		b.draw()
	}
}

func (b *exportBar) draw() {
	if b.w == nil {
		return
	}
	now := b.now()
	b.last = now
	frac := 1.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	rate := 0.0
	if s := now.Sub(b.start).Seconds(); s > 0 {
		rate = float64(b.done) / s
	}
	eta := "?"
	switch {
	case b.done >= b.total:
		eta = "0s"
	case rate > 0:
		eta = (time.Duration(float64(b.total-b.done)/rate) * time.Second).Round(time.Second).String()
	}
	line := fmt.Sprintf("export %s %3.0f%%  %d/%d rows  table %d/%d %s %d/%d  %.0f rows/s  ETA %s",
		bar(frac, 24), frac*100, b.done, b.total, b.idx+1, b.tables, b.name, b.tableRow, b.rows, rate, eta)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *exportBar) finish() {
	if b.w == nil {
		return
	}
	b.draw()
	if b.tty {
		fmt.Fprintln(b.w)
	}
}
