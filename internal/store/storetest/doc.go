// Package storetest is the backend-independent test suite of package store:
// every backend runs Run against a fresh store and must pass all of it. It
// also builds deterministic chains for tests and benchmarks.
package storetest
