// Package contracts embeds the compiled Solidity sources of the demo app: the solc standard-JSON
// input and output that compile.js generates from src/, and typed artifacts decoded from them.
//
// The JSON files are generated; regenerate them with: cd contracts && npm ci && node compile.js
package contracts
