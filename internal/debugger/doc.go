// Package debugger replays a transaction and explains it: the call tree with
// decoded calls and reverts, the events in order, the state it changed or
// read, every EVM step with its source line, a gas profile, and where a
// failure came from.
//
// Two replay paths produce the same Result. With a node that has the debug
// API, Node asks it for debug_traceTransaction three times (the struct
// logger for steps, callTracer for the call tree and logs, prestateTracer in
// diff mode for state changes). Without one, Local re-executes the block up
// to the transaction with go-ethereum's core/vm on state fetched lazily from
// the node at the parent block (eth_getCode, eth_getBalance,
// eth_getStorageAt, eth_getTransactionCount), as `cast run` does. Simulate
// runs a call or a transaction on the local engine against any block with
// state overrides (balance, nonce, code, storage slots) and block overrides
// (number, time), and sums its ether and ERC-20 balance changes with each
// token's decimals and symbol read from the token (BalanceChanges).
//
// The origin of a failure is the deepest frame whose failure the frames
// above only re-raised, and in it the statement that raised it. Code built
// with the optimizer or via IR maps its reverts to shared revert tails or
// to the whole contract, so the origin is found by walking back through the
// frame's steps to the statement that can raise exactly this failure (its
// message, custom error or panic code) and that the entered function can
// reach (failure.go, origin.go); a line that can only be inferred is flagged
// approximate with its candidate lines.
//
// ReplayOverridden (replay.go) replays mined transactions twice each, on
// the state before them: as mined, checked against the receipt, and with
// account overrides (a patch check's new code), untraced but for their
// logs, storage and ether effects; an overridden run that fails is traced
// for its failing line. Nearby blocks share one engine, the blocks between
// them applied as mined. Deploy runs init code on the head state and
// returns the code it leaves.
//
// Steps never sit in memory as a whole: both paths stream them into a trace
// file (fixed-size step records indexing a blob of stack and memory deltas)
// that Trace pages from on demand. Service keeps those files as a cache of
// replays, and replays a transaction again when what it knows of sources
// and ABIs changed since its file was written (Service.Knowledge). The
// files are parts of a store.TraceStore (Options.Traces; files under
// Options.Dir when none is given): each part replaces the earlier one at
// once, so a trace opened before a replay keeps reading its own steps.
package debugger
