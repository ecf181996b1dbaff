package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

const xss = `<img src=x onerror=alert(1)></script><script>alert(2)</script>`

var (
	alice    = common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	vault    = common.HexToAddress("0x000000000000000000000000000000000000beef")
	okHash   = common.HexToHash("0x01")
	failHash = common.HexToHash("0x02")
)

// newServer serves a real SQLite store holding two blocks: one with a
// successful call emitting an event, one with a failed transaction whose
// revert string is an XSS payload.
func newServer(t *testing.T) (*httptest.Server, *sqlite.DB) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Unix(1_700_000_000, 0).UTC()
	b0 := chain.Block{Number: 0, Hash: common.HexToHash("0xb0"), Time: now, GasLimit: 30_000_000}
	b1 := chain.Block{Number: 1, Hash: common.HexToHash("0xb1"), ParentHash: b0.Hash, Time: now.Add(time.Second), GasLimit: 30_000_000, TxCount: 1,
		Txs: []chain.Tx{{
			Hash: okHash, BlockNumber: 1, BlockHash: common.HexToHash("0xb1"), Time: now.Add(time.Second), From: alice, To: &vault,
			Value: big.NewInt(5), Status: 1, GasUsed: 21000, EffectiveGasPrice: big.NewInt(2), Input: common.FromHex("0xd0e30db0"),
			Call: &chain.Call{Contract: "Vault", Method: "deposit", Signature: "deposit()"},
			Logs: []chain.Log{{Address: vault, Topics: []common.Hash{common.HexToHash("0xaa")}, BlockNumber: 1, BlockHash: common.HexToHash("0xb1"), TxHash: okHash,
				Event: &chain.Event{Name: "Deposit", Signature: "Deposit(address,uint256)", Args: []chain.Arg{{Name: "who", Type: "string", Value: xss}}}}},
		}},
	}
	b2 := chain.Block{Number: 2, Hash: common.HexToHash("0xb2"), ParentHash: b1.Hash, Time: now.Add(2 * time.Second), GasLimit: 30_000_000, TxCount: 1,
		Txs: []chain.Tx{{
			Hash: failHash, BlockNumber: 2, BlockHash: common.HexToHash("0xb2"), Time: now.Add(2 * time.Second), From: alice, To: &vault,
			Value: big.NewInt(0), Status: 0, GasUsed: 30000, EffectiveGasPrice: big.NewInt(2), Input: common.FromHex("0xc5ebeaec"),
			RevertData: common.FromHex("0x08c379a0"),
			Revert:     &chain.Revert{Kind: chain.RevertError, Name: "Error", Message: xss},
		}},
	}
	if err := st.WriteBlocks(ctx, []chain.Block{b0, b1, b2}); err != nil {
		t.Fatal(err)
	}
	reg := decode.NewRegistry()
	srv, err := web.New(web.Deps{
		Chain: st, Contracts: st, Search: st,
		AddContract: func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error {
			if err := reg.Add(addr, name, abiJSON); err != nil {
				return fmt.Errorf("%w: %w", store.ErrInvalid, err)
			}
			return st.PutContract(ctx, store.Contract{Address: addr, Name: name, ABI: abiJSON, Origin: "user", Added: now})
		},
		Status: func(context.Context) web.Status {
			return web.Status{Mode: "test", ChainID: "1337", NodeHead: 2, IndexedHead: 2}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, st
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorKind string          `json:"errorKind"`
	Error     string          `json:"error"`
}

func TestAPI(t *testing.T) {
	ts, _ := newServer(t)
	tests := []struct {
		path      string
		code      int
		contains  []string
		errorKind string
	}{
		{"/api/v1/blocks?limit=2", 200, []string{`"number":2`, `"number":1`, `"txCount":1`, `"parentHash":"0x` + strings.Repeat("0", 62) + `b1"`}, ""},
		{"/api/v1/blocks?limit=0", 400, nil, "bad_request"},
		{"/api/v1/blocks?limit=abc", 400, nil, "bad_request"},
		{"/api/v1/txs?status=failed", 200, []string{failHash.Hex(), `"status":"failed"`}, ""},
		{"/api/v1/txs?status=success", 200, []string{okHash.Hex(), `"method":"deposit"`}, ""},
		{"/api/v1/txs?status=weird", 400, nil, "bad_request"},
		{"/api/v1/txs/" + failHash.Hex(), 200, []string{`"revert":{"data":"0x08c379a0","reason":{"kind":"error","name":"Error"`}, ""},
		{"/api/v1/txs/" + okHash.Hex(), 200, []string{`"events":[`, `"name":"Deposit"`, `"value":"5"`, `"fee":"42000"`}, ""},
		{"/api/v1/txs/0x1234", 400, nil, "bad_request"},
		{"/api/v1/txs/" + common.HexToHash("0x99").Hex(), 404, nil, "not_found"},
		{"/api/v1/contracts/" + vault.Hex() + "/events", 200, []string{`"name":"Deposit"`}, ""},
		{"/api/v1/contracts/nope/events", 400, nil, "bad_request"},
		{"/api/v1/nothing", 404, nil, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			code, hdr, body := get(t, ts.URL+tt.path)
			if code != tt.code {
				t.Fatalf("status %d, want %d: %s", code, tt.code, body)
			}
			if ct := hdr.Get("Content-Type"); ct != "application/json" {
				t.Errorf("content type %q", ct)
			}
			var env envelope
			if err := json.Unmarshal([]byte(body), &env); err != nil {
				t.Fatalf("not JSON: %v: %s", err, body)
			}
			if env.ErrorKind != tt.errorKind {
				t.Errorf("errorKind %q, want %q (%s)", env.ErrorKind, tt.errorKind, env.Error)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %s:\n%s", s, body)
				}
			}
		})
	}
}

func TestAddContract(t *testing.T) {
	ts, _ := newServer(t)
	post := func(body string) (int, envelope) {
		resp, err := http.Post(ts.URL+"/api/v1/contracts", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env envelope
		json.NewDecoder(resp.Body).Decode(&env)
		return resp.StatusCode, env
	}
	good := `{"address":"` + vault.Hex() + `","name":"Vault","abi":[{"type":"function","name":"deposit","inputs":[],"outputs":[],"stateMutability":"payable"}]}`
	if code, env := post(good); code != 201 {
		t.Fatalf("good ABI: %d %+v", code, env)
	}
	// The ABI as a string, as explorers give it.
	asString := `{"address":"` + alice.Hex() + `","name":"A","abi":"[{\"type\":\"event\",\"name\":\"E\",\"inputs\":[]}]"}`
	if code, env := post(asString); code != 201 {
		t.Fatalf("string ABI: %d %+v", code, env)
	}
	bad := `{"address":"` + vault.Hex() + `","name":"Vault","abi":"[{\"type\":\"function\",\n \"name\": }]"}`
	code, env := post(bad)
	if code != 400 || env.ErrorKind != "bad_request" || !strings.Contains(env.Error, "line 2") {
		t.Fatalf("malformed ABI: %d %+v, want 400 naming line 2", code, env)
	}
	code, env = post(`{"address":"0x12","abi":[]}`)
	if code != 400 || !strings.Contains(env.Error, "not an address") {
		t.Fatalf("bad address: %d %+v", code, env)
	}
	code, env = post(`not json`)
	if code != 400 {
		t.Fatalf("not JSON: %d %+v", code, env)
	}
	_, _, body := get(t, ts.URL+"/api/v1/contracts")
	if !strings.Contains(body, `"name":"Vault"`) || !strings.Contains(body, `"origin":"user"`) {
		t.Fatalf("contracts list: %s", body)
	}
}

// On-chain text is attacker-controlled: it must reach the page as text.
func TestPagesEscapeOnChainText(t *testing.T) {
	ts, _ := newServer(t)
	for _, path := range []string{"/", "/tx/" + failHash.Hex(), "/tx/" + okHash.Hex()} {
		code, hdr, body := get(t, ts.URL+path)
		if code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Fatalf("%s: payload rendered as markup:\n%s", path, body)
		}
		if !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
			t.Fatalf("%s: escaped payload missing:\n%s", path, body)
		}
		csp := hdr.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", path, hdr)
		}
	}
	code, _, body := get(t, ts.URL+"/tx/"+common.HexToHash("0x77").Hex())
	if code != 404 || !strings.Contains(body, "not found") {
		t.Fatalf("missing tx page: %d", code)
	}
}

func TestHomeFlagsFailures(t *testing.T) {
	ts, _ := newServer(t)
	_, _, body := get(t, ts.URL+"/")
	for _, want := range []string{`id="failed"`, `class="failed"`, failHash.Hex(), "Blocks indexed", "deposit"} {
		if !strings.Contains(body, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	code, hdr, _ := get(t, ts.URL+"/static/style.css?v=1")
	if code != 200 || !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
		t.Errorf("static: %d %v", code, hdr)
	}
}

func TestSearchAPI(t *testing.T) {
	ts, st := newServer(t)
	ctx := context.Background()
	now := time.Now().UTC()
	logs := []record.Record{
		{Time: now.Add(-time.Minute), Source: "app", Kind: "log", Level: "error", Service: "api", Message: "rpc timeout for " + failHash.Hex(), TxHashes: []common.Hash{failHash}},
		{Time: now.Add(-2 * time.Minute), Source: "app", Kind: "log", Level: "info", Service: "web", Message: "page view"},
	}
	if err := st.AppendRecords(ctx, logs); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Status string `json:"status"`
		Data   struct {
			Records []record.Record `json:"records"`
			Table   *store.Table    `json:"table"`
			Query   string          `json:"query"`
			Buckets []store.Bucket  `json:"buckets"`
		} `json:"data"`
		ErrorKind string `json:"errorKind"`
		Error     string `json:"error"`
		Position  int    `json:"position"`
		Caret     string `json:"caret"`
	}
	search := func(path string) (int, answer) {
		t.Helper()
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a answer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, a
	}
	// The tx links join the off-chain log to the chain records of the tx.
	code, a := search("/api/v1/search?q=" + url.QueryEscape("tx:"+failHash.Hex()))
	if code != 200 {
		t.Fatalf("search: %d %+v", code, a)
	}
	sources := map[string]bool{}
	for _, r := range a.Data.Records {
		sources[r.Source] = true
	}
	if !sources["app"] || !sources["chain"] {
		t.Fatalf("tx search found %d records from %v, want chain and app", len(a.Data.Records), sources)
	}
	code, a = search("/api/v1/search?q=" + url.QueryEscape("level:error | stats count() by source"))
	if code != 200 || a.Data.Table == nil || len(a.Data.Table.Rows) == 0 {
		t.Fatalf("stats: %d %+v", code, a)
	}
	code, a = search("/api/v1/search/histogram?buckets=10&q=" + url.QueryEscape("service:api"))
	if code != 200 || len(a.Data.Buckets) == 0 {
		t.Fatalf("histogram: %d %+v", code, a)
	}
	var total int64
	for _, b := range a.Data.Buckets {
		total += b.Count
	}
	if total != 1 {
		t.Fatalf("histogram total %d, want 1", total)
	}
	code, a = search("/api/v1/search?q=" + url.QueryEscape("level:error AND (service:api"))
	if code != 400 || a.ErrorKind != "bad_query" || !strings.Contains(a.Caret, "^") {
		t.Fatalf("bad query: %d %+v", code, a)
	}
	for _, bad := range []string{"from=yesterday", "limit=0", "order=sideways", "from=now&to=now-1h"} {
		if code, a = search("/api/v1/search?q=x&" + bad); code != 400 {
			t.Errorf("%s: %d %+v", bad, code, a)
		}
	}
	// Injection attempts are text like any other.
	code, a = search("/api/v1/search?q=" + url.QueryEscape(`message:"'; DROP TABLE records; --"`))
	if code != 200 || len(a.Data.Records) != 0 {
		t.Fatalf("injection: %d %+v", code, a)
	}
	if code, a = search("/api/v1/search?q=page"); code != 200 || len(a.Data.Records) != 1 {
		t.Fatalf("records still there: %d %+v", code, a)
	}
}

func TestTail(t *testing.T) {
	ts, st := newServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/v1/tail?q="+url.QueryEscape("service:api"), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// The stream's opening comment says the tail has taken its starting
	// time: records written from now on are new to it.
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || !strings.HasPrefix(sc.Text(), ": tailing ") {
		t.Fatalf("tail opened with %q, %v", sc.Text(), sc.Err())
	}
	now := time.Now().UTC()
	if err := st.AppendRecords(context.Background(), []record.Record{
		{Time: now, Source: "app", Kind: "log", Level: "info", Service: "web", Message: "not this one"},
		{Time: now, Source: "app", Kind: "log", Level: "warn", Service: "api", Message: "slow request"},
	}); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "data: ") {
			if !strings.Contains(line, "slow request") {
				t.Fatalf("tail sent %s", line)
			}
			return
		}
	}
	t.Fatalf("tail ended without the record: %v", sc.Err())
}
