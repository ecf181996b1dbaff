package logingest

import (
	"context"
	"fmt"
	"log/slog"
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

// ErrorKind says why a request was refused; the HTTP layer (package web)
// gives each kind its status.
type ErrorKind int

const (
	// KindInvalid: the request is malformed, or none of its records could
	// be read (HTTP 400).
	KindInvalid ErrorKind = iota + 1
	// KindTooLarge: the body is over Options.MaxBodyBytes, as sent or
	// decompressed (HTTP 413).
	KindTooLarge
	// KindUnsupported: a content type or encoding this door does not read
	// (HTTP 415).
	KindUnsupported
	// KindUnauthorized: a missing or unknown ingest key (HTTP 401).
	KindUnauthorized
	// KindUnavailable: the store refused the batch; nothing of the request
	// was stored (HTTP 503).
	KindUnavailable
)

// Error is a refused request, with a message written for the client.
type Error struct {
	Kind ErrorKind
	Msg  string
	// Result, when set, names the rejected records (the others, if any,
	// were stored).
	Result *Result
}

func (e *Error) Error() string { return e.Msg }

func invalid(format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Msg: fmt.Sprintf(format, args...)}
}

// Unsupported is the error of a content type or encoding a door does not
// read.
func Unsupported(format string, args ...any) *Error {
	return &Error{Kind: KindUnsupported, Msg: fmt.Sprintf(format, args...)}
}

// TooLarge is the error of a body over MaxBodyBytes.
func (in *Ingester) TooLarge() *Error {
	return &Error{Kind: KindTooLarge, Msg: fmt.Sprintf("request body over %d bytes (decompressed)", in.opts.MaxBodyBytes)}
}

// unavailable logs why the store refused a batch (the client reads only
// that it did) and returns the error to answer.
func (in *Ingester) unavailable(door string, err error) *Error {
	in.opts.Log.Error("log ingest: store failed", "door", door, "err", err)
	return &Error{Kind: KindUnavailable, Msg: "the store cannot take records now; nothing of this request was stored, retry later"}
}

// MaxBodyBytes is the cap on a request body, as sent and decompressed.
func (in *Ingester) MaxBodyBytes() int64 { return in.opts.MaxBodyBytes }

// AllowOrigins are the origins browsers may post logs from ("*": any).
func (in *Ingester) AllowOrigins() []string { return in.opts.AllowOrigins }
