package debugger

import (
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"
)

const matchSample = `contract M {
    error Low(uint256 have);
    function f(uint256 x, uint256[] memory a) external {
        // require(x > 1, "in a comment");
        require(x > 1, "too small");
        if (x == 2) {
            revert Low(x);
        }
        uint256 y = a[x] / x;
        assert(y != 3);
        emit Done(y);
    }
}
`

func errorData(msg string) []byte {
	out := append([]byte{}, selError...)
	out = append(out, common.LeftPadBytes(big.NewInt(32).Bytes(), 32)...)
	out = append(out, common.LeftPadBytes(big.NewInt(int64(len(msg))).Bytes(), 32)...)
	return append(out, common.RightPadBytes([]byte(msg), (len(msg)+31)/32*32)...)
}

func panicData(code int64) []byte {
	return append(append([]byte{}, selPanic...), common.LeftPadBytes(big.NewInt(code).Bytes(), 32)...)
}

// TestRevertKindMatch reads revert data and finds the statement of the
// sample that can have raised it, and nothing where none can.
func TestRevertKindMatch(t *testing.T) {
	lowABI := []byte(`[{"type":"error","name":"Low","inputs":[{"name":"have","type":"uint256"}]}]`)
	low := append(crypto.Keccak256([]byte("Low(uint256)"))[:4], common.LeftPadBytes([]byte{2}, 32)...)
	text := sourcemap.NewText(matchSample)
	lineOf := func(s string) int { return 1 + strings.Count(matchSample[:strings.LastIndex(matchSample, s)], "\n") }
	for _, c := range []struct {
		name   string
		err    string
		out    []byte
		abi    []byte
		line   int // 0: no match
		strong bool
	}{
		{"message, not the commented one", vm.ErrExecutionReverted.Error(), errorData("too small"), nil, lineOf(`require(x > 1, "too small")`), true},
		{"unknown message", vm.ErrExecutionReverted.Error(), errorData("other"), nil, 0, true},
		{"custom error named by the ABI", vm.ErrExecutionReverted.Error(), low, lowABI, lineOf("revert Low(x)"), true},
		{"custom error without an ABI", vm.ErrExecutionReverted.Error(), low, nil, 0, false},
		{"division", vm.ErrExecutionReverted.Error(), panicData(0x12), nil, lineOf("a[x] / x"), false},
		{"index", vm.ErrExecutionReverted.Error(), panicData(0x32), nil, lineOf("a[x] / x"), false},
		{"assert", vm.ErrExecutionReverted.Error(), panicData(0x01), nil, lineOf("assert(y != 3)"), true},
		{"enum conversion says nothing", vm.ErrExecutionReverted.Error(), panicData(0x21), nil, 0, false},
		{"out of gas says nothing", vm.ErrOutOfGas.Error(), nil, nil, 0, false},
		{"empty revert says nothing", vm.ErrExecutionReverted.Error(), nil, nil, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			k := classify(&Frame{Error: c.err, Output: hexutil.Bytes(c.out)}, c.abi)
			at, n := k.matchAll(text, 0, len(matchSample))
			switch {
			case c.line == 0 && n > 0:
				t.Errorf("matched line %d, want none", text.Line(at))
			case c.line != 0 && (n != 1 || text.Line(at) != c.line):
				t.Errorf("matched %d statement(s), first on line %d, want one on line %d", n, text.Line(at), c.line)
			}
			if c.line != 0 && k.strong != c.strong {
				t.Errorf("strong %v, want %v", k.strong, c.strong)
			}
		})
	}
}

// TestRegionTakesIfBody checks that an if header's region holds its body,
// where the revert the condition guards sits.
func TestRegionTakesIfBody(t *testing.T) {
	text := sourcemap.NewText(matchSample)
	off := strings.Index(matchSample, "x == 2")
	s, e, _ := text.Statement(off, len("x == 2"))
	rs, re := region(text, s, e)
	if got := matchSample[rs:re]; !strings.HasPrefix(got, "if (x == 2) {") || !strings.Contains(got, "revert Low(x);") || !strings.HasSuffix(got, "}") {
		t.Errorf("region %q", got)
	}
}

func TestCallsOut(t *testing.T) {
	for body, want := range map[string]bool{
		"{ counter = a; uint256 q = a / b; counter = q; }":                   false,
		"{ require(x > 1, \"m\"); emit Done(x); items.push(uint256(x)); }":   false,
		"{ (bool ok, ) = address(this).call(abi.encodeCall(this.f, (x))); }": false,
		"{ counter = MathLib.addTo(counter, x); }":                           true,
		"{ helper(x); }": true,
	} {
		if got := callsOut(body); got != want {
			t.Errorf("callsOut(%q) = %v, want %v", body, got, want)
		}
	}
}

// TestOriginFixturesFresh checks that the compiled fixtures hold the
// sources as they are in internal/demo/contracts/fixtures/origin: a changed source must
// be recompiled (see origin_test.go).
func TestOriginFixturesFresh(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "demo", "contracts", "fixtures", "origin", "*.sol"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture sources: %v", err)
	}
	for _, build := range originBuilds {
		b := loadOriginBuild(t, build)
		for _, file := range files {
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			unit := "fixtures/origin/" + filepath.Base(file)
			if have, _ := b.arts.Content(unit); have != string(want) {
				t.Errorf("%s: testdata/origin/%s holds another %s: run make contracts", build, build, unit)
			}
		}
	}
}

// FuzzRevertKind reads any revert data against any source: no panic, and
// a match is a statement start inside the text.
func FuzzRevertKind(f *testing.F) {
	f.Add(errorData("too small"), matchSample)
	f.Add(panicData(0x32), matchSample)
	f.Add(panicData(0x11), "x = a +")
	f.Add([]byte{0x08, 0xc3, 0x79, 0xa0, 1}, `"`)
	f.Add(append(crypto.Keccak256([]byte("Low(uint256)"))[:4], 1), "revert Low(")
	lowABI := []byte(`[{"type":"error","name":"Low","inputs":[{"name":"have","type":"uint256"}]}]`)
	f.Fuzz(func(t *testing.T, out []byte, src string) {
		k := classify(&Frame{Error: vm.ErrExecutionReverted.Error(), Output: out}, lowABI)
		text := sourcemap.NewText(src)
		at, n := k.matchAll(text, 0, len(src))
		if n < 0 || n > 0 && (at < 0 || at > len(src)) {
			t.Fatalf("match %d (%d) in %d bytes", at, n, len(src))
		}
		if n > 0 && !k.informative() {
			t.Fatal("a failure that names nothing matched")
		}
	})
}
