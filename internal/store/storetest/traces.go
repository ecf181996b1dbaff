package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// RunTraces runs the suite of store.TraceStore. open must return a new,
// empty store for each call.
func RunTraces(t *testing.T, open func(t *testing.T) store.TraceStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.TraceStore)
	}{
		{"Missing", testTracesMissing},
		{"RoundTrip", testTracesRoundTrip},
		{"ReplaceKeepsOpenReaders", testTracesReplace},
		{"AbortStoresNothing", testTracesAbort},
		{"RefusesPartNames", testTracesRefuses},
		{"Concurrent", testTracesConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// putPart stores data as a part and fails the test on any error.
func putPart(t *testing.T, s store.TraceStore, tx common.Hash, part string, data []byte) {
	t.Helper()
	w, err := s.CreateTracePart(context.Background(), tx, part)
	if err != nil {
		t.Fatalf("CreateTracePart(%s, %s): %v", tx, part, err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// readPart reads a whole part through ReadAt and checks Size.
func readPart(t *testing.T, p store.TracePart) []byte {
	t.Helper()
	b, err := io.ReadAll(io.NewSectionReader(p, 0, p.Size()))
	if err != nil {
		t.Fatalf("reading part: %v", err)
	}
	if int64(len(b)) != p.Size() {
		t.Fatalf("part holds %d bytes, Size says %d", len(b), p.Size())
	}
	return b
}

func testTracesMissing(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	if _, err := s.OpenTracePart(ctx, common.Hash{1}, "steps"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty store: err %v, want ErrNotFound", err)
	}
	putPart(t, s, common.Hash{1}, "steps", []byte("x"))
	for _, c := range []struct {
		tx   common.Hash
		part string
	}{{common.Hash{1}, "blob"}, {common.Hash{2}, "steps"}} {
		if _, err := s.OpenTracePart(ctx, c.tx, c.part); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("OpenTracePart(%s, %s): err %v, want ErrNotFound", c.tx, c.part, err)
		}
	}
}

func testTracesRoundTrip(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<14) // 256 KiB, written in pieces
	tx := common.HexToHash("0xABCDEF")
	w, err := s.CreateTracePart(ctx, tx, "blob")
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(big); i += 1000 {
		if _, err := w.Write(big[i:min(i+1000, len(big))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	putPart(t, s, tx, "json", []byte(`{"a":1}`))
	putPart(t, s, tx, "steps", nil)
	for part, want := range map[string][]byte{"blob": big, "json": []byte(`{"a":1}`), "steps": {}} {
		p, err := s.OpenTracePart(ctx, tx, part)
		if err != nil {
			t.Fatalf("%s: %v", part, err)
		}
		if got := readPart(t, p); !bytes.Equal(got, want) {
			t.Errorf("%s: read %d bytes, want %d", part, len(got), len(want))
		}
		// Random access, as the debugger reads one step.
		if len(want) > 100 {
			b := make([]byte, 16)
			if _, err := p.ReadAt(b, 100_003); err != nil || !bytes.Equal(b, want[100_003:100_019]) {
				t.Errorf("%s: ReadAt(100003) = %q, %v", part, b, err)
			}
		}
		if err := p.Close(); err != nil {
			t.Errorf("%s: Close: %v", part, err)
		}
	}
}

func testTracesReplace(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	tx := common.Hash{3}
	putPart(t, s, tx, "steps", []byte("first version"))
	old, err := s.OpenTracePart(ctx, tx, "steps")
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	w, err := s.CreateTracePart(ctx, tx, "steps")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("second")); err != nil {
		t.Fatal(err)
	}
	// Not closed yet: readers still get the first version.
	if p, err := s.OpenTracePart(ctx, tx, "steps"); err != nil {
		t.Fatal(err)
	} else if got := readPart(t, p); string(got) != "first version" {
		t.Errorf("while the new version is written: read %q", got)
	} else {
		p.Close()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readPart(t, old); string(got) != "first version" {
		t.Errorf("a reader opened before the replace reads %q, want the first version", got)
	}
	p, err := s.OpenTracePart(ctx, tx, "steps")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := readPart(t, p); string(got) != "second" {
		t.Errorf("after the replace: read %q", got)
	}
}

func testTracesAbort(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	tx := common.Hash{4}
	putPart(t, s, tx, "json", []byte("kept"))
	for _, part := range []string{"json", "blob"} {
		w, err := s.CreateTracePart(ctx, tx, part)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("half")); err != nil {
			t.Fatal(err)
		}
		w.Abort()
		w.Abort() // twice is harmless
	}
	p, err := s.OpenTracePart(ctx, tx, "json")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := readPart(t, p); string(got) != "kept" {
		t.Errorf("after an aborted replace: read %q, want the earlier version", got)
	}
	if _, err := s.OpenTracePart(ctx, tx, "blob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("aborted new part: err %v, want ErrNotFound", err)
	}
}

func testTracesRefuses(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	for _, part := range []string{"", "../steps", "a/b", "Steps", "steps.tmp", "st eps", "json\x00"} {
		if _, err := s.CreateTracePart(ctx, common.Hash{5}, part); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("CreateTracePart(%q): err %v, want ErrInvalid", part, err)
		}
		if _, err := s.OpenTracePart(ctx, common.Hash{5}, part); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("OpenTracePart(%q): err %v, want ErrInvalid", part, err)
		}
	}
}

func testTracesConcurrent(t *testing.T, s store.TraceStore) {
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tx := common.Hash{byte(g)}
			want := []byte(fmt.Sprintf("trace %d", g))
			for range 20 {
				w, err := s.CreateTracePart(ctx, tx, "json")
				if err != nil {
					errs <- err
					return
				}
				w.Write(want)
				if err := w.Close(); err != nil {
					errs <- err
					return
				}
				p, err := s.OpenTracePart(ctx, tx, "json")
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(io.NewSectionReader(p, 0, p.Size()))
				p.Close()
				if err != nil || !bytes.Equal(got, want) {
					errs <- fmt.Errorf("trace %d: read %q, %v", g, got, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
