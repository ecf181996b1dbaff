package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// Options tune a Client. Zero values take the documented defaults.
type Options struct {
	// Timeout bounds one JSON-RPC round trip (a single call or one batch).
	// Default 15s.
	Timeout time.Duration
	// MaxRetries is how many times a failed fetch is retried before giving
	// up. Default 6; a negative value disables retries.
	MaxRetries int
	// BackoffMin and BackoffMax bound the exponential backoff between
	// retries. Defaults 250ms and 10s.
	BackoffMin, BackoffMax time.Duration
	// BatchSize is the most requests sent in one JSON-RPC batch. Default 100.
	BatchSize int
	// RequestsPerSecond limits JSON-RPC requests (each element of a batch
	// counts as one). 0 means unlimited.
	RequestsPerSecond float64
	// Hooks are optional callbacks for metrics.
	Hooks Hooks
	// Logger receives one line per retry. Default slog.Default().
	Logger *slog.Logger
}

// Hooks are optional callbacks. They are called synchronously on the
// goroutine that called the Client method, so they must be quick, and safe
// for concurrent use when the Client is shared. The eth_subscribe request and
// pushed heads do not go through OnRequest.
type Hooks struct {
	// OnRequest is called after every round trip: once per single call, once
	// per batch with the method of its elements. err is the transport error,
	// or else the first error of a batch element, or nil.
	OnRequest func(method string, d time.Duration, err error)
	// OnRetry is called before sleeping ahead of retry number attempt
	// (1-based), with the error that caused it.
	OnRetry func(method string, attempt int, err error)
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 6
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.BackoffMin <= 0 {
		o.BackoffMin = 250 * time.Millisecond
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Second
	}
	o.BackoffMax = max(o.BackoffMax, o.BackoffMin)
	if o.BatchSize <= 0 {
		o.BatchSize = 100
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Client is a JSON-RPC client for an EVM node. It is safe for concurrent use.
type Client struct {
	rpc     *rpc.Client
	owned   bool // Close closes rpc
	opts    Options
	limiter *limiter
	// retryAfter is the last Retry-After an HTTP 429 carried, in
	// nanoseconds; the next backoff after a 429 takes it as a floor.
	retryAfter *atomic.Int64

	mu   sync.Mutex
	caps *Capabilities
	// noSimulate is set once the node turned out not to offer
	// eth_simulateV1.
	noSimulate atomic.Bool
}

// Dial connects to a node at an http(s):// or ws(s):// URL. It does not
// send any request; the first fetch probes the node's capabilities.
func Dial(ctx context.Context, url string, o Options) (*Client, error) {
	ra := new(atomic.Int64)
	var opts []rpc.ClientOption
	if strings.HasPrefix(url, "http://") || strings.HasPrefix(url, "https://") {
		hc := &http.Client{Transport: &retryAfterTransport{next: http.DefaultTransport, last: ra}}
		opts = append(opts, rpc.WithHTTPClient(hc))
	}
	rc, err := rpc.DialOptions(ctx, url, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to node %s: %w", Redact(url), err)
	}
	c := New(rc, o)
	c.owned = true
	c.retryAfter = ra
	return c, nil
}

// New wraps an existing rpc.Client, such as the in-process client of the
// embedded node. Close does not close it.
func New(rc *rpc.Client, o Options) *Client {
	o = o.withDefaults()
	return &Client{rpc: rc, opts: o, limiter: newLimiter(o.RequestsPerSecond), retryAfter: new(atomic.Int64)}
}

// Close closes the connection when Dial opened it.
func (c *Client) Close() {
	if c.owned {
		c.rpc.Close()
	}
}

// Redact drops credentials and path (API keys live there at hosted RPC
// providers) from a node URL, for messages, logs and pages.
func Redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return "(invalid URL)"
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	host, _, _ := strings.Cut(rest, "/")
	return scheme + "://" + host
}

// call makes one JSON-RPC call with the per-request timeout.
func (c *Client) call(ctx context.Context, result *json.RawMessage, method string, args ...any) error {
	if err := c.limiter.wait(ctx, 1); err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	start := time.Now()
	err := c.rpc.CallContext(rctx, result, method, args...)
	cancel()
	err = c.timedOut(ctx, rctx, method, err)
	if c.opts.Hooks.OnRequest != nil {
		c.opts.Hooks.OnRequest(method, time.Since(start), err)
	}
	return classify(method, err)
}

// batch sends elems in batches of at most BatchSize. It returns a transport
// error; errors of single elements are left in their Error fields.
func (c *Client) batch(ctx context.Context, elems []rpc.BatchElem) error {
	for len(elems) > 0 {
		n := min(len(elems), c.opts.BatchSize)
		if err := c.batchOnce(ctx, elems[:n]); err != nil {
			return err
		}
		elems = elems[n:]
	}
	return nil
}

func (c *Client) batchOnce(ctx context.Context, elems []rpc.BatchElem) error {
	if err := c.limiter.wait(ctx, len(elems)); err != nil {
		return err
	}
	method := elems[0].Method
	rctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	start := time.Now()
	err := c.rpc.BatchCallContext(rctx, elems)
	cancel()
	err = c.timedOut(ctx, rctx, method, err)
	if c.opts.Hooks.OnRequest != nil {
		herr := err
		for i := 0; herr == nil && i < len(elems); i++ {
			herr = elems[i].Error
		}
		c.opts.Hooks.OnRequest(method, time.Since(start), herr)
	}
	return classify(method+" batch", err)
}

// timedOut says so when the per-request deadline, not the caller's, ended a
// request: only the former is retried.
func (c *Client) timedOut(ctx, rctx context.Context, method string, err error) error {
	if err != nil && ctx.Err() == nil && rctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("no answer within %s: %w", c.opts.Timeout, context.DeadlineExceeded)
	}
	return err
}

// retry runs fn until it succeeds, fails with an error that is not worth
// retrying, ctx ends, or MaxRetries retries have failed. The returned error
// says "cannot <what>".
func (c *Client) retry(ctx context.Context, what, method string, fn func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("cannot %s: %w", what, context.Cause(ctx))
		}
		if !retryable(err) {
			return fmt.Errorf("cannot %s: %w", what, err)
		}
		if attempt >= c.opts.MaxRetries {
			return fmt.Errorf("cannot %s (gave up after %d attempts): %w", what, attempt+1, err)
		}
		d := c.backoff(attempt, err)
		c.opts.Logger.Warn("node request failed, retrying",
			"what", what, "method", method, "retry", attempt+1, "maxRetries", c.opts.MaxRetries, "wait", d, "err", err)
		if c.opts.Hooks.OnRetry != nil {
			c.opts.Hooks.OnRetry(method, attempt+1, err)
		}
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("cannot %s: %w", what, context.Cause(ctx))
		}
	}
}

// backoff is BackoffMin·2^attempt capped at BackoffMax, with "equal jitter"
// (half fixed, half random) so that clients do not retry in lockstep. After
// an HTTP 429 that carried Retry-After, the hint (capped at BackoffMax) is a
// floor.
func (c *Client) backoff(attempt int, err error) time.Duration {
	d := c.opts.BackoffMin << min(attempt, 30)
	if d <= 0 || d > c.opts.BackoffMax {
		d = c.opts.BackoffMax
	}
	d = d/2 + rand.N(d/2+1)
	var he rpc.HTTPError
	if errors.As(err, &he) && he.StatusCode == http.StatusTooManyRequests {
		if hint := time.Duration(c.retryAfter.Swap(0)); hint > d {
			d = min(hint, c.opts.BackoffMax)
		}
	}
	return d
}

// retryAfterTransport remembers the Retry-After of 429 answers, which the
// rpc package's HTTPError does not carry.
type retryAfterTransport struct {
	next http.RoundTripper
	last *atomic.Int64
}

func (t *retryAfterTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		if d := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); d > 0 {
			t.last.Store(int64(d))
		}
	}
	return resp, err
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(t.Sub(now), time.Hour)
	}
	return 0
}
