package web

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// TestOpenPath checks which paths the route table opens to anyone when an
// operator key is set.
func TestOpenPath(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := newServer(Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st, OperatorKey: "k",
		Ingest: logingest.New(st, logingest.Options{})}, uiTree())
	if err != nil {
		t.Fatal(err)
	}
	openPath := func(p string) bool { return s.needOf(httptest.NewRequest("GET", p, nil)).perm() == 0 }
	for p, want := range map[string]bool{
		"/s/abc": true, "/api/v1/shared/x/panels/y": true, "/static/bt.js": true, "/healthz": true, "/login": true,
		"/api/v1/logs": true, "/loki/api/v1/push": true, "/sdk/blocktorch.js": true,
		"/": false, "/explore": false, "/api/v1/search": false, "/api/v1/dashboards": false, "/healthzz": false,
		"/api/v1/logsx": false, "/loginx": false, "/api/v1/debug/trace": false, "/api/v1/shares": false,
	} {
		if got := openPath(p); got != want {
			t.Errorf("openPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for next, want := range map[string]string{
		"/explore?q=level:error#x": "/explore?q=level:error#x", "/": "/", "/debug/0xab": "/debug/0xab",
		"": "/", "//evil.example": "/", "/\\evil.example": "/", "/\t/evil.example": "/", "/\r\n/evil.example": "/",
		"/\n/evil.example": "/", "/%2F/evil.example": "/", "https://evil.example": "/", "javascript:alert(1)": "/",
		"/\x00": "/", "/a\x7f": "/", "\\\\evil.example": "/", "/a\u2028b": "/", "/ok\\": "/",
	} {
		if got := safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
