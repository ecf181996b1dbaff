package auth

import (
	"sync"
	"time"
)

// Throttle slows down guessing: per client, a few failures are free, then
// every further attempt waits, twice as long after each failure, up to
// MaxWait. A success clears the client. Safe for concurrent use.
type Throttle struct {
	// Free is how many failures a client has before it must wait.
	Free int
	// MaxWait caps the wait.
	MaxWait time.Duration
	// Now is the clock.
	Now func() time.Time

	mu      sync.Mutex
	clients map[string]*attempts
}

type attempts struct {
	failures int
	until    time.Time // no attempt before this
	last     time.Time
}

// maxClients bounds the clients tracked; past it the quietest are dropped.
const maxClients = 10000

// NewThrottle returns the login throttle: 5 free failures, then waits of
// 1 s, 2 s, 4 s … up to 15 minutes.
func NewThrottle(now func() time.Time) *Throttle {
	if now == nil {
		now = time.Now
	}
	return &Throttle{Free: 5, MaxWait: 15 * time.Minute, Now: now, clients: map[string]*attempts{}}
}

// Wait returns how long client must wait before its next attempt; 0 when
// it may try now.
func (t *Throttle) Wait(client string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	a, ok := t.clients[client]
	if !ok {
		return 0
	}
	return max(a.until.Sub(t.Now()), 0)
}

// Failed records a failed attempt of client.
func (t *Throttle) Failed(client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	a, ok := t.clients[client]
	if !ok {
		if len(t.clients) >= maxClients {
			t.evict(now)
		}
		a = &attempts{}
		t.clients[client] = a
	} else if now.Sub(a.last) > t.MaxWait {
		a.failures = 0 // quiet long enough: start over
	}
	a.failures++
	a.last = now
	if over := a.failures - t.Free; over > 0 {
		wait := t.MaxWait
		if over <= 20 {
			wait = min(time.Second<<(over-1), t.MaxWait)
		}
		a.until = now.Add(wait)
	}
}

// Succeeded clears client.
func (t *Throttle) Succeeded(client string) {
	t.mu.Lock()
	delete(t.clients, client)
	t.mu.Unlock()
}

// evict drops clients quiet for MaxWait, or else the quietest one.
func (t *Throttle) evict(now time.Time) {
	var quietest string
	for k, a := range t.clients {
		if now.Sub(a.last) > t.MaxWait {
			delete(t.clients, k)
			continue
		}
		if quietest == "" || a.last.Before(t.clients[quietest].last) {
			quietest = k
		}
	}
	if len(t.clients) >= maxClients {
		delete(t.clients, quietest)
	}
}
