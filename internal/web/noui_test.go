package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// uiTree is a ui/ tree holding the given dist files.
func uiTree(names ...string) fstest.MapFS {
	m := fstest.MapFS{"ui/README.md": {Data: []byte("placeholder")}}
	for _, n := range names {
		m["ui/dist/"+n] = &fstest.MapFile{Data: []byte("/* " + n + " */")}
	}
	return m
}

func TestLoadAssets(t *testing.T) {
	for _, c := range []struct {
		name    string
		ui      fstest.MapFS
		built   bool
		wantErr string
	}{
		{"no dist", uiTree(), false, ""},
		{"every asset", uiTree(requiredAssets...), true, ""},
		{"some assets", uiTree("app.js", "style.css"), false, "the UI asset uPlot.iife.min.js is missing"},
	} {
		a, err := loadAssets(c.ui)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "make build") {
				t.Errorf("%s: err %v, want %q and how to build", c.name, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		case a.built != c.built:
			t.Errorf("%s: built %v, want %v", c.name, a.built, c.built)
		}
	}
}

// TestServerWithoutUI serves a binary's handler built without the UI
// assets: every page says how to build the UI, the API, health and
// metrics answer as usual, with and without an operator key.
func TestServerWithoutUI(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const key = "operator-key-for-the-test"
	for _, opKey := range []string{"", key} {
		s, err := newServer(Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: opKey,
			Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "blocktorch_up 1\n") }),
		}, uiTree())
		if err != nil {
			t.Fatalf("a binary without the UI does not start: %v", err)
		}
		if s.UIBuilt() {
			t.Fatal("UIBuilt with no assets")
		}
		ts := httptest.NewServer(s)
		get := func(path string) (int, string, string) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			if opKey != "" {
				req.Header.Set("Authorization", "Bearer "+opKey)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
		}
		for _, p := range []string{"/", "/explore", "/monitors", "/dashboards", "/searches", "/shares", "/login",
			"/tx/0x0000000000000000000000000000000000000000000000000000000000000001", "/block/1",
			"/address/0x000000000000000000000000000000000000beef", "/contract/0x000000000000000000000000000000000000beef"} {
			code, ct, body := get(p)
			if code != http.StatusServiceUnavailable || !strings.HasPrefix(ct, "text/html") ||
				!strings.Contains(body, "The web UI was not built") || !strings.Contains(body, "make build") || strings.Contains(body, "<script") {
				t.Errorf("key %v: GET %s: %d %s, want 503 with the page that says how to build the UI:\n%.300s", opKey != "", p, code, ct, body)
			}
		}
		for _, c := range []struct{ path, want string }{
			{"/healthz", `"status":"ok"`},
			{"/metrics", "blocktorch_up 1"},
			{"/api/v1/status", `"status":"success"`},
			{"/api/v1/blocks", `"status":"success"`},
			{"/api/v1/search?q=x", `"status":"success"`},
		} {
			if code, _, body := get(c.path); code != http.StatusOK || !strings.Contains(body, c.want) {
				t.Errorf("key %v: GET %s: %d %.200s", opKey != "", c.path, code, body)
			}
		}
		if code, _, _ := get("/static/app.js"); code != http.StatusNotFound {
			t.Errorf("GET /static/app.js: %d", code)
		}
		ts.Close()
	}
}
