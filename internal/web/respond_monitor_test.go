package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/response"
)

// respondMonitor applies a monitor that names a response scenario
// (respond: pause-vault) to the demo started with a scenarios file: a
// monitor naming an unknown scenario is refused at apply time with the
// ones that exist; a failing transaction to a watched contract fires the
// monitor, and the real scenario runner pauses the vault on chain, the
// run recorded with the monitor as its trigger.
func respondMonitor(t *testing.T, a *app.App) {
	base := a.URL()
	vault := common.HexToAddress(demoContract(t, base, "LendingVault")).Hex()
	rpcURL, _ := a.ChainRPC()
	ec, err := ethclient.DialContext(t.Context(), rpcURL)
	if err != nil {
		t.Fatal(err)
	}
	defer ec.Close()
	if isPaused(t, ec, vault) {
		t.Fatal("the vault is paused before the test")
	}
	boom := deployHostilePausable(t, a, ec)

	apply := func(file string) (int, string) {
		t.Helper()
		resp, err := http.Post(base+"/api/v1/monitors/apply?file=respond.yaml", "application/yaml", strings.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	monitorFile := func(scenario string) string {
		return "monitors:\n  - id: boom-fails\n    kind: txfail\n    contract: " + boom.Hex() + "\n    respond: " + scenario + "\n"
	}
	if code, body := apply(monitorFile("pause-vualt")); code != http.StatusBadRequest ||
		!strings.Contains(body, `respond.yaml:5:14: monitors[0] respond: not found: no scenario \"pause-vualt\"; the scenarios are: pause-vault`) {
		t.Fatalf("a monitor naming an unknown scenario: HTTP %d %s", code, body)
	}
	if code, body := apply(monitorFile("pause-vault")); code != http.StatusOK {
		t.Fatalf("apply: HTTP %d %s", code, body)
	}

	// The failure that fires the monitor.
	if rcpt := sendFrom(t, ec, attackerKey(), &boom, []byte{1, 2, 3, 4}); rcpt.Status != 0 {
		t.Fatal("the call to the hostile contract did not fail")
	}
	// The mempool guard may run the scenario on the pending failure first
	// (trigger monitor:boom-fails:pending:0x…); the firing on the mined
	// block then finds the scenario in its cooldown. Either run is the
	// monitor's scenario: one of them must have paused the vault.
	var runs []response.Run
	var done *response.Run
	eventually(t, "the scenario run by the monitor", 60*time.Second, func() bool {
		apptest.GetData(t, base+"/api/v1/respond/runs?scenario=pause-vault", &runs)
		for i := range runs {
			if runs[i].Status == response.RunDone && strings.HasPrefix(runs[i].Trigger, "monitor:boom-fails") {
				done = &runs[i]
				return true
			}
		}
		return false
	})
	if r := done; !strings.HasPrefix(r.Trigger, "monitor:boom-fails") || len(r.Steps) != 1 || r.Steps[0].Function != "pause()" || !r.Steps[0].Mined {
		t.Fatalf("the run: %+v (all: %+v)", *r, runs)
	}
	if !isPaused(t, ec, vault) {
		t.Fatal("the vault is not paused on chain after the monitor's scenario ran")
	}
}
