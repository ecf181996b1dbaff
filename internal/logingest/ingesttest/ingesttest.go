// Package ingesttest holds what the tests of log ingest share across
// packages: a record writer that keeps what it is given, and exports as
// real shippers send them (the OpenTelemetry Collector's OTLP, its JSON
// form).
package ingesttest

import (
	"context"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"

	"github.com/blocktorch/blocktorch/internal/record"
)

// Now is the time the tests' ingesters stamp records that carry none.
var Now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// A transaction hash and an address the fixtures mention.
const (
	TxA   = "0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060"
	AddrA = "0x00000000219ab540356cBB839Cbe05303d7705Fa"
)

// MemWriter is a store.RecordWriter that keeps what it is given, or
// refuses everything while Fail is set. Safe for concurrent use, except
// setting Fail.
type MemWriter struct {
	Fail error

	mu    sync.Mutex
	recs  []record.Record
	calls int
}

// AppendRecords keeps recs, or returns Fail.
func (m *MemWriter) AppendRecords(_ context.Context, recs []record.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls++
	if m.Fail != nil {
		return m.Fail
	}
	m.recs = append(m.recs, recs...)
	return nil
}

// Records returns a copy of what was kept.
func (m *MemWriter) Records() []record.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]record.Record(nil), m.recs...)
}

// Calls counts the AppendRecords calls, refused ones included.
func (m *MemWriter) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// StrAttr is a string attribute.
func StrAttr(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// IntAttr is an integer attribute.
func IntAttr(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

// TraceID and SpanID are the trace context of CollectorRequest's first
// record.
var (
	TraceID = []byte{0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6, 0x0c}
	SpanID  = []byte{0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74}
)

// CollectorRequest is an export as the OpenTelemetry Collector's otlphttp
// exporter sends it: resource with service.name, a scope, records with
// times, severities, bodies, attributes and trace context.
func CollectorRequest() *collogspb.ExportLogsServiceRequest {
	t0 := uint64(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC).UnixNano())
	return &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{StrAttr("service.name", "relayer"), StrAttr("host.name", "relayer-1")}},
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope: &commonpb.InstrumentationScope{Name: "github.com/acme/relayer", Version: "1.2.0"},
			LogRecords: []*logspb.LogRecord{
				{
					TimeUnixNano: t0, ObservedTimeUnixNano: t0 + 1000,
					SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, SeverityText: "ERROR",
					Body:       &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "relay failed for " + TxA}},
					Attributes: []*commonpb.KeyValue{StrAttr("rpc.method", "eth_sendRawTransaction"), IntAttr("attempt", 3)},
					TraceId:    TraceID, SpanId: SpanID, EventName: "relay.failed",
				},
				{
					ObservedTimeUnixNano: t0 + 5,
					SeverityText:         "Warning",
					Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_KvlistValue{KvlistValue: &commonpb.KeyValueList{Values: []*commonpb.KeyValue{
						StrAttr("event", "nonce gap"), {Key: "sender", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: common.HexToAddress(AddrA).Bytes()}}},
					}}}},
					Attributes: []*commonpb.KeyValue{StrAttr("blocktorch.source", "security"), {Key: "ratio", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_DoubleValue{DoubleValue: 0.5}}},
						{Key: "ok", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_BoolValue{BoolValue: true}}},
						{Key: "tags", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_ArrayValue{ArrayValue: &commonpb.ArrayValue{Values: []*commonpb.AnyValue{
							{Value: &commonpb.AnyValue_StringValue{StringValue: "a"}}, {Value: &commonpb.AnyValue_IntValue{IntValue: 2}}}}}}}},
				},
				{SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_INFO2},
			},
		}},
	}}}
}

// WantCollectorRecords are the records CollectorRequest stores, the
// third stamped with Now.
func WantCollectorRecords() []record.Record {
	t0 := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	return []record.Record{
		{Time: t0, Source: "app", Kind: "log", Level: "error", Service: "relayer", Message: "relay failed for " + TxA,
			Attrs: map[string]any{"host.name": "relayer-1", "rpc.method": "eth_sendRawTransaction", "attempt": int64(3),
				"otel.scope.name": "github.com/acme/relayer", "trace_id": hex.EncodeToString(TraceID), "span_id": hex.EncodeToString(SpanID), "event.name": "relay.failed"},
			TxHashes: []common.Hash{common.HexToHash(TxA)}},
		{Time: t0.Add(5), Source: "security", Kind: "log", Level: "warn", Service: "relayer",
			Message: `{"event":"nonce gap","sender":"` + strings.ToLower(AddrA) + `"}`,
			Attrs: map[string]any{"host.name": "relayer-1", "ratio": 0.5, "ok": true, "tags": []any{"a", int64(2)}, "otel.scope.name": "github.com/acme/relayer",
				"body": map[string]any{"event": "nonce gap", "sender": strings.ToLower(AddrA)}},
			Addresses: []common.Address{common.HexToAddress(AddrA)}},
		{Time: Now, Source: "app", Kind: "log", Level: "info", Service: "relayer",
			Attrs: map[string]any{"host.name": "relayer-1", "otel.scope.name": "github.com/acme/relayer"}},
	}
}

// OTLPJSON is an OTLP/JSON export in the shape of the specification's
// example: hex trace ids, int64 as strings, enums as numbers.
const OTLPJSON = `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"relayer"}},{"key":"host.name","value":{"stringValue":"relayer-1"}}]},
"scopeLogs":[{"scope":{"name":"github.com/acme/relayer","version":"1.2.0"},"logRecords":[
{"timeUnixNano":"1769940000000000000","observedTimeUnixNano":"1769940000000001000","severityNumber":17,"severityText":"ERROR",
 "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"relay.failed",
 "body":{"stringValue":"relay failed for ` + TxA + `"},
 "attributes":[{"key":"rpc.method","value":{"stringValue":"eth_sendRawTransaction"}},{"key":"attempt","value":{"intValue":"3"}}]},
{"observed_time_unix_nano":"1769940000000000005","severity_text":"Warning",
 "body":{"kvlistValue":{"values":[{"key":"event","value":{"stringValue":"nonce gap"}},{"key":"sender","value":{"bytesValue":"AAAAACGatUA1bLuDnL4FMD13Bfo="}}]}},
 "attributes":[{"key":"blocktorch.source","value":{"stringValue":"security"}},{"key":"ratio","value":{"doubleValue":0.5}},{"key":"ok","value":{"boolValue":true}},
  {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":2}]}}}],"unknownField":1},
{"severityNumber":"SEVERITY_NUMBER_INFO2"}]}]}]}`
