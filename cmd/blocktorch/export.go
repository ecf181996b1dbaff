package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/blocktorch/blocktorch/internal/app"
)

var exportSpec = spec{
	name: "export", min: 0, max: 0,
	short: "copy an embedded SQLite store into PostgreSQL",
	about: `Copy every relational table of a SQLite store (chain index, contracts and verified sources,
dashboards, shares, monitors and alert state, outbox, incidents, flags, status components,
oracles, response runs, Safe proposals, patch checks, the cursor key) into a PostgreSQL database,
with a progress bar. The target is migrated first and must hold no data; the copy is one
transaction, so an export that fails or is interrupted leaves it empty and can simply be run
again. The source is only read (stop the server first, or what it writes after the start is not
copied). Records are not copied: they live in a records engine (blocktorch migrate records).

  --to postgres://USER@HOST:5432/DB   the target (default $BLOCKTORCH_DB when it is one, to keep a password out of ps)
  --db sqlite:PATH                    the SQLite store (default DATA/blocktorch.db)
  --data DIR                          the data directory holding blocktorch.db (default blocktorch-data)`,
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sp := exportSpec
	fs := sp.newFlags()
	to := fs.String("to", "", "the target PostgreSQL database, postgres://USER@HOST:5432/DB")
	db := fs.String("db", "", "the SQLite store, sqlite:PATH (default DATA/blocktorch.db)")
	data := fs.String("data", "blocktorch-data", "the data directory that holds blocktorch.db")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	if *to == "" {
		if env := os.Getenv("BLOCKTORCH_DB"); strings.HasPrefix(env, "postgres://") || strings.HasPrefix(env, "postgresql://") {
			*to = env
		}
	}
	if *to == "" {
		return sp.errorf("--to is required (for example: blocktorch export --data blocktorch-data --to postgres://blocktorch@127.0.0.1:5432/blocktorch)")
	}
	if !strings.HasPrefix(*to, "postgres://") && !strings.HasPrefix(*to, "postgresql://") {
		return sp.errorf("--to: want a postgres://USER@HOST:5432/DB URL")
	}
	from := *db
	if from == "" {
		from = "sqlite:" + filepath.Join(*data, "blocktorch.db")
	}
	res, err := app.Export(ctx, from, *to, app.ExportOptions{Progress: stderr, TTY: isTerminal(stderr)})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d rows of %d tables into %s in %s (schema version %d)\n",
		res.Rows, len(res.Tables), res.Target, res.Elapsed.Round(1e6), res.SchemaVersion)
	if res.Replaced > 0 {
		fmt.Fprintf(stdout, "%d text values held bytes PostgreSQL cannot store (NUL, invalid UTF-8): stored with U+FFFD in their place\n", res.Replaced)
	}
	if res.Records > 0 {
		fmt.Fprintf(stdout, "the store also holds %d records, which belong to a records engine: blocktorch migrate records --from %s --to http://HOST:9428\n", res.Records, from)
	}
	fmt.Fprintf(stdout, "serve from it with: blocktorch serve --db postgres://… (or BLOCKTORCH_DB)\n")
	return nil
}
