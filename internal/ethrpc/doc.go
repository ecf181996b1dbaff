// Package ethrpc is the JSON-RPC client the indexer uses against any EVM node
// (geth, Hardhat, hosted RPC, the embedded dev node). It fetches blocks with
// their receipts in JSON-RPC batches, validates every answer against what was
// asked, retries transient failures with backoff, rate-limits itself, and
// returns the chain package's domain types.
//
// Answers are parsed with the package's own lenient structs rather than
// go-ethereum's types.Block, which rejects the transaction types that L2s add:
// unknown fields and unknown transaction types are tolerated and only the
// common fields are kept.
package ethrpc
