// Package demo is the demo app that `blocktorch demo` runs, in one place: its Solidity sources
// and their committed solc build (contracts/: src/, build/, the debugger's fixtures/, compile.js
// and the pinned npm packages; `make contracts` regenerates the builds), the typed artifacts
// decoded from that build (artifacts.go), deployment of the lending app on a chain (deploy.go:
// the LendingVault behind OpenZeppelin's ERC1967Proxy, and beside it the fix of the incident,
// contracts/patched, built into contracts/build/patched, deployed as an implementation the proxy
// does not use; chain.go: the embedded chain with the app deployed and its accounts funded), a traffic generator
// that sends a realistic mix of transactions, a small share of which fail on purpose along every
// failure path the contracts have (traffic.go), a scripted incident that plays a stale oracle, a
// price crash, a liquidation wave, an attacker's failed exploit attempts and an exploit that
// works on the feed's lagging price unless a mempool guard pauses the vault first (incident.go;
// guard.go: the monitor and scenario the demo ships for the guard, and its guardian key), the
// app's off-chain logs (logs.go: front end, back end, security and system logs that join the
// transactions by hash and address), a real Safe 2-of-3 (safe.go: the pinned
// @safe-global/safe-contracts singleton and proxy factory, compiled into contracts/build/safe)
// that Env deploys and makes a pauser of the vault (as it does the guardian), and Env (run.go),
// which runs them together
// for the product.
//
// Everything goes through JSON-RPC (the Backend interface, which *ethclient.Client and the
// ethclient/simulated client both satisfy), so the same code feeds the embedded dev chain,
// a geth --dev node and tests.
package demo
