package demo

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// demoContracts are the deployable contracts the demo app relies on.
var demoContracts = []string{"DemoToken", "PriceFeed", "LendingVault", "Router", "Attacker"}

func TestArtifacts(t *testing.T) {
	arts, err := Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range demoContracts {
		t.Run(name, func(t *testing.T) {
			a, ok := arts[name]
			if !ok {
				t.Fatalf("no artifact for %s", name)
			}
			if a.Name != name || a.SourceName != "src/"+name+".sol" {
				t.Errorf("got name %q source %q", a.Name, a.SourceName)
			}
			if len(a.Bytecode) == 0 || len(a.DeployedBytecode) == 0 {
				t.Errorf("empty bytecode: creation %d bytes, runtime %d bytes", len(a.Bytecode), len(a.DeployedBytecode))
			}
			if a.SourceMap == "" || a.DeployedSourceMap == "" {
				t.Error("missing source map")
			}
			var abi []map[string]any
			if err := json.Unmarshal(a.ABI, &abi); err != nil || len(abi) == 0 {
				t.Errorf("bad ABI (%d entries): %v", len(abi), err)
			}
			if !json.Valid(a.StorageLayout) {
				t.Error("invalid storage layout JSON")
			}
		})
	}
}

func TestStandardJSONIsSelfContained(t *testing.T) {
	in, out := StandardJSON()
	var input struct {
		Sources  map[string]struct{ Content string } `json:"sources"`
		Settings struct {
			EVMVersion string `json:"evmVersion"`
			Optimizer  struct{ Enabled bool }
		} `json:"settings"`
	}
	if err := json.Unmarshal(in, &input); err != nil {
		t.Fatal(err)
	}
	var output struct {
		Sources map[string]struct{ ID int } `json:"sources"`
	}
	if err := json.Unmarshal(out, &output); err != nil {
		t.Fatal(err)
	}
	if input.Settings.EVMVersion != "cancun" || input.Settings.Optimizer.Enabled {
		t.Errorf("settings: evm %q optimizer %v", input.Settings.EVMVersion, input.Settings.Optimizer.Enabled)
	}
	for unit := range output.Sources {
		if input.Sources[unit].Content == "" {
			t.Errorf("output refers to %s, which the input does not hold", unit)
		}
	}
}

// TestBuildIsUpToDate regenerates the standard JSON with the pinned compiler and requires
// the committed files to match byte for byte.
func TestBuildIsUpToDate(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed; run: make contracts-deps")
	}
	if _, err := os.Stat(filepath.Join("contracts", "node_modules", "solc", "package.json")); err != nil {
		t.Fatal("internal/demo/contracts/node_modules is missing; run: make contracts-deps")
	}
	for _, tc := range []struct {
		build string // under contracts/
		args  []string
	}{
		// The Makefile's DEMO_LIBS and PATCHED_BUILD.
		{"build", []string{"--lib", "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol"}},
		{"build/patched", []string{"--src", "patched"}},
		// The Makefile's CHAINLINK_BUILD.
		{"build/chainlink", []string{"--src", "none", "--solc", "solc-0826",
			"--lib", "@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol",
			"--lib", "@chainlink/contracts/src/v0.8/data-feeds/test/helpers/DataFeedsLegacyAggregatorProxy.sol"}},
		// The Makefile's SAFE_BUILD.
		{"build/safe", []string{"--src", "none", "--optimize",
			"--lib", "@safe-global/safe-contracts/contracts/Safe.sol",
			"--lib", "@safe-global/safe-contracts/contracts/proxies/SafeProxyFactory.sol"}},
	} {
		dir := t.TempDir()
		cmd := exec.Command(node, append(append([]string{"compile.js"}, tc.args...), "--out", dir)...)
		cmd.Dir = "contracts"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("node compile.js %v failed: %v\n%s", tc.args, err, out)
		}
		for _, f := range []string{"input.json", "output.json"} {
			want, err := os.ReadFile(filepath.Join("contracts", tc.build, f))
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("contracts/%s/%s is stale; regenerate it with: make contracts", tc.build, f)
			}
		}
	}
}
