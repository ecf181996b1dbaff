package logingest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

type retainCall struct {
	source    string
	olderThan time.Time
}

type fakeRetainer struct {
	mu    sync.Mutex
	calls []retainCall
	fail  map[string]bool
}

func (f *fakeRetainer) Retain(_ context.Context, source string, olderThan time.Time) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, retainCall{source, olderThan})
	if f.fail[source] {
		return 0, errors.New("disk full")
	}
	return 1, nil
}

func (f *fakeRetainer) take() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]time.Time)
	for _, c := range f.calls {
		out[c.source] = c.olderThan
	}
	f.calls = nil
	return out
}

// TestRunRetention checks that each source with an age is pruned of records
// older than now minus that age, at start and again RetainEvery later; that a
// failing source does not stop the others or the loop; and that the loop
// returns nil when its context ends.
func TestRunRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ages := map[string]time.Duration{"app": 30 * 24 * time.Hour, "security": 90 * 24 * time.Hour, "system": 7 * 24 * time.Hour}
		st := &fakeRetainer{fail: map[string]bool{"security": true}}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- RunRetention(ctx, st, ages, slog.New(slog.NewTextHandler(io.Discard, nil))) }()

		for pass := range 3 {
			synctest.Wait()
			now := time.Now()
			got := st.take()
			if len(got) != len(ages) {
				t.Fatalf("pass %d pruned %d sources, want %d: %v", pass, len(got), len(ages), got)
			}
			for source, keep := range ages {
				if want := now.Add(-keep); !got[source].Equal(want) {
					t.Errorf("pass %d: %s pruned before %v, want %v", pass, source, got[source], want)
				}
			}
			time.Sleep(RetainEvery - time.Nanosecond) // fake clock
			synctest.Wait()
			if got := st.take(); len(got) != 0 {
				t.Fatalf("pass %d: pruned again before RetainEvery: %v", pass, got)
			}
			time.Sleep(time.Nanosecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("RunRetention returned %v at the end of its context, want nil", err)
		}
	})
}
