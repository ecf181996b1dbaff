package app_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// What another node writes to the shared PostgreSQL database reaches this
// node's memory within about a second: a monitor it creates is listed and
// compiled, a contract it adds makes that monitor compile, a monitor it
// deletes is gone.
func TestChangesFromAnotherNode(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded chain test")
	}
	ch, err := devchain.Start(devchain.Config{BlockInterval: 200 * time.Millisecond, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	dsn := pgtest.DSN(t)
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = ch.WSEndpoint()
	cfg.DataDir = t.TempDir()
	cfg.DB = dsn
	a, stop := apptest.Start(t, cfg)
	defer stop()
	other, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	type info struct {
		Error string `json:"error"`
	}
	monitor := func(id string) (info, int) {
		var m info
		code := apptest.GetData(t, a.URL()+"/api/v1/monitors/"+id, &m)
		return m, code
	}
	const within = 5 * time.Second
	spec := `{"id":"remote","kind":"event","contract":"Token","event":"Transfer"}`
	if err := other.PutMonitor(t.Context(), store.MonitorDef{ID: "remote", Spec: []byte(spec), Origin: "api", Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitFor(t, "the other node's monitor listed", within, func() bool {
		m, code := monitor("remote")
		return code == http.StatusOK && m.Error != ""
	})
	t.Logf("a monitor created on another node was listed after %s", time.Since(start).Round(time.Millisecond))

	abi := `[{"type":"event","name":"Transfer","anonymous":false,"inputs":[{"name":"from","type":"address","indexed":true},` +
		`{"name":"to","type":"address","indexed":true},{"name":"value","type":"uint256","indexed":false}]}]`
	if err := other.PutContract(t.Context(), store.Contract{Address: storetest.Addr(9), Name: "Token", ABI: []byte(abi), Origin: "user", Added: time.Now()}); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	waitFor(t, "the monitor compiled against the other node's contract", within, func() bool {
		m, code := monitor("remote")
		return code == http.StatusOK && m.Error == ""
	})
	t.Logf("a contract added on another node compiled a monitor after %s", time.Since(start).Round(time.Millisecond))

	if err := other.DeleteMonitor(t.Context(), "remote"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the other node's deletion", within, func() bool {
		_, code := monitor("remote")
		return code == http.StatusNotFound
	})
}
