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
// Traces (traces.go): the debugger's trace parts are versions of 64 KiB
// bytea chunks, written by COPY a megabyte at a time without waiting for
// the disk (a trace is a cache, replayed if lost) and read a chunk at a
// time, so a step costs one chunk, not the part. Close publishes a version
// in one transaction; the one it replaces stays readable for ten minutes
// for readers that opened it, and versions a dead writer left are pruned
// after an hour.
//
// Sessions (sessions.go): login sessions (a user's, or the operator
// key's), as the SHA-256 of their ids, so that a login on any node is
// accepted by all. Accounts (accounts.go): users with argon2id password
// hashes, API keys and setup tokens as SHA-256, the accounts audit log;
// a setup token is spent in one UPDATE … RETURNING, so it works once even
// when two nodes race.
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
// Several nodes on one database: every node serves the UI, the API and
// ingest; one at a time, the leader, follows the chain, evaluates monitors
// and delivers the outbox. Acquire is the leader lease: a session advisory
// lock (pg_try_advisory_lock on the schema's key) taken on a connection of
// its own, outside the pool, which the waiting nodes try every second. The
// holder confirms it with a query every second; one that fails, or has not
// answered within 3 s, loses the lease (the term's Lost channel closes)
// and the node stops its leader work. The server frees the lock the moment
// the holder's session ends: at once when the process dies (its TCP
// connection closes), and after 6 s of silence (idle_session_timeout on
// that connection) when the holder hangs or its network is cut, so a
// successor leads within about 7 s at worst and usually within 1–2 s. It
// resumes from what the store holds: the chain head, the monitor engine's
// cursor and alert states. Between a holder that hangs and the moment it
// notices (its next confirmation), two nodes may both act as leader for
// about a second: chain writes are serialised and idempotent, alert
// notifications are enqueued under unique keys, and outbox deliveries are
// claimed (Claim: FOR UPDATE SKIP LOCKED, claimed_by/claimed_until) so
// that one sender holds each at a time. The nodes table (Beat, Nodes,
// Forget) lists the nodes and their roles for the status API.
//
// When the server cannot be reached (stopped, restarting, the network
// cut), errors that say so — a refused or failed connection, a session
// the server ended, SQLSTATE classes 08 and 57P — are translated to
// store.ErrUnavailable, which the API answers with 503 naming the
// database; the pool connects again by itself on the next use. The
// holder's lease is lost at its next confirmation, every node keeps
// trying it every second (logging the first failure, one a minute, and
// the recovery), and the first to reach the server again leads: measured
// with three nodes and 30 s of server downtime (TestFailoverPostgresOutage
// in internal/app), no node exits, the lease is back within a second of
// the server and every alert is delivered once.
package postgres
