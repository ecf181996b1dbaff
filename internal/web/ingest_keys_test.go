package web

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/logingest/ingesttest"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"google.golang.org/protobuf/proto"

	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
)

// TestIngestKeysOnEveryDoor: with ingest keys set, JSON lines, OTLP and
// Loki push all refuse a request without a right key, and all take one in
// each form shippers send it.
func TestIngestKeysOnEveryDoor(t *testing.T) {
	in, w := newTestIngester(logingest.Options{IngestKeys: []string{"pk_one", "pk_two"}})
	basic := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	doors := []struct {
		name string
		h    http.HandlerFunc
		ct   string
		body string
		ok   int
	}{
		{"json lines", door(t, in, "/api/v1/logs"), "application/x-ndjson", `{"msg":"forged","source":"security"}`, 200},
		{"otlp", door(t, in, "/v1/logs"), "application/json", ingesttest.OTLPJSON, 200},
		{"loki", door(t, in, "/loki/api/v1/push"), "application/json", `{"streams":[{"stream":{"service":"web"},"values":[["1700000000000000000","forged"]]}]}`, 204},
	}
	forms := []struct {
		name string
		hdr  []string
		ok   bool
	}{
		{"no key", nil, false},
		{"wrong bearer", []string{"Authorization", "Bearer pk_three"}, false},
		{"wrong basic password", []string{"Authorization", basic("pk_one", "nope")}, false},
		{"key as basic user name only", []string{"Authorization", basic("pk_one", "")}, false},
		{"wrong header key", []string{"X-Blocktorch-Key", "pk_on"}, false},
		{"bearer", []string{"Authorization", "Bearer pk_two"}, true},
		{"bearer, lower-case scheme", []string{"Authorization", "bearer pk_one"}, true},
		{"basic auth password (promtail)", []string{"Authorization", basic("tenant-1", "pk_one")}, true},
		{"header", []string{"X-Blocktorch-Key", "pk_two"}, true},
		{"a wrong header does not hide a right bearer", []string{"X-Blocktorch-Key", "x", "Authorization", "Bearer pk_one"}, true},
	}
	for _, d := range doors {
		for _, f := range forms {
			t.Run(d.name+"/"+f.name, func(t *testing.T) {
				before := len(w.Records())
				code, body := post(t, d.h, d.ct, []byte(d.body), f.hdr...)
				stored := len(w.Records()) - before
				if f.ok && (code != d.ok || stored == 0) {
					t.Fatalf("status %d, %d stored, want %d and records: %s", code, stored, d.ok, body)
				}
				if !f.ok && (code != http.StatusUnauthorized || stored != 0) {
					t.Fatalf("status %d, %d stored, want 401 and nothing: %s", code, stored, body)
				}
			})
		}
	}
}

// TestIngestKeyFromOTelExporter: the official OpenTelemetry Go exporter,
// configured only through OTEL_EXPORTER_OTLP_HEADERS as operators do,
// delivers to a keyed /v1/logs; without the header it is refused.
func TestIngestKeyFromOTelExporter(t *testing.T) {
	in, w := newTestIngester(logingest.Options{IngestKeys: []string{"pk_otel"}})
	ts := httptest.NewServer(ingestServer(t, in))
	defer ts.Close()
	export := func(t *testing.T) error {
		t.Helper()
		exp, err := otlploghttp.New(t.Context(), otlploghttp.WithEndpointURL(ts.URL+"/v1/logs"), otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
		if err != nil {
			t.Fatal(err)
		}
		var r sdklog.Record
		r.SetTimestamp(ingesttest.Now)
		r.SetSeverity(otellog.SeverityError)
		r.SetBody(attribute.StringValue("otel keyed"))
		r.AddAttributes(attribute.String("user.id", "42"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		defer exp.Shutdown(ctx)
		return exp.Export(ctx, []sdklog.Record{r})
	}
	t.Run("without the header", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "")
		if err := export(t); err == nil || len(w.Records()) != 0 {
			t.Fatalf("exported without a key: err %v, %d records", err, len(w.Records()))
		}
	})
	t.Run("Authorization bearer in OTEL_EXPORTER_OTLP_HEADERS", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer%20pk_otel")
		if err := export(t); err != nil || len(w.Records()) != 1 {
			t.Fatalf("export with the key: err %v, %d records", err, len(w.Records()))
		}
	})
	t.Run("X-Blocktorch-Key in OTEL_EXPORTER_OTLP_HEADERS", func(t *testing.T) {
		t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "X-Blocktorch-Key=pk_otel")
		if err := export(t); err != nil || len(w.Records()) != 2 {
			t.Fatalf("export with the key: err %v, %d records", err, len(w.Records()))
		}
	})
}

// TestEmptyBodyRefused: an empty (or blank) body on /api/v1/logs says so
// with a 400 instead of answering that nothing was accepted.
func TestEmptyBodyRefused(t *testing.T) {
	in, _ := newTestIngester(logingest.Options{})
	for _, body := range []string{"", "\n", "  \r\n\t"} {
		code, out := post(t, door(t, in, "/api/v1/logs"), "application/x-ndjson", []byte(body))
		if a := decodeAnswer(t, out); code != 400 || !strings.Contains(a.Error, "empty body") {
			t.Errorf("body %q: %d %s, want 400 empty body", body, code, out)
		}
	}
}

// TestOTLPTimeBeyondRangeReported: a record of the year 2300 is refused
// naming 2300, not the 2262 an int64 of nanoseconds ends at.
func TestOTLPTimeBeyondRangeReported(t *testing.T) {
	in, w := newTestIngester(logingest.Options{})
	req := ingesttest.CollectorRequest()
	lr := req.ResourceLogs[0].ScopeLogs[0].LogRecords[0]
	at := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	lr.TimeUnixNano = uint64(at.Unix()) * 1e9
	req.ResourceLogs[0].ScopeLogs[0].LogRecords = req.ResourceLogs[0].ScopeLogs[0].LogRecords[:1]
	raw, _ := proto.Marshal(req)
	code, out := post(t, door(t, in, "/v1/logs"), "application/x-protobuf", raw)
	var resp collogspb.ExportLogsServiceResponse
	if err := proto.Unmarshal(out, &resp); err != nil || code != 200 {
		t.Fatalf("%d %v", code, err)
	}
	msg := resp.GetPartialSuccess().GetErrorMessage()
	if !strings.Contains(msg, "time 2300-01-01T00:00:00Z is outside 1970-2199") || len(w.Records()) != 0 {
		t.Fatalf("partial_success %q, %d stored", msg, len(w.Records()))
	}
}
