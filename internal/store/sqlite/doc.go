// Package sqlite is the embedded default store: it keeps indexed chain data
// and the contract registry in one SQLite file (modernc.org/sqlite, no cgo),
// implementing every role interface of package store.
//
// The file is in WAL mode with one serialised write connection and a pool of
// query-only read connections, so readers see a consistent snapshot and never
// block the indexer's writes. The schema is created and upgraded by numbered,
// embedded migrations (migrations/*.sql).
package sqlite
