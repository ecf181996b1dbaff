// Package demochain starts the embedded chain with the demo app deployed on
// it and its accounts funded: the one setup that the demo, integration tests
// and benchmarks share.
package demochain
