// Command trace measures blocktorch's transaction replay against geth's own
// debug_traceTransaction with the default struct logger, on the same heavy
// transaction of a real geth --dev: a TraceBench.work loop of hashes,
// storage writes and nested calls as large as one transaction may be.
// Ours runs in a child process so that its peak RSS is its own; geth's peak
// is the growth of its process's high-water mark over the trace.
//
//	go run ./bench/trace
//
// About the size: go-ethereum 1.17's dev chain enforces EIP-7825, which caps
// a transaction at 2^24 (16,777,216) gas, so a single 30M-gas transaction
// cannot exist there; the benchmark fills the cap instead.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/params"
	"github.com/ethereum/go-ethereum/rpc"
)

func main() {
	child := flag.String("child", "", "internal: replay in this process (local|node)")
	url := flag.String("url", "", "internal: node URL for -child")
	tx := flag.String("tx", "", "internal: transaction for -child")
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *url, common.HexToHash(*tx)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-trace:", err)
		os.Exit(1)
	}
}

// runChild replays tx and prints the step count.
func runChild(mode, url string, tx common.Hash) error {
	ctx := context.Background()
	rc, err := rpc.DialContext(ctx, url)
	if err != nil {
		return err
	}
	defer rc.Close()
	dir, err := os.MkdirTemp("", "bench-trace-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	arts := debugger.NewArtifacts()
	in, out := demo.StandardJSON()
	if err := arts.AddStandardJSON(in, out); err != nil {
		return err
	}
	opts := debugger.Options{Dir: dir, Sources: arts, Names: arts}
	var res *debugger.Result
	if mode == "node" {
		res, err = (&debugger.Node{RPC: rc, URL: url}).Replay(ctx, tx, opts)
	} else {
		res, err = (&debugger.Local{RPC: rc}).Replay(ctx, tx, opts)
	}
	if err != nil {
		return err
	}
	fmt.Println(res.Steps)
	return nil
}

type geth struct {
	url  string
	cmd  *exec.Cmd
	dir  string
	done chan struct{}
}

// startGeth runs geth --dev with a block gas limit above the transaction
// cap (gethtest keeps geth's 11.5M default).
func startGeth(ctx context.Context) (*geth, error) {
	bin, err := gethtest.Find()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench-trace-geth-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--dev", "--dev.period", "0", "--dev.gaslimit", "60000000", "--datadir", dir,
		"--http", "--http.addr", "127.0.0.1", "--http.port", strconv.Itoa(port), "--http.api", "eth,net,web3,debug",
		"--nodiscover", "--maxpeers", "0", "--port", "0", "--authrpc.port", "0", "--ipcdisable", "--verbosity", "1",
		"--rpc.txfeecap", "0", "--rpc.gascap", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &geth{url: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, dir: dir, done: make(chan struct{})}
	go func() { cmd.Wait(); close(g.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := rpc.DialContext(ctx, g.url); err == nil {
			var n string
			err = c.CallContext(ctx, &n, "eth_blockNumber")
			c.Close()
			if err == nil {
				return g, nil
			}
		}
		select {
		case <-g.done:
			return nil, fmt.Errorf("geth exited at start")
		case <-time.After(100 * time.Millisecond):
		}
	}
	g.close()
	return nil, fmt.Errorf("geth did not answer")
}

func (g *geth) close() {
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
	}
	os.RemoveAll(g.dir)
}

// hwm reads a process's peak resident set (VmHWM) in bytes.
func hwm(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func run() error {
	ctx := context.Background()
	g, err := startGeth(ctx)
	if err != nil {
		return err
	}
	defer g.close()
	rc, err := rpc.DialContext(ctx, g.url)
	if err != nil {
		return err
	}
	defer rc.Close()
	ec := ethclient.NewClient(rc)
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	if err := demo.Fund(ctx, rc, []common.Address{from}, new(big.Int).Lsh(big.NewInt(1), 80)); err != nil {
		return err
	}
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		return err
	}
	nonce := uint64(0)
	send := func(to *common.Address, data []byte, gas uint64) (*types.Receipt, error) {
		tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
			ChainID: chainID, Nonce: nonce, To: to, Gas: gas, Data: data, GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1),
		})
		if err != nil {
			return nil, err
		}
		nonce++
		if err := ec.SendTransaction(ctx, tx); err != nil {
			return nil, err
		}
		for i := 0; i < 600; i++ {
			r, err := ec.TransactionReceipt(ctx, tx.Hash())
			if err == nil {
				return r, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return nil, fmt.Errorf("transaction %s not mined", tx.Hash())
	}
	arts, err := demo.Artifacts()
	if err != nil {
		return err
	}
	r, err := send(nil, arts["TraceBench"].Bytecode, 5_000_000)
	if err != nil || r.Status != 1 {
		return fmt.Errorf("cannot deploy TraceBench: %v", err)
	}
	bench := r.ContractAddress
	parsed, err := abi.JSON(strings.NewReader(string(arts["TraceBench"].ABI)))
	if err != nil {
		return err
	}
	// Size the loop to the transaction gas cap from two estimates.
	estimate := func(rounds int64) (uint64, error) {
		data, _ := parsed.Pack("work", big.NewInt(rounds))
		return ec.EstimateGas(ctx, ethereum.CallMsg{From: from, To: &bench, Data: data})
	}
	g1, err := estimate(100)
	if err != nil {
		return fmt.Errorf("cannot estimate: %w", err)
	}
	g2, err := estimate(200)
	if err != nil {
		return fmt.Errorf("cannot estimate: %w", err)
	}
	perRound := (g2 - g1) / 100
	rounds := int64((params.MaxTxGas*93/100 - g1) / perRound)
	data, _ := parsed.Pack("work", big.NewInt(rounds+100))
	r, err = send(&bench, data, params.MaxTxGas)
	if err != nil {
		return err
	}
	if r.Status != 1 {
		return fmt.Errorf("the benchmark transaction failed (gas used %d)", r.GasUsed)
	}
	fmt.Printf("transaction: TraceBench.work(%d), %d gas (EIP-7825 caps a transaction at %d)\n\n", rounds+100, r.GasUsed, params.MaxTxGas)

	// geth: the default struct logger, the whole answer read and discarded.
	gethTrace := func() (time.Duration, int64, int64, error) {
		body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": []any{r.TxHash, map[string]any{"timeout": "10m"}}})
		start := time.Now()
		resp, err := http.Post(g.url, "application/json", bytes.NewReader(body))
		if err != nil {
			return 0, 0, 0, err
		}
		var head bytes.Buffer
		n, err := io.Copy(io.MultiWriter(io.Discard, &limitedBuffer{b: &head, n: 512}), resp.Body)
		resp.Body.Close()
		if err == nil && n < 512 {
			err = fmt.Errorf("geth answered %s", head.String())
		}
		return time.Since(start), hwm(g.cmd.Process.Pid), n, err
	}
	baseHWM := hwm(g.cmd.Process.Pid)
	gethTime, gethHWM, gethBytes, err := gethTrace()
	if err != nil {
		return fmt.Errorf("geth trace: %w", err)
	}
	fmt.Printf("geth: %s, %d bytes of JSON\n", gethTime.Round(time.Millisecond), gethBytes)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ours := func(mode string) (time.Duration, int64, string, error) {
		cmd := exec.Command(self, "-child", mode, "-url", g.url, "-tx", r.TxHash.Hex())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil {
			return 0, 0, "", fmt.Errorf("%s replay: %v: %s", mode, err, errb.String())
		}
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
		return d, rss, strings.TrimSpace(out.String()), nil
	}
	localTime, localRSS, steps, err := ours("local")
	if err != nil {
		return err
	}
	fmt.Printf("blocktorch local: %s, %d bytes peak RSS, %s steps\n", localTime.Round(time.Millisecond), localRSS, steps)
	nodeTime, nodeRSS, _, err := ours("node")
	if err != nil {
		return err
	}
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "trace of %s steps\twall time\tpeak RSS\ttime vs geth\n", steps)
	fmt.Fprintf(tw, "geth debug_traceTransaction (struct logger, %s of JSON)\t%s\t%s (+%s over idle)\t1.00×\n", mb(gethBytes), gethTime.Round(time.Millisecond), mb(gethHWM), mb(gethHWM-baseHWM))
	fmt.Fprintf(tw, "blocktorch local replay (state over RPC)\t%s\t%s\t%.2f×\n", localTime.Round(time.Millisecond), mb(localRSS), localTime.Seconds()/gethTime.Seconds())
	fmt.Fprintf(tw, "blocktorch node replay (consumes geth's struct logs)\t%s\t%s\t%.2f×\n", nodeTime.Round(time.Millisecond), mb(nodeRSS), nodeTime.Seconds()/gethTime.Seconds())
	tw.Flush()
	fmt.Printf("\ntargets: ≤ 1.5× geth's time (local: %.2f×), ≤ 300 MB peak RSS (local: %s, node: %s)\n",
		localTime.Seconds()/gethTime.Seconds(), mb(localRSS), mb(nodeRSS))
	return nil
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}
