// Package vlhttp is the records backend on an external VictoriaLogs
// server, single node or cluster (vlinsert/vlselect/vlstorage), over its
// HTTP APIs: records are written as JSON lines to /insert/jsonline in the
// fields of package logsql, searched with the LogsQL that logsql compiles
// through /select/logsql/query, deleted (retention, reorgs) with the
// server's delete tasks. Every blocktorch node of a deployment can share
// one server; they must share the cursor key.
//
// ChainStore joins it to the relational store that keeps the chain index:
// chain records go to the server after their blocks are stored, and
// leave it when their blocks are rolled back (RollbackTo returns once the
// server no longer returns them).
//
// There is no link index here, by choice: tx: and address: are the
// server's word filters on the tx and address fields, served by its bloom
// filters. The embedded engine's index is a file beside its storage,
// written under the lock that orders its appends; for a server shared by
// every node it would have to live in the shared relational store and be
// written by every node's ingest before its records, one more round trip
// and transaction per batch, to narrow lookups the server already answers
// in milliseconds: in the same `make bench-logs` run at 1M lines,
// VictoriaLogs' own server took 7–15 ms (p50) for a transaction hash and
// 78–104 ms for an address (whose records are spread over the whole
// corpus, so that a minute index narrows them little; the embedded
// engine's lookup with its index took 83 ms). Nor does it give the
// Searcher Bounds: pages sort every match on the server.
//
// When a cluster storage node does not answer, queries fail with an error
// wrapping logsql.ErrPartial rather than answer without its records;
// ingest goes on to the nodes that answer (the insert node reroutes).
package vlhttp
