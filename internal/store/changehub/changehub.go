package changehub

import (
	"context"
	"fmt"
	"sync"

	"github.com/blocktorch/blocktorch/internal/store"
)

// buffer is how many notices a subscriber may hold unread before it is
// told to resync instead.
const buffer = 64

// Hub fans notices out to subscribers. The zero value is ready to use.
// Safe for concurrent use.
type Hub struct {
	mu     sync.Mutex
	subs   map[*sub]struct{}
	closed bool
}

type sub struct {
	mu sync.Mutex
	// queue holds the notices not yet handed over; lost says some were
	// dropped before them, so that a Resync goes first.
	queue []store.Change
	lost  bool
	wake  chan struct{}
	out   chan store.Change
	done  chan struct{}
}

// Subscribe returns the notices sent from now on until ctx ends or the hub
// is closed, when the channel is closed.
func (h *Hub) Subscribe(ctx context.Context) <-chan store.Change {
	s := &sub{wake: make(chan struct{}, 1), out: make(chan store.Change), done: make(chan struct{})}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		close(s.out)
		return s.out
	}
	if h.subs == nil {
		h.subs = map[*sub]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		defer close(s.out)
		defer func() {
			h.mu.Lock()
			delete(h.subs, s)
			h.mu.Unlock()
		}()
		for {
			c, ok := s.next()
			if !ok {
				select {
				case <-s.wake:
					continue
				case <-ctx.Done():
					return
				case <-s.done:
					return
				}
			}
			select {
			case s.out <- c:
			case <-ctx.Done():
				return
			case <-s.done:
				return
			}
		}
	}()
	return s.out
}

// next takes the first notice to hand over: a Resync when some were lost.
func (s *sub) next() (store.Change, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost {
		s.lost = false
		return store.Change{Resync: true}, true
	}
	if len(s.queue) == 0 {
		return store.Change{}, false
	}
	c := s.queue[0]
	s.queue = s.queue[1:]
	return c, true
}

// Send hands c to every subscriber without waiting for any.
func (h *Hub) Send(c store.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		s.mu.Lock()
		if len(s.queue) >= buffer {
			// A Resync stands for what was queued; what follows it is
			// queued again.
			s.lost, s.queue = true, s.queue[:0]
		}
		s.queue = append(s.queue, c)
		s.mu.Unlock()
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Close closes every subscription; later ones are closed at once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for s := range h.subs {
		close(s.done)
	}
}

// CheckKind refuses a kind other than 1 to 32 lower-case letters, with an
// error wrapping store.ErrInvalid.
func CheckKind(kind string) error {
	if kind == "" || len(kind) > 32 {
		return fmt.Errorf("%w: a change kind is 1 to 32 lower-case letters, not %q", store.ErrInvalid, kind)
	}
	for _, r := range kind {
		if r < 'a' || r > 'z' {
			return fmt.Errorf("%w: a change kind is 1 to 32 lower-case letters, not %q", store.ErrInvalid, kind)
		}
	}
	return nil
}
