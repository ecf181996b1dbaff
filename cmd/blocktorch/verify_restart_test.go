package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
)

// What `blocktorch verify --server` registered is still listed as
// verified by GET /api/v1/contracts after the server restarts.
func TestVerifyServerSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a chain and the server twice")
	}
	ch, err := demo.StartChain(t.Context(), demo.ChainConfig{Chain: devchain.Config{BlockInterval: 200 * time.Millisecond, RPCAddr: "127.0.0.1:0"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = ch.WSEndpoint()
	cfg.DataDir = t.TempDir()
	cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "serve.db")
	t.Setenv("BLOCKTORCH_KEY", "")

	a, stop := apptest.Start(t, cfg)
	build, _ := filepath.Abs(filepath.Join("..", "..", "internal", "demo", "contracts", "build"))
	code, out, errOut := runCLI(t, "verify", "--rpc", ch.HTTPEndpoint(), "--server", a.URL(), ch.App.VaultImpl.Hex(), build)
	if code != 0 || !strings.Contains(out, "registered with") {
		t.Fatalf("verify --server: exit %d\n%s%s", code, out, errOut)
	}
	stop()

	a, stop = apptest.Start(t, cfg)
	defer stop()
	var list []struct {
		Address      common.Address `json:"address"`
		Name         string         `json:"name"`
		Verification *struct {
			Status       string    `json:"status"`
			ContractName string    `json:"contractName"`
			Compiler     string    `json:"compiler"`
			Verified     time.Time `json:"verified"`
		} `json:"verification"`
	}
	if c := apptest.GetData(t, a.URL()+"/api/v1/contracts", &list); c != 200 {
		t.Fatalf("GET /api/v1/contracts: HTTP %d", c)
	}
	for _, c := range list {
		if c.Address != ch.App.VaultImpl {
			continue
		}
		if v := c.Verification; v == nil || v.Status != "full" || v.ContractName != "LendingVault" || v.Compiler == "" || v.Verified.IsZero() {
			t.Fatalf("after a restart the vault is listed as %+v, %+v", c, c.Verification)
		}
		return
	}
	t.Fatalf("after a restart the vault is not listed: %+v", list)
}
