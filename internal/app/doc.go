// Package app is blocktorch's composition root: it builds every part from a
// config.Config (store, node client, decoder, indexer, web server, the
// mempool guard and, in the demo, the embedded chain and the demo app with
// the guard's monitor, scenario and signer), runs them with Run and stops
// them with Close. Only cmd/blocktorch imports it.
//
// Nodes sharing one store keep copies of some of its state in memory (the
// decoder's ABIs, verified contracts, the monitor engine's definitions):
// every node follows the store's change notices and reloads the part that
// changed (changes.go), so that any node answers like any other.
//
// Run splits the work in two. Every node runs the always-on parts: the
// HTTP server (UI, API, ingest), syslog ingest, its heartbeat in the
// store's nodes list and, in the demo, the embedded chain's traffic. The
// leader's parts run only while the node holds the store's leader lease
// (store.Lease; on SQLite the one node always holds it): the head
// subscription and the indexer, the monitor engine with the notification
// outbox, price feeds, the mempool guard, retention, and the scenario runs
// that monitors start. They run under a context that ends when the lease
// is lost; the node waits for them to stop, releases the lease and waits
// to lead again. Every term starts by reloading the monitors, alert states
// and the engine's cursor from the store (monitor.Engine.Resume), so that
// the node continues where the previous leader (another node, or itself in
// an earlier term) stopped, whatever it held in memory; every term starts
// a new indexer from the stored head. A node that does not lead answers
// the active alerts from the store (monitor.Options.Elsewhere), where the
// leader saves them, not from the engine it does not run.
package app
