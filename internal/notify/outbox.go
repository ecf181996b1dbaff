package notify

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Options tunes an Outbox. Zero fields take the defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MinBackoff and MaxBackoff bound the wait between attempts (defaults
	// 1s and 5m); it doubles with each attempt, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge is how long a notification is retried before it goes to the
	// dead letters (default 24h).
	MaxAge time.Duration
	// Concurrency is how many notifications are sent at once (default 8).
	Concurrency int
	// Jitter returns a number in [0, 1) (default math/rand/v2).
	Jitter func() float64
	// HTTPClient is used by HTTP channels (default: one per channel with
	// its timeout, enforcing Destinations). A given client is used as is.
	HTTPClient *http.Client
	// Destinations is where notifications may go; the zero value allows
	// public addresses only.
	Destinations Destinations
	Logger       *slog.Logger
	// OnSettled, if set, is called after each attempt is recorded, on a
	// sending goroutine.
	OnSettled func(d store.Delivery, err error)
	// Owner names this sender in the outbox's claims (default: a random
	// name); nodes sharing a store must each have their own.
	Owner string
	// ClaimFor is how long a claimed delivery is held from other senders
	// (default 30s). An attempt is cut short before its claim ends, so a
	// channel's own timeout beyond ClaimFor-5s does not apply.
	ClaimFor time.Duration
}

// Outbox sends enqueued notifications through their channels, at least
// once, from a persisted queue: what is pending when the process stops is
// sent after it starts again.
type Outbox struct {
	st   store.Outbox
	opts Options
	log  *slog.Logger
	wake chan struct{}

	mu       sync.RWMutex
	channels map[string]Channel
}

// NewOutbox returns an outbox over st; Run sends.
func NewOutbox(st store.Outbox, opts Options) *Outbox {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.MaxAge <= 0 {
		opts.MaxAge = 24 * time.Hour
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Owner == "" {
		var b [6]byte
		crand.Read(b[:])
		opts.Owner = "outbox-" + hex.EncodeToString(b[:])
	}
	if opts.ClaimFor <= 0 {
		opts.ClaimFor = 30 * time.Second
	}
	return &Outbox{st: st, opts: opts, log: opts.Logger, wake: make(chan struct{}, 1), channels: map[string]Channel{}}
}

// SetChannels replaces the channels by name, building each from its spec.
// A spec that does not build is an error, and nothing changes.
func (o *Outbox) SetChannels(specs []Spec) error {
	chans := make(map[string]Channel, len(specs))
	for _, s := range specs {
		if _, dup := chans[s.Name]; dup {
			return fmt.Errorf("two channels are named %q", s.Name)
		}
		c, err := buildClocked(s, o.opts.HTTPClient, o.opts.Destinations, o.opts.Now)
		if err != nil {
			return err
		}
		chans[s.Name] = c
	}
	o.mu.Lock()
	o.channels = chans
	o.mu.Unlock()
	o.Wake()
	return nil
}

// CheckChannel reports whether a channel's destinations are allowed by
// the policy, resolving its host now, with an error that names the
// channel. Monitor files and the API call it when a channel is applied.
func (o *Outbox) CheckChannel(ctx context.Context, s Spec) error {
	return o.opts.Destinations.CheckSpec(ctx, s)
}

// SetChannel adds or replaces one channel by name (for tests and
// programmatic channels).
func (o *Outbox) SetChannel(name string, c Channel) {
	o.mu.Lock()
	o.channels[name] = c
	o.mu.Unlock()
	o.Wake()
}

func (o *Outbox) channel(name string) (Channel, bool) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	c, ok := o.channels[name]
	return c, ok
}

// Enqueue persists m for each channel and wakes the sender. The delivery
// key is m.Key and the channel: enqueuing the same transition again adds
// nothing. It returns how many deliveries were new.
func (o *Outbox) Enqueue(ctx context.Context, m Message, channels []string) (int, error) {
	if m.Key == "" {
		return 0, errors.New("BUG: a notification without an idempotency key")
	}
	payload, err := json.Marshal(m)
	if err != nil {
		return 0, fmt.Errorf("cannot encode notification %s: %w", m.Key, err)
	}
	now := o.opts.Now()
	ds := make([]store.Delivery, 0, len(channels))
	for _, ch := range channels {
		ds = append(ds, store.Delivery{Key: m.Key + "/" + ch, Channel: ch, Payload: payload, State: store.DeliveryPending, Created: now, NextAttempt: now})
	}
	n, err := o.st.Enqueue(ctx, ds)
	if n > 0 {
		o.Wake()
	}
	return n, err
}

// Wake makes Run look for due deliveries now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends. Several senders may run on one
// store (one per node; only the leader's runs): each claims what it sends,
// so a delivery goes to one sender at a time.
func (o *Outbox) Run(ctx context.Context) error {
	for {
		n, err := o.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			o.log.Warn("outbox: cannot read due notifications", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		wait := time.Minute
		if err != nil {
			wait = o.opts.MinBackoff
		} else if next, err := o.st.NextDue(ctx); err == nil {
			wait = min(max(next.Sub(o.opts.Now()), 0), time.Minute)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-o.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// Flush claims the deliveries due now that no sender holds, makes one
// attempt at each and returns how many it attempted.
func (o *Outbox) Flush(ctx context.Context) (int, error) {
	due, err := o.st.Claim(ctx, o.opts.Now(), 256, o.opts.Owner, o.opts.ClaimFor)
	if err != nil {
		return 0, err
	}
	sem := make(chan struct{}, o.opts.Concurrency)
	var wg sync.WaitGroup
	for _, d := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			o.attempt(ctx, d)
		}()
	}
	wg.Wait()
	return len(due), nil
}

// attempt sends one claimed delivery and records the outcome, which
// releases the claim.
func (o *Outbox) attempt(ctx context.Context, d store.Delivery) {
	var m Message
	var err error
	if jerr := json.Unmarshal(d.Payload, &m); jerr != nil {
		err = &SendError{Err: fmt.Errorf("stored notification does not decode: %w", jerr)}
	} else if ch, ok := o.channel(d.Channel); !ok {
		err = &SendError{Err: fmt.Errorf("no channel named %q", d.Channel)}
	} else {
		// The attempt ends before the claim does, so that no other sender
		// takes the delivery while it is being sent.
		sctx, cancel := context.WithTimeout(ctx, o.sendLimit())
		err = ch.Send(sctx, m)
		cancel()
	}
	if ctx.Err() != nil && err != nil {
		// Stopping: the attempt did not finish; it stays due, and its
		// claim is released for the next sender. One that was sent is
		// recorded below even so: releasing it would send it twice.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if serr := o.st.Settle(rctx, d); serr != nil && !errors.Is(serr, store.ErrConflict) {
			o.log.Debug("outbox: cannot release a claim; it ends by itself", "key", d.Key, "err", serr)
		}
		return
	}
	now := o.opts.Now()
	d.Attempts++
	if err == nil {
		d.State, d.Done, d.LastError = store.DeliveryDelivered, now, ""
	} else {
		d.LastError = truncate(err.Error(), 500)
		var se *SendError
		retryable := !errors.As(err, &se) || se.Retryable
		wait := o.backoff(d.Attempts)
		if se != nil && se.RetryAfter > wait {
			wait = se.RetryAfter
		}
		next := now.Add(wait)
		if !retryable || next.Sub(d.Created) > o.opts.MaxAge {
			d.State, d.Done = store.DeliveryDead, now
			o.log.Warn("notification dead-lettered", "channel", d.Channel, "key", d.Key, "attempts", d.Attempts, "err", d.LastError)
		} else {
			d.NextAttempt = next
			o.log.Debug("notification failed; will retry", "channel", d.Channel, "key", d.Key, "attempt", d.Attempts, "in", wait, "err", d.LastError)
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := o.st.Settle(sctx, d); errors.Is(serr, store.ErrConflict) {
		o.log.Warn("outbox: the claim of a delivery ended before its attempt was recorded; another sender took it", "key", d.Key, "err", serr)
	} else if serr != nil {
		o.log.Error("outbox: cannot record a delivery attempt", "key", d.Key, "err", serr)
	}
	if o.opts.OnSettled != nil {
		o.opts.OnSettled(d, err)
	}
}

// sendLimit bounds one attempt: it ends 5s before its claim (or at half
// the claim, for a claim of 10s or less).
func (o *Outbox) sendLimit() time.Duration {
	if o.opts.ClaimFor <= 10*time.Second {
		return o.opts.ClaimFor / 2
	}
	return o.opts.ClaimFor - 5*time.Second
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// per attempt up to MaxBackoff, then "equal jitter" (half fixed, half
// random) so that receivers coming back are not hit by every sender at
// once.
func (o *Outbox) backoff(n int) time.Duration {
	d := o.opts.MinBackoff
	for i := 1; i < n && d < o.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.opts.MaxBackoff)
	return d/2 + time.Duration(o.opts.Jitter()*float64(d/2))
}

// DeadLetters lists notifications that were given up on, newest first.
func (o *Outbox) DeadLetters(ctx context.Context, limit int) ([]store.Delivery, error) {
	return o.st.Deliveries(ctx, store.DeliveryDead, limit)
}

// Retry makes a dead letter pending again.
func (o *Outbox) Retry(ctx context.Context, id int64) error {
	if err := o.st.Requeue(ctx, id, o.opts.Now()); err != nil {
		return err
	}
	o.Wake()
	return nil
}
