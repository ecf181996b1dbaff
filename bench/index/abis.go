package main

import (
	"crypto/ecdsa"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/demo"
)

type ecdsaKey = ecdsa.PrivateKey

// writeABIs hands the child indexer the demo app's contracts.
func writeABIs(dir, name string, app *demo.App) (string, error) {
	b, err := json.Marshal(app.Contracts())
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name+"-abis.json")
	return p, os.WriteFile(p, b, 0o644)
}

func loadABIs(reg *decode.Registry, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cs []demo.Contract
	if err := json.Unmarshal(b, &cs); err != nil {
		return err
	}
	for _, c := range cs {
		if err := reg.Add(c.Address, c.Name, c.ABI); err != nil {
			return err
		}
	}
	return nil
}
