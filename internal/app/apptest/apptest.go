// Package apptest boots a whole blocktorch (app.New and Run) for end-to-end
// tests of the app, the web pages and the browser UI.
package apptest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/config"
)

// DemoConfig is the demo on free ports in a temporary directory, with
// quick blocks and busy traffic so that tests see activity soon.
func DemoConfig(t testing.TB) config.Config {
	cfg := config.Default(config.ModeDemo)
	cfg.Addr = "127.0.0.1:0"
	cfg.ChainRPCAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.BlockInterval = 250 * time.Millisecond
	cfg.TrafficRate = 10
	return cfg
}

// Start builds and runs an app; stop ends it, reporting a failed Run, and
// may be called more than once. A test may stop and start again on the
// same data (a restart).
func Start(t testing.TB, cfg config.Config) (a *app.App, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	var once sync.Once
	return a, func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			a.Close()
		})
	}
}

// GetJSON GETs url and decodes the whole answer into v (nil: ignore it);
// it returns the HTTP status.
func GetJSON(t testing.TB, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: not JSON: %v: %.300s", url, err, body)
		}
	}
	return resp.StatusCode
}

// GetData GETs an /api/v1 URL and, on success, decodes the envelope's
// data into v; it returns the HTTP status.
func GetData(t testing.TB, url string, v any) int {
	t.Helper()
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	code := GetJSON(t, url, &env)
	if code == http.StatusOK && v != nil {
		if err := json.Unmarshal(env.Data, v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return code
}
