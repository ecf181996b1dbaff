package contracts_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
)

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// layouts writes the demo build in each layout the loaders read.
func layouts(t *testing.T) map[string]string {
	t.Helper()
	in, out := demo.StandardJSON()
	root := t.TempDir()
	dirs := map[string]string{}

	std := filepath.Join(root, "std")
	writeFile(t, filepath.Join(std, "input.json"), in)
	writeFile(t, filepath.Join(std, "output.json"), out)
	dirs["standard-json dir"] = std

	// Hardhat 2: one build-info file holding input and output.
	hh := filepath.Join(root, "hardhat")
	info, _ := json.Marshal(map[string]any{"_format": "hh-sol-build-info-1", "id": "x", "solcVersion": "0.8.28",
		"solcLongVersion": "0.8.28+commit.7893614a", "input": json.RawMessage(in), "output": json.RawMessage(out)})
	writeFile(t, filepath.Join(hh, "artifacts", "build-info", "x.json"), info)
	dirs["hardhat project"] = hh
	dirs["hardhat build-info dir"] = filepath.Join(hh, "artifacts", "build-info")
	dirs["hardhat build-info file"] = filepath.Join(hh, "artifacts", "build-info", "x.json")

	// Hardhat 3: input and output in two files.
	hh3 := filepath.Join(root, "hardhat3", "artifacts", "build-info")
	info3, _ := json.Marshal(map[string]any{"_format": "hh3-sol-build-info-1", "id": "y", "solcVersion": "0.8.28",
		"solcLongVersion": "0.8.28+commit.7893614a", "input": json.RawMessage(in)})
	out3, _ := json.Marshal(map[string]any{"_format": "hh3-sol-build-info-output-1", "id": "y", "output": json.RawMessage(out)})
	writeFile(t, filepath.Join(hh3, "y.json"), info3)
	writeFile(t, filepath.Join(hh3, "y.output.json"), out3)
	dirs["hardhat3 build-info dir"] = hh3

	// Foundry: per-contract files without build-info output, sources on disk.
	var o struct {
		Contracts map[string]map[string]struct {
			ABI      json.RawMessage `json:"abi"`
			Metadata string          `json:"metadata"`
			EVM      struct {
				Bytecode         json.RawMessage `json:"bytecode"`
				DeployedBytecode json.RawMessage `json:"deployedBytecode"`
			} `json:"evm"`
		} `json:"contracts"`
		Sources map[string]struct {
			ID int `json:"id"`
		} `json:"sources"`
	}
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatal(err)
	}
	var inp struct {
		Sources map[string]struct {
			Content string `json:"content"`
		} `json:"sources"`
	}
	_ = json.Unmarshal(in, &inp)
	fd := filepath.Join(root, "foundry")
	for unit, cs := range o.Contracts {
		writeFile(t, filepath.Join(fd, unit), []byte(inp.Sources[unit].Content))
		for name, c := range cs {
			fa, _ := json.Marshal(map[string]any{"abi": c.ABI, "bytecode": c.EVM.Bytecode, "deployedBytecode": c.EVM.DeployedBytecode,
				"rawMetadata": c.Metadata, "id": o.Sources[unit].ID})
			writeFile(t, filepath.Join(fd, "out", filepath.Base(unit), name+".json"), fa)
		}
	}
	dirs["foundry project"] = fd
	dirs["foundry out"] = filepath.Join(fd, "out")
	return dirs
}

func TestLoadDirLayouts(t *testing.T) {
	d := newDemo(t)
	for name, dir := range layouts(t) {
		arts, err := bc.LoadDir(dir)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		res, err := bc.Verify(context.Background(), d.eth, d.app.VaultImpl, arts, bc.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.Status != bc.StatusFull || res.ContractName != "LendingVault" || res.SourceName != "src/LendingVault.sol" {
			t.Errorf("%s: %s %s %v", name, res.Status, res.ContractName, res.Mismatch)
		}
		if res.Settings.Compiler != "0.8.28+commit.7893614a" || res.Settings.EVMVersion != "cancun" {
			t.Errorf("%s: settings %+v", name, res.Settings)
		}
		if res.Sources["src/LendingVault.sol"] == "" {
			t.Errorf("%s: no source text for src/LendingVault.sol", name)
		}
	}
	if _, err := bc.LoadDir(t.TempDir()); err == nil {
		t.Error("an empty directory loaded")
	}
}
