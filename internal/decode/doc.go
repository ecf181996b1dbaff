// Package decode owns blocktorch's ABI work. It turns raw calldata, event
// logs and revert data into the readable chain.Call, chain.Event and
// chain.Revert values, using a registry of contract ABIs and a bundled table
// of common standards (ERC-20, ERC-721, ERC-1155, Ownable, Pausable,
// AccessControl, Chainlink aggregators, ERC-1967 proxies, WETH and the
// OpenZeppelin v5 custom errors). Revert decodes revert data with one
// contract's ABI (the contract page's reads, the debugger).
//
// It also encodes calls: ParseArg is the one parser from text to ABI
// arguments (the contract page's read forms, the monitors' state reads),
// EncodeCall and PackCall build calldata, and DecodeOutputs decodes what a
// call returned. These work on go-ethereum's accounts/abi types (ParseABI),
// whose encoder is the reference; only the decoding of untrusted data
// below is the package's own.
//
// Everything decoded here is attacker-controlled, so the decoder is its own
// rather than go-ethereum's accounts/abi (which the tests use as a reference
// encoder and as a differential oracle): ABI types are parsed and checked
// strictly (go-ethereum's parser accepts "uint7" or "uint256abc"), values are
// decoded against a budget (nested dynamic arrays may share offsets, which
// makes a 1 MiB input expand to hundreds of millions of values in a
// reflection-based decoder), and panics are turned into errors at the
// package boundary.
//
// Values are rendered as documented on chain.Arg: integers in decimal,
// addresses as EIP-55 checksummed 0x-hex, bytes and bytesN as 0x-hex, bools as
// true/false, strings as-is with invalid UTF-8 replaced by U+FFFD. Arrays and
// tuples are compact JSON in which every leaf is a JSON string holding that
// same rendering (numbers stay exact in JavaScript): an array is a JSON array,
// a tuple a JSON object keyed by component name in declaration order.
// Strings and bytes longer than MaxValueBytes are cut there and end in "…".
// Unnamed arguments and tuple components are named arg0, arg1, ….
//
// Indexed event arguments of reference types (string, bytes, arrays, tuples)
// are stored on chain as the keccak256 hash of their value: their Value is
// that 32-byte hash in 0x-hex, and their Type stays the declared type.
package decode
