// Package vlhttptest starts real victoria-logs servers on 127.0.0.1 for
// tests: a single node, or a cluster of storage nodes behind one
// insert/select node. The binary is $BLOCKTORCH_VICTORIALOGS, else the
// newest bin/victoria-logs-* of the module (`make victoria-logs`).
package vlhttptest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary locates victoria-logs, or fails the test saying how to build it.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("BLOCKTORCH_VICTORIALOGS"); p != "" {
		return p
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			m, _ := filepath.Glob(filepath.Join(dir, "bin", "victoria-logs-*"))
			if len(m) > 0 {
				sort.Strings(m)
				return m[len(m)-1]
			}
			break
		}
		if dir == filepath.Dir(dir) {
			break
		}
		dir = filepath.Dir(dir)
	}
	t.Fatal("victoria-logs not found: run `make victoria-logs` or set BLOCKTORCH_VICTORIALOGS")
	return ""
}

// Server is a victoria-logs process on 127.0.0.1.
type Server struct {
	// Addr is its HTTP host:port.
	Addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// Start runs victoria-logs with args (after the defaults: a temporary
// data directory, retention and future retention of 100 years, delete
// tasks enabled) and waits until it answers /health. The test's cleanup
// kills it.
func Start(t testing.TB, args ...string) *Server {
	t.Helper()
	s := &Server{Addr: freeAddr(t), out: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	args = append([]string{"-httpListenAddr", s.Addr, "-storageDataPath", t.TempDir(), "-retentionPeriod", "100y",
		"-futureRetention", "100y", "-delete.enable", "-loggerLevel", "WARN"}, args...)
	s.cmd = exec.Command(Binary(t), args...)
	w := lockedWriter{s.mu, s.out}
	s.cmd.Stdout, s.cmd.Stderr = w, w
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("victoria-logs %v exited: %s", args, s.Output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not answer on %s: %s", s.Addr, s.Output())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's start, with a deadline
	}
}

// Output is what the server printed so far.
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// Kill ends the server with SIGKILL and waits for it; it is safe to call
// more than once.
func (s *Server) Kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Cluster is storage nodes and one insert/select node in front of them.
type Cluster struct {
	Front    *Server
	Storages []*Server
}

// StartCluster starts n storage nodes and the insert/select node.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{}
	var nodes []string
	for range n {
		s := Start(t, "-internaldelete.enable")
		c.Storages = append(c.Storages, s)
		nodes = append(nodes, s.Addr)
	}
	list := ""
	for i, a := range nodes {
		if i > 0 {
			list += ","
		}
		list += a
	}
	c.Front = Start(t, "-storageNode", list)
	return c
}
