package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Webhook headers.
const (
	HeaderSignature   = "X-Blocktorch-Signature" // "sha256=" + hex HMAC-SHA256(secret, timestamp + "." + body)
	HeaderTimestamp   = "X-Blocktorch-Timestamp" // Unix seconds when the request was signed
	HeaderIdempotency = "Idempotency-Key"        // Message.Key: the same for every retry of one transition
)

// webhook posts the Message as JSON.
type webhook struct {
	spec Spec
	h    httpSender
	now  func() time.Time
}

func (w *webhook) Send(ctx context.Context, m Message) error {
	body := marshal(m)
	headers := map[string]string{}
	for k, v := range w.spec.Headers {
		headers[k] = v
	}
	headers[HeaderIdempotency] = m.Key
	if w.spec.Secret != "" {
		now := time.Now
		if w.now != nil {
			now = w.now
		}
		ts := strconv.FormatInt(now().Unix(), 10)
		headers[HeaderTimestamp] = ts
		headers[HeaderSignature] = Sign(w.spec.Secret, ts, body)
	}
	_, err := w.h.post(ctx, w.spec.URL, body, headers, nil)
	return err
}

// Sign returns the signature header value of a webhook body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a webhook request's signature and that its timestamp is
// within tolerance of now, for receivers written in Go.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := Sign(secret, timestamp, body)
	return strings.HasPrefix(signature, "sha256=") && hmac.Equal([]byte(want), []byte(signature))
}
