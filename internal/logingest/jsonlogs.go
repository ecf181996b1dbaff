package logingest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/blocktorch/blocktorch/internal/record"
)

// jsonTypes are the content types POST /api/v1/logs reads; text/plain is
// what navigator.sendBeacon can send without a CORS preflight.
var jsonTypes = map[string]bool{
	"": true, "application/json": true, "application/x-ndjson": true, "application/ndjson": true,
	"application/jsonl": true, "application/x-jsonlines": true, "application/jsonlines": true, "text/plain": true,
}

// JSONType reports whether POST /api/v1/logs reads a body of this media
// type (lower case, no parameters; "" is none).
func JSONType(mediaType string) bool { return jsonTypes[mediaType] }

// IngestJSON stores the records of a POST /api/v1/logs body: NDJSON (one
// object a line), a JSON array of objects, or one object. In each object
// time, timestamp, ts or @timestamp (RFC 3339, or unix seconds,
// milliseconds, microseconds or nanoseconds) is the time; level, severity
// or lvl the level; service, source (app, security or system; default app),
// kind (default log) and message or msg are the record's fields;
// everything else becomes attributes. It returns the Result when at least
// one record was stored; an *Error of KindInvalid carrying the Result when
// every record was rejected, and of KindUnavailable when the store failed
// (then nothing was stored).
func (in *Ingester) IngestJSON(ctx context.Context, body []byte) (*Result, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		// Most likely a shipper misconfigured, not "nothing to say".
		return nil, invalid("empty body: send JSON lines (one object per line) or a JSON array of objects")
	}
	b := in.parseLogs(body)
	if len(b.recs) == 0 && b.res.RejectedCount > 0 {
		in.rejected.Add(int64(b.res.RejectedCount))
		e := invalid("no record accepted; %d rejected, the first: line %d: %s",
			b.res.RejectedCount, b.res.Rejected[0].Line, b.res.Rejected[0].Error)
		e.Result = &b.res
		return nil, e
	}
	if err := in.commit(ctx, b); err != nil {
		return nil, in.unavailable("json", err)
	}
	return &b.res, nil
}

// maxPrealloc bounds the records parseLogs makes room for before it
// reads them.
const maxPrealloc = 1 << 15

// parseLogs splits a body into records: a JSON array, a single object, or
// NDJSON.
func (in *Ingester) parseLogs(body []byte) *batch {
	b := &batch{res: Result{Rejected: []Rejection{}}}
	bld := in.newBuilder()
	trimmed := bytes.TrimLeft(body, " \t\r\n\ufeff")
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			b.res.reject(1, fmt.Errorf("body is not a JSON array of objects: %w", err))
			return b
		}
		b.recs = make([]record.Record, 0, min(len(elems), maxPrealloc))
		for i, el := range elems {
			in.parseLine(b, bld, i+1, el)
		}
	case len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed):
		in.parseLine(b, bld, 1, trimmed)
	default:
		// A record a line, mostly: one allocation rather than a
		// doubling of the records as they come (up to a bound, since
		// blank lines are free to send).
		b.recs = make([]record.Record, 0, min(bytes.Count(body, []byte{'\n'})+1, maxPrealloc))
		line := 0
		for len(body) > 0 {
			line++
			var l []byte
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				l, body = body[:i], body[i+1:]
			} else {
				l, body = body, nil
			}
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			in.parseLine(b, bld, line, l)
		}
	}
	return b
}

func (in *Ingester) parseLine(b *batch, bld *builder, line int, l []byte) {
	if len(l) > in.opts.MaxLineBytes {
		b.res.reject(line, fmt.Errorf("line of %d bytes is over the limit of %d", len(l), in.opts.MaxLineBytes))
		return
	}
	bld.reset()
	rec, err := bld.jsonRecord(l)
	if err != nil {
		b.res.reject(line, err)
		return
	}
	b.add(rec, bld.invalidUTF8)
}

// Field names of a JSON log line, in order of preference.
var (
	timeKeys    = []string{"time", "timestamp", "ts", "@timestamp"}
	levelKeys   = []string{"level", "severity", "lvl"}
	messageKeys = []string{"message", "msg"}
)

// jsonRecord decodes one JSON object into a record.
func (b *builder) jsonRecord(l []byte) (record.Record, error) {
	if plainJSON(l) {
		if v, err := b.parser.ParseBytes(l); err == nil && v.Type() == fastjson.TypeObject {
			if rec, err, ok := b.jsonRecordFast(v); ok {
				return rec, err
			}
		}
	}
	return b.jsonRecordMap(l)
}

// jsonRecordMap decodes one JSON object into a record through a
// map[string]any: the path of every line, which jsonRecordFast matches.
func (b *builder) jsonRecordMap(l []byte) (record.Record, error) {
	// encoding/json replaces invalid UTF-8 itself; note it for the count.
	if !utf8.Valid(l) {
		b.invalidUTF8 = true
	}
	m, err := b.decodeObject(l)
	if err != nil {
		return record.Record{}, err
	}
	var rec record.Record
	if err := b.fields(&rec, m); err != nil {
		return rec, err
	}
	err = b.finish(&rec)
	return rec, err
}

// decodeObject decodes one JSON object as encoding/json decodes it into
// a map[string]any with UseNumber. Most lines take a fast path (about
// four times cheaper, and ingest's largest cost after the engine): lines
// of valid UTF-8 without escapes or control characters, which
// fastjson parses exactly as encoding/json does once each number is held
// to JSON's grammar (fastjson also reads NaN, Inf and 01). Any other
// line, and any line the fast path refuses, goes through encoding/json,
// so that what is accepted and each error stay the same.
// FuzzDecodeObject holds the two paths equal.
func (b *builder) decodeObject(l []byte) (map[string]any, error) {
	if plainJSON(l) {
		if v, err := b.parser.ParseBytes(l); err == nil && v.Type() == fastjson.TypeObject {
			if m, ok := fastValue(v).(map[string]any); ok {
				return m, nil
			}
		}
	}
	return decodeObjectStd(l)
}

// decodeObjectStd is decodeObject's path through encoding/json.
func decodeObjectStd(l []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(l))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if m == nil {
		return nil, errors.New("not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: data after the object")
	}
	return m, nil
}

// plainJSON reports whether l is valid UTF-8 with no backslash and no
// control character: text whose strings need no unescaping or repair.
func plainJSON(l []byte) bool {
	high := false
	for _, c := range l {
		if c < 0x20 || c == '\\' {
			return false
		}
		high = high || c >= utf8.RuneSelf
	}
	return !high || utf8.Valid(l)
}

// fastValue converts a fastjson value to what encoding/json with
// UseNumber decodes into an any; it returns errBadNumber (a value of its
// own, never decoded JSON) when a number is not JSON.
func fastValue(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		bad := false
		o.Visit(func(k []byte, x *fastjson.Value) {
			y := fastValue(x)
			if y == errBadNumber {
				bad = true
			}
			m[string(k)] = y // the last of equal keys wins, as in encoding/json
		})
		if bad {
			return errBadNumber
		}
		return m
	case fastjson.TypeArray:
		xs, _ := v.Array()
		a := make([]any, len(xs))
		for i, x := range xs {
			if a[i] = fastValue(x); a[i] == errBadNumber {
				return errBadNumber
			}
		}
		return a
	case fastjson.TypeString:
		return string(v.GetStringBytes())
	case fastjson.TypeNumber:
		n := string(v.MarshalTo(nil))
		if !jsonNumber(n) {
			return errBadNumber
		}
		return json.Number(n)
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	}
	return nil
}

// errBadNumber marks a number fastjson read that JSON does not allow.
var errBadNumber any = &struct{ byte }{}

// jsonNumber reports whether s is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func jsonNumber[T string | []byte](s T) bool {
	i := 0
	digits := func() int {
		j := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// fields fills rec from a decoded object: the known fields become the
// record's fields, the rest attributes. It consumes m.
func (b *builder) fields(rec *record.Record, m map[string]any) error {
	used := func(keys []string) (string, any, bool) {
		for _, k := range keys {
			if v, ok := m[k]; ok {
				delete(m, k)
				return k, v, true
			}
		}
		return "", nil, false
	}
	if k, v, ok := used(timeKeys); ok {
		t, err := parseTime(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		rec.Time = t
	}
	if _, v, ok := used(levelKeys); ok {
		if err := b.level(rec, scalarString(v)); err != nil {
			return err
		}
	}
	if _, v, ok := used(messageKeys); ok {
		rec.Message = scalarString(v)
	}
	for _, f := range []struct {
		key string
		dst *string
	}{{"service", &rec.Service}, {"source", &rec.Source}, {"kind", &rec.Kind}} {
		v, ok := m[f.key]
		if !ok {
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			return fmt.Errorf("%s must be a string", f.key)
		}
		delete(m, f.key)
		*f.dst = s
	}
	// Sorted keys make which attribute trips the limit reproducible.
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := b.setAttr(rec, k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// scalarString renders a level or message value: strings as they are,
// anything else as its JSON text.
func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	case nil:
		return ""
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(j)
}

// timeLayouts are the textual times accepted besides unix numbers; layouts
// without a zone are UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads a time field: RFC 3339 text, or a unix time in seconds
// (possibly fractional), milliseconds, microseconds or nanoseconds, told
// apart by magnitude.
func parseTime(v any) (time.Time, error) {
	switch v := v.(type) {
	case string:
		s := strings.TrimSpace(v)
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
		if t, err := unixTime(s); err == nil {
			return t, nil
		}
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a unix time", v)
	case json.Number:
		return unixTime(string(v))
	case float64:
		return unixTime(strconv.FormatFloat(v, 'f', -1, 64))
	}
	return time.Time{}, fmt.Errorf("want RFC 3339 text or a unix time, got %s", scalarString(v))
}

func unixTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		switch {
		case n < 0:
			return time.Time{}, fmt.Errorf("negative unix time %d", n)
		case n < 1e11:
			return time.Unix(n, 0), nil
		case n < 1e14:
			return time.UnixMilli(n), nil
		case n < 1e17:
			return time.UnixMicro(n), nil
		}
		return time.Unix(0, n), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f >= 1e11 || math.IsNaN(f) {
		return time.Time{}, fmt.Errorf("%q is not a unix time in seconds, milliseconds, microseconds or nanoseconds", s)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

// KeysRequired reports whether requests must carry an ingest key.
func (in *Ingester) KeysRequired() bool { return len(in.opts.IngestKeys) > 0 }

// CheckKey enforces Options.IngestKeys on the keys a request carries, in
// whichever forms it sent one (the HTTP layer collects them: header, Bearer
// token, basic-auth password, key parameter). Every key is compared in
// constant time, so the answer's timing does not tell how much of a key
// matched. It returns nil when no key is required.
func (in *Ingester) CheckKey(given []string) error {
	if len(in.opts.IngestKeys) == 0 {
		return nil
	}
	ok := 0
	for _, g := range given {
		for _, k := range in.opts.IngestKeys {
			ok |= subtle.ConstantTimeCompare([]byte(g), []byte(k))
		}
	}
	if ok == 1 {
		return nil
	}
	if len(given) == 0 {
		return &Error{Kind: KindUnauthorized, Msg: "missing ingest key: send it as Authorization: Bearer KEY, in the X-Blocktorch-Key header, or as the basic-auth password"}
	}
	return &Error{Kind: KindUnauthorized, Msg: "unknown ingest key"}
}
