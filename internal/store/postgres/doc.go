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
//
// Changes (changes.go): the writes of state that nodes keep in memory
// (contracts, verifications, monitors, channels, silences) NOTIFY the
// channel blocktorch_changes inside their own transaction, so a notice
// goes out when, and only if, the write commits; its payload names the
// schema. Subscribe LISTENs on a connection of its own, outside the pool,
// pinged when silent; when it is lost it reconnects with backoff and
// hands every subscriber a Resync, since notices sent meanwhile are lost.
//
// Not yet: several nodes on one database. Every node would serve the UI,
// the API and ingest, but exactly one (the leader) may follow the chain,
// evaluate monitors and deliver the outbox. The intended design: the
// leader holds a session-level advisory lock (pg_try_advisory_lock) on one
// dedicated connection, and a lease row (holder, epoch, heartbeat) it
// renews every few seconds; the others retry the lock. A leader that
// loses its connection, or fails to renew within the lease, stops its
// follower, evaluator and deliveries before its lease ends; its successor
// takes the lock, bumps the epoch and resumes from the stored checkpoint
// (the chain head), so nothing is skipped, and the outbox's unique keys
// keep a transition that both enqueued from being sent twice. Deliveries
// would then be claimed with SELECT … FOR UPDATE SKIP LOCKED, each claim
// carrying the epoch, so a deposed leader's late Settle is refused. Changes
// other nodes must see at once (monitors, verified contracts, the live
// tail) would be announced with LISTEN/NOTIFY.
package postgres
