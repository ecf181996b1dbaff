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
// When a cluster storage node does not answer, queries fail with an error
// wrapping logsql.ErrPartial rather than answer without its records;
// ingest goes on to the nodes that answer (the insert node reroutes).
package vlhttp
