package logingest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/record"
)

// memWriter is the RecordWriter of these tests: it keeps what it is given,
// or refuses everything when fail is set.
type memWriter struct {
	mu    sync.Mutex
	recs  []record.Record
	calls int
	fail  error
}

func (m *memWriter) AppendRecords(_ context.Context, recs []record.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memWriter) records() []record.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]record.Record(nil), m.recs...)
}

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newTestIngester(opts Options) (*Ingester, *memWriter) {
	w := &memWriter{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return New(w, opts), w
}

// post sends body to handler h and returns the status and the answer.
func post(t *testing.T, h http.HandlerFunc, ct string, body []byte, hdr ...string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rw := httptest.NewRecorder()
	h(rw, req)
	return rw.Code, rw.Body.Bytes()
}

// answer is the /api/v1 envelope with a Result.
type answer struct {
	Status    string  `json:"status"`
	ErrorKind string  `json:"errorKind"`
	Error     string  `json:"error"`
	Data      *Result `json:"data"`
}

func decodeAnswer(t *testing.T, b []byte) answer {
	t.Helper()
	var a answer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("answer is not the JSON envelope: %v\n%s", err, b)
	}
	return a
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
