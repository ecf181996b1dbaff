package postgres

import (
	"bytes"
	"context"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/tracefs"
)

func TestTraces(t *testing.T) {
	storetest.RunTraces(t, func(t *testing.T) store.TraceStore {
		db := openTemp(t)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// A part written on one node opens on another.
func TestTracesShared(t *testing.T) {
	a, b := openTwo(t)
	defer a.Close()
	defer b.Close()
	data := bytes.Repeat([]byte("step "), 50_000) // several chunks
	w, err := a.CreateTracePart(t.Context(), common.Hash{9}, "steps")
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p, err := b.OpenTracePart(t.Context(), common.Hash{9}, "steps")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	got := make([]byte, 10)
	if _, err := p.ReadAt(got, traceChunk-5); err != nil || !bytes.Equal(got, data[traceChunk-5:traceChunk+5]) {
		t.Fatalf("ReadAt across a chunk boundary: %q, %v", got, err)
	}
}

// BenchmarkTraces measures a trace part of 4 MiB written whole, and its
// first step read (open, then 200 bytes at 0), on PostgreSQL against the
// files of tracefs in the same run.
func BenchmarkTraces(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<16) // 4 MiB
	db := openTemp(b)
	defer db.Close()
	for _, c := range []struct {
		name string
		s    store.TraceStore
	}{{"tracefs", tracefs.New(b.TempDir())}, {"postgres", db}} {
		ctx := context.Background()
		b.Run(c.name+"/write4MiB", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; b.Loop(); i++ {
				w, err := c.s.CreateTracePart(ctx, common.Hash{byte(i), byte(i >> 8)}, "steps")
				if err != nil {
					b.Fatal(err)
				}
				for off := 0; off < len(data); off += 32 << 10 {
					w.Write(data[off : off+32<<10])
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/firstStep", func(b *testing.B) {
			buf := make([]byte, 200)
			for b.Loop() {
				p, err := c.s.OpenTracePart(ctx, common.Hash{0, 0}, "steps")
				if err != nil {
					b.Fatal(err)
				}
				if _, err := p.ReadAt(buf, 0); err != nil {
					b.Fatal(err)
				}
				p.Close()
			}
		})
	}
}
