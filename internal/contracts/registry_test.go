package contracts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/web"
)

func TestRegistryHTTP(t *testing.T) {
	d := newDemo(t)
	reg := bc.NewRegistry(d.eth, nil)
	var hooked []string
	reg.OnVerified = func(_ context.Context, r bc.Result) error {
		hooked = append(hooked, r.ContractName)
		return nil
	}
	// The registry's API is served by the web layer.
	h, err := web.New(web.Deps{Verify: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	type envelope struct {
		Status    string          `json:"status"`
		ErrorKind string          `json:"errorKind"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	do := func(method, path string, body any) (int, envelope) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env envelope
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, env
	}

	vault := d.app.VaultImpl.Hex()
	// Before verification: status none, live capabilities.
	code, env := do("GET", "/api/v1/contracts/"+vault, nil)
	var page bc.Page
	if err := json.Unmarshal(env.Data, &page); err != nil || code != 200 {
		t.Fatalf("%d %v %s", code, err, env.Data)
	}
	if page.Status != bc.StatusNone || page.Capabilities == nil || !page.Capabilities.AccessControl || page.Capabilities.Pausable == nil {
		t.Fatalf("page before verification: %s", env.Data)
	}

	// What the CLI sends: the matched artifact, JSON round-tripped.
	a := artifact(t, demoArtifacts(t), "LendingVault")
	code, env = do("POST", "/api/v1/contracts/"+vault+"/verify", bc.VerifyRequest{Artifacts: []bc.Artifact{a}})
	var res bc.Result
	if err := json.Unmarshal(env.Data, &res); err != nil || code != 200 || res.Status != bc.StatusFull {
		t.Fatalf("verify: %d %v %s", code, err, env.Error)
	}
	if len(hooked) != 1 || hooked[0] != "LendingVault" {
		t.Errorf("OnVerified saw %v", hooked)
	}
	_, env = do("GET", "/api/v1/contracts/"+vault, nil)
	page = bc.Page{}
	_ = json.Unmarshal(env.Data, &page)
	if page.Status != bc.StatusFull || page.Verification == nil || !strings.Contains(page.Verification.Sources["src/LendingVault.sol"], "contract LendingVault") || len(page.Verification.ABI) == 0 {
		t.Fatalf("page after verification: status %s", page.Status)
	}
	// A client can map PCs from the page alone.
	m, err := page.Verification.Artifact.Mapper(true)
	if err != nil {
		t.Fatal(err)
	}
	located := 0
	for pc := range 2000 {
		if loc, ok := m.Locate(uint64(pc)); ok && loc.File == "src/LendingVault.sol" && loc.Line > 0 {
			located++
		}
	}
	if located == 0 {
		t.Error("the page's artifact maps no PC to src/LendingVault.sol")
	}

	// The wrong artifact for the Router: a success answer with status none; nothing recorded.
	_, env = do("POST", "/api/v1/contracts/"+d.app.Router.Hex()+"/verify", bc.VerifyRequest{Artifacts: []bc.Artifact{a}})
	res = bc.Result{}
	_ = json.Unmarshal(env.Data, &res)
	if res.Status != bc.StatusNone || res.Mismatch == nil {
		t.Fatalf("wrong artifact: %s", env.Data)
	}
	if _, ok := reg.Verified(d.app.Router); ok {
		t.Error("a failed verification was recorded")
	}

	for _, tc := range []struct {
		path string
		body any
	}{
		{"/api/v1/contracts/0xnope/verify", bc.VerifyRequest{}},
		{"/api/v1/contracts/" + vault + "/verify", bc.VerifyRequest{}},
		{"/api/v1/contracts/" + vault + "/verify", "not an object"},
	} {
		if code, env := do("POST", tc.path, tc.body); code != 400 || env.ErrorKind != "bad_request" {
			t.Errorf("%s %v: %d %+v, want 400 bad_request", tc.path, tc.body, code, env)
		}
	}
	// A body over the limit is named as such, not as broken JSON.
	reg.MaxBody = 4 << 10
	huge := bc.VerifyRequest{Artifacts: []bc.Artifact{{Name: "X", DeployedBytecode: strings.Repeat("00", 4<<10)}}}
	if code, env := do("POST", "/api/v1/contracts/"+vault+"/verify", huge); code != 413 || env.ErrorKind != "too_large" || !strings.Contains(env.Error, "4096 bytes") {
		t.Errorf("huge request: %d %+v, want 413 too_large naming the limit", code, env)
	}
}

// The demo's vault is an ERC-1967 proxy: verified as nothing itself, its
// page shows its implementation's verification, and says so.
func TestContractPageOfProxyShowsImplementation(t *testing.T) {
	d := newDemo(t)
	ctx := context.Background()
	reg := bc.NewRegistry(d.eth, nil)
	if p := reg.Contract(ctx, d.app.Vault); p.Status != bc.StatusNone || p.OfImplementation {
		t.Fatalf("before verification: status %s, of implementation %v", p.Status, p.OfImplementation)
	}
	if _, err := reg.Submit(ctx, d.app.VaultImpl, bc.VerifyRequest{Artifacts: demoArtifacts(t), Contract: "LendingVault"}); err != nil {
		t.Fatal(err)
	}
	p := reg.Contract(ctx, d.app.Vault)
	if p.Status != bc.StatusFull || !p.OfImplementation || p.Verification == nil || p.Verification.Address != d.app.VaultImpl || p.CodeChanged != "" {
		t.Errorf("the proxy's page: status %s, of implementation %v, code changed %q", p.Status, p.OfImplementation, p.CodeChanged)
	}
	if p := reg.Contract(ctx, d.app.VaultImpl); p.OfImplementation || p.Status != bc.StatusFull {
		t.Errorf("the implementation's own page: status %s, of implementation %v", p.Status, p.OfImplementation)
	}
}
