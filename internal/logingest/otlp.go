package logingest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"

	"github.com/blocktorch/blocktorch/internal/record"
)

// OTLP attributes that set a record's fields rather than becoming
// attributes; service.name is the OpenTelemetry semantic convention, the
// blocktorch.* ones let an exporter file security or system logs.
const (
	otlpService = "service.name"
	otlpSource  = "blocktorch.source"
	otlpKind    = "blocktorch.kind"
)

// maxOTLPReasons caps the reasons named in partial_success.error_message.
const maxOTLPReasons = 10

// IngestOTLP stores a body of POST /v1/logs, OpenTelemetry OTLP/HTTP logs
// in protobuf or (asJSON) JSON. The resource attribute service.name becomes
// the service, the severity number (or, without one, the severity text)
// the level, a string body the message (any other body is kept as the
// attribute body and its JSON is the message), and resource, scope and log
// attributes, trace_id, span_id and event_name become attributes. It
// returns the ExportLogsServiceResponse to answer, in the request's
// encoding, whose partial_success counts and names the rejected records;
// a malformed request is an *Error (answer it with OTLPStatus when the
// request was protobuf).
func (in *Ingester) IngestOTLP(ctx context.Context, asJSON bool, body []byte) ([]byte, error) {
	var req *collogspb.ExportLogsServiceRequest
	var err error
	repaired := false
	if asJSON {
		req, err = decodeOTLPJSON(body)
		repaired = !utf8.Valid(body)
	} else {
		req, repaired, err = decodeOTLPProto(body)
	}
	if err != nil {
		return nil, invalid("%v", err)
	}
	b := in.otlpBatch(req, repaired)
	if err := in.commit(ctx, b); err != nil {
		return nil, in.unavailable("otlp", err)
	}
	resp := &collogspb.ExportLogsServiceResponse{}
	if b.res.RejectedCount > 0 || b.res.InvalidUTF8 > 0 {
		var msgs []string
		for _, rj := range b.res.Rejected {
			if len(msgs) == maxOTLPReasons {
				msgs = append(msgs, "…")
				break
			}
			msgs = append(msgs, fmt.Sprintf("log record %d: %s", rj.Line, rj.Error))
		}
		if b.res.InvalidUTF8 > 0 {
			// With nothing rejected, partial_success is a warning.
			msgs = append(msgs, fmt.Sprintf("invalid UTF-8 replaced with U+FFFD in %d records", b.res.InvalidUTF8))
		}
		resp.PartialSuccess = &collogspb.ExportLogsPartialSuccess{
			RejectedLogRecords: int64(b.res.RejectedCount),
			ErrorMessage:       strings.Join(msgs, "; "),
		}
	}
	if asJSON {
		return protojson.Marshal(resp)
	}
	return proto.Marshal(resp)
}

// OTLPStatus is the google.rpc.Status protobuf an OTLP/HTTP client reads
// in a refused protobuf request's answer; its code follows the error's
// kind (any other error is INTERNAL).
func OTLPStatus(err error) []byte {
	code := int32(13) // INTERNAL
	var e *Error
	if errors.As(err, &e) {
		switch e.Kind {
		case KindInvalid, KindUnsupported:
			code = 3 // INVALID_ARGUMENT
		case KindTooLarge:
			code = 8 // RESOURCE_EXHAUSTED
		case KindUnavailable:
			code = 14 // UNAVAILABLE
		case KindUnauthorized:
			code = 16 // UNAUTHENTICATED
		}
	}
	b, _ := proto.Marshal(&rpcstatus.Status{Code: code, Message: err.Error()})
	return b
}

// decodeOTLPProto decodes a protobuf request. The protobuf runtime refuses
// string fields holding invalid UTF-8, where OTLP receivers in the field
// accept them: such a request is repaired (bad sequences become U+FFFD) and
// decoded again, and the builder counts the replacements.
func decodeOTLPProto(body []byte) (req *collogspb.ExportLogsServiceRequest, repaired bool, err error) {
	req = &collogspb.ExportLogsServiceRequest{}
	err = proto.Unmarshal(body, req)
	if err == nil {
		return req, false, nil
	}
	fixed, changed, ferr := fixUTF8(nil, body, req.ProtoReflect().Descriptor(), 0)
	if ferr != nil || !changed {
		return nil, false, fmt.Errorf("cannot decode OTLP protobuf ExportLogsServiceRequest: %w", err)
	}
	req = &collogspb.ExportLogsServiceRequest{}
	if err := proto.Unmarshal(fixed, req); err != nil {
		return nil, false, fmt.Errorf("cannot decode OTLP protobuf ExportLogsServiceRequest: %w", err)
	}
	return req, true, nil
}

// maxProtoDepth bounds fixUTF8's recursion like the protobuf runtime's own
// limit.
const maxProtoDepth = 100

// fixUTF8 appends to dst the message b of type md with invalid UTF-8 in its
// string fields replaced by U+FFFD, walking the wire format by the message
// descriptor. changed says whether anything was replaced.
func fixUTF8(dst, b []byte, md protoreflect.MessageDescriptor, depth int) ([]byte, bool, error) {
	if depth > maxProtoDepth {
		return nil, false, errors.New("message nested too deep")
	}
	changed := false
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, false, protowire.ParseError(n)
		}
		if typ != protowire.BytesType {
			m := protowire.ConsumeFieldValue(num, typ, b[n:])
			if m < 0 {
				return nil, false, protowire.ParseError(m)
			}
			dst = append(dst, b[:n+m]...)
			b = b[n+m:]
			continue
		}
		v, m := protowire.ConsumeBytes(b[n:])
		if m < 0 {
			return nil, false, protowire.ParseError(m)
		}
		fd := md.Fields().ByNumber(num)
		switch {
		case fd != nil && fd.Kind() == protoreflect.StringKind && !utf8.Valid(v):
			dst = protowire.AppendTag(dst, num, typ)
			dst = protowire.AppendBytes(dst, bytes.ToValidUTF8(v, []byte("\uFFFD")))
			changed = true
		case fd != nil && fd.Kind() == protoreflect.MessageKind:
			sub, c, err := fixUTF8(nil, v, fd.Message(), depth+1)
			if err != nil {
				return nil, false, err
			}
			dst = protowire.AppendTag(dst, num, typ)
			dst = protowire.AppendBytes(dst, sub)
			changed = changed || c
		default:
			dst = append(dst, b[:n+m]...)
		}
		b = b[n+m:]
	}
	return dst, changed, nil
}

// decodeOTLPJSON decodes a JSON request. OTLP/JSON writes trace and span ids
// as hex where the protobuf JSON mapping expects base64, so those are
// rewritten first; everything else is the standard mapping (both
// lowerCamelCase and snake_case keys, enums by number or name).
func decodeOTLPJSON(body []byte) (*collogspb.ExportLogsServiceRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, fmt.Errorf("cannot decode OTLP JSON: %w", err)
	}
	if err := hexIDsToBase64(tree, 0); err != nil {
		return nil, fmt.Errorf("cannot decode OTLP JSON: %w", err)
	}
	fixed, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("cannot decode OTLP JSON: %w", err)
	}
	req := &collogspb.ExportLogsServiceRequest{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(fixed, req); err != nil {
		return nil, fmt.Errorf("cannot decode OTLP JSON ExportLogsServiceRequest: %w", err)
	}
	return req, nil
}

var idKeys = map[string]int{"traceId": 16, "trace_id": 16, "spanId": 8, "span_id": 8}

func hexIDsToBase64(v any, depth int) error {
	if depth > maxProtoDepth {
		return errors.New("JSON nested too deep")
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if size, ok := idKeys[k]; ok {
				if s, ok := x.(string); ok && len(s) == 2*size {
					if raw, err := hex.DecodeString(s); err == nil {
						v[k] = base64.StdEncoding.EncodeToString(raw)
					}
				}
				continue
			}
			if err := hexIDsToBase64(x, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := hexIDsToBase64(x, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// otlpBatch converts a decoded request into records. repaired says invalid
// UTF-8 was already replaced while decoding, somewhere in the body: then the
// records holding U+FFFD are the ones counted as repaired.
func (in *Ingester) otlpBatch(req *collogspb.ExportLogsServiceRequest, repaired bool) *batch {
	b := &batch{res: Result{Rejected: []Rejection{}}}
	bld := in.newBuilder()
	n := 0
	for _, rl := range req.GetResourceLogs() {
		resAttrs := rl.GetResource().GetAttributes()
		for _, sl := range rl.GetScopeLogs() {
			scope := sl.GetScope()
			for _, lr := range sl.GetLogRecords() {
				n++
				bld.reset()
				rec, err := bld.otlpRecord(resAttrs, scope, lr)
				if err != nil {
					b.res.reject(n, err)
					continue
				}
				b.add(rec, bld.invalidUTF8 || repaired && hasReplacement(rec))
			}
		}
	}
	return b
}

func (b *builder) otlpRecord(resAttrs []*commonpb.KeyValue, scope *commonpb.InstrumentationScope, lr *logspb.LogRecord) (record.Record, error) {
	var rec record.Record
	switch {
	case lr.GetTimeUnixNano() != 0:
		rec.Time = unixNano(lr.GetTimeUnixNano())
	case lr.GetObservedTimeUnixNano() != 0:
		rec.Time = unixNano(lr.GetObservedTimeUnixNano())
	}
	if l, ok := otlpLevel(int32(lr.GetSeverityNumber())); ok {
		rec.Level = l
	} else if err := b.level(&rec, lr.GetSeverityText()); err != nil {
		return rec, err
	}
	// Log attributes after resource ones: the more specific wins.
	for _, kvs := range [][]*commonpb.KeyValue{resAttrs, lr.GetAttributes()} {
		for _, kv := range kvs {
			switch k := kv.GetKey(); k {
			case otlpService, otlpSource, otlpKind:
				s := kv.GetValue().GetStringValue()
				switch k {
				case otlpService:
					rec.Service = s
				case otlpSource:
					rec.Source = s
				default:
					rec.Kind = s
				}
			default:
				v, err := b.otlpValue(kv.GetValue(), 1)
				if err != nil {
					return rec, fmt.Errorf("attribute %q: %w", b.str(k), err)
				}
				if err := b.setAttr(&rec, k, v); err != nil {
					return rec, err
				}
			}
		}
	}
	if s := scope.GetName(); s != "" {
		if err := b.setAttr(&rec, "otel.scope.name", s); err != nil {
			return rec, err
		}
	}
	for _, id := range []struct {
		key string
		v   []byte
	}{{"trace_id", lr.GetTraceId()}, {"span_id", lr.GetSpanId()}} {
		if len(id.v) > 0 && !allZero(id.v) {
			if err := b.setAttr(&rec, id.key, hex.EncodeToString(id.v)); err != nil {
				return rec, err
			}
		}
	}
	if e := lr.GetEventName(); e != "" {
		if err := b.setAttr(&rec, "event.name", e); err != nil {
			return rec, err
		}
	}
	if body := lr.GetBody(); body != nil {
		if s, ok := body.GetValue().(*commonpb.AnyValue_StringValue); ok {
			rec.Message = s.StringValue
		} else {
			v, err := b.otlpValue(body, 1)
			if err != nil {
				return rec, fmt.Errorf("body: %w", err)
			}
			if err := b.setAttr(&rec, "body", v); err != nil {
				return rec, err
			}
			if j, err := json.Marshal(rec.Attrs["body"]); err == nil {
				rec.Message = string(j)
			}
		}
	}
	err := b.finish(&rec)
	return rec, err
}

// otlpValue converts an AnyValue into an attribute value. Bytes become 0x
// hex, so 32-byte hashes and 20-byte addresses are found as links.
func (b *builder) otlpValue(v *commonpb.AnyValue, depth int) (any, error) {
	if depth > b.opts.MaxDepth {
		return nil, fmt.Errorf("%w (over %d levels)", errTooDeep, b.opts.MaxDepth)
	}
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue, nil
	case *commonpb.AnyValue_BoolValue:
		return x.BoolValue, nil
	case *commonpb.AnyValue_IntValue:
		return x.IntValue, nil
	case *commonpb.AnyValue_DoubleValue:
		return x.DoubleValue, nil
	case *commonpb.AnyValue_BytesValue:
		return "0x" + hex.EncodeToString(x.BytesValue), nil
	case *commonpb.AnyValue_ArrayValue:
		vals := x.ArrayValue.GetValues()
		if len(vals) > b.opts.MaxAttrs {
			return nil, fmt.Errorf("over %d attributes (counting nested keys and array elements)", b.opts.MaxAttrs)
		}
		out := make([]any, 0, len(vals))
		for _, e := range vals {
			y, err := b.otlpValue(e, depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, y)
		}
		return out, nil
	case *commonpb.AnyValue_KvlistValue:
		kvs := x.KvlistValue.GetValues()
		if len(kvs) > b.opts.MaxAttrs {
			return nil, fmt.Errorf("over %d attributes (counting nested keys and array elements)", b.opts.MaxAttrs)
		}
		out := make(map[string]any, len(kvs))
		for _, kv := range kvs {
			y, err := b.otlpValue(kv.GetValue(), depth+1)
			if err != nil {
				return nil, err
			}
			out[kv.GetKey()] = y
		}
		return out, nil
	}
	// Empty values, and the profiling-only string index: nothing to keep.
	return nil, nil
}

// unixNano is the time of an OTLP timestamp. It splits seconds from
// nanoseconds rather than converting n to int64, which would wrap (or, if
// clamped, misreport) times past 2262.
func unixNano(n uint64) time.Time {
	return time.Unix(int64(n/1e9), int64(n%1e9))
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
