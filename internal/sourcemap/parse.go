package sourcemap

import (
	"fmt"
	"strconv"
	"strings"
)

// Jump types of a source map entry, as solc writes them.
const (
	JumpNone    byte = '-' // a regular instruction, or a jump that is neither a call nor a return
	JumpInto    byte = 'i' // a jump into a function
	JumpOutOf   byte = 'o' // a jump out of a function (a return)
	maxEntryNum      = 1 << 40
)

// Entry is one decoded source map entry: the source range of one instruction.
type Entry struct {
	// Offset and Length are the UTF-8 byte range in the source file. solc
	// writes -1 for both when there is no range.
	Offset, Length int
	// File is the source id (the "id" of the compiler output's sources entry
	// or of a generated source), or -1 when the instruction has no source.
	File int
	// Jump is JumpInto, JumpOutOf or JumpNone.
	Jump byte
	// ModifierDepth is how deep in modifier bodies the instruction is
	// (0 outside modifiers).
	ModifierDepth int
}

// Parse decodes a compressed solc source map. Omitted fields inherit the
// previous entry's value; the first entry's omitted fields are -1 for
// offset, length and file, JumpNone and 0. An empty string yields no entries.
func Parse(compressed string) ([]Entry, error) {
	if compressed == "" {
		return nil, nil
	}
	parts := strings.Split(compressed, ";")
	entries := make([]Entry, 0, len(parts))
	prev := Entry{Offset: -1, Length: -1, File: -1, Jump: JumpNone}
	for i, part := range parts {
		e := prev
		fields := strings.Split(part, ":")
		if len(fields) > 5 {
			return nil, fmt.Errorf("cannot parse source map entry %d %q: more than 5 fields", i, part)
		}
		for k, f := range fields {
			if f == "" {
				continue
			}
			var err error
			switch k {
			case 0:
				e.Offset, err = parseNum(f, true)
			case 1:
				e.Length, err = parseNum(f, true)
			case 2:
				e.File, err = parseNum(f, true)
			case 3:
				if len(f) != 1 || (f[0] != JumpInto && f[0] != JumpOutOf && f[0] != JumpNone) {
					err = fmt.Errorf("jump type %q is not i, o or -", f)
				} else {
					e.Jump = f[0]
				}
			case 4:
				e.ModifierDepth, err = parseNum(f, false)
			}
			if err != nil {
				return nil, fmt.Errorf("cannot parse source map entry %d %q: %w", i, part, err)
			}
		}
		entries = append(entries, e)
		prev = e
	}
	return entries, nil
}

// parseNum reads a decimal number; negative values are only accepted as -1,
// the "none" marker solc uses.
func parseNum(s string, allowNone bool) (int, error) {
	if s == "-1" && allowNone {
		return -1, nil
	}
	if s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n > maxEntryNum {
		return 0, fmt.Errorf("%q is not a number in range", s)
	}
	return int(n), nil
}

// String encodes entries back into solc's compressed form, omitting fields
// equal to the previous entry's. Parse(String(e)) returns e.
func String(entries []Entry) string {
	var b strings.Builder
	prev := Entry{Offset: -1, Length: -1, File: -1, Jump: JumpNone}
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(';')
		}
		fields := []string{"", "", "", "", ""}
		// The first entry always writes its offset: an empty map means no entries.
		if e.Offset != prev.Offset || i == 0 {
			fields[0] = strconv.Itoa(e.Offset)
		}
		if e.Length != prev.Length {
			fields[1] = strconv.Itoa(e.Length)
		}
		if e.File != prev.File {
			fields[2] = strconv.Itoa(e.File)
		}
		if e.Jump != prev.Jump {
			fields[3] = string(e.Jump)
		}
		if e.ModifierDepth != prev.ModifierDepth {
			fields[4] = strconv.Itoa(e.ModifierDepth)
		}
		n := len(fields)
		for n > 0 && fields[n-1] == "" {
			n--
		}
		b.WriteString(strings.Join(fields[:n], ":"))
		prev = e
	}
	return b.String()
}
