package gethtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ethereum/go-ethereum/rpc"
)

// Options configure a node.
type Options struct {
	// Binary is the geth executable; empty means Find().
	Binary string
	// Debug exposes the debug API over HTTP (debug_traceTransaction).
	Debug bool
	// Period is the dev block period in seconds; 0 seals a block per
	// pending transaction batch, as soon as it arrives.
	Period int
	// Archive keeps the state of every block (--gcmode archive).
	Archive bool
}

// Node is a running geth --dev.
type Node struct {
	URL     string // HTTP JSON-RPC
	WSURL   string // WebSocket JSON-RPC
	DataDir string
	cmd     *exec.Cmd
	out     *lockedBuffer
	done    chan struct{}
}

// Find locates the geth binary: $BLOCKTORCH_GETH, else the newest
// bin/geth-* of the enclosing module (what `make geth` builds).
func Find() (string, error) {
	if p := os.Getenv("BLOCKTORCH_GETH"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BLOCKTORCH_GETH=%s: %w (run `make geth`)", p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			matches, _ := filepath.Glob(filepath.Join(dir, "bin", "geth-*"))
			if len(matches) > 0 {
				sort.Strings(matches)
				return matches[len(matches)-1], nil
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("geth not found: run `make geth` (builds it from the Go module proxy) or set BLOCKTORCH_GETH")
}

// Start launches geth --dev with a fresh data directory and waits until it
// answers JSON-RPC.
func Start(ctx context.Context, o Options) (*Node, error) {
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = Find(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "blocktorch-geth-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	wsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	apis := "eth,net,web3,txpool"
	if o.Debug {
		apis += ",debug"
	}
	args := []string{
		"--dev", "--dev.period", strconv.Itoa(o.Period), "--datadir", dir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(port), "--http.api", apis,
		"--ws", "--ws.addr", "127.0.0.1", "--ws.port", strconv.Itoa(wsPort), "--ws.api", apis,
		"--nodiscover", "--maxpeers", "0", "--port", "0", "--authrpc.port", "0", "--ipcdisable",
		"--verbosity", "2", "--rpc.txfeecap", "0",
	}
	if o.Archive {
		args = append(args, "--gcmode", "archive", "--state.scheme", "hash")
	}
	cmd := exec.Command(bin, args...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("cannot start %s: %w", bin, err)
	}
	n := &Node{URL: fmt.Sprintf("http://127.0.0.1:%d", port), WSURL: fmt.Sprintf("ws://127.0.0.1:%d", wsPort), DataDir: dir, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { cmd.Wait(); close(n.done) }()
	if err := n.waitReady(ctx); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		c, err := rpc.DialContext(ctx, n.URL)
		if err == nil {
			var num string
			err = c.CallContext(ctx, &num, "eth_blockNumber")
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("geth exited at start:\n%s", n.Output())
		case <-ctx.Done():
			return fmt.Errorf("geth did not answer within 60s: %w\n%s", err, n.Output())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Output returns what geth printed so far (for failure messages).
func (n *Node) Output() string { return n.out.String() }

// Close stops geth and removes its data directory.
func (n *Node) Close() error {
	if n.cmd.Process != nil {
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(10 * time.Second):
			syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
			<-n.done
		}
	}
	return os.RemoveAll(n.DataDir)
}

// Pid returns the process id (for RSS measurements).
func (n *Node) Pid() int { return n.cmd.Process.Pid }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the tail only: geth may log for a long time.
	if b.buf.Len() > 1<<20 {
		tail := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-(256<<10):]...)
		b.buf.Reset()
		b.buf.Write(tail)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
