package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// RunSessions runs the suite of store.SessionStore. open returns two
// handles on one new, empty store, as two nodes sharing it hold them (a
// single-node backend returns the same handle twice); the suite does not
// close them.
func RunSessions(t *testing.T, open func(t *testing.T) (a, b store.SessionStore)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b store.SessionStore)
	}{
		{"SharedAndEnded", testSessionsShared},
		{"Expiry", testSessionsExpiry},
		{"Bounded", testSessionsBounded},
		{"Concurrent", testSessionsConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.fn(t, a, b)
		})
	}
}

func sessionHash(i int) [32]byte { return sha256.Sum256([]byte(fmt.Sprint("session ", i))) }

// sessionAt is a session created at t0+created that lasts ttl.
func sessionAt(i int, t0 time.Time, created, ttl time.Duration) store.OperatorSession {
	return store.OperatorSession{Hash: sessionHash(i), Created: t0.Add(created), Expires: t0.Add(created + ttl)}
}

// live reports whether s sees session i live at now, failing on errors
// other than ErrNotFound.
func live(t *testing.T, s store.SessionStore, i int, now time.Time) bool {
	t.Helper()
	_, err := s.SessionExpires(t.Context(), sessionHash(i), now)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SessionExpires(%d): %v", i, err)
	}
	return err == nil
}

func testSessionsShared(t *testing.T, a, b store.SessionStore) {
	ctx := t.Context()
	t0 := time.Unix(1_800_000_000, 123_456_000).UTC()
	if live(t, b, 1, t0) {
		t.Fatal("an empty store holds a session")
	}
	s := sessionAt(1, t0, 0, 12*time.Hour)
	if err := a.PutSession(ctx, s, 10); err != nil {
		t.Fatal(err)
	}
	exp, err := b.SessionExpires(ctx, s.Hash, t0.Add(time.Minute))
	if err != nil || !exp.Equal(s.Expires) {
		t.Fatalf("the other node reads expiry %v, %v; want %v", exp, err, s.Expires)
	}
	if live(t, b, 2, t0) {
		t.Fatal("an unknown hash is live")
	}
	// A logout on the other node ends it for both.
	if err := b.DeleteSession(ctx, s.Hash); err != nil {
		t.Fatal(err)
	}
	if live(t, a, 1, t0) || live(t, b, 1, t0) {
		t.Fatal("a deleted session is still live")
	}
	if err := a.DeleteSession(ctx, s.Hash); err != nil {
		t.Fatalf("deleting an unknown session: %v", err)
	}
	if err := a.PutSession(ctx, s, 0); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PutSession with no room: %v, want ErrInvalid", err)
	}
}

func testSessionsExpiry(t *testing.T, a, b store.SessionStore) {
	ctx := t.Context()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	if err := a.PutSession(ctx, sessionAt(1, t0, 0, time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if !live(t, b, 1, t0.Add(time.Hour-time.Microsecond)) {
		t.Fatal("a session is not live just before its end")
	}
	if live(t, b, 1, t0.Add(time.Hour)) {
		t.Fatal("a session is live at its end")
	}
	// A later login prunes the ended one: even a reader with a slow
	// clock no longer finds it.
	if err := a.PutSession(ctx, sessionAt(2, t0, 2*time.Hour, time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if live(t, b, 1, t0) {
		t.Fatal("an ended session was not pruned by a later login")
	}
	if !live(t, b, 2, t0.Add(2*time.Hour)) {
		t.Fatal("the later login is not live")
	}
}

func testSessionsBounded(t *testing.T, a, b store.SessionStore) {
	ctx := t.Context()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	const max = 5
	for i := range 8 {
		if err := a.PutSession(ctx, sessionAt(i, t0, time.Duration(i)*time.Second, time.Hour), max); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(10 * time.Second)
	for i := range 8 {
		if want := i >= 8-max; live(t, b, i, now) != want {
			t.Errorf("session %d live = %v, want %v (the %d newest are kept)", i, !want, want, max)
		}
	}
}

func testSessionsConcurrent(t *testing.T, a, b store.SessionStore) {
	ctx := t.Context()
	t0 := time.Unix(1_800_000_000, 0).UTC()
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if g%2 == 1 {
				s = b
			}
			for i := range 10 {
				n := g*100 + i
				if err := s.PutSession(ctx, sessionAt(n, t0, time.Duration(n)*time.Millisecond, time.Hour), 1000); err != nil {
					errs <- err
					return
				}
				if _, err := s.SessionExpires(ctx, sessionHash(n), t0.Add(time.Second)); err != nil {
					errs <- fmt.Errorf("session %d: %w", n, err)
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
