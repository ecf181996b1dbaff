package sourcemap_test

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// BenchmarkLocate measures PC lookups on LendingVault's runtime code, cycling
// through every PC (including PUSH data, which misses).
func BenchmarkLocate(b *testing.B) {
	m := mapper(b, "src/LendingVault.sol", "LendingVault", sourcemap.Runtime)
	arts, _ := demo.Artifacts()
	n := uint64(len(arts["LendingVault"].DeployedBytecode))
	b.ReportAllocs()
	var hits int
	for i := 0; b.Loop(); i++ {
		if _, ok := m.Locate(uint64(i) % n); ok {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no PC located")
	}
}

// BenchmarkFromStandardJSON measures building a Mapper from the demo's solc output.
func BenchmarkFromStandardJSON(b *testing.B) {
	for b.Loop() {
		mapper(b, "src/LendingVault.sol", "LendingVault", sourcemap.Runtime)
	}
}
