// Package demoapp deploys the demo lending app (contracts/src) to a chain and drives it: a
// traffic generator sends a realistic mix of transactions, a small share of which fail on
// purpose along every failure path the contracts have, and a scripted incident plays a stale
// oracle, a price crash, a liquidation wave and an attacker's failed exploit attempts.
//
// Everything goes through JSON-RPC (the Backend interface, which *ethclient.Client and the
// ethclient/simulated client both satisfy), so the same code feeds the embedded dev chain,
// a geth --dev node and tests.
package demoapp
