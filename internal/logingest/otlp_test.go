package logingest

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/blocktorch/blocktorch/internal/record"
)

func strAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func intAttr(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

var (
	traceID = []byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	spanID  = []byte{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
)

// collectorRequest is an export as the OpenTelemetry Collector's otlphttp
// exporter sends it: resource with service.name, a scope, records with
// times, severities, bodies, attributes and trace context.
func collectorRequest() *collogspb.ExportLogsServiceRequest {
	t0 := uint64(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{strAttr("service.name", "relayer"), strAttr("host.name", "relayer-1")}},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope: &commonpb.InstrumentationScope{Name: "github.com/acme/relayer", Version: "1.2.0"},
			LogRecords: []*logspb.LogRecord{
				{
					TimeUnixNano: t0, ObservedTimeUnixNano: t0 + 1000,
					SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, SeverityText: "ERROR",
					Body:       &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "relay failed for " + txA}},
					Attributes: []*commonpb.KeyValue{strAttr("rpc.method", "eth_sendRawTransaction"), intAttr("attempt", 3)},
					TraceId:    traceID, SpanId: spanID, EventName: "relay.failed",
				},
				{
					ObservedTimeUnixNano: t0 + 5,
					SeverityText:         "Warning",
					Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
						strAttr("event", "nonce gap"), {Key: "sender", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: common.HexToAddress(addrA).Bytes()}}},
					}}}},
					Attributes: []*commonpb.KeyValue{strAttr("blocktorch.source", "security"), {Key: "ratio", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.5}}},
						{Key: "ok", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
						{Key: "tags", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{
							{Value: &commonpb.AnyValue_StringValue{StringValue: "a"}}, {Value: &commonpb.AnyValue_IntValue{IntValue: 2}}}}}}}},
				},
				{SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO2},
			},
		}},
	}}}
}

func wantCollectorRecords() []record.Record {
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	return []record.Record{
		{Time: t0, Source: "app", Kind: "log", Level: "error", Service: "relayer", Message: "relay failed for " + txA,
			Attrs: map[string]any{"host.name": "relayer-1", "rpc.method": "eth_sendRawTransaction", "attempt": int64(3),
				"otel.scope.name": "github.com/acme/relayer", "trace_id": hex.EncodeToString(traceID), "span_id": hex.EncodeToString(spanID), "event.name": "relay.failed"},
			TxHashes: []common.Hash{common.HexToHash(txA)}},
		{Time: t0.Add(5), Source: "security", Kind: "log", Level: "warn", Service: "relayer",
			Message: `{"event":"nonce gap","sender":"` + strings.ToLower(addrA) + `"}`,
			Attrs: map[string]any{"host.name": "relayer-1", "ratio": 0.5, "ok": true, "tags": []any{"a", int64(2)}, "otel.scope.name": "github.com/acme/relayer",
				"body": map[string]any{"event": "nonce gap", "sender": strings.ToLower(addrA)}},
			Addresses: []common.Address{common.HexToAddress(addrA)}},
		{Time: testNow, Source: "app", Kind: "log", Level: "info", Service: "relayer",
			Attrs: map[string]any{"host.name": "relayer-1", "otel.scope.name": "github.com/acme/relayer"}},
	}
}

func checkRecords(t *testing.T, got, want []record.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("stored %d records, want %d:\n%s", len(got), len(want), mustJSON(t, got))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("record %d:\n got %s\nwant %s", i, mustJSON(t, got[i]), mustJSON(t, want[i]))
		}
	}
}

func TestServeOTLPProtobuf(t *testing.T) {
	in, w := newTestIngester(Options{})
	raw, err := proto.Marshal(collectorRequest())
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	code, out := post(t, in.ServeOTLP, "application/x-protobuf", gz.Bytes(), "Content-Encoding", "gzip")
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not an ExportLogsServiceResponse: %v", err)
	}
	if resp.PartialSuccess != nil {
		t.Errorf("partial_success %v, want it unset when everything was accepted", resp.PartialSuccess)
	}
	checkRecords(t, w.records(), wantCollectorRecords())
}

// otlpJSON is an OTLP/JSON export in the shape of the specification's
// example: hex trace ids, int64 as strings, enums as numbers.
const otlpJSON = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"relayer"}},{"key":"host.name","value":{"stringValue":"relayer-1"}}]},
"scopeLogs":[{"scope":{"name":"github.com/acme/relayer","version":"1.2.0"},"logRecords":[
{"timeUnixNano":"1769940000000000000","observedTimeUnixNano":"1769940000000001000","severityNumber":17,"severityText":"ERROR",
 "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"relay.failed",
 "body":{"stringValue":"relay failed for ` + txA + `"},
 "attributes":[{"key":"rpc.method","value":{"stringValue":"eth_sendRawTransaction"}},{"key":"attempt","value":{"intValue":"3"}}]},
{"observed_time_unix_nano":"1769940000000000005","severity_text":"Warning",
 "body":{"kvlistValue":{"values":[{"key":"event","value":{"stringValue":"nonce gap"}},{"key":"sender","value":{"bytesValue":"AAAAACGatUA1bLuDnL4FMD13Bfo="}}]}},
 "attributes":[{"key":"blocktorch.source","value":{"stringValue":"security"}},{"key":"ratio","value":{"doubleValue":0.5}},{"key":"ok","value":{"boolValue":true}},
  {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":2}]}}}],"unknownField":1},
{"severityNumber":"SEVERITY_NUMBER_INFO2"}]}]}]}`

func TestServeOTLPJSON(t *testing.T) {
	in, w := newTestIngester(Options{})
	code, out := post(t, in.ServeOTLP, "application/json", []byte(otlpJSON))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp collogspb.ExportLogsServiceResponse
	if err := protojson.Unmarshal(out, &resp); err != nil || resp.PartialSuccess != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	checkRecords(t, w.records(), wantCollectorRecords())
}

func TestServeOTLPPartialSuccess(t *testing.T) {
	in, w := newTestIngester(Options{MaxAttrs: 8})
	req := collectorRequest()
	lrs := req.ResourceLogs[0].ScopeLogs[0].LogRecords
	// The second record has too many attributes, and a fourth claims to be a chain record.
	lrs = append(lrs, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{strAttr("blocktorch.kind", "tx")}})
	req.ResourceLogs[0].ScopeLogs[0].LogRecords = lrs
	raw, _ := proto.Marshal(req)
	code, out := post(t, in.ServeOTLP, "application/x-protobuf", raw)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	ps := resp.GetPartialSuccess()
	if ps.GetRejectedLogRecords() != 2 || !strings.Contains(ps.GetErrorMessage(), "log record 2: over 8 attributes") ||
		!strings.Contains(ps.GetErrorMessage(), `log record 4: kind "tx" is reserved`) {
		t.Fatalf("partial_success %v", ps)
	}
	if n := len(w.records()); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
}

func TestServeOTLPInvalidUTF8(t *testing.T) {
	in, w := newTestIngester(Options{})
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{
		{Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "cafQ"}}, Attributes: []*commonpb.KeyValue{strAttr("kQ", "vQ")}},
		{Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "fine"}}},
	}}}}}}
	raw, _ := proto.Marshal(req)
	raw = bytes.ReplaceAll(raw, []byte("Q"), []byte{0xe9})
	if proto.Unmarshal(raw, &collogspb.ExportLogsServiceRequest{}) == nil {
		t.Fatal("the protobuf runtime accepted invalid UTF-8; the test no longer tests the repair")
	}
	code, out := post(t, in.ServeOTLP, "application/x-protobuf", raw)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 0 || !strings.Contains(ps.GetErrorMessage(), "invalid UTF-8 replaced with U+FFFD in 1 records") {
		t.Fatalf("partial_success %v, want a warning", ps)
	}
	recs := w.records()
	if len(recs) != 2 || recs[0].Message != "caf\uFFFD" || recs[0].Attrs["k\uFFFD"] != "v\uFFFD" {
		t.Fatalf("records %s", mustJSON(t, recs))
	}
}

func TestServeOTLPBadInput(t *testing.T) {
	tests := []struct {
		name string
		ct   string
		body []byte
		hdr  []string
		code int
	}{
		{"not protobuf", "application/x-protobuf", []byte{0xff, 0xff, 0xff}, nil, 400},
		{"not JSON", "application/json", []byte(`{"resourceLogs":`), nil, 400},
		{"wrong JSON shape", "application/json", []byte(`{"resourceLogs":{"a":1}}`), nil, 400},
		{"wrong type", "text/plain", []byte(`x`), nil, 415},
		{"too large", "application/x-protobuf", make([]byte, 2048), nil, 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, w := newTestIngester(Options{MaxBodyBytes: 1024})
			code, out := post(t, in.ServeOTLP, tt.ct, tt.body, tt.hdr...)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, out)
			}
			switch tt.ct {
			case "application/x-protobuf":
				var st rpcstatus.Status
				if err := proto.Unmarshal(out, &st); err != nil || st.Message == "" {
					t.Fatalf("answer is not a google.rpc.Status: %v %q", err, out)
				}
			default:
				if a := decodeAnswer(t, out); a.Status != "error" || a.Error == "" {
					t.Fatalf("answer %s", out)
				}
			}
			if len(w.records()) != 0 {
				t.Fatal("stored records from a bad request")
			}
		})
	}
}
