// Package chain holds the domain types of indexed chain data: blocks,
// transactions with their receipts, logs, and what the decoder learned about
// them. It is a leaf: it imports nothing of blocktorch.
package chain
