package logingest

import (
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Defaults of Options.
const (
	DefaultMaxBodyBytes = 10 << 20
	DefaultMaxLineBytes = 256 << 10
	DefaultMaxAttrs     = 256
	DefaultMaxDepth     = 16
	DefaultMaxLinks     = 32
	// maxReported caps the rejections listed in one answer; the count is
	// always complete.
	maxReported = 1000
)

// Options tunes an Ingester. Zero values take the defaults.
type Options struct {
	// MaxBodyBytes caps a request body, both as sent and decompressed
	// (default 10 MiB); over it the answer is 413.
	MaxBodyBytes int64
	// MaxLineBytes caps one NDJSON line, one array element, one message and
	// one syslog frame (default 256 KiB); longer ones are rejected.
	MaxLineBytes int
	// MaxAttrs caps the attributes of a record, counting every key and
	// array element at any depth (default 256).
	MaxAttrs int
	// MaxDepth caps the nesting of attribute values (default 16).
	MaxDepth int
	// MaxLinks caps the hashes and the addresses extracted from one record,
	// each (default 32).
	MaxLinks int

	// IngestKeys, when set, are the keys every HTTP ingest door (JSON
	// lines, OTLP, Loki push) requires, as a Bearer token, the
	// X-Blocktorch-Key header, the basic-auth password or (for
	// navigator.sendBeacon, which cannot set headers) the key query
	// parameter. Empty: no key needed. Syslog takes no key: bind it to a
	// trusted network.
	IngestKeys []string
	// AllowOrigins are the origins browsers may post logs from (CORS on
	// /api/v1/logs); "*" allows any. Empty: no CORS headers are sent.
	AllowOrigins []string

	// Retention is how long records of each source are kept, as parsed by
	// ParseRetention from --retention. Ingest does not read it: the store's
	// deletion of old records does; it travels here so the one config value
	// reaches whoever runs that deletion.
	Retention map[string]time.Duration

	// Now stamps records that carry no time (default time.Now).
	Now func() time.Time
	// Log receives what cannot be answered to a client: syslog frames that
	// were rejected or could not be stored (default slog.Default()).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = DefaultMaxLineBytes
	}
	if o.MaxAttrs <= 0 {
		o.MaxAttrs = DefaultMaxAttrs
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxLinks <= 0 {
		o.MaxLinks = DefaultMaxLinks
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Ingester receives logs over HTTP and syslog and appends them to a
// store.RecordWriter. Safe for concurrent use.
type Ingester struct {
	w    store.RecordWriter
	opts Options

	accepted, rejected, invalidUTF8, writeFailures atomic.Int64
}

// New returns an Ingester writing to w.
func New(w store.RecordWriter, opts Options) *Ingester {
	return &Ingester{w: w, opts: opts.withDefaults()}
}

// Register mounts the HTTP endpoints on mux: /api/v1/logs (POST and the
// CORS preflight), POST /v1/logs, POST /loki/api/v1/push and
// GET /sdk/blocktorch.js.
func (in *Ingester) Register(mux *http.ServeMux) {
	mux.HandleFunc("/api/v1/logs", in.ServeLogs)
	mux.HandleFunc("GET /sdk/blocktorch.js", in.ServeSDK)
	mux.HandleFunc("POST /v1/logs", in.ServeOTLP)
	mux.HandleFunc("POST /loki/api/v1/push", in.ServeLoki)
}

// Stats are the Ingester's running totals, over every protocol.
type Stats struct {
	Accepted int64 // records stored
	Rejected int64 // records refused, each named in its answer or logged
	// InvalidUTF8 counts stored records whose invalid UTF-8 was replaced
	// with U+FFFD.
	InvalidUTF8 int64
	// WriteFailures counts batches the store refused (answered 503, or
	// logged for syslog).
	WriteFailures int64
}

// Stats returns the running totals.
func (in *Ingester) Stats() Stats {
	return Stats{
		Accepted:      in.accepted.Load(),
		Rejected:      in.rejected.Load(),
		InvalidUTF8:   in.invalidUTF8.Load(),
		WriteFailures: in.writeFailures.Load(),
	}
}

// Result is the answer to a batch: how many records were stored, and which
// were rejected and why.
type Result struct {
	Accepted int `json:"accepted"`
	// Rejected lists the first 1000 rejections; RejectedCount counts all.
	Rejected      []Rejection `json:"rejected"`
	RejectedCount int         `json:"rejectedCount"`
	// InvalidUTF8 counts accepted records in which invalid UTF-8 was
	// replaced with U+FFFD.
	InvalidUTF8 int `json:"invalidUTF8"`
}

// Rejection names one rejected record: its 1-based line of an NDJSON body,
// element of a JSON array, or entry of a Loki push (counted across streams).
type Rejection struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

func (r *Result) reject(line int, err error) {
	r.RejectedCount++
	if len(r.Rejected) < maxReported {
		r.Rejected = append(r.Rejected, Rejection{Line: line, Error: err.Error()})
	}
}

// batch gathers the records of one request and the result to answer.
type batch struct {
	recs []record.Record
	res  Result
}

func (b *batch) add(rec record.Record, invalidUTF8 bool) {
	b.recs = append(b.recs, rec)
	if invalidUTF8 {
		b.res.InvalidUTF8++
	}
}

// commit stores the batch's records. On failure nothing is counted as
// accepted: the store writes all of them or none.
func (in *Ingester) commit(ctx context.Context, b *batch) error {
	if len(b.recs) > 0 {
		if err := in.w.AppendRecords(ctx, b.recs); err != nil {
			in.writeFailures.Add(1)
			return fmt.Errorf("cannot store %d records: %w", len(b.recs), err)
		}
	}
	b.res.Accepted = len(b.recs)
	in.accepted.Add(int64(len(b.recs)))
	in.rejected.Add(int64(b.res.RejectedCount))
	in.invalidUTF8.Add(int64(b.res.InvalidUTF8))
	return nil
}

// Error kinds of the answers, as in the /api/v1 envelope.
const (
	kindBadRequest   = "bad_request"
	kindTooLarge     = "too_large"
	kindUnsupported  = "unsupported_media_type"
	kindUnauthorized = "unauthorized"
	kindUnavailable  = "unavailable"
)

// httpError is an answer that is not a 2xx.
type httpError struct {
	status int
	kind   string
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, kindBadRequest, fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) *httpError {
	return &httpError{http.StatusUnsupportedMediaType, kindUnsupported, fmt.Sprintf(format, args...)}
}

func (in *Ingester) tooLarge() *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, kindTooLarge,
		fmt.Sprintf("request body over %d bytes (decompressed)", in.opts.MaxBodyBytes)}
}

func (in *Ingester) unavailable(r *http.Request, err error) *httpError {
	in.opts.Log.Error("log ingest: store failed", "path", r.URL.Path, "err", err)
	return &httpError{http.StatusServiceUnavailable, kindUnavailable, "the store cannot take records now; nothing of this request was stored, retry later"}
}

// readBody reads a request body within MaxBodyBytes, both as sent and after
// Content-Encoding (gzip, deflate) is undone, so a small compressed bomb is
// refused like a big body.
func (in *Ingester) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *httpError) {
	limit := in.opts.MaxBodyBytes
	var body io.Reader = http.MaxBytesReader(w, r.Body, limit)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, in.readError(err, "gzip body")
		}
		defer zr.Close()
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(body)
		if err != nil {
			return nil, in.readError(err, "deflate (zlib) body")
		}
		defer zr.Close()
		body = zr
	default:
		return nil, unsupported("Content-Encoding %q is not supported (use gzip, deflate or none)", enc)
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, in.readError(err, "request body")
	}
	if int64(len(b)) > limit {
		return nil, in.tooLarge()
	}
	return b, nil
}

func (in *Ingester) readError(err error, what string) *httpError {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return in.tooLarge()
	}
	return badRequest("cannot read %s: %v", what, err)
}

// mediaType returns the lower-case media type of the request without
// parameters.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
