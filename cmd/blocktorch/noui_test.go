package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestBuildWithoutUI builds the binary from the files git keeps only (what
// `go install …/cmd/blocktorch@version` gets: no npm, no built UI assets),
// boots its demo and checks that it serves: pages say how to build the UI,
// health, the API and metrics answer.
func TestBuildWithoutUI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the demo")
	}
	root := filepath.Join("..", "..")
	list, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	src := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		fi, err := os.Lstat(filepath.Join(root, name))
		if os.IsNotExist(err) || err == nil && !fi.Mode().IsRegular() {
			continue // deleted in the work tree, or a link to a local build
		}
		b, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(src, "internal", "web", "ui", "dist", "bt.js")); err == nil {
		t.Fatal("the built UI is committed: this test cannot see a build without it")
	}
	bin := filepath.Join(t.TempDir(), "blocktorch")
	// No -trimpath: it is part of every package's build key, so the
	// dependencies would all be compiled anew instead of coming from the
	// build cache that `make build` (or any plain go build) filled.
	build := exec.Command("go", "build", "-o", bin, "./cmd/blocktorch")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without the UI: %v\n%s", err, out)
	}

	demo := exec.Command(bin, "demo", "--addr", "127.0.0.1:0", "--rpc-addr", "127.0.0.1:0", "--data", t.TempDir())
	urls := &lineWatch{prefix: "UI", found: make(chan string, 1)}
	demo.Stdout = urls
	var stderr syncBuffer
	demo.Stderr = &stderr
	if err := demo.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- demo.Wait() }()
	defer func() {
		demo.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(time.Minute):
			demo.Process.Kill()
			<-exited
		}
	}()
	var uiLine string
	select {
	case uiLine = <-urls.found:
	case err := <-exited:
		exited <- err
		t.Fatalf("the binary built without the UI did not start: %v\n%s", err, stderr.String())
	case <-time.After(3 * time.Minute):
		t.Fatalf("the binary built without the UI printed no URL in 3 minutes:\n%s", stderr.String())
	}
	if !strings.Contains(uiLine, "not built into this binary: build with make build") {
		t.Errorf("the UI line does not say the UI was not built: %q", uiLine)
	}
	base := strings.TrimRight(strings.Fields(uiLine + " x")[0], "/")
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/"); code != http.StatusServiceUnavailable || !strings.Contains(body, "make build") {
		t.Errorf("GET /: %d %.300s; want the page that says how to build the UI", code, body)
	}
	for _, c := range []struct{ path, want string }{
		{"/healthz", `"status":"ok"`},
		{"/api/v1/status", `"status":"success"`},
		{"/metrics", "blocktorch_"},
	} {
		if code, body := get(c.path); code != http.StatusOK || !strings.Contains(body, c.want) {
			t.Errorf("GET %s: %d %.300s", c.path, code, body)
		}
	}
	if !strings.Contains(stderr.String(), "built without the web UI") {
		t.Errorf("the log does not say the UI was not built:\n%s", stderr.String())
	}
}

// syncBuffer is a strings.Builder that the child's stderr copier writes
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWatch is a writer that sends the rest of the first line that starts
// with prefix to found.
type lineWatch struct {
	prefix string
	found  chan string
	buf    []byte
	done   bool
}

func (w *lineWatch) Write(p []byte) (int, error) {
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimSpace(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if rest, ok := strings.CutPrefix(line, w.prefix); ok {
			w.found <- strings.TrimSpace(rest)
			w.done = true
			return len(p), nil
		}
	}
}
