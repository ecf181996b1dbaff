package sourcemap_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func TestParse(t *testing.T) {
	f := func(in string, want []sourcemap.Entry) {
		t.Helper()
		got, err := sourcemap.Parse(in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", in, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %+v, want %+v", in, got, want)
		}
		if again, _ := sourcemap.Parse(sourcemap.String(got)); !reflect.DeepEqual(again, got) {
			t.Fatalf("Parse(String(%+v)) = %+v", got, again)
		}
	}
	e := func(s, l, file int, j byte, m int) sourcemap.Entry {
		return sourcemap.Entry{Offset: s, Length: l, File: file, Jump: j, ModifierDepth: m}
	}
	f("", nil)
	f("1:2:0", []sourcemap.Entry{e(1, 2, 0, '-', 0)})
	// Omitted fields and empty entries inherit; -1 file means no source.
	f("1:2:0;;3;:4;::-1;:::i;::::2;5:6:1:o:1", []sourcemap.Entry{
		e(1, 2, 0, '-', 0), e(1, 2, 0, '-', 0), e(3, 2, 0, '-', 0), e(3, 4, 0, '-', 0),
		e(3, 4, -1, '-', 0), e(3, 4, -1, 'i', 0), e(3, 4, -1, 'i', 2), e(5, 6, 1, 'o', 1),
	})
	f("-1:-1:-1:-", []sourcemap.Entry{e(-1, -1, -1, '-', 0)})
	// A first entry with omitted fields starts from "none".
	f(":::i", []sourcemap.Entry{e(-1, -1, -1, 'i', 0)})
}

func TestParseErrors(t *testing.T) {
	for _, in := range []string{"a", "1:2:3:x", "1:2:3:-:4:5", "1:-2", "1:2:3:-:-1", "99999999999999999999", "1:2:3:io", "+1"} {
		if _, err := sourcemap.Parse(in); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", in)
		}
	}
}

func TestInstructionIndex(t *testing.T) {
	f := func(name string, code []byte, want []int) {
		t.Helper()
		if got := sourcemap.InstructionIndex(code); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: InstructionIndex(%x) = %v, want %v", name, code, got, want)
		}
	}
	f("empty", nil, []int{})
	f("push1 push2 add", []byte{0x60, 1, 0x61, 2, 3, 0x01}, []int{0, -1, 1, -1, -1, 2})
	f("push32", append(append([]byte{0x7f}, make([]byte, 32)...), 0x00), append(append([]int{0}, repeat(-1, 32)...), 1))
	f("push0 is one byte", []byte{0x5f, 0x5f}, []int{0, 1})
	f("truncated final push", []byte{0x00, 0x63, 1}, []int{0, 1, -1})
	// STOP, then a metadata tail: a 1-entry CBOR map of 3 bytes and its length 0x0003.
	f("metadata tail", []byte{0x00, 0xa1, 0x60, 0x60, 0x00, 0x03}, []int{0, -1, -1, -1, -1, -1})
	// The length does not point at a CBOR map: no tail, every byte is code.
	f("not metadata", []byte{0x00, 0x01, 0x00, 0x02}, []int{0, 1, 2, 3})
}

func repeat(v, n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func TestMetadataLength(t *testing.T) {
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range arts {
		if len(a.DeployedBytecode) == 0 {
			continue
		}
		n := sourcemap.MetadataLength(a.DeployedBytecode)
		// solc 0.8.28 writes {ipfs: 34 bytes, solc: 3 bytes}: 0x33 bytes of CBOR plus 2 length bytes.
		if n != 0x33+2 {
			t.Errorf("%s: MetadataLength = %d, want %d", name, n, 0x33+2)
		}
	}
}

func TestLocateSynthetic(t *testing.T) {
	src := "contract A {\n  // é ü\n  function f() { x = 1; }\n}\n"
	off := strings.Index(src, "x = 1")
	code := []byte{0x60, 0x01, 0x60, 0x02, 0x01, 0x00}
	sm := fmt.Sprintf("0:%d:0:-:0;%d:5:0;:::i;-1:-1:-1:o;1:1:7", len(src), off)
	m, err := sourcemap.New(code, sm, []sourcemap.Source{
		{ID: 0, Name: "A.sol", Content: src},
		{ID: 1, Name: "#utility.yul", Content: "{}", Generated: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	f := func(pc uint64, ok bool, want string, line, col, byteCol int, gen bool) {
		t.Helper()
		loc, got := m.Locate(pc)
		if got != ok {
			t.Fatalf("Locate(%d) ok = %v, want %v", pc, got, ok)
		}
		if !ok {
			return
		}
		if loc.String() != want || loc.Line != line || loc.Column != col || loc.ByteColumn != byteCol || loc.Generated != gen {
			t.Fatalf("Locate(%d) = %+v (%s), want %s line %d col %d bytecol %d generated %v", pc, loc, loc, want, line, col, byteCol, gen)
		}
	}
	f(0, true, "A.sol:1:1", 1, 1, 1, false)
	f(1, false, "", 0, 0, 0, false) // PUSH data
	f(2, true, "A.sol:3:18", 3, 18, 18, false)
	f(4, true, "A.sol:3:18", 3, 18, 18, false)
	f(5, true, "compiler-generated code (no source)", 0, 0, 0, true)
	f(6, false, "", 0, 0, 0, false)
	loc, _ := m.Locate(0)
	if loc.EndLine != 4 || loc.EndColumn != 2 {
		t.Errorf("whole-file range ends at %d:%d, want 4:2 (the closing brace and newline)", loc.EndLine, loc.EndColumn)
	}
	// A multi-byte character before the range: character and byte columns differ.
	m2, _ := sourcemap.New([]byte{0x00}, fmt.Sprintf("%d:1:0", strings.Index(src, "ü")+2), []sourcemap.Source{{ID: 0, Name: "A.sol", Content: src}})
	loc, _ = m2.Locate(0)
	if loc.Line != 2 || loc.Column != 9 || loc.ByteColumn != 11 {
		t.Errorf("after é ü: line %d col %d bytecol %d, want 2, 9, 11", loc.Line, loc.Column, loc.ByteColumn)
	}
	lines := m.Context(Location(m, 2), 1)
	want := []sourcemap.Line{{Number: 2, Text: "  // é ü"}, {Number: 3, Text: "  function f() { x = 1; }", Highlight: true}, {Number: 4, Text: "}"}}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("Context = %+v, want %+v", lines, want)
	}
}

// Location is Locate for a PC the test knows maps.
func Location(m *sourcemap.Mapper, pc uint64) sourcemap.Location {
	loc, _ := m.Locate(pc)
	return loc
}

func mapper(t testing.TB, unit, name string, runtime bool) *sourcemap.Mapper {
	t.Helper()
	in, out := demo.StandardJSON()
	m, err := sourcemap.FromStandardJSON(in, out, unit, name, runtime)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestLendingVaultFailures checks that the REVERT of each failure path of
// LendingVault's runtime code maps to the require or revert statement in
// internal/demo/contracts/src/LendingVault.sol, and that every checked arithmetic that can
// panic is entered from its expression's line. The golden file lists where
// every REVERT and INVALID lands, for review.
func TestLendingVaultFailures(t *testing.T) {
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	code := arts["LendingVault"].DeployedBytecode
	m := mapper(t, "src/LendingVault.sol", "LendingVault", sourcemap.Runtime)
	src, err := os.ReadFile(filepath.Join("..", "demo", "contracts", "src", "LendingVault.sol"))
	if err != nil {
		t.Fatal(err)
	}
	srcLines := strings.Split(string(src), "\n")

	idx := sourcemap.InstructionIndex(code)
	var golden strings.Builder
	reverts := map[int]string{} // LendingVault.sol line → source text of the reverting range
	for pc, op := range code {
		if idx[pc] < 0 || (op != 0xfd && op != 0xfe) {
			continue
		}
		loc, ok := m.Locate(uint64(pc))
		if !ok {
			// solc ends the code with a designated INVALID that has no entry.
			if op != 0xfe || pc != len(code)-sourcemap.MetadataLength(code)-1 {
				t.Fatalf("REVERT/INVALID at pc %d has no source map entry", pc)
			}
			fmt.Fprintf(&golden, "pc %d INVALID end of code (no entry)\n", pc)
			continue
		}
		fmt.Fprintf(&golden, "pc %d %s %s\n", pc, map[byte]string{0xfd: "REVERT", 0xfe: "INVALID"}[op], loc)
		if loc.File == "src/LendingVault.sol" {
			reverts[loc.Line] = strings.TrimSpace(srcLines[loc.Line-1])
		}
	}
	checkGolden(t, "LendingVault.reverts.golden", golden.String())

	for _, line := range []int{73, 116, 177, 184, 188, 198, 216, 218} {
		text, ok := reverts[line]
		if !ok {
			t.Errorf("no REVERT maps to LendingVault.sol:%d %q", line, strings.TrimSpace(srcLines[line-1]))
			continue
		}
		if !strings.HasPrefix(text, "require(") && !strings.HasPrefix(text, "revert ") {
			t.Errorf("LendingVault.sol:%d is %q, not a require or revert", line, text)
		}
	}

	// Panics (0x11 overflow, 0x12 division by zero) revert inside the Yul
	// utility code; the failing line is the one whose code jumps into it.
	entries := map[int]bool{}
	for pc := range code {
		loc, ok := m.Locate(uint64(pc))
		if ok && loc.File == "src/LendingVault.sol" && loc.Jump == sourcemap.JumpInto {
			entries[loc.Line] = true
		}
	}
	for _, line := range []int{118, 123, 141, 148, 178, 185, 196, 207, 215} {
		if !entries[line] {
			t.Errorf("no jump into a function from LendingVault.sol:%d %q", line, strings.TrimSpace(srcLines[line-1]))
		}
	}
}

func TestGeneratedSources(t *testing.T) {
	m := mapper(t, "src/LendingVault.sol", "LendingVault", sourcemap.Runtime)
	arts, _ := demo.Artifacts()
	var yul, none int
	for pc := range arts["LendingVault"].DeployedBytecode {
		loc, ok := m.Locate(uint64(pc))
		if !ok {
			continue
		}
		switch {
		case loc.FileID < 0:
			none++
			if !loc.Generated || loc.File != "" {
				t.Fatalf("pc %d: file -1 gives %+v", pc, loc)
			}
		case loc.File == "#utility.yul":
			yul++
			if !loc.Generated || loc.Line == 0 {
				t.Fatalf("pc %d: utility code gives %+v", pc, loc)
			}
		case loc.File == "":
			t.Fatalf("pc %d: source id %d is unknown", pc, loc.FileID)
		}
	}
	// Unoptimised solc 0.8.28 attributes everything to a file (none == 0);
	// the contracts package's optimised compiles meet -1.
	if yul == 0 {
		t.Fatalf("%d instructions in #utility.yul and %d without source; want some in #utility.yul", yul, none)
	}
}

func TestCreationCode(t *testing.T) {
	m := mapper(t, "src/LendingVault.sol", "LendingVault", sourcemap.Creation)
	arts, _ := demo.Artifacts()
	code := arts["LendingVault"].Bytecode
	lines := map[int]bool{}
	for pc := range code {
		if loc, ok := m.Locate(uint64(pc)); ok && loc.File == "src/LendingVault.sol" {
			lines[loc.Line] = true
		}
	}
	// The constructor body, line 56 (the implementation disables its
	// initializers; the proxy's state is set by initialize, runtime code).
	for _, line := range []int{56} {
		if !lines[line] {
			t.Errorf("no creation-code instruction maps to LendingVault.sol:%d", line)
		}
	}
	// The runtime code appended to the creation code is data: no location.
	if _, ok := m.Locate(uint64(len(code) - 40)); ok {
		t.Errorf("a PC inside the appended runtime code has a location")
	}
}

func TestExcerpt(t *testing.T) {
	src := "a\nb\r\nc\nd\n"
	f := func(first, last, n int, want []sourcemap.Line) {
		t.Helper()
		if got := sourcemap.Excerpt(src, first, last, n); !reflect.DeepEqual(got, want) {
			t.Errorf("Excerpt(%d, %d, %d) = %+v, want %+v", first, last, n, got, want)
		}
	}
	f(1, 1, 1, []sourcemap.Line{{1, "a", true}, {2, "b", false}})
	f(2, 3, 0, []sourcemap.Line{{2, "b", true}, {3, "c", true}})
	f(5, 5, 1, []sourcemap.Line{{4, "d", false}, {5, "", true}})
	f(6, 6, 1, nil)
	f(0, 0, 1, nil)
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run with -update and review the diff.\ngot:\n%s", path, got)
	}
}
