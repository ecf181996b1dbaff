// Package postgres is the relational store for deployments that outgrow one
// machine: it keeps the chain index, the contract registry and the rest of
// the relational state in PostgreSQL, implementing the same role interfaces
// of package store as the embedded SQLite store and passing the same
// storetest suites. Records (chain records and log lines) are not kept
// here: they go to a records engine (VictoriaLogs, embedded or a cluster).
//
// The driver is github.com/jackc/pgx/v5, the Go ecosystem's standard
// PostgreSQL driver, used natively through a pgxpool connection pool (not
// database/sql): bulk block writes go through COPY, and PostgreSQL errors
// are read by their SQLSTATE codes.
//
// The schema is created and upgraded by numbered, embedded, append-only
// migrations (migrations/*.sql, numbered from 0001, independent of the
// SQLite set). Each runs in its own transaction holding a transaction-level
// advisory lock, so that several nodes starting at once on one database
// apply each migration exactly once.
//
// Concurrency: WriteBlocks and RollbackTo lock the chain_counts row, so
// chain writes are serialised across every node sharing the database;
// reads that must see one snapshot (a transaction with its logs, a block
// range) run in one REPEATABLE READ, read-only transaction.
package postgres
