package ethrpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
	"github.com/blocktorch/blocktorch/internal/ethrpc/ethrpctest"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// fastOptions retry quickly so that fault tests take milliseconds.
func fastOptions() ethrpc.Options {
	return ethrpc.Options{
		Timeout:    2 * time.Second,
		MaxRetries: 4,
		BackoffMin: time.Millisecond,
		BackoffMax: 5 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func dial(t testing.TB, url string, o ethrpc.Options) *ethrpc.Client {
	t.Helper()
	c, err := ethrpc.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// sameBlocks compares blocks through their JSON form, which is what the
// store and API see (big.Int internals differ between equal values).
func sameBlocks(t *testing.T, got, want []chain.Block) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d blocks, want %d", len(got), len(want))
	}
	for i := range want {
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(want[i])
		if !bytes.Equal(g, w) {
			t.Fatalf("block %d differs:\n got %s\nwant %s", want[i].Number, g, w)
		}
	}
}

func TestBlocks(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 100, TxsPerBlock: 10, LogsPerTx: 2, FailEvery: 7, DepositEvery: 5, CreateEvery: 11})
	for _, tc := range []struct {
		name          string
		blockReceipts bool
		maxHTTP       int
		receiptMethod string
		receiptCalls  int
	}{
		{"block receipts", true, 3, "eth_getBlockReceipts", 100},
		{"receipt per tx", false, 11, "eth_getTransactionReceipt", 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ethrpctest.NewServer(t, c.Recording(tc.blockReceipts, false))
			// This counts the requests of a fetch that meets no fault: a
			// deadline that a loaded machine can miss (a batch of 100
			// receipts under -race) would add retries it does not count.
			o := fastOptions()
			o.Timeout = time.Minute
			client := dial(t, srv.URL, o)
			caps, err := client.Probe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if caps.BlockReceipts != tc.blockReceipts || caps.ChainID.Int64() != 1337 || caps.Debug || caps.Subscriptions {
				t.Fatalf("capabilities %+v", caps)
			}
			srv.ResetCounts()
			got, err := client.Blocks(context.Background(), 1, 100)
			if err != nil {
				t.Fatal(err)
			}
			sameBlocks(t, got, c.Blocks[1:])
			if n := srv.HTTPRequests(""); n > tc.maxHTTP {
				t.Errorf("%d HTTP requests, want at most %d (counts %v)", n, tc.maxHTTP, srv.Counts())
			}
			if n := srv.Requests(tc.receiptMethod); n != tc.receiptCalls {
				t.Errorf("%d %s calls, want %d", n, tc.receiptMethod, tc.receiptCalls)
			}
		})
	}
}

// TestBlocksFaults injects one fault per case while fetching blocks 1-30
// with block receipts and checks that the client retries and succeeds, or
// fails with a clear error after MaxRetries and returns no blocks.
func TestBlocksFaults(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 40, TxsPerBlock: 4, LogsPerTx: 1})
	const getBlock, getReceipts = "eth_getBlockByNumber", "eth_getBlockReceipts"
	otherHash := common.HexToHash("0xdead")
	for _, tc := range []struct {
		name        string
		method      string
		times       int // <= 0: every time
		fault       ethrpctest.Fault
		retries     int    // retries the client should make
		wantErr     error  // nil: success expected
		wantMessage string // substring of the error
	}{
		{name: "HTTP 500", method: getBlock, times: 2, fault: ethrpctest.StatusCode(500), retries: 2},
		{name: "HTTP 502 on receipts", method: getReceipts, times: 1, fault: ethrpctest.StatusCode(502), retries: 1},
		{name: "HTTP 429", method: getBlock, times: 1, fault: ethrpctest.TooManyRequests(time.Second), retries: 1},
		{name: "slower than the timeout", method: getBlock, times: 1, fault: ethrpctest.Delay(time.Minute), retries: 1},
		{name: "truncated body", method: getReceipts, times: 1, fault: ethrpctest.Truncate(), retries: 1},
		{name: "block with wrong number", method: getBlock, times: 1, fault: ethrpctest.Mutate(ethrpctest.SetField("number", "0x3e8")), retries: 1},
		{name: "null block", method: getBlock, times: 1, fault: ethrpctest.Null(), retries: 1},
		{name: "receipt list missing an entry", method: getReceipts, times: 1, fault: ethrpctest.Mutate(ethrpctest.DropLast()), retries: 1},
		// Answer faults count calls: the first batch of receipts takes all three.
		{name: "header not found", method: getReceipts, times: 3, fault: ethrpctest.Error(-32000, "header not found"), retries: 1},
		{name: "header not found twice", method: getReceipts, times: 31, fault: ethrpctest.Error(-32000, "header not found"), retries: 2},
		{name: "internal error", method: getBlock, times: 1, fault: ethrpctest.Error(-32603, "internal error"), retries: 1},
		{name: "receipts of a reorged block", method: getReceipts, times: 1, fault: ethrpctest.Mutate(setEachField("blockHash", otherHash)), retries: 1},
		{name: "invalid params is not retried", method: getBlock, times: 1,
			fault: ethrpctest.Error(-32602, "invalid argument 0"), wantErr: errors.New("invalid argument 0"),
			wantMessage: "cannot fetch blocks 1-30: block 1: eth_getBlockByNumber: invalid argument 0"},
		{name: "receipt list always short", method: getReceipts, times: 0, fault: ethrpctest.Mutate(ethrpctest.DropLast()),
			retries: 4, wantErr: ethrpc.ErrMalformed,
			wantMessage: "cannot fetch blocks 1-30 (gave up after 5 attempts): receipt count 3 != tx count 4 for block 1: malformed answer"},
		{name: "block always ahead", method: getBlock, times: 0, fault: ethrpctest.Mutate(ethrpctest.SetField("number", "0x3e8")),
			retries: 4, wantErr: ethrpc.ErrMalformed, wantMessage: "block number 1000 != requested 1: malformed answer"},
		{name: "block never available", method: getBlock, times: 0, fault: ethrpctest.Null(),
			retries: 4, wantErr: ethrpc.ErrNotAvailable, wantMessage: "block 1: not available yet"},
		{name: "always HTTP 503", method: getBlock, times: 0, fault: ethrpctest.StatusCode(503),
			retries: 4, wantErr: rpc.HTTPError{}, wantMessage: "503 Service Unavailable"},
		{name: "always truncated", method: getReceipts, times: 0, fault: ethrpctest.Truncate(),
			retries: 4, wantErr: ethrpc.ErrMalformed, wantMessage: "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := ethrpctest.NewServer(t, c.Recording(true, false))
			o := fastOptions()
			if tc.name == "slower than the timeout" {
				// Only here: a short timeout elsewhere would add retries of
				// its own on a loaded machine, where 30 blocks can take longer.
				// 3 s, not less: at load 25 a fault-free batch took over
				// 300 ms and was retried too. The delayed answer gives up
				// when the client does.
				o.Timeout = 3 * time.Second
			}
			if tc.name == "HTTP 429" {
				o.BackoffMax = 200 * time.Millisecond
			}
			var retries atomic.Int32
			o.Hooks.OnRetry = func(method string, attempt int, err error) { retries.Add(1) }
			client := dial(t, srv.URL, o)
			if _, err := client.Probe(context.Background()); err != nil {
				t.Fatal(err)
			}
			srv.Inject(tc.method, tc.times, tc.fault)
			start := time.Now()
			got, err := client.Blocks(context.Background(), 1, 30)
			elapsed := time.Since(start)
			if int(retries.Load()) != tc.retries {
				t.Errorf("%d retries, want %d (err %v)", retries.Load(), tc.retries, err)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				sameBlocks(t, got, c.Blocks[1:31])
				if tc.name == "HTTP 429" && elapsed < 150*time.Millisecond {
					t.Errorf("retried after %v, want Retry-After honoured up to BackoffMax", elapsed)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			if got != nil {
				t.Fatalf("got %d blocks with the error, want none", len(got))
			}
			var he rpc.HTTPError
			switch {
			case errors.As(tc.wantErr, &he):
				if !errors.As(err, &he) {
					t.Errorf("error %v is not an HTTP error", err)
				}
			case errors.Is(tc.wantErr, ethrpc.ErrMalformed), errors.Is(tc.wantErr, ethrpc.ErrNotAvailable):
				if !errors.Is(err, tc.wantErr) {
					t.Errorf("error %v is not %v", err, tc.wantErr)
				}
			}
			if !strings.Contains(err.Error(), tc.wantMessage) {
				t.Errorf("error %q does not say %q", err, tc.wantMessage)
			}
		})
	}
}

// setEachField sets key on every object of an array result.
func setEachField(key string, value any) func(json.RawMessage) json.RawMessage {
	set := ethrpctest.SetField(key, value)
	return func(res json.RawMessage) json.RawMessage {
		var list []json.RawMessage
		if json.Unmarshal(res, &list) != nil {
			return res
		}
		for i := range list {
			list[i] = set(list[i])
		}
		out, _ := json.Marshal(list)
		return out
	}
}

func TestBlocksCancel(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 5, TxsPerBlock: 1})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	o := fastOptions()
	o.BackoffMin, o.BackoffMax = time.Hour, time.Hour
	client := dial(t, srv.URL, o)
	if _, err := client.Probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Inject("eth_getBlockByNumber", 0, ethrpctest.StatusCode(500))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := client.Blocks(ctx, 1, 5)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the caller's deadline", err)
	}
}

func TestBlocksFallBackToTxReceipts(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 5, TxsPerBlock: 3})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	client := dial(t, srv.URL, fastOptions())
	if caps, err := client.Probe(context.Background()); err != nil || !caps.BlockReceipts {
		t.Fatalf("probe: %+v, %v", caps, err)
	}
	// A backend behind the same URL that lacks the method.
	srv.Inject("eth_getBlockReceipts", 0, ethrpctest.Error(-32601, "the method eth_getBlockReceipts does not exist/is not available"))
	got, err := client.Blocks(context.Background(), 1, 5)
	if err != nil {
		t.Fatal(err)
	}
	sameBlocks(t, got, c.Blocks[1:])
	if n := srv.Requests("eth_getTransactionReceipt"); n != 15 {
		t.Errorf("%d receipt calls, want 15", n)
	}
}

func TestBlockRefs(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 30, TxsPerBlock: 2})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	o := fastOptions()
	o.BatchSize = 8
	client := dial(t, srv.URL, o)
	numbers := []uint64{30, 0, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 29}
	refs, err := client.BlockRefs(context.Background(), numbers)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range numbers {
		if refs[i] != c.Blocks[n].Ref() {
			t.Errorf("ref %d: %+v, want %+v", i, refs[i], c.Blocks[n].Ref())
		}
	}
	if n := srv.HTTPRequests("eth_getBlockByNumber"); n != 2 {
		t.Errorf("%d HTTP requests for %d refs in batches of 8, want 2", n, len(numbers))
	}
	ref, err := client.BlockRef(context.Background(), 3)
	if err != nil || ref != c.Blocks[3].Ref() {
		t.Fatalf("BlockRef(3) = %+v, %v", ref, err)
	}
	if _, err := client.BlockRef(context.Background(), 31); !errors.Is(err, ethrpc.ErrNotAvailable) {
		t.Fatalf("BlockRef past the head: %v, want ErrNotAvailable", err)
	}
}

func TestBlockNumberRewind(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 20})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	client := dial(t, srv.URL, fastOptions())
	srv.Inject("eth_blockNumber", 1, ethrpctest.Rewind(5))
	for _, want := range []uint64{15, 20} {
		got, err := client.BlockNumber(context.Background())
		if err != nil || got != want {
			t.Fatalf("BlockNumber = %d, %v; want %d", got, err, want)
		}
	}
}

func TestProbe(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 3, TxsPerBlock: 1})
	for _, tc := range []struct {
		blockReceipts, debug, ws bool
	}{
		{false, false, false}, {true, false, false}, {false, true, false}, {true, true, false}, {false, false, true},
	} {
		t.Run(fmt.Sprintf("receipts=%v debug=%v ws=%v", tc.blockReceipts, tc.debug, tc.ws), func(t *testing.T) {
			srv := ethrpctest.NewServer(t, c.Recording(tc.blockReceipts, tc.debug))
			url := srv.URL
			if tc.ws {
				url = srv.WSURL
			}
			caps, err := dial(t, url, fastOptions()).Probe(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if caps.BlockReceipts != tc.blockReceipts || caps.Debug != tc.debug || caps.Subscriptions != tc.ws || caps.ChainID.Int64() != 1337 {
				t.Fatalf("capabilities %+v", caps)
			}
		})
	}
}

func TestProbeNodeDown(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 3})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	srv.Inject("eth_chainId", 0, ethrpctest.StatusCode(503))
	_, err := dial(t, srv.URL, fastOptions()).Probe(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot probe node: cannot get the chain id (gave up after 5 attempts): eth_chainId: 503") {
		t.Fatalf("error %v", err)
	}
}

func TestSubscribeHeads(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 3})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))

	if _, err := dial(t, srv.URL, fastOptions()).SubscribeHeads(context.Background()); !errors.Is(err, ethrpc.ErrNoSubscriptions) {
		t.Fatalf("over HTTP: %v, want ErrNoSubscriptions", err)
	}

	client := dial(t, srv.WSURL, fastOptions())
	sub, err := client.SubscribeHeads(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if n := srv.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers, want 1", n)
	}
	srv.PushRawHead(map[string]any{"number": "not a number"}) // skipped
	srv.PushRawHead("garbage")                                // skipped
	for _, b := range c.Blocks[1:] {
		srv.PushHead(b.Ref())
	}
	for _, b := range c.Blocks[1:] {
		select {
		case got := <-sub.Heads():
			if got != b.Ref() {
				t.Fatalf("head %+v, want %+v", got, b.Ref())
			}
		case err := <-sub.Err():
			t.Fatal(err)
		case <-time.After(5 * time.Second):
			t.Fatal("no head within 5s")
		}
	}
	sub.Unsubscribe()
	if _, ok := <-sub.Heads(); ok {
		t.Fatal("Heads still open after Unsubscribe")
	}
}

// revertNode answers eth_call the way a node does for a replay: with the
// revert data of the failed transaction whose input it is given, at its
// parent block.
func revertNode(c *ethrpctest.Chain, rec ethrpctest.Handler) ethrpctest.Handler {
	byInput := make(map[string]chain.Tx)
	for _, b := range c.Blocks {
		for _, tx := range b.Txs {
			byInput[string(tx.Input)] = tx
		}
	}
	return ethrpctest.HandlerFunc(func(ctx context.Context, method string, params json.RawMessage) (json.RawMessage, error) {
		if method != "eth_call" {
			return rec.ServeRPC(ctx, method, params)
		}
		var args []json.RawMessage
		var call struct {
			Input, Data hexutil.Bytes
			From        common.Address
		}
		var block hexutil.Uint64
		if json.Unmarshal(params, &args) != nil || len(args) != 2 || json.Unmarshal(args[0], &call) != nil || json.Unmarshal(args[1], &block) != nil {
			return nil, &ethrpctest.RPCError{Code: -32602, Message: "invalid params"}
		}
		tx, ok := byInput[string(call.Input)]
		if !ok || !bytes.Equal(call.Input, call.Data) || call.From != tx.From || uint64(block) != tx.BlockNumber-1 {
			return json.RawMessage(`"0x"`), nil
		}
		if data, failed := c.Reverts[tx.Hash]; failed {
			return nil, &ethrpctest.RPCError{Code: 3, Message: "execution reverted", Data: fmt.Sprintf("0x%x", data)}
		}
		return json.RawMessage(`"0x"`), nil
	})
}

func TestRevertData(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 10, TxsPerBlock: 5, FailEvery: 3})
	var failed, succeeded []chain.Tx
	for _, b := range c.Blocks {
		for _, tx := range b.Txs {
			if tx.Failed() {
				failed = append(failed, tx)
			} else {
				succeeded = append(succeeded, tx)
			}
		}
	}
	for _, debug := range []bool{true, false} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			var upstream ethrpctest.Handler = c.Recording(true, debug)
			if !debug {
				upstream = revertNode(c, upstream)
			}
			srv := ethrpctest.NewServer(t, upstream)
			o := fastOptions()
			o.BatchSize = 7
			client := dial(t, srv.URL, o)
			got, err := client.RevertDataBatch(context.Background(), failed)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(failed) {
				t.Fatalf("%d revert data, want %d", len(got), len(failed))
			}
			for _, tx := range failed {
				if !bytes.Equal(got[tx.Hash], c.Reverts[tx.Hash]) {
					t.Errorf("tx %s: %x, want %x", tx.Hash, got[tx.Hash], c.Reverts[tx.Hash])
				}
			}
			data, err := client.RevertData(context.Background(), failed[0])
			if err != nil || !bytes.Equal(data, c.Reverts[failed[0].Hash]) {
				t.Fatalf("RevertData = %x, %v", data, err)
			}
			data, err = client.RevertData(context.Background(), succeeded[0])
			if debug {
				if err != nil || len(data) != 0 {
					t.Fatalf("trace of a successful tx: %x, %v; want no data", data, err)
				}
			} else if !errors.Is(err, ethrpc.ErrNotReverted) {
				t.Fatalf("replay of a successful tx: %x, %v; want ErrNotReverted", data, err)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 200})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	o := fastOptions()
	o.RequestsPerSecond = 200 // a bucket of 200 requests
	o.BatchSize = 100
	client := dial(t, srv.URL, o)
	numbers := make([]uint64, 300)
	for i := range numbers {
		numbers[i] = uint64(i % 200)
	}
	start := time.Now()
	if _, err := client.BlockRefs(context.Background(), numbers); err != nil {
		t.Fatal(err)
	}
	// 300 requests against 200 in the bucket: the third batch waits for
	// 100 more tokens, half a second.
	if d := time.Since(start); d < 400*time.Millisecond || d > 3*time.Second {
		t.Fatalf("took %v, want about 500ms", d)
	}
}

func TestHooks(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 10, TxsPerBlock: 2})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	o := fastOptions()
	var requests, failures, retries atomic.Int32
	o.Hooks = ethrpc.Hooks{
		OnRequest: func(method string, d time.Duration, err error) {
			requests.Add(1)
			if err != nil && method == "eth_getBlockReceipts" {
				failures.Add(1)
			}
		},
		OnRetry: func(method string, attempt int, err error) { retries.Add(1) },
	}
	client := dial(t, srv.URL, o)
	srv.Inject("eth_getBlockReceipts", 1, ethrpctest.Error(-32000, "header not found"))
	if _, err := client.Blocks(context.Background(), 1, 10); err != nil {
		t.Fatal(err)
	}
	if int(requests.Load()) != srv.HTTPRequests("") || failures.Load() != 1 || retries.Load() != 1 {
		t.Fatalf("hooks saw %d requests (server %d), %d failures, %d retries", requests.Load(), srv.HTTPRequests(""), failures.Load(), retries.Load())
	}
}

func TestBlocksRange(t *testing.T) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 10, TxsPerBlock: 1})
	srv := ethrpctest.NewServer(t, c.Recording(true, false))
	o := fastOptions()
	o.BatchSize = 3
	client := dial(t, srv.URL, o)
	for _, r := range [][2]uint64{{0, 0}, {0, 10}, {4, 4}, {2, 9}} {
		got, err := client.Blocks(context.Background(), r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		sameBlocks(t, got, c.Blocks[r[0]:r[1]+1])
	}
	if _, err := client.Blocks(context.Background(), 5, 4); err == nil {
		t.Fatal("want an error for an empty range")
	}
	// Past the head: nothing, not the part that exists.
	o.MaxRetries = 1
	client = dial(t, srv.URL, o)
	if got, err := client.Blocks(context.Background(), 8, 12); err == nil || got != nil {
		t.Fatalf("past the head: %d blocks, %v", len(got), err)
	}
}

func BenchmarkBlocks(b *testing.B) {
	c := ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 100, TxsPerBlock: 20, LogsPerTx: 2, FailEvery: 10})
	srv := ethrpctest.NewServer(b, c.Recording(true, false))
	client := dial(b, srv.URL, fastOptions())
	if _, err := client.Probe(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.Blocks(context.Background(), 1, 100); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(100*b.N)/b.Elapsed().Seconds(), "blocks/s")
}
