package logingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"

	"github.com/blocktorch/blocktorch/internal/record"
)

// Stream labels that name the service, in order of preference (Loki 3 adds
// service_name itself), and the level.
var (
	lokiServiceLabels = []string{"service_name", "service", "app", "application", "job", "container"}
	lokiLevelLabels   = []string{"level", "detected_level", "severity", "lvl"}
)

// IngestLoki stores a body of POST /loki/api/v1/push, the Loki push API: a
// snappy-compressed protobuf PushRequest (application/x-protobuf, what
// Promtail, Grafana Alloy and Vector send) or JSON (application/json,
// {"streams":[{"stream":{labels},"values":[["<unix ns>","line",{metadata}]]}]},
// optionally gzip-compressed). Stream labels and structured metadata become
// attributes; the service and level come from the labels named in
// lokiServiceLabels and lokiLevelLabels, a label source (app, security,
// system) sets the source, and a line that is a JSON object is read like a
// line of POST /api/v1/logs. mediaType is the request's, lower case
// without parameters. It returns the Result when every entry was stored
// (Loki answers 204), and an *Error of KindInvalid naming the rejected
// entries (the others are stored) when some were not.
func (in *Ingester) IngestLoki(ctx context.Context, mediaType string, body []byte) (*Result, error) {
	var req *push.PushRequest
	switch mediaType {
	case "application/x-protobuf":
		var err error
		if req, err = in.decodeLokiProto(body); err != nil {
			if errors.Is(err, errTooLarge) {
				return nil, in.TooLarge()
			}
			return nil, invalid("%v", err)
		}
	case "application/json":
		b, err := in.lokiJSONBatch(body)
		if err != nil {
			return nil, invalid("%v", err)
		}
		return in.lokiAnswer(ctx, b)
	default:
		return nil, LokiType(mediaType)
	}
	b := &batch{res: Result{Rejected: []Rejection{}}}
	bld := in.newBuilder()
	n := 0
	for _, s := range req.Streams {
		labels, err := parseLabels(s.Labels)
		for _, e := range s.Entries {
			n++
			if err != nil {
				b.res.reject(n, fmt.Errorf("stream labels: %w", err))
				continue
			}
			bld.reset()
			meta := make([][2]string, len(e.StructuredMetadata))
			for i, p := range e.StructuredMetadata {
				meta[i] = [2]string{p.Name, p.Value}
			}
			rec, err := bld.lokiRecord(labels, e.Timestamp, e.Line, meta)
			if err != nil {
				b.res.reject(n, err)
				continue
			}
			b.add(rec, bld.invalidUTF8)
		}
	}
	return in.lokiAnswer(ctx, b)
}

// LokiType returns nil for the media types a Loki push is sent in, and the
// error to answer for any other.
func LokiType(mediaType string) error {
	switch mediaType {
	case "application/x-protobuf", "application/json":
		return nil
	}
	return Unsupported("Content-Type %q is not a Loki push (send application/x-protobuf with snappy, or application/json)", mediaType)
}

var errTooLarge = errors.New("too large")

func (in *Ingester) decodeLokiProto(body []byte) (*push.PushRequest, error) {
	n, err := snappy.DecodedLen(body)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the snappy-compressed body: %w", err)
	}
	if int64(n) > in.opts.MaxBodyBytes {
		return nil, errTooLarge
	}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		return nil, fmt.Errorf("cannot decode the snappy-compressed body: %w", err)
	}
	var req push.PushRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("cannot decode the Loki PushRequest protobuf: %w", err)
	}
	return &req, nil
}

// lokiAnswer stores what a push could read: the Result when every entry was
// stored, else an *Error of KindInvalid naming the rejected entries (the
// others are stored).
func (in *Ingester) lokiAnswer(ctx context.Context, b *batch) (*Result, error) {
	if len(b.recs) > 0 || b.res.RejectedCount == 0 {
		if err := in.commit(ctx, b); err != nil {
			return nil, in.unavailable("loki", err)
		}
	} else {
		in.rejected.Add(int64(b.res.RejectedCount))
	}
	if b.res.RejectedCount == 0 {
		return &b.res, nil
	}
	first := b.res.Rejected[0]
	e := invalid("%d entries stored, %d rejected; the first: entry %d: %s",
		b.res.Accepted, b.res.RejectedCount, first.Line, first.Error)
	e.Result = &b.res
	return nil, e
}

// lokiJSON is the JSON push body; Stream/Values is the current shape,
// Labels/Entries the one older clients send.
type lokiJSON struct {
	Streams []struct {
		Stream  map[string]string `json:"stream"`
		Values  []json.RawMessage `json:"values"`
		Labels  string            `json:"labels"`
		Entries []struct {
			TS   string `json:"ts"`
			Line string `json:"line"`
		} `json:"entries"`
	} `json:"streams"`
}

func (in *Ingester) lokiJSONBatch(body []byte) (*batch, error) {
	var req lokiJSON
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, fmt.Errorf("cannot decode the Loki JSON push: %w", err)
	}
	bodyUTF8 := utf8.Valid(body)
	b := &batch{res: Result{Rejected: []Rejection{}}}
	bld := in.newBuilder()
	n := 0
	for _, s := range req.Streams {
		var labels [][2]string
		var lerr error
		if s.Stream != nil {
			for k, v := range s.Stream {
				labels = append(labels, [2]string{k, v})
			}
			sortPairs(labels)
		} else {
			labels, lerr = parseLabels(s.Labels)
		}
		for _, v := range s.Values {
			n++
			if lerr != nil {
				b.res.reject(n, fmt.Errorf("stream labels: %w", lerr))
				continue
			}
			bld.reset()
			rec, err := bld.lokiJSONValue(labels, v)
			if err != nil {
				b.res.reject(n, err)
				continue
			}
			b.add(rec, bld.invalidUTF8 || !bodyUTF8 && !utf8.Valid(v))
		}
		for _, e := range s.Entries {
			n++
			if lerr != nil {
				b.res.reject(n, fmt.Errorf("stream labels: %w", lerr))
				continue
			}
			bld.reset()
			t, err := time.Parse(time.RFC3339Nano, e.TS)
			if err != nil {
				b.res.reject(n, fmt.Errorf("ts: %w", err))
				continue
			}
			rec, err := bld.lokiRecord(labels, t, e.Line, nil)
			if err != nil {
				b.res.reject(n, err)
				continue
			}
			b.add(rec, bld.invalidUTF8)
		}
	}
	return b, nil
}

// lokiJSONValue reads one ["<unix ns>", "line", {metadata}] entry.
func (b *builder) lokiJSONValue(labels [][2]string, v json.RawMessage) (record.Record, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(v, &parts); err != nil || len(parts) < 2 || len(parts) > 3 {
		return record.Record{}, errors.New(`entry is not ["<unix ns>", "line"] or ["<unix ns>", "line", {metadata}]`)
	}
	var ts, line string
	if err := json.Unmarshal(parts[0], &ts); err != nil {
		return record.Record{}, errors.New("entry timestamp is not a string of unix nanoseconds")
	}
	ns, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ns < 0 {
		return record.Record{}, fmt.Errorf("entry timestamp %q is not unix nanoseconds", ts)
	}
	if err := json.Unmarshal(parts[1], &line); err != nil {
		return record.Record{}, errors.New("entry line is not a string")
	}
	var meta [][2]string
	if len(parts) == 3 {
		var m map[string]string
		if err := json.Unmarshal(parts[2], &m); err != nil {
			return record.Record{}, errors.New("entry structured metadata is not an object of strings")
		}
		for k, v := range m {
			meta = append(meta, [2]string{k, v})
		}
		sortPairs(meta)
	}
	return b.lokiRecord(labels, time.Unix(0, ns), line, meta)
}

// lokiRecord builds the record of one entry.
func (b *builder) lokiRecord(labels [][2]string, t time.Time, line string, meta [][2]string) (record.Record, error) {
	rec := record.Record{Time: t}
	if t.IsZero() || t.Unix() == 0 {
		rec.Time = time.Time{}
	}
	if len(line) > b.opts.MaxLineBytes {
		return rec, fmt.Errorf("line of %d bytes is over the limit of %d", len(line), b.opts.MaxLineBytes)
	}
	get := func(names []string) (string, bool) {
		for _, n := range names {
			for _, l := range labels {
				if l[0] == n {
					return l[1], true
				}
			}
		}
		return "", false
	}
	if s, ok := get(lokiServiceLabels); ok {
		rec.Service = s
	}
	if s, ok := get(lokiLevelLabels); ok {
		if err := b.level(&rec, s); err != nil {
			return rec, err
		}
	}
	if s, ok := get([]string{"source"}); ok && offChainSources[s] {
		rec.Source = s
	}
	for _, l := range labels {
		if err := b.setAttr(&rec, l[0], l[1]); err != nil {
			return rec, err
		}
	}
	for _, m := range meta {
		if err := b.setAttr(&rec, m[0], m[1]); err != nil {
			return rec, err
		}
	}
	rec.Message = line
	if t := strings.TrimSpace(line); len(t) > 1 && t[0] == '{' {
		// Applications often log JSON through Promtail: read its fields.
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) == nil && m != nil && !dec.More() {
			rec.Message = ""
			if err := b.fields(&rec, m); err != nil {
				return rec, err
			}
			if rec.Message == "" {
				rec.Message = line
			}
		}
	}
	err := b.finish(&rec)
	return rec, err
}

func sortPairs(p [][2]string) {
	for i := 1; i < len(p); i++ {
		for j := i; j > 0 && p[j][0] < p[j-1][0]; j-- {
			p[j], p[j-1] = p[j-1], p[j]
		}
	}
}

// parseLabels reads a Prometheus label set as Loki streams carry it:
// {name="value", …} with Go-style escapes in values.
func parseLabels(s string) ([][2]string, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("label set %q is not {name=\"value\", …}", truncate(s, 80))
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	var out [][2]string
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, errors.New("label without =value")
		}
		name := strings.TrimSpace(s[:eq])
		if !validLabelName(name) {
			return nil, fmt.Errorf("label name %q is not valid", truncate(name, 80))
		}
		rest := strings.TrimLeft(s[eq+1:], " ")
		q, err := strconv.QuotedPrefix(rest)
		if err != nil || q[0] != '"' {
			return nil, fmt.Errorf("value of label %s is not a quoted string", name)
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			return nil, fmt.Errorf("value of label %s: %w", name, err)
		}
		out = append(out, [2]string{name, v})
		s = strings.TrimLeft(rest[len(q):], " ")
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("want , after label %s", name)
		}
		s = strings.TrimLeft(s[1:], " ")
	}
	return out, nil
}

func validLabelName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
