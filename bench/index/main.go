// Command index measures blocktorch's indexing throughput against the naive
// baseline (one eth_getBlockByNumber, then one eth_getTransactionReceipt per
// transaction, sequentially, as ethereum-etl does without batching), over
// HTTP JSON-RPC, on a real geth --dev and on the embedded chain, both filled
// with demo traffic. Each indexer runs in a child process so that its peak
// RSS is its own.
//
//	go run ./bench/index [-blocks 10000]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/indexer"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

func main() {
	blocks := flag.Uint64("blocks", 10000, "blocks of demo traffic to index")
	child := flag.String("child", "", "internal: run one indexer (blocktorch|baseline) in this process")
	url := flag.String("url", "", "internal: node URL for -child")
	abis := flag.String("abis", "", "internal: JSON file of contract ABIs for -child")
	chains := flag.String("chains", "geth,embedded", "which chains to measure")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of each blocktorch indexing run to this file prefix")
	flag.Parse()
	profilePrefix = *cpuprofile
	if *child != "" {
		if err := runChild(*child, *url, *abis, *blocks); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(*blocks, *chains); err != nil {
		fmt.Fprintln(os.Stderr, "bench-index:", err)
		os.Exit(1)
	}
}

type result struct {
	chain, indexer    string
	blocks, txs, logs uint64
	seconds           float64
	peakRSSMB         float64
}

func run(n uint64, chains string) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "bench-index-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var results []result

	keys := demo.Keys(10)
	if strings.Contains(chains, "geth") {
		if err := benchGeth(ctx, n, dir, keys, &results); err != nil {
			return err
		}
	}
	if strings.Contains(chains, "embedded") {
		if err := benchEmbedded(ctx, n, dir, keys, &results); err != nil {
			return err
		}
	}
	report(results)
	return nil
}

func benchGeth(ctx context.Context, n uint64, dir string, keys []*ecdsaKey, results *[]result) error {
	// geth --dev over HTTP.
	fmt.Printf("starting geth --dev and filling %d blocks with demo traffic…\n", n)
	node, err := gethtest.Start(ctx, gethtest.Options{})
	if err != nil {
		return err
	}
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		return err
	}
	if err := demo.Fund(ctx, rc, demo.Addresses(keys), new(big.Int).Mul(big.NewInt(1_000_000), big.NewInt(1e18))); err != nil {
		return err
	}
	app, err := fill(ctx, ethclient.NewClient(rc), keys, n, nil)
	if err != nil {
		return err
	}
	abiFile, err := writeABIs(dir, "geth", app)
	if err != nil {
		return err
	}
	for _, ix := range []string{"baseline", "blocktorch"} {
		r, err := measure(ix, "geth --dev", node.URL, abiFile, n)
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %d blocks in %.2fs (%.0f blocks/s), peak RSS %.0f MB\n", ix, r.blocks, r.seconds, float64(r.blocks)/r.seconds, r.peakRSSMB)
		*results = append(*results, r)
	}
	rc.Close()
	node.Close()
	return nil
}

func benchEmbedded(ctx context.Context, n uint64, dir string, keys []*ecdsaKey, results *[]result) error {
	// The embedded chain over HTTP.
	fmt.Printf("starting the embedded chain and filling %d blocks…\n", n)
	ch, err := devchain.Start(devchain.Config{BlockInterval: -1, Alloc: demo.Alloc(keys), RPCAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	// Not closed: the process ends after the report, and closing an
	// in-memory chain of thousands of blocks waits a long time for its
	// freezer.
	app, err := fill(ctx, ethclient.NewClient(ch.Client()), keys, n, ch)
	if err != nil {
		return err
	}
	abiFile, err := writeABIs(dir, "embedded", app)
	if err != nil {
		return err
	}
	for _, ix := range []string{"baseline", "blocktorch"} {
		r, err := measure(ix, "embedded", ch.HTTPEndpoint(), abiFile, n)
		if err != nil {
			return err
		}
		fmt.Printf("  %s: %d blocks in %.2fs (%.0f blocks/s), peak RSS %.0f MB\n", ix, r.blocks, r.seconds, float64(r.blocks)/r.seconds, r.peakRSSMB)
		*results = append(*results, r)
	}
	return nil
}

// fill deploys the demo app and sends traffic until the chain has n blocks.
// commit seals blocks on the embedded chain; geth --dev seals by itself.
func fill(ctx context.Context, ec *ethclient.Client, keys []*ecdsaKey, n uint64, ch *devchain.Chain) (*demo.App, error) {
	stop := make(chan struct{})
	if ch != nil {
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					ch.Commit()
				}
			}
		}()
	}
	app, err := demo.Deploy(ctx, ec, keys[demo.Deployer])
	close(stop)
	if err != nil {
		return nil, err
	}
	tr, err := demo.NewTraffic(app, ec, keys, demo.Options{Rate: 25, Seed: 42})
	if err != nil {
		return nil, err
	}
	start, last := time.Now(), time.Now()
	for {
		head, err := ec.BlockNumber(ctx)
		if err != nil {
			return nil, err
		}
		if head >= n {
			break
		}
		if err := tr.Step(ctx); err != nil {
			return nil, err
		}
		if ch != nil {
			ch.Commit()
		}
		if time.Since(last) > 2*time.Second {
			fmt.Printf("  %d/%d blocks (%.0f blocks/s)\n", head, n, float64(head)/time.Since(start).Seconds())
			last = time.Now()
		}
	}
	// Let geth seal what is still pending.
	time.Sleep(500 * time.Millisecond)
	return app, nil
}

func measure(which, chainName, url, abiFile string, n uint64) (result, error) {
	fmt.Printf("indexing %d blocks of %s with %s…\n", n, chainName, which)
	cmd := exec.Command(os.Args[0], "-child", which, "-url", url, "-abis", abiFile, "-blocks", strconv.FormatUint(n, 10), "-cpuprofile", profilePrefix)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, fmt.Errorf("%s on %s: %w", which, chainName, err)
	}
	var r result
	var line struct {
		Blocks, Txs, Logs, PeakRSSKB uint64
		Seconds                      float64
	}
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &line); err != nil {
		return r, fmt.Errorf("%s: bad child output %q: %w", which, out, err)
	}
	return result{chain: chainName, indexer: which, blocks: line.Blocks, txs: line.Txs, logs: line.Logs, seconds: line.Seconds,
		peakRSSMB: float64(line.PeakRSSKB) / 1024}, nil
}

func report(rs []result) {
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "chain\tindexer\tblocks\ttxs\tlogs\tseconds\tblocks/s\ttxs/s\tlogs/s\tpeak RSS MB\tvs baseline\t")
	var base float64
	for _, r := range rs {
		bps := float64(r.blocks) / r.seconds
		ratio := "1.00×"
		if r.indexer == "baseline" {
			base = bps
		} else if base > 0 {
			ratio = fmt.Sprintf("%.2f×", bps/base)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%.2f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t\n", r.chain, r.indexer, r.blocks, r.txs, r.logs, r.seconds,
			bps, float64(r.txs)/r.seconds, float64(r.logs)/r.seconds, r.peakRSSMB, ratio)
	}
	w.Flush()
	fmt.Println("\nbaseline: sequential eth_getBlockByNumber + one eth_getTransactionReceipt per tx, JSON decoded, nothing stored;")
	fmt.Println("blocktorch: batched blocks + eth_getBlockReceipts, revert data for failed txs, ABI decoding, SQLite writes.")
}

// peakRSSKB reads the process's own peak RSS (VmHWM). The rusage of a
// child is no good here: on Linux its maxrss keeps the parent's peak from
// before exec, and the parent holds a whole chain.
func peakRSSKB() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// profilePrefix is -cpuprofile, passed on to the children.
var profilePrefix string

func runChild(which, url, abiFile string, n uint64) error {
	ctx := context.Background()
	if profilePrefix != "" && which == "blocktorch" {
		f, err := os.Create(fmt.Sprintf("%s-%d.pprof", profilePrefix, os.Getpid()))
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	var b, t, l uint64
	switch which {
	case "baseline":
		c, err := rpc.DialContext(ctx, url)
		if err != nil {
			return err
		}
		for num := uint64(0); num <= n; num++ {
			var blk struct {
				Transactions []struct {
					Hash string `json:"hash"`
				} `json:"transactions"`
			}
			if err := c.CallContext(ctx, &blk, "eth_getBlockByNumber", hexutil.Uint64(num), true); err != nil {
				return err
			}
			b++
			for _, tx := range blk.Transactions {
				var r struct {
					Logs []json.RawMessage `json:"logs"`
				}
				if err := c.CallContext(ctx, &r, "eth_getTransactionReceipt", tx.Hash); err != nil {
					return err
				}
				t++
				l += uint64(len(r.Logs))
			}
		}
	case "blocktorch":
		dir, err := os.MkdirTemp("", "bench-index-db-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		st, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			return err
		}
		defer st.Close()
		quiet := slog.New(slog.DiscardHandler)
		rc, err := ethrpc.Dial(ctx, url, ethrpc.Options{Logger: quiet})
		if err != nil {
			return err
		}
		reg := decode.NewRegistry()
		if err := loadABIs(reg, abiFile); err != nil {
			return err
		}
		ix := indexer.New(rc, st, indexer.Config{BatchSize: 100, Decode: reg.DecodeTx, Logger: quiet,
			Hooks: indexer.Hooks{OnBatch: func(bi indexer.BatchInfo) {
				b += bi.To - bi.From + 1
				t += uint64(bi.Txs)
				l += uint64(bi.Logs)
			}}})
		for {
			done, err := ix.Step(ctx)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	default:
		return fmt.Errorf("unknown indexer %q", which)
	}
	out, _ := json.Marshal(map[string]any{"Blocks": b, "Txs": t, "Logs": l, "Seconds": time.Since(start).Seconds(), "PeakRSSKB": peakRSSKB()})
	fmt.Println(string(out))
	return nil
}
