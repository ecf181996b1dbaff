package logingest

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"

	"github.com/blocktorch/blocktorch/internal/record"
)

// promtailPush is a push as Promtail sends it: a PushRequest protobuf,
// snappy block-compressed, labels in Prometheus text form.
func promtailPush(t *testing.T, req *push.PushRequest) []byte {
	t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, raw)
}

func TestServeLokiProtobuf(t *testing.T) {
	in, w := newTestIngester(Options{})
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 123, time.UTC)
	req := &push.PushRequest{Streams: []push.Stream{
		{Labels: `{job="varlogs", service_name="api", level="warn", filename="/var/log/api.log"}`, Entries: []push.Entry{
			{Timestamp: t0, Line: "slow RPC for " + txA},
			{Timestamp: t0.Add(time.Second), Line: `{"level":"error","msg":"relay failed","attempt":3,"from":"` + addrA + `"}`,
				StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "abc"}}},
		}},
		{Labels: `{app="auth", source="security"}`, Entries: []push.Entry{{Timestamp: t0, Line: "failed login for \"bob\""}}},
	}}
	code, out := post(t, in.ServeLoki, "application/x-protobuf", promtailPush(t, req))
	if code != http.StatusNoContent {
		t.Fatalf("status %d: %s", code, out)
	}
	labels := map[string]any{"job": "varlogs", "service_name": "api", "level": "warn", "filename": "/var/log/api.log"}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	checkRecords(t, w.records(), []record.Record{
		{Time: t0, Source: "app", Kind: "log", Level: "warn", Service: "api", Message: "slow RPC for " + txA, Attrs: labels,
			TxHashes: []common.Hash{common.HexToHash(txA)}},
		{Time: t0.Add(time.Second), Source: "app", Kind: "log", Level: "error", Service: "api", Message: "relay failed",
			Attrs: with(labels, "trace_id", "abc", "attempt", int64(3), "from", addrA), Addresses: []common.Address{common.HexToAddress(addrA)}},
		{Time: t0, Source: "security", Kind: "log", Level: "info", Service: "auth", Message: `failed login for "bob"`,
			Attrs: map[string]any{"app": "auth", "source": "security"}},
	})
}

func TestServeLokiJSON(t *testing.T) {
	in, w := newTestIngester(Options{})
	body := `{"streams":[{"stream":{"service":"web","detected_level":"ERROR"},"values":[
		["1769940000000000000","wallet rejected"],
		["1769940000000000001","with metadata",{"user":"u1"}],
		["soon","bad time"],
		[1,2]
	]},{"labels":"{job=\"old\"}","entries":[{"ts":"2026-02-01T10:00:00Z","line":"old format"}]}]}`
	code, out := post(t, in.ServeLoki, "application/json", []byte(body))
	a := decodeAnswer(t, out)
	if code != 400 || a.Data == nil || a.Data.Accepted != 3 || a.Data.RejectedCount != 2 ||
		a.Data.Rejected[0].Line != 3 || a.Data.Rejected[1].Line != 4 {
		t.Fatalf("got %d %s", code, out)
	}
	t0 := time.Unix(0, 1769940000000000000).UTC()
	checkRecords(t, w.records(), []record.Record{
		{Time: t0, Source: "app", Kind: "log", Level: "error", Service: "web", Message: "wallet rejected", Attrs: map[string]any{"service": "web", "detected_level": "ERROR"}},
		{Time: t0.Add(1), Source: "app", Kind: "log", Level: "error", Service: "web", Message: "with metadata", Attrs: map[string]any{"service": "web", "detected_level": "ERROR", "user": "u1"}},
		{Time: time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC), Source: "app", Kind: "log", Level: "info", Service: "old", Message: "old format", Attrs: map[string]any{"job": "old"}},
	})
}

func TestServeLokiBadInput(t *testing.T) {
	big := snappy.Encode(nil, make([]byte, 4096))
	tests := []struct {
		name string
		ct   string
		body []byte
		code int
		kind string
	}{
		{"not snappy", "application/x-protobuf", []byte("plain protobuf?"), 400, "bad_request"},
		{"snappy, not protobuf", "application/x-protobuf", snappy.Encode(nil, []byte{0xff, 0xff, 0xff, 0xff}), 400, "bad_request"},
		{"decompresses too large", "application/x-protobuf", big, 413, "too_large"},
		{"not JSON", "application/json", []byte(`{"streams":[`), 400, "bad_request"},
		{"bad labels", "application/x-protobuf", promtailPush(t, &push.PushRequest{Streams: []push.Stream{{Labels: `{job=unquoted}`, Entries: []push.Entry{{Timestamp: time.Unix(1, 0), Line: "x"}}}}}), 400, "bad_request"},
		{"wrong type", "text/plain", []byte("x"), 415, "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, w := newTestIngester(Options{MaxBodyBytes: 1024})
			code, out := post(t, in.ServeLoki, tt.ct, tt.body)
			if a := decodeAnswer(t, out); code != tt.code || a.ErrorKind != tt.kind {
				t.Fatalf("got %d %s, want %d %s", code, out, tt.code, tt.kind)
			}
			if len(w.records()) != 0 {
				t.Fatal("stored records from a bad request")
			}
		})
	}
}

func TestParseLabels(t *testing.T) {
	tests := []struct {
		in   string
		want [][2]string
		err  string
	}{
		{`{}`, nil, ""},
		{`{a="1"}`, [][2]string{{"a", "1"}}, ""},
		{` { job="x" , msg="say \"hi\"\n", _b2 = "" } `, [][2]string{{"job", "x"}, {"msg", "say \"hi\"\n"}, {"_b2", ""}}, ""},
		{`{a="1",}`, [][2]string{{"a", "1"}}, ""},
		{`a="1"`, nil, "not {name"},
		{`{a=1}`, nil, "not a quoted string"},
		{`{a='1'}`, nil, "not a quoted string"},
		{`{1a="x"}`, nil, "not valid"},
		{`{a="1" b="2"}`, nil, "want ,"},
		{`{a}`, nil, "without =value"},
		{`{a="\q"}`, nil, "not a quoted string"},
	}
	for _, tt := range tests {
		got, err := parseLabels(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseLabels(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseLabels(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
