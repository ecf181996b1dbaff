package ethrpc

import (
	"context"
	"sync"
	"time"
)

// limiter is a token bucket holding up to one second of requests. Taking
// more tokens than are present leaves the bucket in debt, so a batch of n
// requests costs n tokens and delays whoever comes next rather than waiting
// for a bucket that could never hold n.
type limiter struct {
	mu     sync.Mutex
	rate   float64 // tokens per second
	burst  float64
	tokens float64
	last   time.Time
	now    func() time.Time
}

func newLimiter(rps float64) *limiter {
	if rps <= 0 {
		return nil
	}
	burst := max(rps, 1)
	return &limiter{rate: rps, burst: burst, tokens: burst, now: time.Now}
}

// wait takes n tokens and sleeps until the bucket is out of debt, or ctx ends.
// A nil limiter never waits.
func (l *limiter) wait(ctx context.Context, n int) error {
	if l == nil {
		return nil
	}
	return sleep(ctx, l.reserve(n))
}

// reserve takes n tokens and returns how long to wait before using them.
func (l *limiter) reserve(n int) time.Duration {
	l.mu.Lock()
	now := l.now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	l.tokens -= float64(n)
	debt := -l.tokens
	l.mu.Unlock()
	if debt <= 0 {
		return 0
	}
	return time.Duration(debt / l.rate * float64(time.Second))
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
