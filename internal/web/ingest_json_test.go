package web

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
)

func TestServeLogsRecords(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	body := strings.Join([]string{
		`{"time":"2026-02-01T10:00:00.5Z","level":"WARNING","service":"api","msg":"slow tx ` + ingesttest.TxA + `","latencyMs":830,"user":{"id":42,"wallet":"` + ingesttest.AddrA + `"}}`,
		``,
		`{"ts":1767225600123,"severity":"err","source":"security","kind":"login","message":"failed login","ip":"203.0.113.7","ok":false,"ratio":0.25,"gone":null}`,
		`{"timestamp":1767225600,"message":"seconds"}`,
		`{"timestamp":"1767225600000000000","message":"nanoseconds in a string","level":50}`,
		`{"@timestamp":1767225600.25,"message":{"structured":true}}`,
		`{"message":"no time, no level","tags":["a","b"]}`,
	}, "\n")
	code, out := post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", []byte(body))
	a := decodeAnswer(t, out)
	if code != http.StatusOK || a.Status != "success" || a.Data.Accepted != 6 || a.Data.RejectedCount != 0 {
		t.Fatalf("got %d %s", code, out)
	}
	want := []record.Record{
		{Time: time.Date(2026, 2, 1, 10, 0, 0, 5e8, time.UTC), Source: "app", Kind: "log", Level: "warn", Service: "api",
			Message:  "slow tx " + ingesttest.TxA,
			Attrs:    map[string]any{"latencyMs": int64(830), "user": map[string]any{"id": int64(42), "wallet": ingesttest.AddrA}},
			TxHashes: []common.Hash{common.HexToHash(ingesttest.TxA)}, Addresses: []common.Address{common.HexToAddress(ingesttest.AddrA)}},
		{Time: time.UnixMilli(1767225600123).UTC(), Source: "security", Kind: "login", Level: "error", Message: "failed login",
			Attrs: map[string]any{"ip": "203.0.113.7", "ok": false, "ratio": 0.25}},
		{Time: time.Unix(1767225600, 0).UTC(), Source: "app", Kind: "log", Level: "info", Message: "seconds"},
		{Time: time.Unix(1767225600, 0).UTC(), Source: "app", Kind: "log", Level: "error", Message: "nanoseconds in a string"},
		{Time: time.Unix(1767225600, 25e7).UTC(), Source: "app", Kind: "log", Level: "info", Message: `{"structured":true}`},
		{Time: ingesttest.Now, Source: "app", Kind: "log", Level: "info", Message: "no time, no level", Attrs: map[string]any{"tags": []any{"a", "b"}}},
	}
	got := w.Records()
	if len(got) != len(want) {
		t.Fatalf("stored %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %s\nwant %s", i, mustJSON(t, got[i]), mustJSON(t, want[i]))
		}
	}
}

func TestServeLogsArrayAndObject(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	code, out := post(t, door(t, in, "/api/v1/logs"), "application/json", []byte(`[{"msg":"one"}, 5, {"msg":"three","source":"chain"}, {"msg":"four"}]`))
	a := decodeAnswer(t, out)
	if code != 200 || a.Data.Accepted != 2 || a.Data.RejectedCount != 2 ||
		a.Data.Rejected[0].Line != 2 || a.Data.Rejected[1].Line != 3 || !strings.Contains(a.Data.Rejected[1].Error, "source") {
		t.Fatalf("got %d %s", code, out)
	}
	code, out = post(t, door(t, in, "/api/v1/logs"), "application/json", []byte("{\n  \"msg\": \"pretty\",\n  \"level\": \"debug\"\n}\n"))
	if code != 200 || decodeAnswer(t, out).Data.Accepted != 1 {
		t.Fatalf("pretty object: %d %s", code, out)
	}
	if recs := w.Records(); len(recs) != 3 || recs[2].Message != "pretty" || recs[2].Level != "debug" {
		t.Fatalf("records %s", mustJSON(t, recs))
	}
}

func TestServeLogsBadInput(t *testing.T) {
	small := logingest.Options{MaxBodyBytes: 4096, MaxLineBytes: 200, MaxAttrs: 5, MaxDepth: 3}
	deep := strings.Repeat(`{"a":`, 5) + "1" + strings.Repeat("}", 5)
	tests := []struct {
		name     string
		ct       string
		body     string
		hdr      []string
		code     int
		kind     string
		accepted int
		rejected []logingest.Rejection
		utf8     int
	}{
		{name: "body too large", ct: "application/x-ndjson", body: strings.Repeat(`{"msg":"x"}`+"\n", 500), code: 413, kind: "too_large"},
		{name: "wrong content type", ct: "application/x-protobuf", body: `{"msg":"x"}`, code: 415, kind: "unsupported_media_type"},
		{name: "form", ct: "multipart/form-data; boundary=x", body: `{"msg":"x"}`, code: 415, kind: "unsupported_media_type"},
		{name: "unknown encoding", ct: "application/json", hdr: []string{"Content-Encoding", "br"}, body: `{"msg":"x"}`, code: 415, kind: "unsupported_media_type"},
		{name: "all malformed", ct: "application/x-ndjson", body: "{\"msg\":\n[1,2]\n", code: 400, kind: "bad_request",
			rejected: []logingest.Rejection{{Line: 1, Error: "not a JSON object: unexpected EOF"}, {Line: 2, Error: "not a JSON object: json: cannot unmarshal array into Go value of type map[string]interface {}"}}},
		{name: "partial", ct: "text/plain", body: "{\"msg\":\"good\"}\n{bad\n" + `{"msg":"` + strings.Repeat("y", 300) + `"}` + "\n" + `{"msg":"good too"}`, code: 200, accepted: 2,
			rejected: []logingest.Rejection{{Line: 2, Error: "not a JSON object: invalid character 'b' looking for beginning of object key string"}, {Line: 3, Error: "line of 310 bytes is over the limit of 200"}}},
		{name: "attributes", ct: "application/x-ndjson", body: `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}` + "\n" + `{"a":[1,2,3,4,5,6]}` + "\n" + `{"a":1,"b":2,"c":3,"d":4,"e":5}`, code: 200, accepted: 1,
			rejected: []logingest.Rejection{{Line: 1, Error: "over 5 attributes (counting nested keys and array elements)"}, {Line: 2, Error: "over 5 attributes (counting nested keys and array elements)"}}},
		{name: "depth", ct: "application/x-ndjson", body: deep + "\n" + `{"a":{"b":{"c":1}}}`, code: 200, accepted: 1,
			rejected: []logingest.Rejection{{Line: 1, Error: "attributes nested too deep (over 3 levels)"}}},
		{name: "bad fields", ct: "application/x-ndjson", body: `{"time":"yesterday"}` + "\n" + `{"service":7}` + "\n" + `{"kind":"tx"}` + "\n" + `{"msg":"ok"} {"msg":"two"}` + "\n" + "null" + "\n" + `{"time":"2300-01-01T00:00:00Z"}`, code: 400, kind: "bad_request",
			rejected: []logingest.Rejection{{Line: 1, Error: `time: "yesterday" is neither RFC 3339 nor a unix time`}, {Line: 2, Error: "service must be a string"}, {Line: 3, Error: `kind "tx" is reserved for chain records`},
				{Line: 4, Error: "not a JSON object: data after the object"}, {Line: 5, Error: "not a JSON object: null"}, {Line: 6, Error: "time 2300-01-01T00:00:00Z is outside 1970-2199"}}},
		{name: "invalid UTF-8 replaced", ct: "application/x-ndjson", body: "{\"msg\":\"caf\xe9\"}\n{\"msg\":\"fine\"}", code: 200, accepted: 2, utf8: 1},
		{name: "unknown level kept", ct: "application/x-ndjson", body: `{"level":"loud"}`, code: 200, accepted: 1},
		{name: "empty", ct: "application/x-ndjson", body: "\n\n", code: 400, kind: "bad_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, w := newTestIngester(small)
			code, out := post(t, door(t, in, "/api/v1/logs"), tt.ct, []byte(tt.body), tt.hdr...)
			a := decodeAnswer(t, out)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, out)
			}
			if tt.kind != "" && (a.Status != "error" || a.ErrorKind != tt.kind || a.Error == "") {
				t.Fatalf("answer %s, want errorKind %s", out, tt.kind)
			}
			if tt.rejected != nil || tt.accepted > 0 {
				if a.Data == nil {
					t.Fatalf("answer without a result: %s", out)
				}
				if a.Data.Accepted != tt.accepted || !reflect.DeepEqual(a.Data.Rejected, tt.rejected) && len(tt.rejected) > 0 || a.Data.RejectedCount != len(tt.rejected) {
					t.Fatalf("result %s\nwant accepted %d, rejected %v", mustJSON(t, a.Data), tt.accepted, tt.rejected)
				}
				if a.Data.InvalidUTF8 != tt.utf8 {
					t.Errorf("invalidUTF8 %d, want %d", a.Data.InvalidUTF8, tt.utf8)
				}
			}
			if got := len(w.Records()); got != tt.accepted {
				t.Errorf("stored %d records, want %d", got, tt.accepted)
			}
			if tt.utf8 > 0 && w.Records()[0].Message != "caf\uFFFD" {
				t.Errorf("message %q, want the bad byte replaced", w.Records()[0].Message)
			}
			if tt.name == "unknown level kept" && w.Records()[0].Attrs["levelText"] != "loud" {
				t.Errorf("attrs %v, want levelText", w.Records()[0].Attrs)
			}
		})
	}
}

func TestServeLogsGzip(t *testing.T) {
	in, w := newTestIngester(logingest.Options{MaxBodyBytes: 1 << 20})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"msg":"zipped"}`))
	zw.Close()
	code, out := post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", buf.Bytes(), "Content-Encoding", "gzip")
	if code != 200 || len(w.Records()) != 1 {
		t.Fatalf("gzip: %d %s", code, out)
	}
	// A small bomb: 2 MiB of zeros compress to a few KiB.
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	zw.Write(make([]byte, 2<<20))
	zw.Close()
	code, out = post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", buf.Bytes(), "Content-Encoding", "gzip")
	if code != 413 || decodeAnswer(t, out).ErrorKind != "too_large" {
		t.Fatalf("bomb: %d %s", code, out)
	}
	code, _ = post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", []byte("not gzip"), "Content-Encoding", "gzip")
	if code != 400 {
		t.Fatalf("bad gzip: %d", code)
	}
}

func TestServeLogsStoreFailure(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	w.Fail = errors.New("disk full")
	code, out := post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", []byte(`{"msg":"a"}`+"\n"+`{"msg":"b"}`))
	a := decodeAnswer(t, out)
	if code != 503 || a.ErrorKind != "unavailable" || strings.Contains(a.Error, "disk full") {
		t.Fatalf("got %d %s", code, out)
	}
	if s := in.Stats(); s.Accepted != 0 || s.WriteFailures != 1 {
		t.Errorf("stats %+v: nothing may be counted as accepted", s)
	}
	w.Fail = nil
	post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", []byte(`{"msg":"a"}`+"\n"+`{"msg":"b"}`+"\n"+`x`))
	if s := in.Stats(); s.Accepted != 2 || s.Rejected != 1 {
		t.Errorf("stats %+v, want 2 accepted, 1 rejected", s)
	}
}

func TestServeLogsKeyAndCORS(t *testing.T) {
	in, w := newTestIngester(logingest.Options{IngestKeys: []string{"pk_one", "pk_two"}, AllowOrigins: []string{"https://dapp.example"}})
	do := func(method string, hdr map[string]string, url string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, url, strings.NewReader(`{"msg":"hi"}`))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rw := httptest.NewRecorder()
		door(t, in, "/api/v1/logs")(rw, req)
		return rw
	}
	rw := do("OPTIONS", map[string]string{"Origin": "https://dapp.example", "Access-Control-Request-Method": "POST"}, "/api/v1/logs")
	if rw.Code != 204 || rw.Header().Get("Access-Control-Allow-Origin") != "https://dapp.example" ||
		!strings.Contains(rw.Header().Get("Access-Control-Allow-Headers"), "X-Blocktorch-Key") {
		t.Fatalf("preflight: %d %v", rw.Code, rw.Header())
	}
	rw = do("OPTIONS", map[string]string{"Origin": "https://evil.example"}, "/api/v1/logs")
	if rw.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin allowed: %v", rw.Header())
	}
	if rw = do("POST", nil, "/api/v1/logs"); rw.Code != 401 || decodeAnswer(t, rw.Body.Bytes()).ErrorKind != "unauthorized" {
		t.Fatalf("no key: %d %s", rw.Code, rw.Body)
	}
	if rw = do("POST", map[string]string{"X-Blocktorch-Key": "pk_three"}, "/api/v1/logs"); rw.Code != 401 {
		t.Fatalf("wrong key: %d", rw.Code)
	}
	if rw = do("POST", map[string]string{"X-Blocktorch-Key": "pk_two", "Origin": "https://dapp.example"}, "/api/v1/logs"); rw.Code != 200 ||
		rw.Header().Get("Access-Control-Allow-Origin") != "https://dapp.example" {
		t.Fatalf("right key: %d %v", rw.Code, rw.Header())
	}
	if rw = do("POST", nil, "/api/v1/logs?key=pk_one"); rw.Code != 200 {
		t.Fatalf("key in the query (sendBeacon): %d", rw.Code)
	}
	if rw = do("GET", nil, "/api/v1/logs"); rw.Code != 405 {
		t.Fatalf("GET: %d", rw.Code)
	}
	if n := len(w.Records()); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
}
