package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// receiver is a webhook endpoint on a fixed 127.0.0.1 port that can be
// down (nothing listening: connection refused), failing (500, or 429 with
// Retry-After) or up. It counts each Idempotency-Key it accepted.
type receiver struct {
	addr string
	srv  *http.Server

	mu       sync.Mutex
	mode     string // "up", "500", "429"
	accepted map[string]int
	hits     int
	arrived  chan string
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{addr: ln.Addr().String(), accepted: map[string]int{}, arrived: make(chan string, 10000)}
	ln.Close() // down until up()
	t.Cleanup(r.down)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/hook" }

func (r *receiver) up(t *testing.T, mode string) {
	t.Helper()
	r.mu.Lock()
	r.mode = mode
	started := r.srv != nil
	r.mu.Unlock()
	if started {
		return
	}
	ln, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve)}
	go r.srv.Serve(ln)
}

func (r *receiver) down() {
	if r.srv != nil {
		r.srv.Close()
		r.srv = nil
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	switch r.mode {
	case "500":
		http.Error(w, "down for maintenance", 500)
		return
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", 429)
		return
	}
	key := req.Header.Get(HeaderIdempotency)
	r.accepted[key]++
	r.arrived <- key
}

func (r *receiver) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.accepted {
		out[k] = v
	}
	return out
}

// waitKeys waits until every key has arrived (or fails after timeout).
func (r *receiver) waitKeys(t *testing.T, keys []string, timeout time.Duration) {
	t.Helper()
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for len(want) > 0 {
		select {
		case k := <-r.arrived:
			delete(want, k)
		case <-deadline.C:
			t.Fatalf("%d notifications never arrived, e.g. %v", len(want), first(want))
		}
	}
}

func first(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func msg(i int) Message {
	return Message{Key: fmt.Sprintf("mon/%d/firing/1", i), Status: StatusFiring, MonitorID: "mon", Monitor: "Mon", AlertKey: fmt.Sprintf("mon/%d", i),
		Summary: fmt.Sprintf("alert %d", i), Time: time.Now()}
}

// TestOutboxSurvivesOutage: the receiver refuses connections, then answers
// 500, then 429 with Retry-After, then comes back: every alert arrives once.
func TestOutboxSurvivesOutage(t *testing.T) {
	rcv := newReceiver(t)
	db := openStore(t, filepath.Join(t.TempDir(), "bt.db"))
	defer db.Close()

	var mu sync.Mutex
	var settled []store.Delivery
	var waits429 []time.Duration
	ob := NewOutbox(db, Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, OnSettled: func(d store.Delivery, err error) {
		mu.Lock()
		settled = append(settled, d)
		if err != nil && strings.Contains(err.Error(), "HTTP 429") {
			waits429 = append(waits429, time.Until(d.NextAttempt))
		}
		mu.Unlock()
	}})
	if err := ob.SetChannels([]Spec{{Name: "hook", Type: TypeWebhook, URL: rcv.url(), Secret: "k3y-secret"}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx) }()

	var keys []string
	for i := range 30 {
		m := msg(i)
		n, err := ob.Enqueue(ctx, m, []string{"hook"})
		if err != nil || n != 1 {
			t.Fatalf("enqueue: %d, %v", n, err)
		}
		// The same transition again (an engine replaying a block) adds nothing.
		if n, _ := ob.Enqueue(ctx, m, []string{"hook"}); n != 0 {
			t.Fatal("a transition was enqueued twice")
		}
		keys = append(keys, m.Key)
	}
	waitAttempts := func(n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			got := len(settled)
			mu.Unlock()
			if got >= n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d attempts", got)
			}
			<-time.After(5 * time.Millisecond) // polling a counter another goroutine fills
		}
	}
	waitAttempts(60) // every notification refused at least once (connection refused)
	rcv.up(t, "500")
	mu.Lock()
	base := len(settled)
	mu.Unlock()
	waitAttempts(base + 60)
	rcv.up(t, "429")
	mu.Lock()
	base = len(settled)
	mu.Unlock()
	waitAttempts(base + 30)
	mu.Lock()
	// Retry-After: 1 wins over the 20-200ms backoff.
	for _, w := range waits429 {
		if w < 900*time.Millisecond {
			t.Errorf("a 429 with Retry-After: 1 is retried in %v", w)
		}
	}
	if len(waits429) == 0 {
		t.Error("no 429 answer was seen")
	}
	mu.Unlock()
	rcv.up(t, "up")
	rcv.waitKeys(t, keys, 30*time.Second)
	cancel()
	<-done

	for k, n := range rcv.counts() {
		if n != 1 {
			t.Errorf("%s accepted %d times", k, n)
		}
	}
	if len(rcv.counts()) != 30 {
		t.Errorf("%d distinct notifications accepted, want 30", len(rcv.counts()))
	}
	if dead, _ := ob.DeadLetters(context.Background(), 100); len(dead) != 0 {
		t.Errorf("dead letters: %+v", dead)
	}
}

// TestOutboxDeadLettersAndRetry: a 400 is final; past MaxAge retries stop.
func TestOutboxDeadLettersAndRetry(t *testing.T) {
	rec := newRecorder(t, func(w http.ResponseWriter, r *http.Request, body []byte) { http.Error(w, "bad", 400) })
	db := openStore(t, filepath.Join(t.TempDir(), "bt.db"))
	defer db.Close()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ob := NewOutbox(db, Options{Now: func() time.Time { return now }, MaxAge: time.Hour})
	if err := ob.SetChannels([]Spec{{Name: "hook", Type: TypeWebhook, URL: rec.srv.URL}}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ob.Enqueue(ctx, msg(1), []string{"hook"})
	ob.Enqueue(ctx, msg(2), []string{"gone"}) // no such channel
	if n, err := ob.Flush(ctx); n != 2 || err != nil {
		t.Fatalf("flush: %d, %v", n, err)
	}
	dead, _ := ob.DeadLetters(ctx, 10)
	if len(dead) != 2 {
		t.Fatalf("dead letters %+v", dead)
	}
	// The receiver is fixed; retrying a dead letter delivers it.
	rec.mu.Lock()
	rec.answer = func(w http.ResponseWriter, r *http.Request, body []byte) {}
	rec.mu.Unlock()
	for _, d := range dead {
		if d.Channel == "hook" {
			if err := ob.Retry(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	ob.Flush(ctx)
	if got, _ := db.Deliveries(ctx, store.DeliveryDelivered, 10); len(got) != 1 {
		t.Fatalf("delivered after retry: %+v", got)
	}

	// A 500 forever: retried with backoff until MaxAge, then dead.
	rec.mu.Lock()
	rec.answer = func(w http.ResponseWriter, r *http.Request, body []byte) { http.Error(w, "down", 503) }
	rec.mu.Unlock()
	ob.Enqueue(ctx, msg(3), []string{"hook"})
	attempts := 0
	for range 100 {
		n, _ := ob.Flush(ctx)
		attempts += n
		next, err := db.NextDue(ctx)
		if err != nil {
			break
		}
		if next.Before(now) {
			t.Fatalf("next attempt %v before now %v", next, now)
		}
		now = next
	}
	dead, _ = ob.DeadLetters(ctx, 10)
	if len(dead) != 2 || dead[0].Attempts != attempts || attempts < 5 {
		t.Fatalf("after an hour of 503: %d attempts, dead %+v", attempts, dead)
	}
	if age := dead[0].Done.Sub(dead[0].Created); age > time.Hour {
		t.Errorf("retried for %v, past MaxAge", age)
	}
}

// TestOutboxRestartLosesNothing: the process stops in the middle of
// deliveries; the outbox reopened on the same file delivers the rest.
func TestOutboxRestartLosesNothing(t *testing.T) {
	rcv := newReceiver(t)
	rcv.up(t, "up")
	path := filepath.Join(t.TempDir(), "bt.db")
	spec := []Spec{{Name: "hook", Type: TypeWebhook, URL: rcv.url()}}

	db := openStore(t, path)
	ob := NewOutbox(db, Options{MinBackoff: 10 * time.Millisecond, Concurrency: 2})
	ob.SetChannels(spec)
	var keys []string
	for i := range 200 {
		ob.Enqueue(context.Background(), msg(i), []string{"hook"})
		keys = append(keys, msg(i).Key)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx) }()
	// Stop after some, not all, have arrived.
	for range 20 {
		<-rcv.arrived
	}
	cancel()
	<-done
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := len(rcv.counts())
	if before >= 200 {
		t.Skip("every notification went out before the stop; nothing to resume")
	}

	db = openStore(t, path)
	defer db.Close()
	ob = NewOutbox(db, Options{MinBackoff: 10 * time.Millisecond, OnSettled: func(d store.Delivery, err error) {
		if err != nil {
			t.Logf("after restart: %s: %v", d.Key, err)
		}
	}})
	ob.SetChannels(spec)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- ob.Run(ctx) }()
	deadline := time.Now().Add(30 * time.Second)
	for len(rcv.counts()) < 200 && time.Now().Before(deadline) {
		<-rcv.arrived
	}
	cancel()
	<-done
	got := rcv.counts()
	dups := 0
	for _, k := range keys {
		switch n := got[k]; {
		case n == 0:
			t.Errorf("%s lost in the restart", k)
		case n > 1:
			dups++
		}
	}
	// At least once: only the sends in flight at the stop may repeat, and
	// the receiver recognises them by Idempotency-Key.
	if dups > 2 {
		t.Errorf("%d notifications repeated, more than were in flight", dups)
	}
	t.Logf("%d delivered before the restart, %d after, %d repeated", before, 200-before, dups)
}
