package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

// maxABIFile caps what abi add reads: build artifacts with bytecode are a
// few megabytes at most.
const maxABIFile = 32 << 20

var (
	abiAddSpec = spec{
		name: "abi add", args: "ADDRESS FILE", min: 2, max: 2,
		short:   "register a contract's ABI: its calls, events and reverts are decoded from then on",
		example: "blocktorch abi add 0xYourContract out/Vault.sol/Vault.json",
		about: `Register a contract's ABI with a running server, so that its calls, events and reverts are
decoded from then on. FILE is a bare ABI array or a Foundry, Hardhat or Truffle artifact.`,
	}
	abiGroup = group{name: "abi", about: "Contract ABIs on a running server."}
)

func runABI(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := abiGroup
	g.subs = []groupSub{{abiAddSpec, func(args []string) error { return runABIAdd(ctx, args, stdout) }}}
	return g.run(args, stdout)
}

func runABIAdd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := abiAddSpec.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	name := fs.String("name", "", "contract name (default: the artifact's contractName or the file name)")
	pos, err := abiAddSpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if !common.IsHexAddress(pos[0]) {
		return abiAddSpec.errorf("%q is not an address (0x and 40 hex digits)", pos[0])
	}
	addr, file := pos[0], pos[1]
	data, err := readLimited(file, maxABIFile)
	if err != nil {
		return err
	}
	abiJSON, artifactName, err := extractABI(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if *name == "" {
		*name = artifactName
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	// An ABI that is not valid JSON goes as a string, so that the server
	// names the position of the fault.
	var abiField any = abiJSON
	if !json.Valid(abiJSON) {
		abiField = string(abiJSON)
	}
	body, err := json.Marshal(map[string]any{"address": addr, "name": *name, "abi": abiField})
	if err != nil {
		return fmt.Errorf("cannot encode the request: %w", err)
	}
	// Generous: registering re-compiles the monitors that name the
	// contract; Ctrl-C stops waiting sooner.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := sf.client(defaultServer).post(ctx, "/api/v1/contracts", "application/json", body, nil); err != nil {
		return fmt.Errorf("cannot register the ABI: %w", err)
	}
	fmt.Fprintf(stdout, "registered %s at %s: its calls, events and reverts are decoded from now on\n", *name, addr)
	return nil
}

// extractABI accepts a bare ABI array or a build artifact (Hardhat,
// Foundry, Truffle) holding one under "abi".
func extractABI(data []byte) (json.RawMessage, string, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return json.RawMessage(trimmed), "", nil
	}
	var art struct {
		ABI          json.RawMessage `json:"abi"`
		ContractName string          `json:"contractName"`
	}
	if err := json.Unmarshal(trimmed, &art); err != nil {
		return nil, "", fmt.Errorf("not an ABI array nor a JSON build artifact: %w", err)
	}
	if len(art.ABI) == 0 {
		return nil, "", fmt.Errorf("no \"abi\" field in the artifact")
	}
	return art.ABI, art.ContractName, nil
}

func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is over %d MiB; is it an ABI?", path, limit>>20)
	}
	return data, nil
}
