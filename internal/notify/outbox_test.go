package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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
	// last429 is when the receiver last answered 429 to each key.
	last429 map[string]time.Time

	// holdAfter > 0 makes every request that comes after holdAfter
	// accepted ones wait for release (or for its client to give up), so
	// a test can stop the sender with deliveries still in flight.
	holdAfter int
	held      chan string
	release   chan struct{}
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

// hold makes the receiver accept n requests and then keep every later one
// waiting until the returned release function is called.
func (r *receiver) hold(n int) (release func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holdAfter = n
	r.held = make(chan string, 10000)
	r.release = make(chan struct{})
	return sync.OnceFunc(func() {
		r.mu.Lock()
		r.holdAfter = 0
		r.mu.Unlock()
		close(r.release)
	})
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits++
	if r.holdAfter > 0 && len(r.accepted) >= r.holdAfter {
		held, release := r.held, r.release
		held <- req.Header.Get(HeaderIdempotency)
		r.mu.Unlock()
		select {
		case <-release:
		case <-req.Context().Done():
		}
		r.mu.Lock()
		if req.Context().Err() != nil {
			return // the sender gave up: nothing was accepted
		}
	}
	switch r.mode {
	case "500":
		http.Error(w, "down for maintenance", 500)
		return
	case "429":
		if r.last429 == nil {
			r.last429 = map[string]time.Time{}
		}
		r.last429[req.Header.Get(HeaderIdempotency)] = time.Now()
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
	ob := NewOutbox(db, Options{Destinations: Destinations{Allow: Loopback}, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, OnSettled: func(d store.Delivery, err error) {
		mu.Lock()
		settled = append(settled, d)
		if err != nil && strings.Contains(err.Error(), "HTTP 429") {
			// Measured from the receiver's answer, not from this call,
			// so a slow settle on a loaded machine does not eat the wait.
			rcv.mu.Lock()
			answered, ok := rcv.last429[strings.TrimSuffix(d.Key, "/hook")]
			rcv.mu.Unlock()
			if !ok {
				answered = d.NextAttempt // no answer on record: counts as no wait
			}
			waits429 = append(waits429, d.NextAttempt.Sub(answered))
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
		if w < time.Second {
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
	ob := NewOutbox(db, Options{Destinations: Destinations{Allow: Loopback}, Now: func() time.Time { return now }, MaxAge: time.Hour})
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

	// The receiver takes 20 and keeps the next ones waiting, so the stop
	// always comes with deliveries in flight and most still queued.
	release := rcv.hold(20)
	db := openStore(t, path)
	ob := NewOutbox(db, Options{Destinations: Destinations{Allow: Loopback}, MinBackoff: 10 * time.Millisecond, Concurrency: 2})
	ob.SetChannels(spec)
	var keys []string
	for i := range 200 {
		ob.Enqueue(context.Background(), msg(i), []string{"hook"})
		keys = append(keys, msg(i).Key)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ob.Run(ctx) }()
	for range 20 {
		<-rcv.arrived
	}
	<-rcv.held // a send is in flight
	cancel()
	<-done
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := len(rcv.counts())
	if before != 20 {
		t.Fatalf("%d accepted before the stop, want the 20 the receiver let through", before)
	}
	release()

	db = openStore(t, path)
	defer db.Close()
	ob = NewOutbox(db, Options{Destinations: Destinations{Allow: Loopback}, MinBackoff: 10 * time.Millisecond, OnSettled: func(d store.Delivery, err error) {
		if err != nil {
			t.Logf("after restart: %s: %v", d.Key, err)
		}
	}})
	ob.SetChannels(spec)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- ob.Run(ctx) }()
	timeout := time.After(30 * time.Second)
wait:
	for len(rcv.counts()) < 200 {
		select {
		case <-rcv.arrived:
		case <-timeout:
			break wait
		}
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

// TestOutboxRetryAfterDateUsesItsClock: a Retry-After given as an HTTP
// date is measured against the outbox's clock, not the machine's, so the
// retry lands exactly that long after the clock's now.
func TestOutboxRetryAfterDateUsesItsClock(t *testing.T) {
	now := time.Date(2031, 3, 4, 5, 6, 7, 0, time.UTC) // far from the machine's time
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", now.Add(90*time.Second).Format(http.TimeFormat))
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}))
	defer srv.Close()
	db := openStore(t, filepath.Join(t.TempDir(), "bt.db"))
	defer db.Close()
	var settled []store.Delivery
	ob := NewOutbox(db, Options{Now: func() time.Time { return now }, MinBackoff: 10 * time.Millisecond,
		HTTPClient: srv.Client(), OnSettled: func(d store.Delivery, err error) { settled = append(settled, d) }})
	if err := ob.SetChannels([]Spec{{Name: "hook", Type: TypeWebhook, URL: srv.URL}}); err != nil {
		t.Fatal(err)
	}
	if _, err := ob.Enqueue(t.Context(), msg(1), []string{"hook"}); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Flush(t.Context()); n != 1 || err != nil {
		t.Fatalf("flush: %d, %v", n, err)
	}
	if len(settled) != 1 || settled[0].State != store.DeliveryPending || !settled[0].NextAttempt.Equal(now.Add(90*time.Second)) {
		t.Fatalf("settled %+v, want pending until %s", settled, now.Add(90*time.Second))
	}
}
