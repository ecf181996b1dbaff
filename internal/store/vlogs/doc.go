// Package vlogs is the embedded records engine: VictoriaLogs' storage
// (github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage, pinned in
// go.mod) in process, under one directory (DATA/records), holding every
// record — chain records and off-chain logs — in the fields of package
// logsql (which says which are stream fields and why) and searched with
// the LogsQL that logsql compiles from the query language. The SQLite
// store keeps the relational state; ChainStore joins the two.
//
// # Acknowledged means durable
//
// The engine buffers added rows in memory and writes them to files on
// its own a second or two later (its FlushInterval); a process killed in
// between loses them. So AppendRecords writes the batch as one frame of a
// write-ahead log (wal/*.log, length + CRC-32C + the rows exactly as
// handed to the engine), adds the rows, fsyncs the log, and only then
// returns; appends that wait for the disk at the same time share one
// fsync (a rotation that closes a segment syncs it and tells waiting
// appends the outcome). A checkpoint (every CheckpointInterval, before
// every delete, and at Close) starts a new log segment, makes the engine
// write everything it holds to its files — DebugFlush, then a partition
// snapshot, the one API that writes in-memory parts at once; the snapshot
// is deleted right away — and removes the older segments. Open replays
// the segments left by a crash, adding only the rows whose record ID the
// engine does not already hold (some may have reached its files before
// the crash), and stops at the first torn frame: a frame is acknowledged
// only once it is synced, so a torn one was never acknowledged. The cost
// is an fsync per append (per ingest request or indexed batch) and the
// records written once more, sequentially. A query may see rows whose
// append has not returned yet. TestAcknowledgedSurvivesKill9
// kills a child process with SIGKILL right after an acknowledgement.
//
// The engine tracks the oldest and newest time of its rows (read once at
// Open, widened by every append, never narrowed by deletes) as the
// Searcher's Bounds, so that a page of a common word reads only the
// newest stretch of time that holds it (package logsql).
//
// It also tracks the names of the attribute columns of its rows (read
// once at Open, added to by every append before its rows are
// searchable) as the Searcher's Columns: free text names those columns
// rather than asking the engine for every column of the prefix, which
// made it unmarshal every column header of every block it read.
//
// Rows are searchable from the next query on: a query first flushes the
// engine's row buffers when rows were added since the last one (a flush
// per append would cut ingest into tiny parts for the engine to merge).
//
// # Reorgs
//
// Design: the engine's delete tasks, run to completion before the
// rollback returns, with the orphaned records hidden meanwhile. RollbackTo
// (1) writes an intent file naming the block it goes back to, (2) from
// then on every query leaves out `{source="chain"} AND block:>N` (the
// Searcher's scope), (3) checkpoints and starts a delete task for the same
// filter up to the newest time a record may claim, and waits until the
// engine has run it and no such record is left, (4) rolls the SQLite
// chain index back, (5) removes the intent and the scope. The indexer is
// the only writer of chain records and calls RollbackTo on its own
// goroutine, so no record of the new blocks can be written while the
// delete runs and none is deleted by it. A crash anywhere in between is
// finished at the next start: the engine resumes its persisted delete
// tasks, Open waits for them before accepting writes, and NewChainStore
// redoes a rollback whose intent is still on disk. Serving the
// unconfirmed tip from SQLite was the alternative; it would keep two
// search paths and a seam at the confirmation depth for every query,
// where a delete costs a reorg about one to two seconds of indexing (the
// engine polls its delete tasks once a second). TestReorgEqualsFreshIndex
// checks depths 1, 5 and 64 against a fresh index of the new chain.
//
// # Retention and size
//
// Retain deletes a source's records older than a time with a delete task
// restricted to the stream {source="…"} and to `_time` up to that time,
// and waits for it. The engine partitions by day on its own; its own
// retention is set to a century, so that nothing is dropped but by
// Retain (chain records are kept as long as the chain index). A row that
// a delete removed and that was appended after the checkpoint the delete
// begins with could come back from the log after a crash; only records
// older than a retention horizon appended during a retention run are
// exposed to it, and the next run deletes them again. Retain also
// deletes the source's rows of the link index (links.go) in the minutes
// wholly before the horizon; a record older than the horizon appended
// while a retention run prunes could lose its link row, and then tx:
// lookups miss it until the next run deletes it. The engine's caches
// are capped by Options.MemoryBytes (DefaultMemoryBytes, VictoriaLogs'
// -memory.allowedBytes; its default is 60% of the machine's memory).
//
// # Limits
//
// A query runs at most Options.QueryTimeout (DefaultQueryTimeout); past
// it, it fails with an error wrapping store.ErrInvalid that names the
// limit (the API answers 400) and the engine goes on serving. Records
// whose time the engine would drop (before 1970, more than FutureLimit
// ahead) are refused with store.ErrInvalid before anything is written.
//
// # Process-wide settings
//
// The VictoriaMetrics libraries read flags registered on flag.CommandLine
// (memory.allowedBytes, loggerLevel) and panic if that set was never
// parsed; Open sets them once and parses the (empty) global set when
// nobody did — blocktorch's CLI uses flag sets of its own. The first Open
// of a process fixes the memory cap. The libraries end the process on
// I/O errors they cannot recover from (a full disk), as the
// victoria-logs server does.
package vlogs
