// Package guard is the mempool guard: it follows the node's pending
// transactions (eth_subscribe newPendingTransactions with full bodies),
// simulates each on the latest state (debug_traceCall with the
// callTracer, logs included), decodes the outcome into the shape the
// monitor engine judges in blocks (status, revert, events, calls with the
// value they move) and evaluates the monitors a single transaction can
// fire (monitor.Engine.EvaluateTx). A match raises an alert marked
// pending that names the pending transaction, and starts the scenarios
// that name the monitor, whose sends pay a higher priority fee and fee cap
// than the suspicious transaction so that a block orders them first. The
// guard also follows new heads and has the responder make the scenarios'
// sends ready on each (Responder.Arm), so that a pause needs no reads and
// no simulation once the match is made.
//
// Which transactions are simulated: every one with calldata, to any
// address, and plain transfers to a watched contract. Exploits reach a
// watched contract through a contract of their own, so filtering on the
// recipient would miss them; the monitors then only look at the
// outcome's calls and events, and only when it touched a watched contract.
//
// The simulation runs on the latest block's state, not on the state after
// the transactions ahead of it in the pool: a transaction that depends on
// another pending one may be judged on the wrong state. Senders the
// guard is told to ignore (the response signer) are not simulated.
package guard
