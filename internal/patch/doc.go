// Package patch checks a new implementation of a contract before it is
// deployed: it replays the transactions that matter (an incident's failing
// and exploit transactions, a file of hashes, a search) and a sample of the
// contract's latest successful ones, each on the state before it, once as
// mined and once with the new code in place, and reports side by side which
// still fail and where (the source line in the new code), which now fail,
// which now succeed, and which changed their events, storage or ether
// movements. Before any replay it compares the storage layouts of the old
// and new implementations (solc's storageLayout in the artifacts) and
// refuses a change that would corrupt the proxy's state, naming the slot.
//
// The new code comes from build artifacts as `blocktorch verify` reads them
// (internal/contracts): when it is deployed already, the code at its address
// must verify against the artifact; otherwise its init code is run on the
// head state (nothing is sent) to get the runtime code with its immutables.
// Behind an ERC-1967 proxy the new code is placed at its own address and the
// proxy's implementation slot points to it, as the upgrade will do; a plain
// contract has its code replaced in place.
//
// When the check passes and the new implementation is deployed, the upgrade
// is prepared as internal/response prepares actions (calldata, a `cast
// send` line, a Safe Transaction Builder batch): upgradeToAndCall on a UUPS
// proxy, or ProxyAdmin.upgradeAndCall when the proxy's ERC-1967 admin slot
// names a ProxyAdmin (a transparent proxy). Nothing is ever sent.
//
// Replays run on the debugger's local engine (debugger.Local); the package
// serves no HTTP and reads the node through the interfaces it declares.
package patch
