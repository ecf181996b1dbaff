// Package response prepares and sends emergency actions on watched
// contracts: it finds each contract's emergency functions (Pausable's
// pause and unpause, AccessControl role revocation, block-list functions,
// and owner-only functions a user marks as emergency), reads from the chain
// which role each needs and who holds it now, and prepares each action in
// four forms: raw calldata, a `cast send` command line, a Safe Transaction
// Builder JSON batch, and a transaction signed by the configured signer.
//
// Every action is simulated on the current head state (through the
// Simulate function the composition root hands in, the debugger's
// simulation) before it is sent; a send whose simulation reverts is refused
// unless forced. The EOA signer is read from an encrypted keystore file or
// an environment variable, and its key is never printed or logged. Every
// send is recorded in the run history (a store.ResponseRunStore) with its
// simulation, transaction and result, and written on the open incident's
// timeline.
//
// A Safe may sign instead (safe.go): an action is proposed as a Safe
// transaction, its owners sign the EIP-712 SafeTx hash with their own
// keys, and the EOA signer sends execTransaction once the Safe's
// threshold is met; below it nothing is sent. Proposals and their
// signatures are kept in a store.SafeProposalStore, across restarts.
//
// Scenarios (scenario.go) are named actions run in order by hand or by a
// monitor's firing, with a dry run, a per-scenario cooldown and a kill
// switch for automation; each run is recorded and written on the open
// incident's timeline through the Timeline interface. A scenario runs
// once per monitor and transaction (a pending one the mempool guard saw,
// or the one a mined firing names): a second trigger for the same pair
// is recorded as skipped and sends nothing. Arm (arm.go) makes each
// scenario's first send ready on every new head, so that an urgent run
// (the guard's pause) only signs and sends.
//
// The package reaches the node through the Node interface (an
// *ethclient.Client satisfies it) and serves no HTTP: internal/web does.
package response
