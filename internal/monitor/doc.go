// Package monitor evaluates monitors and runs their alerts: definitions
// (from monitors.yaml, the API or the built-in set), evaluation of chain
// monitors on every indexed block and of query monitors on a schedule, the
// alert state machine (pending → firing → resolved, with a for-duration,
// labels, a dedupe key, grouping, cooldowns, silences and re-notification)
// and retraction of alerts whose block a reorg orphaned. It hands
// notifications to a NotifyFunc (the notify package's outbox) and reads
// the store through small role interfaces. Each alert that starts firing
// goes to a Responder (the composition root wires the response package's
// scenario runner), with the scenario the monitor names (Spec.Respond);
// applying a monitor that names an unknown scenario fails.
//
// Monitor kinds (Spec.Kind):
//
//	event     an event of a contract, with conditions on its decoded arguments
//	call      a call of a method (by name, signature or selector), top-level or internal
//	          (from debug_traceBlockByNumber call traces), succeeded, failed or either
//	callers   calls of a contract from an address not in an allowlist, or in a blocklist
//	txfail    failed transactions to watched contracts, filtered by revert reason
//	slo       failed / all transactions of contracts over a window against an objective
//	state     one output of a view function (by name or index) or a storage slot (with
//	          mapping keys and a struct field's offset) read at every block, stored as a series
//	balance   native or ERC-20 balance of an address dropping more than X% within N blocks
//	nodata    nothing matched (an event, a call) for a duration: a heartbeat
//	query     a search query with a stats pipe over a window against a threshold
//
// Price-feed health, per followed feed, through a FeedReader (the oracle
// package): feed-stale (older than the heartbeat plus grace, judged at
// every block), feed-jump (consecutive answers more than pct apart),
// feed-deviation (more than pct from a reference feed), feed-nonpositive,
// feed-bounds (pinned at the aggregator's minAnswer/maxAnswer) and
// feed-stale-read (a contract read a stale answer, from call traces); for
// the feeds followed as L2 sequencer-uptime feeds, sequencer-down (the
// sequencer is down, or back up for less than the grace period).
//
// Chain monitors see blocks in order, confirmations deep; their clock is
// the block's time, so that a dry run over stored blocks decides exactly
// as the live engine did: it traces blocks for monitors of internal calls
// as the live engine does (up to a bound) and reads past state for state
// and balance watches from the node, and names the monitors it cannot
// judge (no node, no debug API, the bound reached). Silences do not apply
// to dry runs. Query monitors use the engine's Now.
//
// Checkpoint: each evaluated block's notifications are enqueued (under
// idempotency keys derived from the transition), then its alert states
// and history are saved with the engine's cursor in one write. A block
// evaluated again (after a crash between the two, or by a node that took
// the work over) enqueues nothing new. When either write fails, the
// engine stops saving — a cursor saved past a notification that was not
// enqueued would lose it — and Run reloads the store's state and
// evaluates again from the stored cursor once the store answers. Resume
// does the same for a node that takes evaluation over from another: what
// the engine held in memory is dropped for what the store holds.
package monitor
