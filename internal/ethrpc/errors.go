package ethrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ethereum/go-ethereum/rpc"
)

var (
	// ErrMalformed marks an answer that is not what was asked for: invalid or
	// truncated JSON, a block with another number, a receipt list that does
	// not match the block's transactions, a missing result. It is retried,
	// since load-balanced nodes and reorgs produce such answers transiently.
	ErrMalformed = errors.New("malformed answer")

	// ErrNotAvailable marks a block or receipt the node does not have yet
	// (a null result). It is retried.
	ErrNotAvailable = errors.New("not available yet")

	// ErrNoSubscriptions is returned by SubscribeHeads when the node or the
	// transport (plain HTTP) cannot push new heads; callers poll instead.
	ErrNoSubscriptions = errors.New("node does not support head subscriptions")

	// ErrNotReverted is returned by RevertData when replaying a failed
	// transaction as a call did not revert (the replay ignores the earlier
	// transactions of its block, so it may not reproduce the failure).
	ErrNotReverted = errors.New("replay did not revert")
)

// malformed wraps an error as ErrMalformed with a description.
func malformed(format string, args ...any) error {
	return fmtWrap(ErrMalformed, format, args...)
}

// fmtWrap formats a description and wraps sentinel after it.
func fmtWrap(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), sentinel)
}

// classify translates what the rpc package returns into this package's
// errors, so that retryable() can decide on a small set of cases.
func classify(method string, err error) error {
	if err == nil {
		return nil
	}
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrNotAvailable):
		return err
	case errors.As(err, &syn), errors.As(err, &typ),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, rpc.ErrNoResult), errors.Is(err, rpc.ErrMissingBatchResponse):
		return fmt.Errorf("%s: %w: %w", method, ErrMalformed, err)
	}
	return fmt.Errorf("%s: %w", method, err)
}

// retryable reports whether err is worth another attempt: transport errors,
// timeouts, HTTP 408/429/5xx, transient JSON-RPC errors and malformed
// answers. Cancellation and clear client errors are not.
func retryable(err error) bool {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, rpc.ErrClientQuit), errors.Is(err, ErrNotReverted):
		return false
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrNotAvailable), errors.Is(err, context.DeadlineExceeded):
		return true
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		return he.StatusCode == 408 || he.StatusCode == 429 || he.StatusCode >= 500
	}
	var re rpc.Error
	if errors.As(err, &re) {
		return transientRPCError(re)
	}
	// Anything else comes from the transport (refused, reset, EOF, TLS):
	// worth another try.
	return true
}

// transientMessages are fragments of JSON-RPC error messages that nodes and
// hosted providers use for conditions that pass: a block a load-balanced
// backend has not seen yet, an index still being built, rate limits.
var transientMessages = []string{
	"header not found",
	"block not found",
	"unknown block",
	"indexing is in progress",
	"indexing in progress",
	"too many requests",
	"rate limit",
	"request timed out",
	"try again",
	"temporarily unavailable",
	"busy",
}

func transientRPCError(e rpc.Error) bool {
	switch e.ErrorCode() {
	case -32601, -32602, -32600, -32700: // method not found, invalid params/request, parse error
		return false
	case -32002, -32005, -32603: // timeout, limit exceeded, internal error
		return true
	}
	msg := strings.ToLower(e.Error())
	for _, m := range transientMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	return false
}

// methodMissing reports whether err says the node does not offer the method
// at all (as opposed to an error about its arguments).
func methodMissing(err error) bool {
	var re rpc.Error
	if errors.As(err, &re) {
		if re.ErrorCode() == -32601 {
			return true
		}
		msg := strings.ToLower(re.Error())
		for _, m := range []string{"does not exist", "not available", "method not found", "not supported", "unsupported method", "not allowed", "not whitelisted"} {
			if strings.Contains(msg, m) {
				return true
			}
		}
		return false
	}
	var he rpc.HTTPError
	if errors.As(err, &he) {
		// Hosted providers answer 401/403/404 for methods outside the plan.
		return he.StatusCode == 401 || he.StatusCode == 403 || he.StatusCode == 404 || he.StatusCode == 405
	}
	return false
}
