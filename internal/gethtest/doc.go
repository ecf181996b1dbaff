// Package gethtest starts a real `geth --dev` node as a child process on
// 127.0.0.1, for integration tests and benchmarks that must talk to a real
// node rather than the embedded one. The geth binary is built from the Go
// module proxy by `make geth` at the go-ethereum version of go.mod. Product
// code never imports this package (TestProductDoesNotImport checks it).
package gethtest
