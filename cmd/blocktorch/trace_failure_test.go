package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/debugger"
)

// TestPrintFailureConfidence checks that the failing line is printed with
// no more confidence than the debugger has in it.
func TestPrintFailureConfidence(t *testing.T) {
	for _, c := range []struct {
		name string
		f    debugger.Failure
		want string
	}{
		{"exact", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom"},
			"failure at src/A.sol:7:9: boom\n"},
		{"inferred with candidate lines", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom", Approximate: true, FromLine: 5, ToLine: 12},
			"failure at src/A.sol:7:9: boom  (approximate: inferred, the origin is somewhere in lines 5-12)\n"},
		{"inferred on one line", debugger.Failure{File: "src/A.sol", Line: 7, Column: 9, Reason: "boom", Approximate: true, FromLine: 7, ToLine: 7},
			"failure at src/A.sol:7:9: boom  (approximate: inferred, the compiler's mapping is not exact here)\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			f := c.f
			printResult(&b, &debugger.Result{Root: &debugger.Frame{Type: "CALL"}, Failure: &f}, debugger.NewArtifacts())
			if !strings.HasSuffix(b.String(), c.want) {
				t.Errorf("printed\n%s\nwant it to end with\n%s", b.String(), c.want)
			}
		})
	}
}
