package vlhttp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp"
)

// binary locates victoria-logs: $BLOCKTORCH_VICTORIALOGS, else the newest
// bin/victoria-logs-* of the module (what `make victoria-logs` builds).
func binary(t *testing.T) string {
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

// server is a victoria-logs process on 127.0.0.1.
type server struct {
	addr string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	mu   *sync.Mutex
	done chan struct{}
}

func freeAddr(t *testing.T) string {
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

// start runs victoria-logs with args and waits until it answers /health.
func start(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{addr: freeAddr(t), out: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan struct{})}
	args = append([]string{"-httpListenAddr", s.addr, "-storageDataPath", t.TempDir(), "-retentionPeriod", "100y",
		"-futureRetention", "100y", "-delete.enable", "-loggerLevel", "WARN"}, args...)
	s.cmd = exec.Command(binary(t), args...)
	w := lockedWriter{s.mu, s.out}
	s.cmd.Stdout, s.cmd.Stderr = w, w
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	t.Cleanup(s.kill)
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.addr + "/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("victoria-logs %v exited: %s", args, s.output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not answer on %s: %s", s.addr, s.output())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's start, with a deadline
	}
}

func (s *server) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

func (s *server) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// cluster is two storage nodes and one insert/select node.
type cluster struct {
	front    *server
	storages []*server
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{}
	var nodes []string
	for range 2 {
		s := start(t, "-internaldelete.enable")
		c.storages = append(c.storages, s)
		nodes = append(nodes, s.addr)
	}
	c.front = start(t, "-storageNode", nodes[0]+","+nodes[1])
	return c
}

// open returns a store on a fresh SQLite file and the server at addr.
func open(t *testing.T, addr string) *vlhttp.ChainStore {
	t.Helper()
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "blocktorch.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetChainRecords(false)
	c, err := vlhttp.Open(ctx, "http://"+addr, vlhttp.Options{CursorKey: []byte("test key"), Flush: true})
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return vlhttp.NewChainStore(db, c)
}

// TestSearchSingleNode runs the storetest search suite on one server,
// a fresh one per subtest.
func TestSearchSingleNode(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return open(t, start(t).addr) })
}

// TestSearchCluster runs the storetest search suite on a cluster of two
// storage nodes behind one insert/select node.
func TestSearchCluster(t *testing.T) {
	storetest.RunSearch(t, func(t *testing.T) storetest.SearchStore { return open(t, startCluster(t).front.addr) })
}

// TestClusterNodeDown kills one storage node: queries say their answer
// would be partial, and ingest goes on to the other node.
func TestClusterNodeDown(t *testing.T) {
	ctx := t.Context()
	cl := startCluster(t)
	s := open(t, cl.front.addr)
	defer s.Close()
	recs := storetest.CorpusRecords()
	if err := s.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	count := func() (int, error) {
		n := 0
		_, err := s.Search(ctx, store.SearchRequest{Limit: query.MaxLimit}, func(record.Record) error { n++; return nil })
		return n, err
	}
	if n, err := count(); err != nil || n != len(recs) {
		t.Fatalf("before: %d records, %v; want %d", n, err, len(recs))
	}
	cl.storages[1].kill()
	if _, err := count(); !errors.Is(err, logsql.ErrPartial) {
		t.Fatalf("search with a storage node down: %v, want ErrPartial", err)
	}
	more := make([]record.Record, 20)
	for i := range more {
		more[i] = record.Record{Time: storetest.CorpusStart.Add(time.Duration(i) * time.Second), Source: "app", Kind: "log",
			Level: "info", Message: "after the node went down " + strconv.Itoa(i)}
	}
	if err := s.AppendRecords(ctx, more); err != nil {
		t.Fatalf("ingest with a storage node down: %v", err)
	}
	// What the surviving node holds, asked for explicitly as partial: the
	// insert node rerouted the rows meant for the dead one, and the
	// survivor makes them searchable within its flush interval.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.PostForm("http://"+cl.front.addr+"/select/logsql/query", url.Values{
			"query": {`"after the node went down" | stats count() as n`}, "allow_partial_response": {"1"}})
		if err != nil {
			t.Fatal(err)
		}
		var row map[string]string
		err = json.NewDecoder(resp.Body).Decode(&row)
		resp.Body.Close()
		if err == nil && row["n"] == strconv.Itoa(len(more)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records sent while a node was down, on the other node: %v, %v; want %d", row, err, len(more))
		}
		time.Sleep(50 * time.Millisecond) // polling the survivor's flush, with a deadline
	}
}
