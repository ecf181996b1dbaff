package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

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
	in, w := newTestIngester(logingest.Options{})
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 123, time.UTC)
	req := &push.PushRequest{Streams: []push.Stream{
		{Labels: `{job="varlogs", service_name="api", level="warn", filename="/var/log/api.log"}`, Entries: []push.Entry{
			{Timestamp: t0, Line: "slow RPC for " + ingesttest.TxA},
			{Timestamp: t0.Add(time.Second), Line: `{"level":"error","msg":"relay failed","attempt":3,"from":"` + ingesttest.AddrA + `"}`,
				StructuredMetadata: push.LabelsAdapter{{Name: "trace_id", Value: "abc"}}},
		}},
		{Labels: `{app="auth", source="security"}`, Entries: []push.Entry{{Timestamp: t0, Line: "failed login for \"bob\""}}},
	}}
	code, out := post(t, door(t, in, "/loki/api/v1/push"), "application/x-protobuf", promtailPush(t, req))
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
	checkRecords(t, w.Records(), []record.Record{
		{Time: t0, Source: "app", Kind: "log", Level: "warn", Service: "api", Message: "slow RPC for " + ingesttest.TxA, Attrs: labels,
			TxHashes: []common.Hash{common.HexToHash(ingesttest.TxA)}},
		{Time: t0.Add(time.Second), Source: "app", Kind: "log", Level: "error", Service: "api", Message: "relay failed",
			Attrs: with(labels, "trace_id", "abc", "attempt", int64(3), "from", ingesttest.AddrA), Addresses: []common.Address{common.HexToAddress(ingesttest.AddrA)}},
		{Time: t0, Source: "security", Kind: "log", Level: "info", Service: "auth", Message: `failed login for "bob"`,
			Attrs: map[string]any{"app": "auth", "source": "security"}},
	})
}

func TestServeLokiJSON(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	body := `{"streams":[{"stream":{"service":"web","detected_level":"ERROR"},"values":[
		["1769940000000000000","wallet rejected"],
		["1769940000000000001","with metadata",{"user":"u1"}],
		["soon","bad time"],
		[1,2]
	]},{"labels":"{job=\"old\"}","entries":[{"ts":"2026-02-01T10:00:00Z","line":"old format"}]}]}`
	code, out := post(t, door(t, in, "/loki/api/v1/push"), "application/json", []byte(body))
	a := decodeAnswer(t, out)
	if code != 400 || a.Data == nil || a.Data.Accepted != 3 || a.Data.RejectedCount != 2 ||
		a.Data.Rejected[0].Line != 3 || a.Data.Rejected[1].Line != 4 {
		t.Fatalf("got %d %s", code, out)
	}
	t0 := time.Unix(0, 1769940000000000000).UTC()
	checkRecords(t, w.Records(), []record.Record{
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
			in, w := newTestIngester(logingest.Options{MaxBodyBytes: 1024})
			code, out := post(t, door(t, in, "/loki/api/v1/push"), tt.ct, tt.body)
			if a := decodeAnswer(t, out); code != tt.code || a.ErrorKind != tt.kind {
				t.Fatalf("got %d %s, want %d %s", code, out, tt.code, tt.kind)
			}
			if len(w.Records()) != 0 {
				t.Fatal("stored records from a bad request")
			}
		})
	}
}
