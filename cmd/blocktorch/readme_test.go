package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
)

// TestREADMEClientExamples runs every README example of a command that
// talks to a server (query, tail, monitors, abi add, verify --server,
// trace, incident, flags, status) against the demo with an operator key, the key given as the
// README says (BLOCKTORCH_KEY), the placeholders filled with the demo's
// own transaction, contract, node and files.
func TestREADMEClientExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	const key = "readme-operator-key-0123456789"
	cfg := apptest.DemoConfig(t)
	cfg.OperatorKey = key
	a, stop := apptest.Start(t, cfg)
	defer stop()
	base := a.URL()
	rpcURL, _ := a.ChainRPC()

	get := func(path string, v any) int {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err == nil && v != nil && resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(env.Data, v); err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
		}
		return resp.StatusCode
	}
	// A call to the vault that failed with a custom error, as the server
	// decoded it, and the vault's ABI.
	var (
		failed, method, customErr string
		vault                     struct {
			Address string          `json:"address"`
			Name    string          `json:"name"`
			ABI     json.RawMessage `json:"abi"`
		}
	)
	deadline := time.Now().Add(3 * time.Minute)
	for failed == "" {
		if time.Now().After(deadline) {
			t.Fatal("no call to the LendingVault failed with a custom error within 3 minutes")
		}
		var cs []struct {
			Address string          `json:"address"`
			Name    string          `json:"name"`
			ABI     json.RawMessage `json:"abi"`
		}
		get("/api/v1/contracts", &cs)
		for _, c := range cs {
			if c.Name == "LendingVault" {
				vault = c
			}
		}
		var txs []struct {
			Hash string  `json:"hash"`
			To   *string `json:"to"`
		}
		get("/api/v1/txs?status=failed&limit=50", &txs)
		for _, tx := range txs {
			if tx.To == nil || !strings.EqualFold(*tx.To, vault.Address) {
				continue
			}
			var full struct {
				Call *struct {
					Method string `json:"method"`
				} `json:"call"`
				Revert *struct {
					Reason *struct {
						Kind string `json:"kind"`
						Name string `json:"name"`
					} `json:"reason"`
				} `json:"revert"`
			}
			if get("/api/v1/txs/"+tx.Hash, &full) == http.StatusOK && full.Call != nil && full.Revert != nil &&
				full.Revert.Reason != nil && full.Revert.Reason.Kind == "custom" {
				failed, method, customErr = tx.Hash, full.Call.Method, full.Revert.Reason.Name
				break
			}
		}
		if failed == "" {
			time.Sleep(500 * time.Millisecond) // polling the running demo, bounded by the deadline
		}
	}

	t.Logf("a call failing with %s after %s", customErr, time.Since(deadline.Add(-3*time.Minute)).Round(time.Millisecond))
	dir := t.TempDir()
	artifact := filepath.Join(dir, "Vault.json")
	b, _ := json.Marshal(map[string]any{"contractName": "Vault", "abi": vault.ABI})
	os.WriteFile(artifact, b, 0o600)
	monitors := filepath.Join(dir, "monitors.yaml")
	os.WriteFile(monitors, []byte("monitors:\n  - id: readme.errors\n    name: Error logs\n    kind: query\n    query: \"level:error | stats count()\"\n    window: 1m\n    condition: \"> 100000\"\n"), 0o600)
	build, _ := filepath.Abs(filepath.Join("..", "..", "internal", "demo", "contracts", "build"))
	fill := strings.NewReplacer(
		"http://127.0.0.1:8545", rpcURL,
		"http://127.0.0.1:8080", base,
		"tx:0x…", "tx:"+failed,
		"0xTX", failed,
		"0xYourContract", vault.Address,
		"0xContract", vault.Address,
		"0x…", vault.Address,
	)
	exact := map[string]string{"out/Vault.sol/Vault.json": artifact, "out/": build, "monitors.yaml": monitors,
		"postmortem-1.md": filepath.Join(dir, "postmortem-1.md"), "postmortem.tmpl": filepath.Join(dir, "postmortem.tmpl")}
	// The incident examples open one from a firing alert (MONITOR/KEY):
	// the demo's deployment fires one (its Safe made a pauser of the
	// vault), which stands in for the README's.
	var alertRef string
	for alertRef == "" {
		if time.Now().After(deadline) {
			t.Fatal("no alert fired within 3 minutes of the demo's start")
		}
		var evs []struct {
			MonitorID string `json:"monitorId"`
			Key       string `json:"key"`
			Status    string `json:"status"`
		}
		get("/api/v1/alerts?limit=100", &evs)
		for _, ev := range evs {
			if ev.Status == "firing" {
				alertRef = ev.MonitorID + "/" + ev.Key
				break
			}
		}
		if alertRef == "" {
			time.Sleep(500 * time.Millisecond) // polling the running demo, bounded by the deadline
		}
	}

	t.Setenv("BLOCKTORCH_SERVER", base)
	t.Setenv("BLOCKTORCH_KEY", "")
	if code, _, errOut := runCLI(t, "query", "level:error"); code != 1 || !strings.Contains(errOut, "set BLOCKTORCH_KEY or --key") {
		t.Errorf("without the key: exit %d, %q", code, errOut)
	}
	t.Setenv("BLOCKTORCH_KEY", key)

	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ran := map[string]int{}
	for _, line := range strings.Split(string(readme), "\n") {
		args, ok := strings.CutPrefix(line, "bin/blocktorch ")
		if !ok {
			continue
		}
		words, err := shellWords(args)
		if err != nil {
			t.Fatalf("README line %q: %v", line, err)
		}
		switch words[0] {
		case "query", "tail", "monitors", "abi", "trace", "incident", "flags", "status":
		case "verify":
			if !strings.Contains(line, "--server") {
				continue
			}
		default:
			continue // serve, demo, simulate: no server to ask
		}
		for i, w := range words {
			if v, ok := exact[w]; ok {
				words[i] = v
				continue
			}
			if strings.HasSuffix(w, "/0x…") && i > 0 && words[i-1] == "--alert" {
				words[i] = alertRef
				continue
			}
			words[i] = fill.Replace(w)
			if strings.Contains(words[i], "…") {
				t.Errorf("README line %q: the test does not fill the placeholder in %q", line, w)
			}
		}
		ran[words[0]]++
		start := time.Now()
		code, out, errOut := runExample(t, words)
		t.Logf("%s: exit %d in %s", line, code, time.Since(start).Round(time.Millisecond))
		if code != 0 {
			t.Errorf("README example %q: exit %d\n%s%s", line, code, out, errOut)
			continue
		}
		if strings.Contains(out+errOut, key) {
			t.Errorf("README example %q printed the key", line)
		}
		if words[0] == "trace" && !strings.Contains(line, "--artifacts") {
			// Without sources, the server's ABIs and verified sources
			// decode the trace.
			for _, want := range []string{"LendingVault." + method + "(", "✗ " + customErr, "failure at src/"} {
				if !strings.Contains(out, want) {
					t.Errorf("trace with the server's ABIs: output lacks %q:\n%s%s", want, out, errOut)
				}
			}
			if !strings.Contains(errOut, "decoding with the") || !strings.Contains(errOut, "the server at "+base) {
				t.Errorf("trace does not say which server decodes it:\n%s", errOut)
			}
			if strings.Contains(out, "unknown error selector") {
				t.Errorf("trace with the server's ABIs left an error undecoded:\n%s", out)
			}
		}
	}
	for _, cmd := range []string{"query", "tail", "monitors", "abi", "verify", "trace", "incident", "flags", "status"} {
		if ran[cmd] == 0 {
			t.Errorf("the README has no example of %s", cmd)
		}
	}
	t.Logf("README examples run: %v", ran)
}

// runExample runs one command line; tail runs until it has connected.
func runExample(t *testing.T, words []string) (int, string, string) {
	t.Helper()
	if words[0] != "tail" {
		return runCLI(t, words...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out strings.Builder
	errOut := &signalWriter{want: "tailing", seen: make(chan struct{})}
	done := make(chan int, 1)
	go func() { done <- runMain(ctx, words, &out, errOut) }()
	select {
	case <-errOut.seen:
		cancel()
		return <-done, out.String(), errOut.String()
	case code := <-done:
		return code, out.String(), errOut.String()
	case <-time.After(time.Minute):
		cancel()
		<-done
		return -1, out.String(), "tail did not connect within a minute: " + errOut.String()
	}
}

// signalWriter closes seen once what it was written contains want.
type signalWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// shellWords splits a README command line as sh would for the forms the
// README uses: words, 'single' and "double" quotes, and a # comment.
func shellWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		case r == '#' && !in:
			if len(words) == 0 {
				return nil, fmt.Errorf("no command")
			}
			return words, nil
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote")
	}
	if in {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, io.ErrUnexpectedEOF
	}
	return words, nil
}
