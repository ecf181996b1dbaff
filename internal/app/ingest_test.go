package app_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	collogspb "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	"google.golang.org/protobuf/proto"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/devchain"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Logs sent in each shipper's real wire format — an OpenTelemetry
// Collector's OTLP/HTTP protobuf, a Promtail-style snappy protobuf Loki
// push, and an RFC 5424 syslog line over TCP — are searchable through the
// search API of a running server.
func TestIngestIsSearchable(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the app")
	}
	ch, err := devchain.Start(devchain.Config{BlockInterval: 100 * time.Millisecond, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = ch.HTTPEndpoint()
	cfg.From = 0
	cfg.DataDir = t.TempDir()
	cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "ingest.db")
	cfg.SyslogAddr = freeAddr(t)
	a, stop := apptest.Start(t, cfg)
	defer stop()
	base := a.URL()
	now := time.Now()
	tx := "0x" + fmt.Sprintf("%064x", now.UnixNano())

	// OTLP/HTTP protobuf.
	otlp := &collogspb.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "relayer"}}}}},
		ScopeLogs: []*logspb.ScopeLogs{{LogRecords: []*logspb.LogRecord{{
			TimeUnixNano: uint64(now.UnixNano()), SeverityNumber: logspb.SeverityNumber_SEVERITY_NUMBER_ERROR, SeverityText: "ERROR",
			Body: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "otlpmarker relay failed for " + tx}},
		}}}},
	}}}
	raw, err := proto.Marshal(otlp)
	if err != nil {
		t.Fatal(err)
	}
	post(t, base+"/v1/logs", "application/x-protobuf", raw, http.StatusOK)

	// Loki push, snappy-compressed protobuf.
	loki := &push.PushRequest{Streams: []push.Stream{{
		Labels:  `{job="varlogs", service_name="api", level="warn"}`,
		Entries: []push.Entry{{Timestamp: now, Line: "lokimarker slow RPC for " + tx}},
	}}}
	lraw, err := loki.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	post(t, base+"/loki/api/v1/push", "application/x-protobuf", snappy.Encode(nil, lraw), http.StatusNoContent)

	// Syslog RFC 5424 over TCP, newline framed.
	conn, err := net.Dial("tcp", cfg.SyslogAddr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "<34>1 %s node-1 geth 42 ID47 - syslogmarker peer dropped while relaying %s\n", now.UTC().Format(time.RFC3339Nano), tx)
	conn.Close()

	for _, c := range []struct{ query, source, service string }{
		{"otlpmarker", "app", "relayer"},
		{"lokimarker", "app", "api"},
		{"syslogmarker", "security", "geth"}, // facility 4 (auth) is a security log
	} {
		waitFor(t, c.query+" searchable", 10*time.Second, func() bool {
			var ans struct {
				Data struct {
					Records []struct{ Source, Service, Message string } `json:"records"`
				} `json:"data"`
			}
			apptest.GetJSON(t, base+"/api/v1/search?"+url.Values{"q": {c.query + " tx:" + tx}}.Encode(), &ans)
			return len(ans.Data.Records) == 1 && ans.Data.Records[0].Source == c.source && ans.Data.Records[0].Service == c.service
		})
	}
}

func post(t *testing.T, url, contentType string, body []byte, want int) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("POST %s: HTTP %d, want %d", url, resp.StatusCode, want)
	}
}
