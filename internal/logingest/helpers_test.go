package logingest

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"
)

var testNow = ingesttest.Now

func newTestIngester(opts Options) (*Ingester, *ingesttest.MemWriter) {
	w := &ingesttest.MemWriter{}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return New(w, opts), w
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
