package web

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/logingest"

	"github.com/ethereum/go-ethereum/common"
)

// TestBrowserSDK runs sdk/blocktorch.js in Node with a fake window and
// wallet against a real server of this package, and checks what arrives.
func TestBrowserSDK(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is needed to test the browser SDK: %v", err)
	}
	in, w := newTestIngester(logingest.Options{IngestKeys: []string{"pk_test"}})
	srv := httptest.NewServer(ingestServer(t, in))
	defer srv.Close()

	sdk, _ := filepath.Abs("../logingest/sdk/blocktorch.js")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/sdk_harness.js", sdk, srv.URL).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("node: %v\n%s", err, stderr)
	}
	var res struct {
		Session string
		Beacons []int
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	if len(res.Beacons) != 1 || res.Beacons[0] != 200 {
		t.Errorf("beacon answers %v, want one 200", res.Beacons)
	}

	recs := w.Records()
	if len(recs) != 62 {
		t.Fatalf("stored %d records, want 62 (55 logs, error, rejection, wallet rejection, RPC failure, signature, tx, page hide)", len(recs))
	}
	kinds := map[string]int{}
	for _, r := range recs {
		kinds[r.Kind]++
		if r.Service != "dapp-web" || r.Source != "app" || r.Attrs["session"] != res.Session || r.Attrs["release"] != "1.4.2" ||
			r.Attrs["page"] != "https://dapp.example/swap" {
			t.Errorf("record %s: want service dapp-web, source app, the session %s, release and page", mustJSON(t, r), res.Session)
		}
		if time.Since(r.Time) > time.Minute || r.Time.After(time.Now()) {
			t.Errorf("record time %v is not the time it was logged", r.Time)
		}
	}
	want := map[string]int{"log": 56, "js_error": 2, "wallet_rejected": 1, "rpc_error": 1, "signature": 1, "tx_submitted": 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%d records of kind %s, want %d (all: %v)", kinds[k], k, n, kinds)
		}
	}
	tx := common.HexToHash("0x" + strings.Repeat("ab", 32))
	from := common.HexToAddress("0x" + strings.Repeat("12", 20))
	to := common.HexToAddress("0x" + strings.Repeat("34", 20))
	for _, r := range recs {
		switch r.Kind {
		case "tx_submitted":
			if r.Level != "info" || len(r.TxHashes) != 1 || r.TxHashes[0] != tx || !slices.Contains(r.Addresses, from) || !slices.Contains(r.Addresses, to) ||
				r.Attrs["method"] != "eth_sendTransaction" {
				t.Errorf("tx record %s", mustJSON(t, r))
			}
		case "wallet_rejected":
			if r.Level != "warn" || r.Attrs["code"] != int64(4001) || r.Attrs["method"] != "eth_requestAccounts" {
				t.Errorf("wallet record %s", mustJSON(t, r))
			}
		case "rpc_error":
			if r.Level != "error" || r.Attrs["code"] != int64(-32603) || !strings.Contains(r.Message, "request timed out") {
				t.Errorf("rpc record %s", mustJSON(t, r))
			}
		case "js_error":
			if r.Level != "error" || r.Message != "boom" && r.Message != "unhandled rejection: nope" {
				t.Errorf("error record %s", mustJSON(t, r))
			}
		}
	}
	if last := recs[len(recs)-1]; last.Message != "leaving the page" {
		t.Errorf("last record %q, want the one sent on page hide", last.Message)
	}
}

func TestServeSDK(t *testing.T) {
	in, _ := newTestIngester(logingest.Options{})
	rw := httptest.NewRecorder()
	ingestServer(t, in).ServeHTTP(rw, httptest.NewRequest("GET", "/sdk/blocktorch.js", nil))
	if rw.Code != 200 || !strings.HasPrefix(rw.Header().Get("Content-Type"), "text/javascript") || !strings.Contains(rw.Body.String(), "wrapProvider") {
		t.Fatalf("%d %v", rw.Code, rw.Header())
	}
}
