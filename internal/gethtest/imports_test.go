package gethtest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestProductDoesNotImport keeps this package test-only: the blocktorch
// binary must not depend on it (tests and benchmarks may).
func TestProductDoesNotImport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/blocktorch/blocktorch/cmd/blocktorch").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const self = "github.com/blocktorch/blocktorch/internal/gethtest"
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed %d packages: %s", len(deps), out)
	}
	for _, p := range deps {
		if p == self {
			t.Fatalf("cmd/blocktorch depends on %s, which is for tests and benchmarks only", self)
		}
	}
}
