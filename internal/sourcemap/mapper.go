package sourcemap

import (
	"fmt"
	"sort"
	"unicode/utf8"
)

// Source is one file a source map refers to.
type Source struct {
	// ID is the file index source map entries use.
	ID int
	// Name is the source unit name ("src/Vault.sol") or, for generated
	// sources, the compiler's name for them ("#utility.yul").
	Name string
	// Content is the source text; it may be empty when unknown, in which case
	// locations carry offsets but no line or column.
	Content string
	// Generated is true for compiler-generated sources (Yul utility code).
	Generated bool
}

// Location is where an instruction came from.
type Location struct {
	// FileID is the source id, or -1 when the instruction has no source.
	FileID int `json:"fileId"`
	// File is the source name, or "" when the instruction has no source or
	// its id is not among the known sources.
	File string `json:"file,omitempty"`
	// Offset and Length are the UTF-8 byte range in the file (-1 when none).
	Offset int `json:"offset"`
	Length int `json:"length"`
	// Line and Column are 1-based; Column counts characters. EndLine and
	// EndColumn are those of the last character of the range (inclusive), or
	// equal to Line/Column for an empty range. All four are 0 when the
	// source text is unknown or the range lies outside it.
	Line      int `json:"line,omitempty"`
	Column    int `json:"column,omitempty"`
	EndLine   int `json:"endLine,omitempty"`
	EndColumn int `json:"endColumn,omitempty"`
	// ByteColumn is Column counted in UTF-8 bytes instead of characters.
	ByteColumn int `json:"byteColumn,omitempty"`
	// Jump is JumpInto, JumpOutOf or JumpNone.
	Jump byte `json:"jump"`
	// ModifierDepth is the entry's modifier depth.
	ModifierDepth int `json:"modifierDepth"`
	// Generated is true when the instruction is compiler-generated: either
	// it has no source (FileID -1) or its source is generated Yul.
	Generated bool `json:"generated"`
	// Instruction is the instruction index of the PC.
	Instruction int `json:"instruction"`
}

// HasSource reports whether the location names a known source file.
func (l Location) HasSource() bool { return l.File != "" }

// String renders the location as "file:line:col", or says why it has none.
func (l Location) String() string {
	switch {
	case l.FileID < 0:
		return "compiler-generated code (no source)"
	case l.File == "":
		return fmt.Sprintf("unknown source %d at byte %d", l.FileID, l.Offset)
	case l.Line == 0:
		return fmt.Sprintf("%s at byte %d", l.File, l.Offset)
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Column)
}

// Mapper maps the PCs of one bytecode object to source locations. It is
// immutable after New and safe for concurrent use.
type Mapper struct {
	pcIndex []int      // pc → instruction index or -1
	locs    []Location // instruction index → location (only as many as entries)
	sources map[int]*file
}

type file struct {
	Source
	lineStarts []int // byte offset of each line's first byte
}

// New builds a Mapper for code with its compressed source map and the
// sources the map refers to. code may be the on-chain code: filled-in
// immutables and linked libraries do not move instructions. Instructions
// beyond the source map (such as the runtime code appended to creation code)
// have no location.
func New(code []byte, compressed string, sources []Source) (*Mapper, error) {
	entries, err := Parse(compressed)
	if err != nil {
		return nil, err
	}
	return NewFromEntries(code, entries, sources), nil
}

// NewFromEntries is New with an already decoded source map.
func NewFromEntries(code []byte, entries []Entry, sources []Source) *Mapper {
	m := &Mapper{pcIndex: InstructionIndex(code), sources: make(map[int]*file, len(sources))}
	for _, s := range sources {
		m.sources[s.ID] = &file{Source: s, lineStarts: lineStarts(s.Content)}
	}
	m.locs = make([]Location, len(entries))
	for i, e := range entries {
		m.locs[i] = m.resolve(e, i)
	}
	return m
}

func (m *Mapper) resolve(e Entry, instr int) Location {
	loc := Location{FileID: e.File, Offset: e.Offset, Length: e.Length, Jump: e.Jump,
		ModifierDepth: e.ModifierDepth, Instruction: instr}
	if e.File < 0 {
		loc.Generated = true
		return loc
	}
	f, ok := m.sources[e.File]
	if !ok {
		return loc
	}
	loc.File = f.Name
	loc.Generated = f.Generated
	if e.Offset < 0 || e.Offset > len(f.Content) {
		return loc
	}
	loc.Line, loc.Column, loc.ByteColumn = f.position(e.Offset)
	last := e.Offset
	if e.Length > 0 {
		last = e.Offset + e.Length - 1
	}
	if last >= len(f.Content) {
		last = max(len(f.Content)-1, e.Offset)
	}
	loc.EndLine, loc.EndColumn, _ = f.position(last)
	return loc
}

// position returns the 1-based line, character column and byte column of a
// byte offset.
func (f *file) position(off int) (line, col, byteCol int) {
	i := sort.Search(len(f.lineStarts), func(i int) bool { return f.lineStarts[i] > off }) - 1
	start := f.lineStarts[i]
	end := min(off, len(f.Content))
	return i + 1, utf8.RuneCountInString(f.Content[start:end]) + 1, off - start + 1
}

func lineStarts(s string) []int {
	starts := []int{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// Instruction returns the instruction index at pc, or false when pc is out of
// range, inside PUSH data or inside the metadata section.
func (m *Mapper) Instruction(pc uint64) (int, bool) {
	if pc >= uint64(len(m.pcIndex)) {
		return 0, false
	}
	i := m.pcIndex[pc]
	return i, i >= 0
}

// Locate returns the source location of the instruction at pc. It returns
// false when pc is not the start of an instruction or the instruction has
// no source map entry. A location with FileID -1 (Generated, no File) is
// returned with true: the compiler says the instruction has no source.
func (m *Mapper) Locate(pc uint64) (Location, bool) {
	i, ok := m.Instruction(pc)
	if !ok || i >= len(m.locs) {
		return Location{}, false
	}
	return m.locs[i], true
}

// Source returns the source with that id.
func (m *Mapper) Source(id int) (Source, bool) {
	f, ok := m.sources[id]
	if !ok {
		return Source{}, false
	}
	return f.Source, true
}

// Line is one line of source text for display.
type Line struct {
	Number int    `json:"number"` // 1-based
	Text   string `json:"text"`   // without the line break
	// Highlight is true for the lines the location spans.
	Highlight bool `json:"highlight,omitempty"`
}

// Context returns the lines of loc's source from n lines before its first
// line to n lines after its last, marking the lines it spans. It returns
// nil when the location has no known source text.
func (m *Mapper) Context(loc Location, n int) []Line {
	f, ok := m.sources[loc.FileID]
	if !ok || loc.Line == 0 {
		return nil
	}
	return contextLines(f.Content, f.lineStarts, loc.Line, max(loc.EndLine, loc.Line), n)
}

// Excerpt returns lines first-n .. last+n of content (1-based, clamped),
// marking first..last. It is Context for a source held elsewhere.
func Excerpt(content string, first, last, n int) []Line {
	return contextLines(content, lineStarts(content), first, last, n)
}

func contextLines(content string, starts []int, first, last, n int) []Line {
	if first < 1 || first > len(starts) || n < 0 {
		return nil
	}
	last = min(max(last, first), len(starts))
	from, to := max(1, first-n), min(len(starts), last+n)
	out := make([]Line, 0, to-from+1)
	for ln := from; ln <= to; ln++ {
		start := starts[ln-1]
		end := len(content)
		if ln < len(starts) {
			end = starts[ln] - 1
		}
		text := content[start:end]
		if len(text) > 0 && text[len(text)-1] == '\r' {
			text = text[:len(text)-1]
		}
		out = append(out, Line{Number: ln, Text: text, Highlight: ln >= first && ln <= last})
	}
	return out
}
