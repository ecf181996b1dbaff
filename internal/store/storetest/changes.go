package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// ChangesBackend is a store that publishes its writes of state nodes copy.
type ChangesBackend interface {
	store.Changes
	store.ContractStore
	store.VerifiedStore
	store.MonitorDefStore
	store.SilenceStore
	Close() error
}

// RunChanges runs the suite of store.Changes. open returns two handles on
// one new, empty store, as two nodes sharing it hold them (a single-node
// backend returns the same handle twice); the suite closes them.
func RunChanges(t *testing.T, open func(t *testing.T) (a, b ChangesBackend)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b ChangesBackend)
	}{
		{"Publish", testChangesPublish},
		{"Writes", testChangesWrites},
		{"FailedWritesAreSilent", testChangesFailed},
		{"RefusesKinds", testChangesRefuses},
		{"SlowSubscriberResyncs", testChangesSlow},
		{"EndsWithContext", testChangesEnd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			t.Cleanup(func() {
				if err := a.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if b != a {
					if err := b.Close(); err != nil {
						t.Errorf("Close: %v", err)
					}
				}
			})
			tt.fn(t, a, b)
		})
	}
}

// changeWait is how long a notice may take to arrive: the nodes' promise is
// about a second.
const changeWait = 5 * time.Second

// expectChange reads ch until want arrives and fails on anything else but
// a Resync (allowed: it asks for a reload, never wrong).
func expectChange(t *testing.T, ch <-chan store.Change, want store.Change) {
	t.Helper()
	deadline := time.After(changeWait)
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed while waiting for %+v", want)
			}
			if c == want {
				return
			}
			if !c.Resync {
				t.Fatalf("got change %+v, want %+v", c, want)
			}
		case <-deadline:
			t.Fatalf("no change %+v within %s", want, changeWait)
		}
	}
}

func testChangesPublish(t *testing.T, a, b ChangesBackend) {
	ctx := t.Context()
	onA, onB := a.Subscribe(ctx), b.Subscribe(ctx)
	for i, c := range []store.Change{{Kind: "ingested", Key: "x"}, {Kind: "custom", Key: "a key with 'quotes' and ünïcødé"}, {Kind: "empty"}} {
		from := a
		if i%2 == 1 {
			from = b
		}
		if err := from.Publish(ctx, c.Kind, c.Key); err != nil {
			t.Fatalf("Publish(%+v): %v", c, err)
		}
		expectChange(t, onA, c)
		expectChange(t, onB, c)
	}
}

func testChangesWrites(t *testing.T, a, b ChangesBackend) {
	ctx := t.Context()
	onB := b.Subscribe(ctx)
	addr := Addr(7)
	now := time.Now().UTC()
	steps := []struct {
		what  string
		write func() error
		want  store.Change
	}{
		{"PutContract", func() error {
			return a.PutContract(ctx, store.Contract{Address: addr, Name: "T", ABI: []byte(`[]`), Origin: "user", Added: now})
		}, store.Change{Kind: store.ChangeContracts, Key: addr.Hex()}},
		{"PutVerified", func() error {
			return a.PutVerified(ctx, Verification(7, store.VerifiedFull, map[string]string{"a.sol": "contract T {}"}))
		}, store.Change{Kind: store.ChangeVerified, Key: addr.Hex()}},
		{"PutMonitor", func() error {
			return a.PutMonitor(ctx, store.MonitorDef{ID: "m1", Spec: []byte(`{}`), Origin: "api", Updated: now})
		}, store.Change{Kind: store.ChangeMonitors, Key: "m1"}},
		{"DeleteMonitor", func() error { return a.DeleteMonitor(ctx, "m1") }, store.Change{Kind: store.ChangeMonitors, Key: "m1"}},
		{"ReplaceMonitorSet", func() error {
			return a.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "file:x.yaml",
				Monitors: []store.MonitorDef{{ID: "m2", Spec: []byte(`{}`), Updated: now}}})
		}, store.Change{Kind: store.ChangeMonitors, Key: "file:x.yaml"}},
		{"PutSilence", func() error {
			return a.PutSilence(ctx, store.Silence{ID: "s1", Matchers: []byte(`[]`), Starts: now, Ends: now.Add(time.Hour)})
		}, store.Change{Kind: store.ChangeMonitors, Key: "s1"}},
		{"DeleteSilence", func() error { return a.DeleteSilence(ctx, "s1") }, store.Change{Kind: store.ChangeMonitors, Key: "s1"}},
	}
	for _, s := range steps {
		if err := s.write(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		expectChange(t, onB, s.want)
	}
}

func testChangesFailed(t *testing.T, a, b ChangesBackend) {
	ctx := t.Context()
	onB := b.Subscribe(ctx)
	if err := a.DeleteMonitor(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteMonitor(missing): %v, want ErrNotFound", err)
	}
	if err := a.DeleteSilence(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteSilence(missing): %v, want ErrNotFound", err)
	}
	if err := a.PutContract(ctx, store.Contract{Address: Addr(1), ABI: []byte(`not json`)}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("PutContract(bad ABI): %v, want ErrInvalid", err)
	}
	if err := a.PutMonitor(ctx, store.MonitorDef{ID: "theirs", Spec: []byte(`{}`), Origin: "file:a.yaml", Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	expectChange(t, onB, store.Change{Kind: store.ChangeMonitors, Key: "theirs"})
	// Another origin's id: refused, and the whole set with it.
	err := a.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "api", Monitors: []store.MonitorDef{{ID: "theirs", Spec: []byte(`{}`)}}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("ReplaceMonitorSet(conflict): %v, want ErrConflict", err)
	}
	// The marker comes next: nothing was announced for the failures.
	if err := a.Publish(ctx, "marker", "end"); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-onB:
		if c != (store.Change{Kind: "marker", Key: "end"}) {
			t.Fatalf("a failed write announced %+v", c)
		}
	case <-time.After(changeWait):
		t.Fatal("the marker did not arrive")
	}
}

func testChangesRefuses(t *testing.T, a, _ ChangesBackend) {
	for _, kind := range []string{"", "Contracts", "a b", "x;DROP", "a\x00", "kind-with-dash", "abcdefghijklmnopqrstuvwxyzabcdefghijklmnop"} {
		if err := a.Publish(t.Context(), kind, "k"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Publish(%q): %v, want ErrInvalid", kind, err)
		}
	}
}

func testChangesSlow(t *testing.T, a, b ChangesBackend) {
	ctx := t.Context()
	slow := b.Subscribe(ctx)
	const n = 300
	for i := range n {
		if err := a.Publish(ctx, "flood", fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Publish(ctx, "marker", "end"); err != nil {
		t.Fatal(err)
	}
	// Read only now: more than a subscriber may hold were sent, so a
	// Resync stands for some of them; the marker still arrives, last.
	resync, got := false, 0
	deadline := time.After(changeWait)
	for {
		select {
		case c := <-slow:
			switch {
			case c.Resync:
				resync = true
			case c.Kind == "marker":
				if !resync && got < n {
					t.Fatalf("%d of %d notices arrived and no Resync", got, n)
				}
				return
			default:
				got++
			}
		case <-deadline:
			t.Fatalf("the marker did not arrive (%d notices, resync %v)", got, resync)
		}
	}
}

func testChangesEnd(t *testing.T, a, _ ChangesBackend) {
	ctx, cancel := context.WithCancel(t.Context())
	ch := a.Subscribe(ctx)
	cancel()
	deadline := time.After(changeWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("the subscription stayed open after its ctx ended")
		}
	}
}
