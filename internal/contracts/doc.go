// Package contracts verifies that compiler artifacts are the source of the
// code deployed at an address, and detects what a deployed contract is (a
// proxy, Ownable, Pausable, AccessControl).
//
// Artifacts are read from what build tools leave on disk: Hardhat build-info
// files, Foundry out/ directories, or a solc standard-JSON input/output pair
// (Load* functions; LoadDir tells them apart). Verify compares an artifact's
// runtime code with the code on chain after filling in what the compiler
// could not know: immutable values (the immutableReferences ranges are
// zeroed on both sides) and library addresses (given, or read from the chain
// code at the linkReferences offsets). Identical code is a full match; code
// identical except for the CBOR metadata section solc appends (which hashes
// the metadata, so any change of comments, paths or settings changes it) is a
// partial match; anything else is no match, and the Mismatch says where the
// code first differs and which compiler setting most likely explains it.
//
// A Registry records full and partial matches for a running server; given
// a Store it writes each match (sources, settings, artifact, match detail)
// before showing it, and Load reads them back after a restart.
//
// A Catalog is the one way a contract becomes known (abi add, the web form,
// a verification, the demo): it registers the ABI with the decoder, stores
// it, and calls a change hook (which the app wires to monitors); Load gives
// the decoder back the stored ABIs after a restart.
//
// Everything read from chain is attacker-controlled: parsing never panics,
// and detection only reports what a successful call or a storage slot shows.
package contracts
