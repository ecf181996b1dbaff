package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// httpSender posts JSON and classifies the answer.
type httpSender struct {
	client *http.Client
	scrub  scrubber
	// now is the clock an HTTP-date Retry-After is measured against.
	now func() time.Time
}

// maxAnswer bounds how much of an answer is read: enough for an error
// message, never a receiver's whole page.
const maxAnswer = 64 << 10

// post sends body to url with headers. It returns the answer's body for a
// 2xx. retryAfter extracts a wait from a 429's body when the API puts it
// there (Discord, Telegram).
func (h httpSender) post(ctx context.Context, url string, body []byte, headers map[string]string, retryAfter func(body []byte) time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, h.scrub.err(&SendError{Err: fmt.Errorf("cannot build the request: %w", err)})
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "blocktorch")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		// Connection refused, reset, timeout: the receiver may come back.
		// A destination the policy refuses will not change by itself.
		return nil, h.scrub.err(&SendError{Retryable: !isDestinationError(err), Err: err})
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return answer, nil
	}
	e := &SendError{Err: fmt.Errorf("HTTP %d: %s", resp.StatusCode, truncate(string(bytes.TrimSpace(answer)), 200))}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout, resp.StatusCode >= 500:
		e.Retryable = true
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), h.now())
		if e.RetryAfter == 0 && retryAfter != nil {
			e.RetryAfter = retryAfter(answer)
		}
	}
	return nil, h.scrub.err(e)
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("BUG: cannot encode a notification: %v", err))
	}
	return b
}
