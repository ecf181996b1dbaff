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
// The chain tables are not partitioned: measured, it does not pay.
// make bench-pg (bench/pg) writes the same generated chain into these
// tables and into the same tables declaratively partitioned by block range
// (blocks by number, txs and logs by id, whose high bits are the block
// number), 10 partitions per table (the shape of a mainnet-sized chain at
// 1M blocks a partition), planner statistics fresh on both, PostgreSQL 15
// on a loaded 2-core machine (load average 12–28: ratios are rough, their
// direction is not). 20,000 blocks (400,000 transactions, 1.2M logs) in
// partitions of 2,000: writes 0.49× (141 against 289 blocks/s); reads with
// one reader p50 2.2× (a range of 10 blocks) to 83× (logs by address)
// slower, 0.2–1 ms becoming 11–50 ms. 6,000 blocks in partitions of 600:
// writes 1.14× (304 against 266 blocks/s: no gain beyond the noise), reads
// 1.1× (a block range) to 15× (a transaction by hash) slower. The API's
// reads select by hash, address or status, not by block, so they search
// every partition (a hash says nothing of its block) and merge the
// partitions' newest rows for a LIMIT: the cost grows with the partitions.
// A unique index of a partitioned table must hold the partition key, so a
// transaction's or block's hash could no longer be unique across the table
// either. What partitioning buys, dropping old data a partition at a time,
// has no use here: the chain index keeps every block, and rollbacks delete
// only the newest.
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
