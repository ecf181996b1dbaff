package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/demo"
)

// TestRespondCommands pauses the demo vault from the command line: the
// server signs with the demo's deployer (the vault's pauser) from
// BLOCKTORCH_SIGNER_KEY, and the CLI lists the actions, prepares the pause
// with its Safe batch, sends it, is refused a second one, and reads the
// history.
func TestRespondCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	deployer := demo.Keys(1)[demo.Deployer]
	keyHex := hex.EncodeToString(crypto.FromECDSA(deployer))
	t.Setenv("BLOCKTORCH_SIGNER_KEY", keyHex)
	cfg := apptest.DemoConfig(t)
	cfg.TrafficRate = 0
	cfg.ScenariosFile = filepath.Join(t.TempDir(), "scenarios.yaml")
	if err := os.WriteFile(cfg.ScenariosFile, []byte("scenarios:\n  - name: pause-vault\n    cooldown: 1h\n    actions:\n      - {contract: LendingVault, action: pause}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, stop := apptest.Start(t, cfg)
	defer stop()
	t.Setenv("BLOCKTORCH_SERVER", a.URL())
	var list []struct{ Address, Name string }
	if code := apptest.GetData(t, a.URL()+"/api/v1/contracts", &list); code != 200 {
		t.Fatalf("contracts: HTTP %d", code)
	}
	var vault string
	for _, c := range list {
		if c.Name == "LendingVault" {
			vault = common.HexToAddress(c.Address).Hex()
		}
	}
	pauser := crypto.PubkeyToAddress(deployer.PublicKey).Hex()
	// The demo's pausers: its deployer, its Safe and the guardian the
	// mempool guard signs with.
	guardian := crypto.PubkeyToAddress(demo.GuardianKey().PublicKey).Hex()
	safeFile := filepath.Join(t.TempDir(), "pause.json")

	for _, tc := range []struct {
		args []string
		code int
		want []string // regular expressions the output (stdout, then stderr) must match
	}{
		{[]string{"respond", "actions", vault}, 0, []string{`(?m)^pause\(\)\n  Pauses the contract.* needs PAUSER_ROLE \(held by ` + pauser + `, 0x[0-9a-fA-F]{40}, ` + guardian + `\); paused: false$`, `(?m)^revokeRole\(bytes32,address\):PAUSER_ROLE:` + pauser + `$`}},
		{[]string{"respond", "prepare", vault, "pause", "--safe-json", safeFile}, 0, []string{`(?m)^calldata: 0x8456cb59$`, `(?m)^cast:     cast send --rpc-url "\$ETH_RPC_URL" ` + vault + ` 'pause\(\)'$`, `simulation from ` + pauser + ` at block \d+: ok`, `event Paused from ` + vault, `signed by ` + pauser, `Safe Transaction Builder batch: `}},
		{[]string{"respond", "send", vault, "pause"}, 0, []string{`event Paused`, `sent 0x[0-9a-f]{64} from ` + pauser + ` \(nonce \d+\): mined in block \d+, status 1 \(run 1\)`}},
		{[]string{"respond", "send", vault, "pause"}, 1, []string{`^$`, `the simulation reverts from ` + pauser + `: .*EnforcedPause.*; not sent \(force to send anyway\)`}},
		{[]string{"respond", "prepare", vault, "nosuch"}, 1, []string{`^$`, `has no emergency action "nosuch"; it has: pause\(\), unpause\(\)`}},
		{[]string{"respond", "actions", "0x12"}, 2, []string{`^$`, `"0x12" is not an address`}},
		{[]string{"respond", "runs", "--contract", vault}, 0, []string{`(?s)^#2 \S+ action by hand: failed\n  pause\(\) on ` + vault + `: the simulation reverts.*\n#1 \S+ action by hand: done\n  pause\(\) on ` + vault + ` tx 0x[0-9a-f]{64}\n$`}},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("%q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, out, errOut)
			}
			for i, w := range tc.want {
				text := out
				if i > 0 && tc.code != 0 {
					text = errOut
				}
				if !regexp.MustCompile(w).MatchString(text) {
					t.Errorf("%q: output lacks %s:\n%s", tc.args, w, text)
				}
			}
			if strings.Contains(out+errOut, keyHex) {
				t.Errorf("%q printed the signer's key", tc.args)
			}
		})
	}

	// The demo's Safe unpauses the vault: proposed, signed by two of its
	// three owners (as cast wallet sign --no-hash would), executed.
	code, out, errOut := runCLI(t, "respond", "propose", vault, "unpause")
	m := regexp.MustCompile(`transaction (0x[0-9a-f]{64}) \(nonce 0\): unpause\(\)\nsignatures: 0 of 2 needed`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("propose: exit %d\n%s%s", code, out, errOut)
	}
	hash := common.HexToHash(m[1])
	sign := func(i int) string {
		sig, err := crypto.Sign(hash[:], demo.SafeOwnerKeys()[i])
		if err != nil {
			t.Fatal(err)
		}
		sig[64] += 27
		return hexutil.Encode(sig)
	}
	for _, step := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"respond", "sign", m[1], sign(0)}, 0, "signatures: 1 of 2 needed"},
		{[]string{"respond", "execute", m[1]}, 1, "needs 2 owner signatures and has 1"},
		{[]string{"respond", "sign", m[1], "0x1234"}, 1, "a signature is 65 bytes"},
		{[]string{"respond", "sign", m[1], sign(1)}, 0, "signatures: 2 of 2 needed"},
		{[]string{"respond", "execute", m[1]}, 0, "status 1 (run 3)"},
		{[]string{"respond", "actions", vault}, 0, "paused: false"},
		// The scenario pauses it again: simulated first, then for real;
		// a second run falls within its cooldown.
		{[]string{"respond", "run", "pause-vault", "--dry-run"}, 0, "scenario pause-vault: simulated (run 4)\n  pause() on " + vault + " simulated from " + pauser},
		{[]string{"respond", "actions", vault}, 0, "paused: false"},
		{[]string{"respond", "run", "pause-vault"}, 0, "scenario pause-vault: done (run 5)\n  pause() on " + vault + " tx 0x"},
		{[]string{"respond", "run", "pause-vault"}, 1, "its cooldown is 1h0m0s"},
		{[]string{"respond", "run", "nosuch"}, 1, `no scenario "nosuch"`},
		{[]string{"respond", "actions", vault}, 0, "paused: true"},
	} {
		code, out, errOut := runCLI(t, step.args...)
		if code != step.code || !strings.Contains(out+errOut, step.want) {
			t.Errorf("%q: exit %d, want %d and %q:\n%s%s", step.args, code, step.code, step.want, out, errOut)
		}
	}

	data, err := os.ReadFile(safeFile)
	if err != nil {
		t.Fatal(err)
	}
	var batch struct {
		Transactions []struct{ To, Data string }
	}
	if err := json.Unmarshal(data, &batch); err != nil || len(batch.Transactions) != 1 || !strings.EqualFold(batch.Transactions[0].To, vault) {
		t.Errorf("Safe batch file: %v %s", err, data)
	}
}
