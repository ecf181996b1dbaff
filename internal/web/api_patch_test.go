package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/web"
	"github.com/ethereum/go-ethereum/common"
)

// The patch check's API refuses what it cannot check with a clear error,
// follows a check that fails in the background to its error, resolves
// inline hashes, and serves its page; the check itself runs on a real
// chain in internal/patch.
func TestPatchCheckAPI(t *testing.T) {
	svc := &patch.Service{Checker: &patch.Checker{}}
	t.Cleanup(svc.Close)
	ts := newKeyedServer(t, operatorKey, func(d *web.Deps) { d.Patch = svc })
	h := "0x" + strings.Repeat("ab", 32)
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"target":"0x0000000000000000000000000000000000000001"}`, 400, "no build given"},
		{`{"target":"0x0000000000000000000000000000000000000001","input":{"language":"Solidity"}}`, 400, "needs both its input and its output"},
		{`{"target":"0x0000000000000000000000000000000000000001","buildInfo":{"nope":1}}`, 400, "cannot read the build"},
		{`{"nope":1}`, 400, "unknown field"},
	} {
		code, body := asOperator(t, "POST", ts.URL+"/api/v1/patch-check", c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d with %q", c.body, code, body, c.code, c.want)
		}
	}
	in, out := demo.StandardJSON()
	req, _ := json.Marshal(map[string]any{"contract": "LendingVault", "txs": h + "," + h, "input": json.RawMessage(in), "output": json.RawMessage(out)})
	code, body := asOperator(t, "POST", ts.URL+"/api/v1/patch-check", string(req))
	if code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	var started struct {
		Data patch.Run `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &started); err != nil || started.Data.ID == "" || started.Data.Set != h+","+h {
		t.Fatalf("start answered %s", body)
	}
	deadline := time.Now().Add(10 * time.Second)
	var run struct {
		Data patch.Run `json:"data"`
	}
	for !run.Data.Done {
		if time.Now().After(deadline) {
			t.Fatal("the check did not end")
		}
		code, body = asOperator(t, "GET", ts.URL+"/api/v1/patch-check/"+started.Data.ID, "")
		if code != 200 {
			t.Fatalf("follow: %d %s", code, body)
		}
		json.Unmarshal([]byte(body), &run)
	}
	if run.Data.ErrorKind != "invalid" || !strings.Contains(run.Data.Error, "give the proxy or contract to patch") {
		t.Errorf("run %+v", run.Data)
	}
	if code, body := asOperator(t, "GET", ts.URL+"/api/v1/patch-check/0123", ""); code != 404 || !strings.Contains(body, "run it again") {
		t.Errorf("unknown run: %d %s", code, body)
	}
	code, body = asOperator(t, "GET", ts.URL+"/api/v1/patch-check/txs?set="+h, "")
	if code != 200 || !strings.Contains(body, `"txs":["`+h+`"]`) {
		t.Errorf("txs: %d %s", code, body)
	}
	if code, body := asOperator(t, "GET", ts.URL+"/api/v1/patch-check/txs?set=file:x", ""); code != 400 || !strings.Contains(body, "give the hashes themselves") {
		t.Errorf("file set: %d %s", code, body)
	}
	if code, body := asOperator(t, "GET", ts.URL+"/patch?run="+started.Data.ID, ""); code != 200 || !strings.Contains(body, "patch.js") || !strings.Contains(body, `id="patch-form"`) || strings.Contains(body, "patch-offered") {
		t.Errorf("page without offered builds: %d", code)
	}
}

// A build the server offers (the demo's patched LendingVault) is listed
// on the page and named by a request instead of an upload; an unknown one,
// or one given with an upload, is refused.
func TestPatchCheckOfferedBuild(t *testing.T) {
	in, out := demo.PatchedStandardJSON()
	arts, err := contracts.ParseStandardJSON(in, out, "")
	if err != nil {
		t.Fatal(err)
	}
	deployed := common.HexToAddress("0x00000000000000000000000000000000000000d2")
	// No target: the check the offered build starts ends at once, asking
	// for one, which shows the build was taken instead of an upload.
	svc := &patch.Service{Checker: &patch.Checker{}, Builds: []patch.Build{{ID: "demo-lendingvault", Label: "the demo's <patched> LendingVault",
		Contract: "LendingVault", Deployed: &deployed, Artifacts: arts}}}
	t.Cleanup(svc.Close)
	ts := newKeyedServer(t, operatorKey, func(d *web.Deps) { d.Patch = svc })
	for _, c := range []struct {
		body string
		code int
		want string
	}{
		{`{"build":"nope"}`, 404, `offers no build \"nope\"`},
		{`{"build":"demo-lendingvault","input":{"language":"Solidity"},"output":{}}`, 400, "not both"},
	} {
		code, body := asOperator(t, "POST", ts.URL+"/api/v1/patch-check", c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s; want %d with %q", c.body, code, body, c.code, c.want)
		}
	}
	code, body := asOperator(t, "POST", ts.URL+"/api/v1/patch-check", `{"build":"demo-lendingvault","txs":"0x`+strings.Repeat("cd", 32)+`"}`)
	if code != 200 {
		t.Fatalf("start: %d %s", code, body)
	}
	var run struct {
		Data patch.Run `json:"data"`
	}
	json.Unmarshal([]byte(body), &run)
	done, err := svc.Wait(t.Context(), run.Data.ID)
	if err != nil || done.Contract != "LendingVault" || !strings.Contains(done.Error, "give the proxy or contract to patch") {
		t.Errorf("run %+v (%v)", done, err)
	}
	code, body = asOperator(t, "GET", ts.URL+"/patch", "")
	if code != 200 || !strings.Contains(body, `<option value="demo-lendingvault"`) || !strings.Contains(body, "the demo&#39;s &lt;patched&gt; LendingVault") ||
		!strings.Contains(body, `data-deployed="`+deployed.Hex()+`"`) {
		t.Errorf("page: %d, want the offered build listed (escaped)", code)
	}
}
