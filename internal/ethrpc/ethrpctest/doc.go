// Package ethrpctest is a JSON-RPC node for tests: an HTTP server on
// 127.0.0.1 that answers from a recording (or a proxied real node), injects
// faults on demand (HTTP 500 and 429, delays, truncated bodies, wrong
// answers, JSON-RPC errors, a rewound head) and counts requests per method,
// so that tests can check retries, validation and batching of clients and of
// the indexer. It also builds synthetic chains with consistent hashes, counts
// and receipts, and serves new heads over a websocket.
package ethrpctest
