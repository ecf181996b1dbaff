package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

// Three real `blocktorch serve` processes on one PostgreSQL database and
// one chain: one leads; the leader is killed with SIGKILL while the chain
// grows; another node leads within 10 s, and the index afterwards holds
// every block of the chain once, with the chain's own hashes.
func TestFailoverSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs three nodes")
	}
	bin := filepath.Join(t.TempDir(), "blocktorch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/blocktorch")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ch, err := devchain.Start(devchain.Config{BlockInterval: 200 * time.Millisecond, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	dsn := pgtest.DSN(t)

	type node struct {
		cmd  *exec.Cmd
		url  string
		done chan struct{}
		log  *syncBuffer
	}
	start := func() *node {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		n := &node{url: "http://" + addr, done: make(chan struct{}), log: &syncBuffer{}}
		n.cmd = exec.Command(bin, "serve", "--rpc", ch.WSEndpoint(), "--from", "0", "--addr", addr, "--data", t.TempDir())
		n.cmd.Env = append(os.Environ(), "BLOCKTORCH_DB="+dsn, "BLOCKTORCH_OPERATOR_KEY="+failoverKey)
		n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
		n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { n.cmd.Wait(); close(n.done) }()
		t.Cleanup(func() {
			n.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-n.done:
			case <-time.After(15 * time.Second):
				n.cmd.Process.Kill()
				<-n.done
			}
		})
		return n
	}
	role := func(n *node) (string, string) {
		var st struct {
			Data struct {
				Status struct{ Node, Role string } `json:"status"`
			} `json:"data"`
		}
		if getJSONQuiet(n.url+"/api/v1/status", &st) != nil {
			return "", ""
		}
		return st.Data.Status.Node, st.Data.Status.Role
	}
	nodes := []*node{start(), start(), start()}
	leader := func() int {
		for i, n := range nodes {
			select {
			case <-n.done:
				continue
			default:
			}
			if _, r := role(n); r == store.RoleLeader {
				return i
			}
		}
		return -1
	}
	waitFor(t, "a leader among three nodes", 60*time.Second, func() bool { return leader() >= 0 })
	first := leader()
	for i, n := range nodes {
		if _, r := role(n); i != first && r != store.RoleFollower {
			t.Fatalf("node %d says %q while node %d leads", i, r, first)
		}
	}
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head := func() uint64 {
		h, err := db.Head(t.Context())
		if err != nil {
			return 0
		}
		return h.Number
	}
	waitFor(t, "the leader indexing 10 blocks", 60*time.Second, func() bool { return head() >= 10 })

	nodes[first].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[first].done
	killed := time.Now()
	waitFor(t, "another node to lead", 10*time.Second, func() bool { return leader() >= 0 })
	took := time.Since(killed)
	t.Logf("node %d leads %v after node %d was killed", leader(), took.Round(time.Millisecond), first)
	before := head()
	waitFor(t, fmt.Sprintf("the new leader indexing past %d", before+10), 60*time.Second, func() bool { return head() >= before+10 })
	for i, n := range nodes {
		select {
		case <-n.done:
			if i != first {
				t.Fatalf("node %d exited:\n%s", i, n.log.String())
			}
		default:
		}
	}

	// The index equals the chain: every block once, the chain's hashes.
	to := head()
	blocks, err := db.BlockRange(t.Context(), 0, to)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ethclient.Dial(ch.WSEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if uint64(len(blocks)) != to+1 {
		t.Fatalf("the index holds %d blocks for 0..%d", len(blocks), to)
	}
	for i, b := range blocks {
		h, err := ec.HeaderByNumber(ctx, new(big.Int).SetUint64(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if b.Number != uint64(i) || b.Hash != h.Hash() {
			t.Fatalf("indexed block %d is number %d hash %s; the chain's is %s", i, b.Number, b.Hash, h.Hash())
		}
	}
	if !strings.Contains(nodes[leader()].log.String(), "this node leads") {
		t.Errorf("the new leader did not log that it leads")
	}
}

// failoverKey is the nodes' operator key: a server with accounts answers
// its API only to a known caller.
const failoverKey = "failover-operator-key-0123456789"

// getJSONQuiet GETs url into v with the operator key; a node that is down
// is an error, not a failure.
func getJSONQuiet(url string, v any) error {
	c := http.Client{Timeout: 2 * time.Second}
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+failoverKey)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// syncBuffer collects a child's output while the test reads it.
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
