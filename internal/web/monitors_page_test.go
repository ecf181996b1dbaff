package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// newMonitorsServer serves the web UI with a real monitor engine mounted,
// holding one monitor whose name and labels are XSS payloads. mount false
// leaves the monitors API out.
func newMonitorsServer(t *testing.T, mount bool) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "mon.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	deps := web.Deps{Chain: st, Contracts: st, Search: st}
	if mount {
		eng := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Search: st}, monitor.Options{})
		if err := eng.Load(ctx); err != nil {
			t.Fatal(err)
		}
		spec := monitor.Spec{ID: "evil", Name: xss, Kind: monitor.KindEvent, Contracts: []string{"*"}, Event: "Paused",
			Labels: map[string]string{"team": xss}, Description: xss}
		if err := eng.PutMonitor(ctx, spec, true); err != nil {
			t.Fatal(err)
		}
		deps.Monitors = eng
	}
	srv, err := web.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestMonitorsPage(t *testing.T) {
	t.Run("lists monitors with hostile names as text", func(t *testing.T) {
		ts := newMonitorsServer(t, true)
		code, _, body := get(t, ts.URL+"/monitors")
		if code != http.StatusOK {
			t.Fatalf("GET /monitors: HTTP %d\n%s", code, body)
		}
		for _, want := range []string{`data-id="evil"`, `<span class="mono dim small">evil</span>`, "&lt;img src=x onerror=alert(1)&gt;",
			`team=&lt;img src=x`, `<td class="mono">event</td>`, `state-ok`, `/static/monitors.js?v=`, `<a href="/monitors" class="on">Monitors</a>`} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Contains(body, "<img src=x") || strings.Contains(body, "<script>alert") {
			t.Errorf("a monitor's name or label became markup:\n%s", body)
		}
	})
	t.Run("without the monitors API", func(t *testing.T) {
		ts := newMonitorsServer(t, false)
		code, _, body := get(t, ts.URL+"/monitors")
		if code != http.StatusOK || !strings.Contains(body, "Monitors are not enabled on this server.") {
			t.Fatalf("GET /monitors without monitors: HTTP %d\n%.2000s", code, body)
		}
	})
}
