package sourcemap_test

import (
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

const solSample = `contract C {
    uint256[] public items; // a [comment] with ; and {
    /* block { comment } ; */
    function f(uint256 x) external {
        require(x > 100, "semi; {brace}");
        if (x == 7) {
            revert Nope(x);
        }
        for (uint256 i = 0; i < x; i++) {
            items.push(i);
        }
    }
    modifier m() {
        _;
    }
}
`

// at returns the offset of the first occurrence of s in the sample.
func at(t *testing.T, s string) int {
	t.Helper()
	i := strings.Index(solSample, s)
	if i < 0 {
		t.Fatalf("%q is not in the sample", s)
	}
	return i
}

func TestTextMask(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	m := txt.Masked()
	if len(m) != len(solSample) || strings.Count(m, "\n") != strings.Count(solSample, "\n") {
		t.Fatal("masking moved offsets or lines")
	}
	for _, gone := range []string{"comment", "semi", "brace", "block"} {
		if strings.Contains(m, gone) {
			t.Errorf("masked text still holds %q", gone)
		}
	}
	if !strings.Contains(m, `require(x > 100, "             ");`) {
		t.Errorf("string contents not blanked with their quotes kept:\n%s", m)
	}
}

func TestTextStatement(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	for _, c := range []struct {
		name, expr, want string
	}{
		{"expression widened to its require", "x > 100", `require(x > 100, "semi; {brace}");`},
		{"literal with punctuation inside", `"semi`, `require(x > 100, "semi; {brace}");`},
		{"if header ends at its body", "x == 7", "if (x == 7) "},
		{"statement in a block", "Nope", "revert Nope(x);"},
		{"for header part", "i < x", "i < x;"},
		{"range with a brace kept", "if (x == 7) {\n            revert Nope(x);\n        }", "if (x == 7) {\n            revert Nope(x);\n        }"},
	} {
		t.Run(c.name, func(t *testing.T) {
			off := at(t, c.expr)
			s, e, ok := txt.Statement(off, len(c.expr))
			if !ok || solSample[s:e] != c.want {
				t.Errorf("statement %q (%v), want %q", solSample[s:e], ok, c.want)
			}
		})
	}
	if _, _, ok := txt.Statement(len(solSample), 1); ok {
		t.Error("a range past the end gave a statement")
	}
}

func TestTextBroad(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	for _, c := range []struct {
		text  string
		n     int // length, 0 for len(text)
		broad bool
	}{
		{text: "contract C {", n: len(solSample) - 1, broad: true},
		{text: "function f(", n: 200, broad: true},
		{text: "modifier m()", broad: true},
		{text: "{\n            revert", n: 30, broad: true},
		{text: "require(x > 100", broad: false},
		{text: "items.push(i)", broad: false},
	} {
		n := c.n
		if n == 0 {
			n = len(c.text)
		}
		if got := txt.Broad(at(t, c.text), n); got != c.broad {
			t.Errorf("Broad(%q) = %v, want %v", c.text, got, c.broad)
		}
	}
	if !txt.Broad(-1, 3) || !txt.Broad(0, len(solSample)+1) {
		t.Error("an invalid range is not broad")
	}
}

func TestTextContract(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	if !txt.Contract(0, len(solSample)-1) {
		t.Error("the contract is not a contract")
	}
	if off := at(t, "function f("); txt.Contract(off, 20) {
		t.Error("a function is a contract")
	}
	if txt.Contract(-1, 2) {
		t.Error("an invalid range is a contract")
	}
}

func TestTextEnclosing(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	line := func(off int) int { return txt.Line(off) }
	for _, c := range []struct {
		expr     string
		function bool
		from, to int // lines
		ok       bool
	}{
		{"items.push", true, 4, 12, true},
		{"items.push", false, 9, 11, true},
		{"Nope", false, 6, 8, true},
		{"_;", true, 13, 15, true},
		{"uint256[] public", true, 0, 0, false},
		{"uint256[] public", false, 1, 16, true},
	} {
		s, e, ok := txt.Enclosing(at(t, c.expr), c.function)
		if ok != c.ok || ok && (line(s) != c.from || line(e-1) != c.to) {
			t.Errorf("Enclosing(%q, %v) = lines %d-%d (%v), want %d-%d (%v)", c.expr, c.function, line(s), line(e-1), ok, c.from, c.to, c.ok)
		}
	}
}

func TestTextLineColumn(t *testing.T) {
	txt := sourcemap.NewText(solSample)
	off := at(t, "revert Nope")
	if txt.Line(off) != 7 || txt.Column(off) != 13 {
		t.Errorf("revert at %d:%d, want 7:13", txt.Line(off), txt.Column(off))
	}
	if u := sourcemap.NewText("/* é */ x"); u.Column(strings.Index(u.Source(), "x")) != 9 {
		t.Errorf("column after a two-byte character: %d, want 9", u.Column(strings.Index(u.Source(), "x")))
	}
	if txt.Line(-5) != 1 || txt.Line(1<<30) != strings.Count(solSample, "\n")+1 {
		t.Error("Line does not clamp")
	}
}

func FuzzText(f *testing.F) {
	f.Add(solSample, 10, 5)
	f.Add(`"unterminated`, 0, 1)
	f.Add("/* open", 2, 0)
	f.Add("a\\'b'c\"d\\\"\"", 1, 3)
	f.Fuzz(func(t *testing.T, src string, off, n int) {
		txt := sourcemap.NewText(src)
		if len(txt.Masked()) != len(src) {
			t.Fatalf("masked length %d, want %d", len(txt.Masked()), len(src))
		}
		if s, e, ok := txt.Statement(off, n); ok && (s < 0 || e > len(src) || s > e) {
			t.Fatalf("statement %d-%d of range %d+%d in %d bytes", s, e, off, n, len(src))
		}
		for _, fn := range []bool{false, true} {
			if s, e, ok := txt.Enclosing(off, fn); ok && (s < 0 || e > len(src) || s > off || e < off) {
				t.Fatalf("enclosing %d-%d of %d in %d bytes", s, e, off, len(src))
			}
		}
		if e, ok := txt.Block(off); ok && (e <= off || e > len(src)) {
			t.Fatalf("block of %d ends at %d in %d bytes", off, e, len(src))
		}
		txt.Broad(off, n)
		if l := txt.Line(off); l < 1 {
			t.Fatalf("line %d", l)
		}
	})
}
