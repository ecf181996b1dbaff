package logingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/proto"

	"github.com/blocktorch/blocktorch/internal/record"
)

// checkFuzzRecords holds every record to what ingest promises: valid UTF-8,
// an off-chain source, a known level, a time, capped links, bounded
// attributes, and JSON-encodable.
func checkFuzzRecords(t *testing.T, opts Options, recs []record.Record) {
	t.Helper()
	for _, r := range recs {
		if !offChainSources[r.Source] || chainKinds[r.Kind] || r.Kind == "" {
			t.Fatalf("record with source %q kind %q", r.Source, r.Kind)
		}
		if _, ok := levelWords[r.Level]; !ok || r.Level != levelWords[r.Level] {
			t.Fatalf("record with level %q", r.Level)
		}
		if r.Time.IsZero() {
			t.Fatal("record without a time")
		}
		if !utf8.ValidString(r.Message) || !utf8.ValidString(r.Service) || !utf8.ValidString(r.Kind) {
			t.Fatalf("invalid UTF-8 in %q %q %q", r.Message, r.Service, r.Kind)
		}
		if len(r.TxHashes) > opts.MaxLinks || len(r.Addresses) > opts.MaxLinks {
			t.Fatalf("%d hashes, %d addresses", len(r.TxHashes), len(r.Addresses))
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("record does not encode as JSON: %v", err)
		}
		if !utf8.Valid(b) {
			t.Fatal("record JSON is not UTF-8")
		}
		if n := countAttrs(r.Attrs, 1, opts.MaxDepth); n > opts.MaxAttrs {
			t.Fatalf("%d attributes", n)
		}
	}
}

func countAttrs(v any, depth, max int) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		if depth > max+1 {
			panic("too deep")
		}
		for k, x := range v {
			if !utf8.ValidString(k) {
				panic("invalid UTF-8 key")
			}
			n += 1 + countAttrs(x, depth+1, max)
		}
	case []any:
		for _, x := range v {
			n += 1 + countAttrs(x, depth+1, max)
		}
	case string:
		if !utf8.ValidString(v) {
			panic("invalid UTF-8 value")
		}
	}
	return n
}

var fuzzOpts = Options{MaxAttrs: 32, MaxDepth: 4, MaxLinks: 4, MaxLineBytes: 4096, MaxBodyBytes: 1 << 20}

func FuzzNDJSON(f *testing.F) {
	f.Add([]byte(`{"time":"2026-02-01T10:00:00Z","level":"warn","service":"api","msg":"tx ` + ingesttest.TxA + `","a":{"b":[1,2.5,true,null]}}`))
	f.Add([]byte(`[{"ts":1767225600123,"msg":"x"},{"source":"security"}]`))
	f.Add([]byte("{\"msg\":\"caf\xe9\"}\n\n{bad\n{\"level\":60}"))
	f.Add([]byte(`{"timestamp":"1767225600.5","kind":"tx"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, w := newTestIngester(fuzzOpts)
		b := in.parseLogs(body)
		if err := in.commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		checkFuzzRecords(t, in.opts, w.Records())
	})
}

func FuzzOTLPProto(f *testing.F) {
	raw, _ := proto.Marshal(ingesttest.CollectorRequest())
	f.Add(raw)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		in, w := newTestIngester(fuzzOpts)
		req, repaired, err := decodeOTLPProto(body)
		if err != nil {
			return
		}
		b := in.otlpBatch(req, repaired)
		if err := in.commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		checkFuzzRecords(t, in.opts, w.Records())
	})
}

func FuzzOTLPJSON(f *testing.F) {
	f.Add([]byte(ingesttest.OTLPJSON))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"zz","body":{"kvlistValue":{"values":[{"key":"a","value":{"arrayValue":{"values":[{"doubleValue":"NaN"}]}}}]}}}]}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, w := newTestIngester(fuzzOpts)
		req, err := decodeOTLPJSON(body)
		if err != nil {
			return
		}
		b := in.otlpBatch(req, !utf8.Valid(body))
		if err := in.commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		checkFuzzRecords(t, in.opts, w.Records())
	})
}

func FuzzLokiProto(f *testing.F) {
	req := &push.PushRequest{Streams: []push.Stream{{Labels: `{job="x", level="warn"}`, Entries: []push.Entry{
		{Timestamp: time.Unix(1769940000, 5), Line: `{"msg":"m","from":"` + ingesttest.AddrA + `"}`, StructuredMetadata: push.LabelsAdapter{{Name: "k", Value: "v"}}},
		{Timestamp: time.Unix(0, 0), Line: "plain " + ingesttest.TxA},
	}}}}
	raw, _ := req.Marshal()
	f.Add(snappy.Encode(nil, raw))
	f.Add(snappy.Encode(nil, []byte{0x0a, 0x00}))
	f.Fuzz(func(t *testing.T, body []byte) {
		in, w := newTestIngester(fuzzOpts)
		req, err := in.decodeLokiProto(body)
		if err != nil {
			return
		}
		bld := in.newBuilder()
		b := &batch{}
		for _, s := range req.Streams {
			labels, err := parseLabels(s.Labels)
			if err != nil {
				continue
			}
			for _, e := range s.Entries {
				bld.reset()
				rec, err := bld.lokiRecord(labels, e.Timestamp, e.Line, nil)
				if err == nil {
					b.add(rec, bld.invalidUTF8)
				}
			}
		}
		if err := in.commit(t.Context(), b); err != nil {
			t.Fatal(err)
		}
		checkFuzzRecords(t, in.opts, w.Records())
	})
}

func FuzzSyslog(f *testing.F) {
	f.Add([]byte(`<165>1 2026-02-01T10:00:00.000003-07:00 host app 12 ID47 [ex@1 a="1" b="\"\]"][p@2 c="d"] msg ` + ingesttest.TxA))
	f.Add([]byte(`<34>1 - - - - - - ` + "\xef\xbb\xbfBOM \xff"))
	f.Add([]byte(`<0>1 - - - - - [x]`))
	f.Add([]byte(`<13>Feb  1 10:00:00 host tag: old`))
	f.Fuzz(func(t *testing.T, frame []byte) {
		in, _ := newTestIngester(fuzzOpts)
		bld := in.newBuilder()
		rec, err := bld.syslogRecord(frame)
		if err != nil {
			return
		}
		if rec.Source != "system" && rec.Source != "security" {
			t.Fatalf("source %q", rec.Source)
		}
		checkFuzzRecords(t, in.opts, []record.Record{rec})
	})
}

// FuzzSyslogRFC3164 writes an RFC 3164 message from fuzzed parts, as
// rsyslog and syslog-ng forward it, and checks that every part reads back;
// and that a frame refused is one that claims RFC 5424 ("<PRI>1 ").
func FuzzSyslogRFC3164(f *testing.F) {
	f.Add(uint8(38), int64(1_760_000_000), "mymachine", "su", "", "'su root' failed for lonvick")
	f.Add(uint8(13), int64(1_700_000_000), "", "myapp", "42", "no hostname")
	f.Add(uint8(191), int64(0), "h", "postfix/smtpd", "1", "")
	f.Add(uint8(0), int64(1_767_225_599), "fe80::1", "a", "", "[x] y: z")
	f.Fuzz(func(t *testing.T, pri uint8, unix int64, host, tag, pid, msg string) {
		now := time.Unix(unix%(1<<34), 0).UTC()
		wordOK := func(s string, max int, bad string) bool {
			return s != "" && len(s) <= max && !strings.ContainsAny(s, " \n\r\x00"+bad)
		}
		if pri > 191 || host != "" && !wordOK(host, 255, "[") || host != "" && strings.HasSuffix(host, ":") ||
			!wordOK(tag, maxTag, "[:") || pid != "" && !wordOK(pid, 32, "]") || strings.ContainsAny(msg, "\n\r\x00") {
			return
		}
		// The sender's clock, hours off the receiver's.
		ts := now.Add(time.Duration(int64(pri)-96) * 5 * time.Minute)
		frame := fmt.Sprintf("<%d>%s ", pri, ts.Format(time.Stamp))
		if host != "" {
			frame += host + " "
		}
		frame += tag
		if pid != "" {
			frame += "[" + pid + "]"
		}
		frame += ": " + msg
		got, err := parseSyslog([]byte(frame), now)
		want := syslogMsg{pri: int(pri), time: ts, host: host, app: tag, procid: pid, msg: msg}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("parseSyslog(%q)\n = %+v, %v\nwant %+v", frame, got, err, want)
		}
	})
}

// FuzzSyslogRefusesOnly5424 checks that every frame is read as a
// message unless it claims RFC 5424 and breaks it.
func FuzzSyslogRefusesOnly5424(f *testing.F) {
	f.Add([]byte(`<13>1 yesterday - - - - -`))
	f.Add([]byte(`<13>Feb  1 10:00:00 host tag: old`))
	f.Add([]byte("\xff<1>"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		_, err := parseSyslog(frame, testNow)
		if err == nil {
			return
		}
		if _, rest, ok := parsePRI(frame); !ok || !bytes.HasPrefix(rest, []byte("1 ")) {
			t.Fatalf("parseSyslog(%q) refused a frame that does not claim RFC 5424: %v", frame, err)
		}
	})
}

// FuzzDecodeObject holds decodeObject's fast path to encoding/json: every
// line the fast path accepts decodes to the same value, and a line
// encoding/json refuses is refused with the same error.
func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{
		`{"time":"2024-06-01T00:00:00Z","level":"info","msg":"GET /api 200","user":{"id":42},"latency_ms":17}`,
		`{"a":1,"a":{"b":[1,2.5,-0,1e5,1E-2,true,false,null,"x"]}}`,
		`{"n":01}`, `{"n":NaN}`, `{"n":-Inf}`, `{"n":1.}`, `{"n":.5}`, `{"n":-}`, `{"n":1e}`, `{"n":+1}`,
		`{"s":"é ✓"}`, `{"s":"a\"b"}`, "{\"s\":\"a\tb\"}", `{"s":"\ud800"}`, "{\"s\":\"\xff\"}",
		`{} x`, `[1]`, `null`, `{"a":tru}`, `{"a":[1,]}`, `{"a" 1}`, `{"":{"":{}}}`,
		`{"big":123456789012345678901234567890,"f":1.5e300}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, l []byte) {
		b := &builder{opts: &fuzzOpts}
		got, gotErr := b.decodeObject(l)
		want, wantErr := decodeObjectStd(l)
		if (gotErr == nil) != (wantErr == nil) || gotErr != nil && gotErr.Error() != wantErr.Error() {
			t.Fatalf("%q: error %v, encoding/json %v", l, gotErr, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, encoding/json %#v", l, got, want)
		}
	})
}

// TestDecodeObjectFastPath: an ordinary log line takes the fast path.
func TestDecodeObjectFastPath(t *testing.T) {
	l := []byte(`{"time":"2024-06-01T00:00:00Z","level":"info","msg":"tx 0xab submitted","user":{"id":42},"n":1.5}`)
	var b builder
	if !plainJSON(l) {
		t.Fatal("plainJSON refuses an ordinary line")
	}
	v, err := b.parser.ParseBytes(l)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fastValue(v).(map[string]any); !ok {
		t.Fatal("the fast path refuses an ordinary line")
	}
}

// FuzzJSONRecordFast holds jsonRecord's direct path to the path through
// a map: a line the direct path takes gives the same record or the same
// error.
func FuzzJSONRecordFast(f *testing.F) {
	for _, s := range []string{
		`{"time":"2024-06-01T00:00:00Z","level":"info","source":"app","service":"api","msg":"tx 0x` + strings.Repeat("ab", 32) + ` ok","user":{"id":42},"latency_ms":17}`,
		`{"ts":1767225600123,"time":"bad","level":"LOUD","lvl":3,"message":{"a":1},"msg":"x","levelText":"y"}`,
		`{"a":1,"a":{"b":[1,2.5,-0,1e5,1E-2,true,false,null,"x"]},"kind":"tx"}`,
		`{"service":1}`, `{"source":"chain"}`, `{"time":null}`, `{"level":null,"msg":null,"n":null}`,
		`{"big":123456789012345678901234567890,"f":1.5e400,"g":-1e-400}`,
		`{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`, `{"a":[[[[[[1]]]]]]}`, `{"a":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33]}`,
		`{"a":{"x":1,"x":2}}`, `{"s":"é ✓ İ"}`, `{"":{"":{}}}`, `{"time":"2300-01-01T00:00:00Z"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, l []byte) {
		opts := fuzzOpts.withDefaults()
		opts.Now = func() time.Time { return time.Unix(1767225600, 0) }
		fast, slow := &builder{opts: &opts}, &builder{opts: &opts}
		if !plainJSON(l) {
			return
		}
		v, err := fast.parser.ParseBytes(l)
		if err != nil || v.Type() != fastjson.TypeObject {
			return
		}
		got, gotErr, ok := fast.jsonRecordFast(v)
		if !ok {
			return
		}
		want, wantErr := slow.jsonRecordMap(l)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("%s: error %v, through a map %v", l, gotErr, wantErr)
		}
		if gotErr != nil {
			// Which of two attribute limits trips first follows map
			// order on the path through a map.
			limit := func(e error) bool {
				return errors.Is(e, errTooDeep) || strings.HasPrefix(e.Error(), "over ")
			}
			if gotErr.Error() != wantErr.Error() && !(limit(gotErr) && limit(wantErr)) {
				t.Fatalf("%s: error %v, through a map %v", l, gotErr, wantErr)
			}
			return
		}
		if !reflect.DeepEqual(got, want) || fast.invalidUTF8 != slow.invalidUTF8 {
			t.Fatalf("%s:\n got %#v\nwant %#v", l, got, want)
		}
	})
}
