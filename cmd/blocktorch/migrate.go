package main

import (
	"context"
	"fmt"
	"io"

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
	migrateGroup = group{
		name:  "migrate",
		about: "Move data between stores.",
	}
)

// runMigrate is "blocktorch migrate records".
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := migrateGroup
	g.subs = []groupSub{
		{migrateRecordsSpec, func(args []string) error { return runMigrateRecords(ctx, args, stdout, stderr) }},
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
