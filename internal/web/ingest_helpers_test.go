package web

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"
)

// newTestIngester is an ingester over a MemWriter that stamps records
// without a time with ingesttest.Now.
func newTestIngester(opts logingest.Options) (*logingest.Ingester, *ingesttest.MemWriter) {
	w := &ingesttest.MemWriter{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return ingesttest.Now }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return logingest.New(w, opts), w
}

// ingestServer is a server with the ingest doors of in and nothing else.
func ingestServer(t *testing.T, in *logingest.Ingester) *Server {
	t.Helper()
	srv, err := New(Deps{Ingest: in, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// door is the ingest door at path of a server over in: requests sent to
// it go to path, whatever their URL's path (the query is kept).
func door(t *testing.T, in *logingest.Ingester, path string) http.HandlerFunc {
	t.Helper()
	srv := ingestServer(t, in)
	return func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = path
		srv.ServeHTTP(w, r)
	}
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

// answer is the /api/v1 envelope with an ingest Result.
type answer struct {
	Status    string            `json:"status"`
	ErrorKind string            `json:"errorKind"`
	Error     string            `json:"error"`
	Data      *logingest.Result `json:"data"`
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
