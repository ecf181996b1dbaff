package tracefs

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestTraceStore(t *testing.T) {
	storetest.RunTraces(t, func(t *testing.T) store.TraceStore {
		// A directory that does not exist yet: the first write makes it.
		return New(filepath.Join(t.TempDir(), "traces"))
	})
}

// TestLayout: parts are the files 0x<hash>.<part> that data directories
// already hold, and nothing else is left behind (no temporary file, nothing
// from an aborted part).
func TestLayout(t *testing.T) {
	dir := t.TempDir()
	d := New(dir)
	ctx := context.Background()
	tx := common.HexToHash("0x00000000000000000000000000000000000000000000000000000000000000AB")
	for _, part := range []string{"steps", "blob", "json"} {
		w, err := d.CreateTracePart(ctx, tx, part)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(part))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	w, err := d.CreateTracePart(ctx, common.Hash{1}, "steps")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("x"))
	w.Abort()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	base := "0x00000000000000000000000000000000000000000000000000000000000000ab"
	want := []string{base + ".blob", base + ".json", base + ".steps"}
	if len(names) != len(want) {
		t.Fatalf("files %q, want %q", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("files %q, want %q", names, want)
		}
	}
}
