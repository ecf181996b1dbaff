// Package sourcemap maps a program counter of EVM bytecode compiled by solc
// to the source range it came from: file, byte offset and length, line and
// column, jump type and modifier depth.
//
// solc writes a source map per bytecode object ("evm.bytecode.sourceMap" for
// creation code, "evm.deployedBytecode.sourceMap" for runtime code) in a
// compressed form: one "s:l:f:j:m" entry per instruction, separated by ';',
// where an omitted field repeats the previous entry's value. Entries are
// indexed by instruction, not by byte offset, so a PC is first turned into an
// instruction index by walking the bytecode and skipping PUSH1..PUSH32
// immediates (InstructionIndex).
//
// File indices are the "id" of each entry of the compiler output's
// "sources" object, plus the ids of the compiler-generated Yul sources listed
// under the bytecode's "generatedSources" (such as "#utility.yul"). Index -1
// means the instruction has no source at all (compiler-generated code such as
// the dispatcher's prologue); Location says so with Generated set and File
// empty.
//
// Offsets and lengths in source maps are UTF-8 byte offsets into the source
// text. Line and Column in Location are 1-based; Column counts characters
// (Unicode code points) from the start of the line, which is what an editor or
// a web page displays; ByteColumn gives the 1-based byte column for tools that
// want bytes.
//
// Optimised and via-IR code maps many instructions to a whole contract or
// function, or to one expression of a statement. Text reads a Solidity
// source without an AST to tell such ranges apart (Broad), widen an
// expression to its statement (Statement) and find the block or function
// around an offset (Enclosing); comments and string contents never count
// as code.
//
// The package is a leaf: it imports only the standard library, and it never
// panics on malformed input (source maps and bytecode may come from anyone).
package sourcemap
