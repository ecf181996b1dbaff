// Package logingest receives off-chain logs (application, security and
// system) in the formats shippers already speak and turns them into
// record.Record values written through a store.RecordWriter:
//
//   - NDJSON or a JSON array of flat objects (IngestJSON; POST /api/v1/logs),
//     also what the browser SDK in sdk/blocktorch.js sends;
//   - OpenTelemetry OTLP/HTTP logs, protobuf or JSON (IngestOTLP; POST
//     /v1/logs);
//   - the Loki push API, JSON or snappy-compressed protobuf as Promtail,
//     Grafana Alloy and Vector send it (IngestLoki; POST /loki/api/v1/push);
//   - syslog RFC 5424 and RFC 3164 (BSD, as rsyslog and syslog-ng forward by
//     default) over TCP (octet counting or newline framing) and UDP
//     (ListenSyslog).
//
// The HTTP doors themselves (bodies, Content-Encoding, ingest keys in the
// forms shippers send them, CORS, status codes) are package web's: this
// package decodes, checks ingest keys (CheckKey) and stores, and says why
// a request was refused with an *Error of a kind web maps to its status.
//
// Every path applies the same limits (body size, line length, attributes per
// record, nesting depth), replaces invalid UTF-8 instead of rejecting it, maps
// level spellings onto record.Levels and extracts transaction hashes and
// addresses into the record's links, so off-chain logs join chain data.
// Records are written before a request is answered with 2xx: what was
// accepted is stored, and what was rejected is named in the answer.
//
// Retention (--retention) is parsed by ParseRetention and applied by
// RunRetention, which deletes records past their source's age.
package logingest
