package sourcemap

// Opcodes the instruction walk needs.
const (
	opPush1  = 0x60
	opPush32 = 0x7f
)

// InstructionIndex returns, for every byte offset (PC) of code, the index of
// the instruction that starts there, or -1 when the byte is a PUSH immediate
// or part of the trailing CBOR metadata section (which is data, not code).
// A PUSH whose immediate runs past the end of code (a truncated final PUSH)
// still counts as one instruction; the missing bytes read as zero in the EVM.
func InstructionIndex(code []byte) []int {
	end := len(code) - MetadataLength(code)
	idx := make([]int, len(code))
	n := 0
	for pc := 0; pc < len(code); {
		if pc >= end {
			idx[pc] = -1
			pc++
			continue
		}
		idx[pc] = n
		n++
		width := 0
		if op := code[pc]; op >= opPush1 && op <= opPush32 {
			width = int(op-opPush1) + 1
		}
		pc++
		for k := 0; k < width && pc < len(code); k++ {
			idx[pc] = -1
			pc++
		}
	}
	return idx
}

// MetadataLength returns the length of the CBOR metadata section solc appends
// to bytecode, including the two length bytes that end it, or 0 when code
// does not end in one. The section is a CBOR map whose byte length is the
// big-endian uint16 in the last two bytes; it is recognised by that length
// fitting in code and the section starting with a CBOR map header.
func MetadataLength(code []byte) int {
	if len(code) < 2 {
		return 0
	}
	n := int(code[len(code)-2])<<8 | int(code[len(code)-1])
	if n == 0 || n+2 > len(code) {
		return 0
	}
	start := len(code) - 2 - n
	// CBOR major type 5 (map): 0xa0..0xbb. solc writes small maps (0xa1..0xa5).
	if h := code[start]; h < 0xa1 || h > 0xbb {
		return 0
	}
	return n + 2
}
