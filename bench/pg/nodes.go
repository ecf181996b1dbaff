package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/gethtest"
)

// The HTTP phase: real `blocktorch serve` processes follow a real geth
// --dev filled with transfers, one on SQLite and one on PostgreSQL, then
// the same clients read the API from one node and, on PostgreSQL, from
// several nodes sharing the database (reads spread across them).

// node is a running `blocktorch serve`.
type node struct {
	url string
	cmd *exec.Cmd
	out *lockedBuffer
	// done is closed when the process has exited, with err its status.
	done chan struct{}
	err  error
}

func startNode(bin, rpcURL, db, dataDir string) (*node, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "serve", "--rpc", rpcURL, "--db", db, "--data", dataDir, "--addr", addr, "--from", "0")
	cmd.Env = append(os.Environ(), "BLOCKTORCH_OPERATOR_KEY="+benchKey)
	n := &node{url: "http://" + addr, cmd: cmd, out: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = n.out, n.out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		n.err = cmd.Wait()
		close(n.done)
	}()
	return n, nil
}

// benchKey is the nodes' operator key: a server with accounts answers its
// API only to a known caller.
const benchKey = "bench-pg-operator-key-0123456789"

// apiGet is a GET of a node's API with the operator key.
func apiGet(url string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	req.Header.Set("Authorization", "Bearer "+benchKey)
	return req
}

func (n *node) stop() {
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// head is the newest block the node's API lists, or an error when it does
// not answer (yet).
func (n *node) head(c *http.Client) (uint64, error) {
	resp, err := c.Do(apiGet(n.url + "/api/v1/blocks?limit=1"))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var env struct {
		Data []struct{ Number uint64 } `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("HTTP %d %v", resp.StatusCode, err)
	}
	if len(env.Data) == 0 {
		return 0, nil
	}
	return env.Data[0].Number, nil
}

// waitSynced polls the node until its API lists block target, and returns
// the time that took from the node's start.
func (n *node) waitSynced(c *http.Client, start time.Time, target uint64) (time.Duration, error) {
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-n.done:
			return 0, fmt.Errorf("the node exited (%v):\n%s", n.err, tail(n.out.String()))
		default:
		}
		if h, err := n.head(c); err == nil && h >= target {
			return time.Since(start), nil
		}
		time.Sleep(50 * time.Millisecond) // polling an external process, with a deadline
	}
	return 0, fmt.Errorf("the node did not reach block %d in 10 minutes:\n%s", target, tail(n.out.String()))
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// fillGeth sends txs transfers from the dev account to 50 addresses and
// returns their hashes, the addresses and the head once all are mined.
func fillGeth(ctx context.Context, rc *rpc.Client, txs int) ([]common.Hash, []common.Address, uint64, error) {
	var accounts []common.Address
	if err := rc.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		return nil, nil, 0, fmt.Errorf("geth has no dev account: %v", err)
	}
	to := make([]common.Address, 50)
	for i := range to {
		to[i] = common.BytesToAddress([]byte{0xbe, 0xef, byte(i + 1)})
	}
	var nonce hexutil.Uint64
	if err := rc.CallContext(ctx, &nonce, "eth_getTransactionCount", accounts[0], "pending"); err != nil {
		return nil, nil, 0, err
	}
	var hashes []common.Hash
	const batch = 20
	for sent := 0; sent < txs; sent += batch {
		elems := make([]rpc.BatchElem, min(batch, txs-sent))
		out := make([]common.Hash, len(elems))
		for i := range elems {
			elems[i] = rpc.BatchElem{Method: "eth_sendTransaction", Result: &out[i], Args: []any{map[string]any{
				"from": accounts[0], "to": to[(sent+i)%len(to)], "value": hexutil.Big(*common.Big1), "gas": hexutil.Uint64(21000),
				"nonce": nonce + hexutil.Uint64(sent+i)}}}
		}
		if err := rc.BatchCallContext(ctx, elems); err != nil {
			return nil, nil, 0, err
		}
		for i, e := range elems {
			if e.Error != nil {
				return nil, nil, 0, fmt.Errorf("eth_sendTransaction: %w", e.Error)
			}
			hashes = append(hashes, out[i])
		}
		// Each batch mined before the next is sent: a block per batch.
		deadline := time.Now().Add(time.Minute)
		for {
			var r map[string]any
			if err := rc.CallContext(ctx, &r, "eth_getTransactionReceipt", hashes[len(hashes)-1]); err == nil && r != nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, nil, 0, errors.New("geth did not mine a batch of transfers in a minute")
			}
			time.Sleep(5 * time.Millisecond) // polling an external process, with a deadline
		}
	}
	var head hexutil.Uint64
	if err := rc.CallContext(ctx, &head, "eth_blockNumber"); err != nil {
		return nil, nil, 0, err
	}
	return hashes, to, uint64(head), nil
}

type httpRun struct {
	name    string
	lat     map[string][]time.Duration
	perSec  float64
	failure string
}

// readAPI runs clients goroutines, client i reading from nodes[i%len],
// each doing reads requests of every kind.
func readAPI(nodes []*node, clients, reads int, hashes []common.Hash, addrs []common.Address) (httpRun, error) {
	r := httpRun{lat: map[string][]time.Duration{}}
	kinds := []struct {
		name string
		path func(i int) string
	}{
		{"latest 50 blocks", func(int) string { return "/api/v1/blocks?limit=50" }},
		{"tx by hash", func(i int) string { return "/api/v1/txs/" + hashes[(i*7919)%len(hashes)].Hex() }},
		{"address's 50 txs", func(i int) string { return "/api/v1/txs?limit=50&address=" + addrs[i%len(addrs)].Hex() }},
		{"failed 50 txs", func(int) string { return "/api/v1/txs?limit=50&status=failed" }},
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	start := time.Now()
	for c := range clients {
		base := nodes[c%len(nodes)].url
		wg.Go(func() {
			hc := &http.Client{Timeout: 30 * time.Second}
			local := map[string][]time.Duration{}
			for i := range reads {
				for _, k := range kinds {
					t0 := time.Now()
					resp, err := hc.Do(apiGet(base + k.path(i+c*reads)))
					if err == nil {
						_, err = bytes.NewBuffer(nil).ReadFrom(resp.Body)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("%s: HTTP %d", k.path(i), resp.StatusCode)
						}
					}
					if err != nil {
						mu.Lock()
						errs = append(errs, err)
						mu.Unlock()
						return
					}
					local[k.name] = append(local[k.name], time.Since(t0))
				}
			}
			mu.Lock()
			for k, v := range local {
				r.lat[k] = append(r.lat[k], v...)
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return r, errs[0]
	}
	r.perSec = float64(clients*reads*len(kinds)) / time.Since(start).Seconds()
	return r, nil
}

// benchNodes is the HTTP phase.
func benchNodes(ctx context.Context, pgURL string, nnodes, clients, txs, reads int) error {
	dir, err := os.MkdirTemp("", "bench-pg-nodes-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "blocktorch")
	fmt.Println("building blocktorch…")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/blocktorch").CombinedOutput(); err != nil {
		return fmt.Errorf("cannot build blocktorch (run make ui first): %v\n%s", err, out)
	}
	geth, err := gethtest.Start(ctx, gethtest.Options{})
	if err != nil {
		return err
	}
	defer geth.Close()
	rc, err := rpc.DialContext(ctx, geth.URL)
	if err != nil {
		return err
	}
	defer rc.Close()
	fmt.Printf("filling geth --dev with %d transfers…\n", txs)
	hashes, addrs, head, err := fillGeth(ctx, rc, txs)
	if err != nil {
		return err
	}
	fmt.Printf("geth --dev: %d blocks, %d transfers; %d clients × %d reads of each kind\n\n", head, len(hashes), clients, reads)
	hc := &http.Client{Timeout: 5 * time.Second}

	var runs []httpRun
	type syncTime struct {
		name string
		d    time.Duration
	}
	var syncs []syncTime
	// SQLite: one node.
	{
		t0 := time.Now()
		n, err := startNode(bin, geth.URL, "sqlite:"+filepath.Join(dir, "lite", "blocktorch.db"), filepath.Join(dir, "lite"))
		if err != nil {
			return err
		}
		d, err := n.waitSynced(hc, t0, head)
		if err != nil {
			n.stop()
			return fmt.Errorf("sqlite node: %w", err)
		}
		syncs = append(syncs, syncTime{"sqlite", d})
		r, err := readAPI([]*node{n}, clients, reads, hashes, addrs)
		n.stop()
		if err != nil {
			return fmt.Errorf("sqlite node: %w", err)
		}
		r.name = "sqlite, 1 node"
		runs = append(runs, r)
	}
	// PostgreSQL: one node, then nnodes on the same database.
	{
		dsn, drop, err := throwaway(ctx, pgURL)
		if err != nil {
			return err
		}
		defer drop()
		t0 := time.Now()
		first, err := startNode(bin, geth.URL, dsn, filepath.Join(dir, "pg1"))
		if err != nil {
			return err
		}
		nodes := []*node{first}
		defer func() {
			for _, n := range nodes {
				n.stop()
			}
		}()
		d, err := first.waitSynced(hc, t0, head)
		if err != nil {
			return fmt.Errorf("postgres node: %w", err)
		}
		syncs = append(syncs, syncTime{"postgres", d})
		r, err := readAPI(nodes, clients, reads, hashes, addrs)
		if err != nil {
			return fmt.Errorf("postgres node: %w", err)
		}
		r.name = "postgres, 1 node"
		runs = append(runs, r)
		multi := httpRun{name: fmt.Sprintf("postgres, %d nodes", nnodes), lat: map[string][]time.Duration{}}
		for i := 2; i <= nnodes && multi.failure == ""; i++ {
			n, err := startNode(bin, geth.URL, dsn, filepath.Join(dir, "pg"+strconv.Itoa(i)))
			if err != nil {
				return err
			}
			nodes = append(nodes, n)
			if _, err := n.waitSynced(hc, time.Now(), head); err != nil {
				multi.failure = fmt.Sprintf("node %d did not serve: %v", i, firstLine(err.Error()))
			}
		}
		if multi.failure == "" {
			if multi, err = readAPI(nodes, clients, reads, hashes, addrs); err != nil {
				return fmt.Errorf("postgres nodes: %w", err)
			}
			multi.name = fmt.Sprintf("postgres, %d nodes", nnodes)
		}
		runs = append(runs, multi)
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "serve: index geth --dev from block 0\tblocks\tseconds (process start to synced)\tblocks/s\t\n")
	for _, s := range syncs {
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%.0f\t\n", s.name, head, s.d.Seconds(), float64(head)/s.d.Seconds())
	}
	fmt.Fprintln(w, "\t\t\t\t")
	fmt.Fprintf(w, "API over HTTP, %d clients (p50 / p95)\t", clients)
	for _, r := range runs {
		fmt.Fprintf(w, "%s\t", r.name)
	}
	fmt.Fprintln(w)
	for _, k := range []string{"latest 50 blocks", "tx by hash", "address's 50 txs", "failed 50 txs"} {
		fmt.Fprintf(w, "%s\t", k)
		for _, r := range runs {
			if r.failure != "" {
				fmt.Fprintf(w, "—\t")
				continue
			}
			fmt.Fprintf(w, "%s / %s\t", ms(pct(r.lat[k], .5)), ms(pct(r.lat[k], .95)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "requests/s\t")
	for _, r := range runs {
		if r.failure != "" {
			fmt.Fprintf(w, "—\t")
			continue
		}
		fmt.Fprintf(w, "%.0f\t", r.perSec)
	}
	fmt.Fprintln(w)
	w.Flush()
	for _, r := range runs {
		if r.failure != "" {
			fmt.Printf("\n%s: not measured: %s\n", r.name, r.failure)
		}
	}
	return nil
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i] + " " + lastLine(s)
	}
	return s
}

func lastLine(s string) string {
	b := bytes.TrimRight([]byte(s), "\n")
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return string(b[i+1:])
	}
	return string(b)
}

// lockedBuffer is a node's output, written by its process while the
// benchmark reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
