package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/devchain"
)

// Records sent by the official OpenTelemetry Go log SDK through its
// OTLP/HTTP exporter carry attribute keys flat, with dots ("user.id"). On a
// running server the documented attribute paths find them in search,
// facets (top), stats and a query monitor, as they find nested JSON.
func TestOTelSDKAttributesBySearchPath(t *testing.T) {
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
	cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "otel.db")
	a, stop := apptest.Start(t, cfg)
	defer stop()
	base := a.URL()

	ctx := t.Context()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(base+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "checkout"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	logger := lp.Logger("checkout/payments")
	now := time.Now()
	emit := func(body string, sev otellog.Severity, attrs ...attribute.KeyValue) {
		var r otellog.Record
		r.SetTimestamp(now)
		r.SetSeverity(sev)
		r.SetBody(attribute.StringValue(body))
		r.AddAttributes(attrs...)
		logger.Emit(ctx, r)
	}
	emit("otelsdkmarker payment declined", otellog.SeverityError,
		attribute.Int("user.id", 42), attribute.Int("http.response.status_code", 503),
		attribute.Map("http", attribute.String("request.method", "POST")))
	emit("otelsdkmarker payment accepted", otellog.SeverityInfo,
		attribute.Int("user.id", 42), attribute.Int("http.response.status_code", 200),
		attribute.Map("http", attribute.String("request.method", "POST")))
	emit("otelsdkmarker health check", otellog.SeverityDebug,
		attribute.Int("user.id", 7), attribute.Int("http.response.status_code", 200))
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := lp.Shutdown(sctx); err != nil {
		t.Fatalf("the OTel SDK could not export to the server: %v", err)
	}

	type answer struct {
		Data struct {
			Records []struct{ Service, Message string } `json:"records"`
			Table   *struct {
				Columns []string `json:"columns"`
				Rows    [][]any  `json:"rows"`
			} `json:"table"`
		} `json:"data"`
	}
	search := func(q string) answer {
		t.Helper()
		var ans answer
		if code := apptest.GetJSON(t, base+"/api/v1/search?"+url.Values{"q": {q}}.Encode(), &ans); code != http.StatusOK {
			t.Fatalf("search %q: HTTP %d", q, code)
		}
		return ans
	}
	waitFor(t, "the SDK's records searchable", 10*time.Second, func() bool {
		return len(search("otelsdkmarker").Data.Records) == 3
	})

	for _, c := range []struct {
		q    string
		want []string // messages, newest first
	}{
		{"otelsdkmarker attr.user.id:42", []string{"otelsdkmarker payment accepted", "otelsdkmarker payment declined"}},
		{"otelsdkmarker attr.http.response.status_code:>=500", []string{"otelsdkmarker payment declined"}},
		{"otelsdkmarker attr.http.request.method:POST attr.user.id:42 level:error", []string{"otelsdkmarker payment declined"}},
		{"otelsdkmarker -attr.http.request.method:*", []string{"otelsdkmarker health check"}},
		{"otelsdkmarker attr.otel.scope.name:\"checkout/payments\" service:checkout attr.user.id:7", []string{"otelsdkmarker health check"}},
	} {
		ans := search(c.q)
		var got []string
		for _, r := range ans.Data.Records {
			got = append(got, r.Message)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("search %q = %q, want %q", c.q, got, c.want)
		}
	}

	// Tables: stats and top (what the Explore facets ask).
	for _, c := range []struct{ q, want string }{
		{"otelsdkmarker | stats count() by attr.http.response.status_code", "[attr.http.response.status_code count()] [[200 2] [503 1]]"},
		{"otelsdkmarker | top 8 attr.user.id", "[attr.user.id count] [[42 2] [7 1]]"},
		{"otelsdkmarker | stats count_distinct(attr.user.id), max(attr.http.response.status_code)", "[count_distinct(attr.user.id) max(attr.http.response.status_code)] [[2 503]]"},
	} {
		ans := search(c.q)
		if ans.Data.Table == nil {
			t.Errorf("search %q: no table", c.q)
			continue
		}
		if got := fmt.Sprint(ans.Data.Table.Columns, " ", ans.Data.Table.Rows); got != c.want {
			t.Errorf("search %q = %s, want %s", c.q, got, c.want)
		}
	}

	// A query monitor over the same path fires on the 503.
	yaml := `monitors:
  - id: checkout-5xx
    kind: query
    query: "otelsdkmarker attr.http.response.status_code:>=500 | stats count()"
    window: 1h
    condition: "> 0"
`
	resp, err := http.Post(base+"/api/v1/monitors/dry-run?hours=1", "application/yaml", bytes.NewReader([]byte(yaml)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dry struct {
		Data struct {
			Monitors []struct {
				ID      string            `json:"id"`
				Firings []json.RawMessage `json:"firings"`
				Skipped string            `json:"skipped"`
			} `json:"monitors"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dry); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("dry run: HTTP %d, %v", resp.StatusCode, err)
	}
	if len(dry.Data.Monitors) != 1 || dry.Data.Monitors[0].Skipped != "" || len(dry.Data.Monitors[0].Firings) == 0 {
		t.Fatalf("dry run of a query monitor on attr.http.response.status_code = %+v, want it to fire", dry.Data.Monitors)
	}
}
