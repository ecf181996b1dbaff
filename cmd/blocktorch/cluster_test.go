package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/gethtest"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp/vlhttptest"
)

// readmeRecipe returns the shell block that follows marker in README.md.
func readmeRecipe(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("README.md has no %q", marker)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	if !ok {
		t.Fatalf("no sh block after %q", marker)
	}
	block, _, ok := strings.Cut(rest, "```")
	if !ok {
		t.Fatal("the recipe's block does not end")
	}
	return block
}

// freeBase finds a port base whose recipe ports (BASE+1..3, BASE+11..13)
// are free on 127.0.0.1.
func freeBase(t *testing.T) int {
	t.Helper()
	for range 50 {
		base := 20000 + rand.IntN(30000)
		ok := true
		for _, off := range []int{1, 2, 3, 11, 12, 13} {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+off))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free port base")
	return 0
}

// TestREADMEThreeNodes runs the README's three-node recipe (PostgreSQL, a
// VictoriaLogs cluster of two storage nodes, three serve nodes) against a
// geth --dev with the demo app deployed, and checks that the nodes answer
// alike: each serves the UI and API; an ABI added on node B decodes on
// node A; a monitor created on node C fires to a webhook; a log line
// ingested on A is found on C, and tailed there; a login on A is accepted by B; a trace
// recorded on A opens on B.
func TestREADMEThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three servers, a VictoriaLogs cluster and geth")
	}
	gethBin, err := gethtest.Find()
	if err != nil {
		t.Skipf("no geth: %v", err)
	}
	vl := vlhttptest.Binary(t)
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()

	// The tools the recipe calls, on its PATH.
	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "blocktorch"), ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if err := os.Symlink(vl, filepath.Join(bin, "victoria-logs")); err != nil {
		t.Fatal(err)
	}

	node, err := gethtest.Start(ctx, gethtest.Options{Binary: gethBin, Debug: true, Archive: true})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	rc, err := rpc.DialContext(ctx, node.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	keys := demo.Keys(demo.DefaultKeyCount)
	if err := demo.Fund(ctx, rc, demo.Addresses(keys), new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18))); err != nil {
		t.Fatal(err)
	}
	ec := ethclient.NewClient(rc)
	app, err := demo.Deploy(ctx, ec, keys[demo.Deployer])
	if err != nil {
		t.Fatal(err)
	}
	var token demo.Contract
	for _, c := range app.Contracts() {
		if c.Name == "DemoToken" {
			token = c
		}
	}
	tokenABI, _ := app.ABI("DemoToken")

	var (
		hooksMu sync.Mutex
		hooks   []string
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooksMu.Lock()
		hooks = append(hooks, string(b))
		hooksMu.Unlock()
	}))
	defer receiver.Close()

	const key = "three-node-operator-key"
	base, data := freeBase(t), t.TempDir()
	sh := exec.CommandContext(ctx, "bash", "-eu", "-c", readmeRecipe(t, "<!-- three-node recipe -->"))
	sh.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "RPC="+node.URL, "DB="+dsn,
		"BLOCKTORCH_OPERATOR_KEY="+key, "BASE="+strconv.Itoa(base), "DATA="+data, "ALERT_WEBHOOK="+receiver.URL)
	defer func() {
		pids, _ := filepath.Glob(filepath.Join(data, "*.pid"))
		for _, p := range pids {
			b, _ := os.ReadFile(p)
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(data, "node*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s:\n%s", filepath.Base(l), tail(string(b), 3000))
			}
		}
	}()
	start := time.Now()
	if out, err := sh.CombinedOutput(); err != nil {
		t.Fatalf("the recipe failed: %v\n%s", err, out)
	}
	t.Logf("the recipe started 5 VictoriaLogs/blocktorch processes in %s", time.Since(start).Round(time.Millisecond))
	nodeURL := func(n int) string { return "http://127.0.0.1:" + strconv.Itoa(base+10+n) }
	A, B, C := nodeURL(1), nodeURL(2), nodeURL(3)

	call := func(method, u, ctype string, body []byte, cookie *http.Cookie) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if cookie != nil {
			req.AddCookie(cookie)
		} else {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	eventually := func(what string, d time.Duration, f func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !f() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out after %s waiting for %s", d, what)
			}
			time.Sleep(200 * time.Millisecond) // polling other processes, with a deadline
		}
	}

	// Every node serves the UI and the API.
	for _, u := range []string{A, B, C} {
		if code, body := call("GET", u+"/", "", nil, nil); code != http.StatusOK || !bytes.Contains(body, []byte("<html")) {
			t.Fatalf("GET %s/: HTTP %d", u, code)
		}
		if code, body := call("GET", u+"/api/v1/status", "", nil, nil); code != http.StatusOK {
			t.Fatalf("GET %s/api/v1/status: HTTP %d %s", u, code, body)
		}
	}

	// A login on A is accepted by B; a logout on B ends it on A.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(A+"/login", url.Values{"key": {key}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "blocktorch_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("login on A set no session cookie (HTTP %d)", resp.StatusCode)
	}
	if code, _ := call("GET", B+"/api/v1/status", "", nil, session); code != http.StatusOK {
		t.Fatalf("node B refuses node A's login: HTTP %d", code)
	}
	if code, _ := call("GET", C+"/api/v1/status", "", nil, &http.Cookie{Name: "blocktorch_session", Value: "forged"}); code == http.StatusOK {
		t.Fatal("node C accepts a forged session")
	}

	// An ABI added on B; a monitor created on C that names the contract.
	body, _ := json.Marshal(map[string]any{"address": token.Address.Hex(), "name": "DemoToken", "abi": token.ABI})
	if code, b := call("POST", B+"/api/v1/contracts", "application/json", body, nil); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("adding the ABI on B: HTTP %d %s", code, b)
	}
	spec := `{"id":"cluster-mint","kind":"event","contract":"DemoToken","event":"Transfer","channels":["webhook"]}`
	if code, b := call("POST", C+"/api/v1/monitors", "application/json", []byte(spec), nil); code != http.StatusOK && code != http.StatusCreated {
		t.Fatalf("creating the monitor on C: HTTP %d %s", code, b)
	}
	start = time.Now()
	for _, u := range []string{A, B, C} {
		eventually("the monitor compiled on "+u, 10*time.Second, func() bool {
			var m struct {
				Data struct {
					Error *string `json:"error"`
					Spec  struct{ ID string }
				} `json:"data"`
			}
			code, b := call("GET", u+"/api/v1/monitors/cluster-mint", "", nil, nil)
			return code == http.StatusOK && json.Unmarshal(b, &m) == nil && m.Data.Spec.ID == "cluster-mint" && m.Data.Error == nil
		})
	}
	t.Logf("the ABI added on B and the monitor created on C were on every node after %s", time.Since(start).Round(time.Millisecond))

	// A mint by the token's owner: the monitor fires to the webhook, and
	// node A's debugger names the call with the ABI node B was given.
	mintTx := sendTx(t, ctx, ec, keys[demo.Deployer], token.Address, mustPack(t, tokenABI.Pack, "mint", common.HexToAddress("0xc1c1"), big.NewInt(7)))
	eventually("the monitor's alert at the webhook", 90*time.Second, func() bool {
		hooksMu.Lock()
		defer hooksMu.Unlock()
		for _, h := range hooks {
			if strings.Contains(h, "cluster-mint") {
				return true
			}
		}
		return false
	})
	code, b := call("GET", A+"/api/v1/debug/"+mintTx.Hex(), "", nil, nil)
	if code != http.StatusOK || !bytes.Contains(b, []byte("mint")) {
		t.Fatalf("node A's debugger on the mint: HTTP %d, no call named mint: %s", code, tail(string(b), 500))
	}

	// A log line ingested on A is found by a search on C, and reaches a
	// live tail opened on C before it was sent.
	probe := fmt.Sprintf("cluster-probe-%d", rand.Int64())
	tctx, tcancel := context.WithTimeout(ctx, 30*time.Second)
	defer tcancel()
	treq, _ := http.NewRequestWithContext(tctx, "GET", C+"/api/v1/tail?q="+url.QueryEscape(`"`+probe+`"`), nil)
	treq.Header.Set("Authorization", "Bearer "+key)
	tresp, err := http.DefaultClient.Do(treq)
	if err != nil {
		t.Fatal(err)
	}
	defer tresp.Body.Close()
	tailed := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(tresp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data: ") && strings.Contains(sc.Text(), probe) {
				tailed <- true
				return
			}
		}
		tailed <- false
	}()
	line, _ := json.Marshal(map[string]string{"msg": "three nodes " + probe, "service": "recipe", "level": "info"})
	if code, b := call("POST", A+"/api/v1/logs", "application/x-ndjson", line, nil); code/100 != 2 {
		t.Fatalf("ingest on A: HTTP %d %s", code, b)
	}
	eventually("the line ingested on A found on C", 30*time.Second, func() bool {
		code, b := call("GET", C+"/api/v1/search?q="+url.QueryEscape(`"`+probe+`"`), "", nil, nil)
		return code == http.StatusOK && bytes.Contains(b, []byte(probe))
	})

	if !<-tailed {
		t.Fatal("the live tail on C did not show the line ingested on A")
	}
	tcancel()

	// A simulation's trace, recorded on A, opens on B: it cannot be
	// replayed from the chain, so B reads what A stored.
	sim, _ := json.Marshal(map[string]any{"from": demo.Addresses(keys)[demo.Deployer].Hex(), "to": token.Address.Hex(),
		"function": "mint", "args": []string{"0x000000000000000000000000000000000000c1c1", "9"}})
	code, b = call("POST", A+"/api/v1/simulate", "application/json", sim, nil)
	var res struct {
		Data struct {
			TxHash string `json:"txHash"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(b, &res) != nil || res.Data.TxHash == "" {
		t.Fatalf("simulating on A: HTTP %d %s", code, tail(string(b), 500))
	}
	if code, b := call("GET", B+"/api/v1/debug/"+res.Data.TxHash, "", nil, nil); code != http.StatusOK || !bytes.Contains(b, []byte("mint")) {
		t.Fatalf("node B opening the trace recorded on A: HTTP %d %s", code, tail(string(b), 500))
	}

	// A logout on B ends the session on A too.
	req, _ := http.NewRequest("POST", B+"/logout", nil)
	req.AddCookie(session)
	if resp, err := noRedirect.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}
	if code, _ := call("GET", A+"/api/v1/status", "", nil, session); code == http.StatusOK {
		t.Fatal("a logout on B left the session live on A")
	}
}

func mustPack(t *testing.T, pack func(string, ...any) ([]byte, error), method string, args ...any) []byte {
	t.Helper()
	b, err := pack(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sendTx sends a call from key and waits for its receipt.
func sendTx(t *testing.T, ctx context.Context, ec *ethclient.Client, key *ecdsa.PrivateKey, to common.Address, data []byte) common.Hash {
	t.Helper()
	from := crypto.PubkeyToAddress(key.PublicKey)
	chainID, err := ec.ChainID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	nonce, err := ec.PendingNonceAt(ctx, from)
	if err != nil {
		t.Fatal(err)
	}
	tip := big.NewInt(1e9)
	head, err := ec.HeaderByNumber(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	feeCap := new(big.Int).Add(new(big.Int).Mul(head.BaseFee, big.NewInt(2)), tip)
	tx, err := types.SignNewTx(key, types.LatestSignerForChainID(chainID), &types.DynamicFeeTx{
		ChainID: chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: 200_000, To: &to, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if err := ec.SendTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for {
		r, err := ec.TransactionReceipt(ctx, tx.Hash())
		if err == nil {
			if r.Status != types.ReceiptStatusSuccessful {
				t.Fatalf("transaction %s failed", tx.Hash())
			}
			return tx.Hash()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("transaction %s not mined: %v", tx.Hash(), err)
		case <-time.After(50 * time.Millisecond): // polling the node
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
