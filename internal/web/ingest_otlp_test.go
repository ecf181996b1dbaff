package web

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/blocktorch/blocktorch/internal/record"
)

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
	in, w := newTestIngester(logingest.Options{})
	raw, err := proto.Marshal(ingesttest.CollectorRequest())
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	code, out := post(t, door(t, in, "/v1/logs"), "application/x-protobuf", gz.Bytes(), "Content-Encoding", "gzip")
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
	checkRecords(t, w.Records(), ingesttest.WantCollectorRecords())
}

func TestServeOTLPJSON(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	code, out := post(t, door(t, in, "/v1/logs"), "application/json", []byte(ingesttest.OTLPJSON))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, out)
	}
	var resp collogspb.ExportLogsServiceResponse
	if err := protojson.Unmarshal(out, &resp); err != nil || resp.PartialSuccess != nil {
		t.Fatalf("answer %s: %v", out, err)
	}
	checkRecords(t, w.Records(), ingesttest.WantCollectorRecords())
}

func TestServeOTLPPartialSuccess(t *testing.T) {
	in, w := newTestIngester(logingest.Options{MaxAttrs: 8})
	req := ingesttest.CollectorRequest()
	lrs := req.ResourceLogs[0].ScopeLogs[0].LogRecords
	// The second record has too many attributes, and a fourth claims to be a chain record.
	lrs = append(lrs, &logspb.LogRecord{Attributes: []*commonpb.KeyValue{ingesttest.StrAttr("blocktorch.kind", "tx")}})
	req.ResourceLogs[0].ScopeLogs[0].LogRecords = lrs
	raw, _ := proto.Marshal(req)
	code, out := post(t, door(t, in, "/v1/logs"), "application/x-protobuf", raw)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	ps := resp.GetPartialSuccess()
	if ps.GetRejectedLogRecords() != 2 || !strings.Contains(ps.GetErrorMessage(), "log record 2: over 8 attributes") ||
		!strings.Contains(ps.GetErrorMessage(), `log record 4: kind "tx" is reserved`) {
		t.Fatalf("partial_success %v", ps)
	}
	if n := len(w.Records()); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
}

func TestServeOTLPInvalidUTF8(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	req := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{
		{Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "cafQ"}}, Attributes: []*commonpb.KeyValue{ingesttest.StrAttr("kQ", "vQ")}},
		{Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "fine"}}},
	}}}}}}
	raw, _ := proto.Marshal(req)
	raw = bytes.ReplaceAll(raw, []byte("Q"), []byte{0xe9})
	if proto.Unmarshal(raw, &collogspb.ExportLogsServiceRequest{}) == nil {
		t.Fatal("the protobuf runtime accepted invalid UTF-8; the test no longer tests the repair")
	}
	code, out := post(t, door(t, in, "/v1/logs"), "application/x-protobuf", raw)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	if ps := resp.GetPartialSuccess(); ps.GetRejectedLogRecords() != 0 || !strings.Contains(ps.GetErrorMessage(), "invalid UTF-8 replaced with U+FFFD in 1 records") {
		t.Fatalf("partial_success %v, want a warning", ps)
	}
	recs := w.Records()
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
			in, w := newTestIngester(logingest.Options{MaxBodyBytes: 1024})
			code, out := post(t, door(t, in, "/v1/logs"), tt.ct, tt.body, tt.hdr...)
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
			if len(w.Records()) != 0 {
				t.Fatal("stored records from a bad request")
			}
		})
	}
}
