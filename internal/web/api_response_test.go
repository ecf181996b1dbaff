package web_test

import (
	"crypto/ecdsa"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/response"
)

// respondAnswer is the envelope of a response API answer.
type respondAnswer struct {
	Status    string          `json:"status"`
	ErrorKind string          `json:"errorKind"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// demoContract returns the address of the demo contract named name from
// the server's list of contracts.
func demoContract(t *testing.T, base, name string) string {
	t.Helper()
	var list []struct{ Address, Name string }
	if code := apptest.GetData(t, base+"/api/v1/contracts", &list); code != 200 {
		t.Fatalf("contracts: HTTP %d", code)
	}
	for _, c := range list {
		if c.Name == name {
			return c.Address
		}
	}
	t.Fatalf("no contract %s in %+v", name, list)
	return ""
}

// TestRespond boots the demo once with an EOA signer (the demo's
// deployer, which holds PAUSER_ROLE) for the response API and the Respond
// panel in a browser (respond_browser_test.go), and a second server on
// its chain without a signer (respond_nosigner_browser_test.go).
func TestRespond(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the demo")
	}
	deployer := demo.Keys(1)[demo.Deployer]
	t.Setenv("BLOCKTORCH_SIGNER_KEY", hex.EncodeToString(crypto.FromECDSA(deployer)))
	cfg := apptest.DemoConfig(t)
	cfg.TrafficRate = 0 // the deployer's nonces are the signer's alone
	cfg.ScenariosFile = filepath.Join(t.TempDir(), "scenarios.yaml")
	if err := os.WriteFile(cfg.ScenariosFile, []byte("scenarios:\n  - name: pause-vault\n    cooldown: 1h\n    actions:\n      - {contract: LendingVault, action: pause}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, stop := apptest.Start(t, cfg)
	defer stop()
	// Each starts from the state the one before leaves: the vault
	// unpaused.
	for _, st := range []struct {
		name string
		test func(t *testing.T)
	}{
		{"API", func(t *testing.T) { respondAPI(t, a.URL(), deployer) }},
		{"Browser", func(t *testing.T) { respondBrowser(t, a, deployer) }},
		{"BrowserNoSigner", func(t *testing.T) { respondBrowserNoSigner(t, a) }},
		{"Monitor", func(t *testing.T) { respondMonitor(t, a) }},
	} {
		if !t.Run(st.name, st.test) {
			return
		}
	}
}

// respondAPI pauses the demo vault through the API from the signer: it
// lists the vault's actions, prepares the pause in its four forms with its
// simulation, sends it, is refused a second pause that would revert, sends
// one anyway when forced, and reads the three runs back from the history;
// then the demo's Safe 2-of-3 unpauses it: proposed, refused with one
// owner's signature, executed with two.
func respondAPI(t *testing.T, base string, deployer *ecdsa.PrivateKey) {
	vault := demoContract(t, base, "LendingVault")
	deployerAddr := crypto.PubkeyToAddress(deployer.PublicKey)

	call := func(method, path, body string) (int, respondAnswer) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var ans respondAnswer
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatalf("%s %s: not JSON: %s", method, path, raw)
		}
		return resp.StatusCode, ans
	}
	decode := func(ans respondAnswer, v any) {
		t.Helper()
		if err := json.Unmarshal(ans.Data, v); err != nil {
			t.Fatalf("cannot decode %s: %v", ans.Data, err)
		}
	}
	pausedState := func() string {
		t.Helper()
		code, ans := call("GET", "/api/v1/respond/contracts/"+vault+"/actions", "")
		if code != 200 {
			t.Fatalf("actions: HTTP %d %s", code, ans.Error)
		}
		var actions []response.Action
		decode(ans, &actions)
		for _, a := range actions {
			if a.Kind == response.KindPause {
				return a.State
			}
		}
		t.Fatalf("the vault has no pause action: %+v", actions)
		return ""
	}

	var st response.SignerStatus
	code, ans := call("GET", "/api/v1/respond/status", "")
	decode(ans, &st)
	if code != 200 || st.Kind != "eoa" || st.Safe == nil || st.Safe.Threshold != 2 || st.Address != deployerAddr || st.Balance == nil || strings.Contains(string(ans.Data), hex.EncodeToString(crypto.FromECDSA(deployer))) {
		t.Fatalf("status: HTTP %d %s", code, ans.Data)
	}
	if s := pausedState(); s != "paused: false" {
		t.Fatalf("state before: %q", s)
	}

	vaultPath := "/api/v1/respond/contracts/" + vault
	var proposal response.SafeProposal
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		check                    func(t *testing.T, ans respondAnswer)
	}{
		{"prepare", "POST", vaultPath + "/prepare", `{"action":"pause"}`, 200, func(t *testing.T, ans respondAnswer) {
			var p response.Prepared
			decode(ans, &p)
			if p.Calldata.String() != "0x8456cb59" || !strings.Contains(p.Cast, "'pause()'") || p.Signed == nil || p.Signed.From != deployerAddr {
				t.Errorf("prepared: %s", ans.Data)
			}
			if _, err := response.ParseBatch(p.SafeBatch); err != nil {
				t.Errorf("Safe batch: %v", err)
			}
			if p.Simulation == nil || p.Simulation.Reverted || len(p.Simulation.Events) == 0 || p.Simulation.Events[0].Name != "Paused" {
				t.Errorf("simulation: %+v", p.Simulation)
			}
		}},
		{"ambiguous action", "POST", vaultPath + "/prepare", `{"action":"revokeRole"}`, 400, func(t *testing.T, ans respondAnswer) {
			// Revoking the admin, and each of the three pausers (deployer, Safe, guardian).
			if !strings.Contains(ans.Error, "names 4 actions") || !strings.Contains(ans.Error, "PAUSER_ROLE") {
				t.Errorf("error: %s", ans.Error)
			}
		}},
		{"unknown action", "POST", vaultPath + "/prepare", `{"action":"selfdestruct"}`, 404, nil},
		{"unknown field", "POST", vaultPath + "/prepare", `{"actoin":"pause"}`, 400, nil},
		{"not watched", "GET", "/api/v1/respond/contracts/0x000000000000000000000000000000000000dEaD/actions", "", 404, nil},
		{"bad address", "GET", "/api/v1/respond/contracts/0x12/actions", "", 400, nil},
		{"send", "POST", vaultPath + "/send", `{"action":"pause()"}`, 200, func(t *testing.T, ans respondAnswer) {
			var s response.Sent
			decode(ans, &s)
			if !s.Mined || s.Status != 1 || s.From != deployerAddr || s.Run == 0 {
				t.Errorf("sent: %s", ans.Data)
			}
			if st := pausedState(); st != "paused: true" {
				t.Errorf("state after the pause: %q", st)
			}
		}},
		{"refused", "POST", vaultPath + "/send", `{"action":"pause"}`, 409, func(t *testing.T, ans respondAnswer) {
			var s response.Sent
			decode(ans, &s)
			if s.Simulation == nil || !s.Simulation.Reverted || !strings.Contains(s.Simulation.Reason, "EnforcedPause") || s.Hash != ([32]byte{}) {
				t.Errorf("refused send: %s", ans.Data)
			}
		}},
		{"forced", "POST", vaultPath + "/send", `{"action":"pause","force":true}`, 409, func(t *testing.T, ans respondAnswer) {
			var s response.Sent
			decode(ans, &s)
			if !s.Mined || s.Status != 0 || !strings.Contains(ans.Error, "failed") {
				t.Errorf("forced send: %s %s", ans.Error, ans.Data)
			}
		}},
		{"runs", "GET", "/api/v1/respond/runs?contract=" + strings.ToLower(vault), "", 200, func(t *testing.T, ans respondAnswer) {
			var runs []response.Run
			decode(ans, &runs)
			var got []string
			for _, r := range runs {
				got = append(got, r.Trigger+" "+r.Status)
				if len(r.Steps) != 1 || r.Steps[0].Function != "pause()" || r.Steps[0].Simulation == nil {
					t.Errorf("run %d steps: %+v", r.ID, r.Steps)
				}
			}
			if want := "hand failed,hand failed,hand done"; strings.Join(got, ",") != want {
				t.Errorf("runs %q, want %q", strings.Join(got, ","), want)
			}
		}},
		{"bad limit", "GET", "/api/v1/respond/runs?limit=0", "", 400, nil},
		// The demo's Safe 2-of-3 unpauses the vault.
		{"propose", "POST", vaultPath + "/propose", `{"action":"unpause"}`, 200, func(t *testing.T, ans respondAnswer) {
			decode(ans, &proposal)
			if proposal.Threshold != demo.SafeThreshold || len(proposal.Owners) != demo.SafeOwners || proposal.Simulation.Reverted {
				t.Errorf("proposal: %s", ans.Data)
			}
		}},
		{"one signature", "POST", "", "", 200, nil},
		{"below threshold", "POST", "", `{}`, 409, func(t *testing.T, ans respondAnswer) {
			if !strings.Contains(ans.Error, "needs 2 owner signatures and has 1") {
				t.Errorf("error: %s", ans.Error)
			}
		}},
		{"stranger's signature", "POST", "", "", 400, nil},
		{"second signature", "POST", "", "", 200, nil},
		{"execute", "POST", "", `{}`, 200, func(t *testing.T, ans respondAnswer) {
			var s response.Sent
			decode(ans, &s)
			if !s.Mined || s.Status != 1 || s.From != deployerAddr {
				t.Errorf("executed: %s", ans.Data)
			}
			if st := pausedState(); st != "paused: false" {
				t.Errorf("state after the Safe's unpause: %q", st)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The Safe steps act on the proposal: owners sign its hash.
			sign := func(key *ecdsa.PrivateKey) string {
				sig, err := crypto.Sign(proposal.Hash[:], key)
				if err != nil {
					t.Fatal(err)
				}
				sig[64] += 27
				return `{"signature":"` + hexutil.Encode(sig) + `"}`
			}
			owners := demo.SafeOwnerKeys()
			switch tc.name {
			case "one signature":
				tc.path, tc.body = "/api/v1/respond/safe/proposals/"+proposal.Hash.Hex()+"/signatures", sign(owners[1])
			case "stranger's signature":
				tc.path, tc.body = "/api/v1/respond/safe/proposals/"+proposal.Hash.Hex()+"/signatures", sign(deployer)
			case "second signature":
				tc.path, tc.body = "/api/v1/respond/safe/proposals/"+proposal.Hash.Hex()+"/signatures", sign(owners[0])
			case "below threshold", "execute":
				tc.path = "/api/v1/respond/safe/proposals/" + proposal.Hash.Hex() + "/execute"
			}
			code, ans := call(tc.method, tc.path, tc.body)
			if code != tc.code {
				t.Fatalf("HTTP %d (%s %s), want %d", code, ans.ErrorKind, ans.Error, tc.code)
			}
			if tc.check != nil {
				tc.check(t, ans)
			}
		})
	}
}
