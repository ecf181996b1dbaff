package web

import (
	"context"
	"html/template"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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

// pageAssets are the asset names the templates use, read from them.
func pageAssets(t *testing.T) []string {
	t.Helper()
	a, err := loadAssets(uiTree())
	if err != nil {
		t.Fatal(err)
	}
	p, err := parsePages(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.assets) == 0 {
		t.Fatal("the templates name no asset")
	}
	return p.assets
}

// TestLoadAssets checks the startup check of the UI assets: none is a
// binary built without the UI; every file the templates name is a built
// UI; some but not all is a broken build, refused with how to build it.
func TestLoadAssets(t *testing.T) {
	for _, c := range []struct {
		name    string
		ui      fstest.MapFS
		built   bool
		wantErr string
	}{
		{"no dist", uiTree(), false, ""},
		{"every asset", uiTree(pageAssets(t)...), true, ""},
		{"some assets", uiTree("bt.js", "style.css"), true, "the UI asset address.js is missing"},
		{"all but one", uiTree(slices.DeleteFunc(pageAssets(t), func(n string) bool { return n == "explore.js" })...), true, "the UI asset explore.js is missing"},
	} {
		a, err := loadAssets(c.ui)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if a.built != c.built {
			t.Errorf("%s: built %v, want %v", c.name, a.built, c.built)
		}
		_, err = parsePages(a)
		switch {
		case c.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "make build") {
				t.Errorf("%s: err %v, want %q and how to build", c.name, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// TestPageAssetsExist checks that every asset a template names is a
// source file of web/ui/src or a file of the chart library, which
// web/ui/build.js copies, so that a typo in a template fails here and not
// in a browser.
func TestPageAssetsExist(t *testing.T) {
	chartLib := map[string]bool{"uPlot.iife.min.js": true, "uPlot.min.css": true}
	for _, name := range pageAssets(t) {
		if chartLib[name] {
			continue
		}
		if _, err := os.Stat(filepath.Join("..", "..", "web", "ui", "src", name)); err != nil {
			t.Errorf("a template loads %s, not in web/ui/src: %v", name, err)
		}
	}
}

// TestAssetNamesLiteral refuses a template that computes an asset's name:
// the files pages load must be known at startup.
func TestAssetNamesLiteral(t *testing.T) {
	for _, c := range []struct {
		src, want string
	}{
		{`<script src="{{asset "a.js"}}"></script>{{if .X}}{{asset "b.js"}}{{else}}{{with .Y}}{{asset "c.css"}}{{end}}{{end}}{{range .Z}}{{asset "d.js" | print}}{{end}}`, "a.js b.js c.css d.js"},
		{`{{asset .Name}}`, "asset takes one quoted file name"},
		{`{{asset}}`, "asset takes one quoted file name"},
	} {
		tmpl, err := template.New("t").Funcs(funcs).Parse(c.src)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		err = assetNames(tmpl.Tree.Root, seen)
		got := strings.Join(slices.Sorted(maps.Keys(seen)), " ")
		if err != nil {
			got = err.Error()
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.src, got, c.want)
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
		if code, _, _ := get("/static/bt.js"); code != http.StatusNotFound {
			t.Errorf("GET /static/bt.js: %d", code)
		}
		ts.Close()
	}
}
