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
package app
