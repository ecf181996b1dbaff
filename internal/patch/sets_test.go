package patch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/patch"
)

func TestParseSet(t *testing.T) {
	h := "0x" + strings.Repeat("ab", 32)
	for _, tt := range []struct {
		in   string
		want patch.Set
		err  string
	}{
		{"incident:3", patch.Set{Kind: "incident", Value: "3"}, ""},
		{"file:txs.txt", patch.Set{Kind: "file", Value: "txs.txt"}, ""},
		{"query:kind:tx status:failed", patch.Set{Kind: "query", Value: "kind:tx status:failed"}, ""},
		{h + "," + h, patch.Set{Kind: "hashes", Value: h + "," + h}, ""},
		{"incident:x", patch.Set{}, "named by its number"},
		{"file:", patch.Set{}, "needs a path"},
		{"query: ", patch.Set{}, "needs a search"},
		{"", patch.Set{}, "no transactions named"},
		{"0x12", patch.Set{}, "is not incident:ID"},
	} {
		got, err := patch.ParseSet(tt.in)
		if tt.err != "" {
			if !errors.Is(err, patch.ErrInvalid) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%q: %+v, %v", tt.in, got, err)
		}
	}
}

func TestParseHashes(t *testing.T) {
	h := "0x" + strings.Repeat("cd", 32)
	got, err := patch.ParseHashes(strings.NewReader("# exploit\n"+h+"  # the drain\n\n"+strings.ToUpper(h[2:4])+h[4:]+"\n"), 0)
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("a hash without 0x: %v, %v", got, err)
	}
	got, err = patch.ParseHashes(strings.NewReader("# exploit\n"+h+"  # the drain\n\n"+h+"\n"), 0)
	if err != nil || len(got) != 2 {
		t.Errorf("got %v, %v", got, err)
	}
	if _, err := patch.ParseHashes(strings.NewReader(h+"\n"+h+"\n"+h), 2); !errors.Is(err, patch.ErrTooMany) {
		t.Errorf("over the cap: %v", err)
	}
}

// FuzzParseHashes: any input gives hashes or a clear error, never a panic.
func FuzzParseHashes(f *testing.F) {
	f.Add("0x" + strings.Repeat("ab", 32) + "\n# c\n")
	f.Add("incident:3")
	f.Add(strings.Repeat("x", 70000))
	f.Fuzz(func(t *testing.T, s string) {
		hs, err := patch.ParseHashes(strings.NewReader(s), 5)
		if err != nil {
			if !errors.Is(err, patch.ErrInvalid) && !errors.Is(err, patch.ErrTooMany) {
				t.Fatalf("error %v is neither ErrInvalid nor ErrTooMany", err)
			}
			return
		}
		if len(hs) > 5 {
			t.Fatalf("%d hashes over the cap", len(hs))
		}
		if _, err := patch.ParseSet(s); err != nil && !errors.Is(err, patch.ErrInvalid) {
			t.Fatalf("ParseSet: %v", err)
		}
	})
}
