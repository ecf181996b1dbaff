package sourcemap_test

import (
	"testing"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "1:2:0", "1:2:0;;3;:4;::-1;:::i;::::2", "-1:-1:-1:-", ":::o", "1:2:3:x", "::::::"} {
		f.Add(s)
	}
	arts, _ := demo.Artifacts()
	f.Add(arts["Router"].DeployedSourceMap)
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := sourcemap.Parse(s)
		if err != nil {
			return
		}
		again, err := sourcemap.Parse(sourcemap.String(entries))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("re-parse of %q failed: %v", sourcemap.String(entries), err)
		}
		for i := range entries {
			if again[i] != entries[i] {
				t.Fatalf("entry %d: %+v after a round trip, want %+v", i, again[i], entries[i])
			}
		}
	})
}

func FuzzLocate(f *testing.F) {
	arts, _ := demo.Artifacts()
	r := arts["Router"]
	f.Add(r.DeployedBytecode, r.DeployedSourceMap, "contract R {}\n", uint64(10))
	f.Add([]byte{0x60, 0x01, 0x7f}, "0:5:0;1:2:1:i", "é\nx", uint64(2))
	f.Add([]byte{0x00, 0xa1, 0x60, 0x60, 0x00, 0x03}, "0:1:0", "", uint64(0))
	f.Fuzz(func(t *testing.T, code []byte, sm, src string, pc uint64) {
		m, err := sourcemap.New(code, sm, []sourcemap.Source{{ID: 0, Name: "a", Content: src}, {ID: 1, Name: "b", Content: src, Generated: true}})
		if err != nil {
			return
		}
		idx := sourcemap.InstructionIndex(code)
		if len(idx) != len(code) {
			t.Fatalf("InstructionIndex gave %d entries for %d bytes", len(idx), len(code))
		}
		loc, ok := m.Locate(pc)
		if !ok {
			return
		}
		if loc.Line > 0 && (loc.Column < 1 || loc.EndLine < loc.Line) {
			t.Fatalf("inconsistent location %+v", loc)
		}
		_ = m.Context(loc, 3)
		_ = loc.String()
	})
}
