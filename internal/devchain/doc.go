// Package devchain runs an embedded, in-process go-ethereum node on the
// simulated beacon, with the debug and tracer APIs that the stock
// ethclient/simulated backend does not register. Blocks are sealed on a
// ticker owned by the Chain, and tests can seal, fork and roll back at will to
// make reorgs. The node also listens for HTTP and WebSocket JSON-RPC on
// 127.0.0.1 so that external tools use the same path as with a real node.
package devchain
