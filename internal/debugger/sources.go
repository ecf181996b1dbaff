package debugger

import "github.com/ethereum/go-ethereum/common"

// Location is a place in a source file.
type Location struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Column int    `json:"column"`
	// Approximate is set when the mapping cannot be trusted to the line:
	// code compiled with the optimizer or via IR, or an instruction the
	// compiler generated.
	Approximate bool `json:"approximate,omitempty"`
	// Generated is set for compiler-generated code (no user source).
	Generated bool `json:"generated,omitempty"`
	// WholeContract is set when the compiler mapped the instruction to a
	// whole contract (as via-IR code mostly does): Line is the contract's
	// first line, not a statement's.
	WholeContract bool `json:"wholeContract,omitempty"`
	// Offset and Length are the byte range in File the compiler mapped the
	// instruction to (Length -1 when none).
	Offset int `json:"-"`
	Length int `json:"-"`
}

// Sources maps code to its verified sources. Implementations must be safe
// for concurrent use; a nil Sources knows nothing.
type Sources interface {
	// Locate returns where the instruction at pc of code came from. code is
	// the code that ran: runtime code, or init code for a CREATE frame.
	Locate(code []byte, pc uint64) (Location, bool)
	// Content returns a source file's text by the name Locate gives it.
	Content(file string) (string, bool)
}

// Names maps code to the contract it was compiled from, and storage slots
// to variable names by the contract's storage layout. It is optional.
type Names interface {
	ContractName(code []byte) (string, bool)
	SlotLabel(code []byte, slot common.Hash) (label, typ string, ok bool)
	// ABI returns the contract's name and JSON ABI.
	ABI(code []byte) (name string, abiJSON []byte, ok bool)
}
