package ethrpc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

type rpcErr struct {
	code int
	msg  string
}

func (e rpcErr) Error() string  { return e.msg }
func (e rpcErr) ErrorCode() int { return e.code }

func TestRetryable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{context.Canceled, false},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{rpc.ErrClientQuit, false},
		{classify("m", io.ErrUnexpectedEOF), true},
		{classify("m", rpc.ErrNoResult), true},
		{classify("m", rpc.ErrMissingBatchResponse), true},
		{malformed("block 1"), true},
		{notAvailable("block 1"), true},
		{rpc.HTTPError{StatusCode: 429}, true},
		{rpc.HTTPError{StatusCode: 503}, true},
		{rpc.HTTPError{StatusCode: 408}, true},
		{rpc.HTTPError{StatusCode: 400}, false},
		{rpc.HTTPError{StatusCode: 401}, false},
		{rpcErr{-32000, "header not found"}, true},
		{rpcErr{-32000, "transaction indexing is in progress"}, true},
		{rpcErr{-32005, "project ID request rate exceeded"}, true},
		{rpcErr{-32603, "internal error"}, true},
		{rpcErr{-32602, "invalid argument 0: hex string without 0x prefix"}, false},
		{rpcErr{-32601, "the method x does not exist/is not available"}, false},
		{rpcErr{-32000, "transaction not found"}, false},
		{rpcErr{3, "execution reverted"}, false},
		{fmt.Errorf("post: %w", syscall.ECONNREFUSED), true},
		{ErrNotReverted, false},
	} {
		if got := retryable(tc.err); got != tc.want {
			t.Errorf("retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":    0,
		"3":   3 * time.Second,
		"-1":  0,
		"abc": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		"999999": time.Hour,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(10)
	l.now = func() time.Time { return now }
	// The bucket starts full with one second of requests; taking more
	// leaves a debt that the taker waits out.
	for _, tc := range []struct {
		advance time.Duration
		take    int
		wait    time.Duration
	}{
		{0, 10, 0},
		{0, 5, 500 * time.Millisecond},
		{500 * time.Millisecond, 1, 100 * time.Millisecond},
		{10 * time.Second, 3, 0},
		{0, 8, 100 * time.Millisecond},
	} {
		now = now.Add(tc.advance)
		if got := l.reserve(tc.take); got.Round(time.Millisecond) != tc.wait {
			t.Fatalf("after %v taking %d: wait %v, want %v", tc.advance, tc.take, got, tc.wait)
		}
	}
	if newLimiter(0) != nil || newLimiter(0).wait(context.Background(), 100) != nil {
		t.Fatal("a zero rate must not limit")
	}
}
