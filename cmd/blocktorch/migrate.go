package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/blocktorch/blocktorch/internal/app"
)

var (
	migrateRecordsSpec = spec{
		name: "migrate records", min: 0, max: 0,
		short: "copy the records of a SQLite store into a VictoriaLogs records engine",
		about: `Copy every record (chain records and off-chain logs) of a SQLite store into a records engine,
oldest first, with a progress bar, then check that the engine holds as many more records as the
store has. The store is only read.

  --from sqlite:PATH          the SQLite store (blocktorch-data/blocktorch.db)
  --to http://HOST:9428       an external VictoriaLogs, single node or the insert/select node of a cluster
  --to embedded:DIR           the embedded engine's directory (blocktorch-data/records), server stopped`,
	}
	migrateSchemaSpec = spec{
		name: "migrate schema", min: 0, max: 0,
		short: "apply the relational store's pending schema migrations",
		about: `Apply the pending schema migrations of the relational store (serve does it at start, too) and
print the version it is at. Nodes sharing one PostgreSQL database may run it at once.

  --db sqlite:PATH            a SQLite store (blocktorch-data/blocktorch.db)
  --db postgres://USER@HOST:5432/DB   a PostgreSQL database (or BLOCKTORCH_DB, to keep a password out of ps)`,
	}
	migrateGroup = group{
		name:  "migrate",
		about: "Move data between stores.",
	}
)

// runMigrate is "blocktorch migrate records" and "blocktorch migrate schema".
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := migrateGroup
	g.subs = []groupSub{
		{migrateRecordsSpec, func(args []string) error { return runMigrateRecords(ctx, args, stdout, stderr) }},
		{migrateSchemaSpec, func(args []string) error { return runMigrateSchema(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

func runMigrateRecords(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sp := migrateRecordsSpec
	fs := sp.newFlags()
	from := fs.String("from", "", "the source store, sqlite:PATH")
	to := fs.String("to", "", "the target records engine, http://HOST:9428 or embedded:DIR")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return sp.errorf("--from and --to are required (for example: blocktorch migrate records --from sqlite:blocktorch-data/blocktorch.db --to http://127.0.0.1:9428)")
	}
	res, err := app.MigrateRecords(ctx, *from, *to, stderr, isTerminal(stderr))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrated %d records; the target holds %d (%d before)\n", res.Source, res.After, res.Before)
	return nil
}

func runMigrateSchema(ctx context.Context, args []string, stdout io.Writer) error {
	sp := migrateSchemaSpec
	fs := sp.newFlags()
	db := fs.String("db", os.Getenv("BLOCKTORCH_DB"), "the relational store, sqlite:PATH or postgres://USER@HOST:5432/DB")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	if *db == "" {
		return sp.errorf("--db is required (for example: blocktorch migrate schema --db postgres://blocktorch@127.0.0.1:5432/blocktorch)")
	}
	v, err := app.MigrateSchema(ctx, *db)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "schema at version %d\n", v)
	return nil
}
