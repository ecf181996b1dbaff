// Package sqlite is the embedded default store: it keeps indexed chain data
// and the contract registry in one SQLite file (modernc.org/sqlite, no cgo),
// implementing every role interface of package store.
//
// The file is in WAL mode with one serialised write connection and a pool of
// query-only read connections, so readers see a consistent snapshot and never
// block the indexer's writes. The schema is created and upgraded by numbered,
// embedded migrations (migrations/*.sql).
//
// A SQLite file serves one node, so its change notices (store.Changes) stay
// in the process: its writes of contracts, verifications and monitors are
// announced to the process's subscribers once committed.
package sqlite
