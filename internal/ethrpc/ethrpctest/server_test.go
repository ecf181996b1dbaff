package ethrpctest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

var update = flag.Bool("update", false, "rewrite testdata files")

func dial(t *testing.T, url string) *rpc.Client {
	t.Helper()
	c, err := rpc.DialContext(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestRecordingFile checks that the fixture in testdata is what NewChain
// builds today and that Save/LoadRecording round-trip it.
func TestRecordingFile(t *testing.T) {
	c := NewChain(ChainConfig{Blocks: 3, TxsPerBlock: 2, LogsPerTx: 1, FailEvery: 3, DepositEvery: 4, CreateEvery: 5})
	golden := filepath.Join("testdata", "chain.json")
	fresh := filepath.Join(t.TempDir(), "chain.json")
	if err := c.Recording(true, true).Save(fresh); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(fresh)
	if *update {
		if err := os.WriteFile(golden, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go test -update", golden)
	}
	r, err := LoadRecording(golden)
	if err != nil {
		t.Fatal(err)
	}
	again := filepath.Join(t.TempDir(), "again.json")
	if err := r.Save(again); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(again); !bytes.Equal(data, want) {
		t.Fatal("save after load differs")
	}
	// Loaded answers match whatever spelling the params come in.
	res, err := r.ServeRPC(context.Background(), "eth_getBlockByNumber", json.RawMessage(`[ "0x2" , true ]`))
	if err != nil || !strings.Contains(string(res), c.Blocks[2].Hash.Hex()) {
		t.Fatalf("block 2 from the file: %.80s, %v", res, err)
	}
	if res, err := r.ServeRPC(context.Background(), "eth_getBlockByNumber", json.RawMessage(`["0x9",true]`)); err != nil || string(res) != "null" {
		t.Fatalf("past the head: %s, %v", res, err)
	}
}

func TestServerBatchAndCounts(t *testing.T) {
	c := NewChain(ChainConfig{Blocks: 5, TxsPerBlock: 1})
	srv := NewServer(t, c.Recording(true, false))
	client := dial(t, srv.URL)
	var head hexutil.Uint64
	if err := client.Call(&head, "eth_blockNumber"); err != nil || uint64(head) != 5 {
		t.Fatalf("eth_blockNumber = %d, %v", head, err)
	}
	batch := make([]rpc.BatchElem, 6)
	for i := range batch {
		batch[i] = rpc.BatchElem{Method: "eth_getBlockByNumber", Args: []any{hexutil.Uint64(i), false}, Result: new(json.RawMessage)}
	}
	batch = append(batch, rpc.BatchElem{Method: "eth_nope", Result: new(json.RawMessage)})
	if err := client.BatchCall(batch); err != nil {
		t.Fatal(err)
	}
	for i, e := range batch[:6] {
		if e.Error != nil || !strings.Contains(string(*e.Result.(*json.RawMessage)), c.Blocks[i].Hash.Hex()) {
			t.Fatalf("element %d: %v", i, e.Error)
		}
	}
	var re rpc.Error
	if !errors.As(batch[6].Error, &re) || re.ErrorCode() != -32601 {
		t.Fatalf("unknown method: %v", batch[6].Error)
	}
	if srv.Requests("eth_getBlockByNumber") != 6 || srv.HTTPRequests("eth_getBlockByNumber") != 1 || srv.HTTPRequests("") != 2 {
		t.Fatalf("counts %v, HTTP %d", srv.Counts(), srv.HTTPRequests(""))
	}
	srv.ResetCounts()
	if srv.HTTPRequests("") != 0 || len(srv.Counts()) != 0 {
		t.Fatal("counts not reset")
	}
}

func TestServerFaults(t *testing.T) {
	c := NewChain(ChainConfig{Blocks: 5})
	srv := NewServer(t, c.Recording(true, false))
	client := dial(t, srv.URL)
	call := func() (uint64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		var n hexutil.Uint64
		err := client.CallContext(ctx, &n, "eth_blockNumber")
		return uint64(n), err
	}
	check := func(f Fault, times int, wantErr string, wantHead uint64) {
		t.Helper()
		srv.Inject("eth_blockNumber", times, f)
		for i := 0; i < times; i++ {
			n, err := call()
			if err == nil && n == wantHead && wantErr == "" {
				continue
			}
			if err == nil || !strings.Contains(err.Error(), wantErr) || wantErr == "" {
				t.Fatalf("call %d under fault: %d, %v; want %q", i, n, err, wantErr)
			}
		}
		if n, err := call(); err != nil || n != 5 {
			t.Fatalf("after the fault: %d, %v", n, err)
		}
	}
	check(StatusCode(500), 2, "500 Internal Server Error", 0)
	check(TooManyRequests(1500*time.Millisecond), 1, "429", 0)
	check(Delay(2*time.Second), 1, "context deadline exceeded", 0)
	check(Truncate(), 1, "unexpected EOF", 0)
	check(Error(-32000, "header not found"), 2, "header not found", 0)
	check(Rewind(3), 2, "", 2)
	srv.Inject("eth_blockNumber", 1, Null())
	var raw json.RawMessage
	if err := client.Call(&raw, "eth_blockNumber"); err != nil || string(raw) != "null" {
		t.Fatalf("null fault: %s, %v", raw, err)
	}
}

func TestProxy(t *testing.T) {
	c := NewChain(ChainConfig{Blocks: 3, TxsPerBlock: 1})
	node := NewServer(t, c.Recording(true, false))
	rec := NewRecording()
	front := NewServer(t, rec.Record(Proxy(node.URL)))
	client := dial(t, front.URL)
	var got json.RawMessage
	if err := client.Call(&got, "eth_getBlockReceipts", hexutil.Uint64(2)); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(c.ReceiptsJSON(2))
	if !jsonEqual(got, want) {
		t.Fatalf("proxied answer differs:\n%s\n%s", got, want)
	}
	err := client.Call(&got, "eth_chainId", "bad")
	var re rpc.Error
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "no recorded answer") {
		t.Fatalf("proxied error: %v", err)
	}
	// The recorder kept the answer.
	res, err := rec.ServeRPC(context.Background(), "eth_getBlockReceipts", json.RawMessage(`["0x2"]`))
	if err != nil || !jsonEqual(res, want) {
		t.Fatalf("recorded: %v", err)
	}
}

func jsonEqual(a, b []byte) bool {
	return bytes.Equal(canonical(a), canonical(b))
}
