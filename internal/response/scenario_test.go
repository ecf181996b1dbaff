package response_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// TestScenario runs a scenario that pauses the demo vault: a dry run
// simulates and sends nothing, a monitor's firing is skipped while
// automation is off, a run by hand pauses the vault, a second within the
// cooldown is skipped, and every run is in the history and on the open
// incident's timeline (the real incident service on SQLite).
func TestScenario(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inc := incident.New(incident.Deps{Store: db, Search: db, Alerts: db, Monitors: db}, incident.Options{BaseURL: "http://127.0.0.1"})
	opened, err := inc.Open(ctx, "test", incident.Draft{Title: "Vault drained", Severity: "critical"})
	if err != nil {
		t.Fatal(err)
	}
	svc := r.service(response.NewKeySigner(r.keys[demo.Deployer], "test"), nil)
	svc.History, svc.Timeline = db, inc
	scs, err := response.ParseScenarios([]byte(`
scenarios:
  - name: pause-vault
    description: Pause the vault when it drains
    monitors: [vault-drain]
    cooldown: 1h
    actions:
      - contract: lendingvault
        action: pause
`))
	if err != nil {
		t.Fatal(err)
	}
	svc.SetScenarios(scs)

	run, err := svc.RunScenario(ctx, "pause-vault", response.TriggerHand, true)
	if err != nil || run.Status != response.RunSimulated || len(run.Steps) != 1 || run.Steps[0].Simulation == nil || run.Steps[0].Simulation.Reverted || r.paused(t) {
		t.Fatalf("dry run: %v %+v", err, run)
	}
	svc.SetAutomation(false)
	if runs := svc.OnMonitorFiring(ctx, "vault-drain", "", common.Hash{}); len(runs) != 1 || runs[0].Status != response.RunSkipped || !strings.Contains(runs[0].Error, "automation is off") || r.paused(t) {
		t.Fatalf("a firing with automation off: %+v", runs)
	}
	if runs := svc.OnMonitorFiring(ctx, "another", "", common.Hash{}); len(runs) != 0 {
		t.Errorf("a monitor no scenario names ran %d", len(runs))
	}
	svc.SetAutomation(true)
	runs := svc.OnMonitorFiring(ctx, "vault-drain", "", common.Hash{})
	if len(runs) != 1 || runs[0].Status != response.RunDone || runs[0].Trigger != "monitor:vault-drain" || !r.paused(t) {
		t.Fatalf("a firing with automation on: %+v", runs)
	}
	run, err = svc.RunScenario(ctx, "pause-vault", response.TriggerHand, false)
	if !errors.Is(err, response.ErrSkipped) || run.Status != response.RunSkipped || !strings.Contains(err.Error(), "cooldown is 1h0m0s") {
		t.Fatalf("a run within the cooldown: %v %+v", err, run)
	}
	if _, err := svc.RunScenario(ctx, "nosuch", "", false); !errors.Is(err, response.ErrNotFound) {
		t.Errorf("an unknown scenario: %v", err)
	}

	hist, err := svc.Runs(ctx, store.ResponseRunQuery{Scenario: "pause-vault"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range hist {
		got = append(got, h.Trigger+" "+h.Status)
	}
	if want := "hand skipped,monitor:vault-drain done,monitor:vault-drain skipped,hand simulated"; strings.Join(got, ",") != want {
		t.Errorf("history %q, want %q", strings.Join(got, ","), want)
	}
	entries, err := db.IncidentEntries(ctx, opened.ID)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, e := range entries {
		if e.Kind == incident.KindAction {
			lines = append(lines, e.Text)
		}
	}
	if len(lines) != 4 || !strings.Contains(lines[2], "Scenario pause-vault by monitor:vault-drain: done; pause() on "+r.app.Vault.Hex()+" tx 0x") {
		t.Errorf("timeline:\n%s", strings.Join(lines, "\n"))
	}

	// An action sent by hand is on the timeline too, linking to its
	// transaction.
	sent, err := svc.Send(ctx, r.app.Vault.Hex()+":unpause()", nil, response.SendOptions{})
	if err != nil || r.paused(t) {
		t.Fatalf("unpause by hand: %v", err)
	}
	if entries, err = db.IncidentEntries(ctx, opened.ID); err != nil {
		t.Fatal(err)
	}
	last := entries[len(entries)-1]
	if want := "Action by hand: done; unpause() on " + r.app.Vault.Hex() + " tx " + sent.Hash.Hex(); last.Kind != incident.KindAction || last.Text != want || last.Link != "/tx/"+sent.Hash.Hex() {
		t.Errorf("the hand send on the timeline: %+v, want %q", last, want)
	}
}

// TestScenarioOncePerTx: a scenario runs once for one monitor and one
// transaction. The guard's run on the pending exploit pauses; an operator
// unpauses; the monitor's firing on the mined exploit then sends nothing
// (neither does a second firing, nor one seen by a service started again
// on the same history: a mined firing looks there), while a firing for another transaction pauses. A
// run that sent nothing (its simulation reverted) does not count: the
// next firing for that transaction runs.
func TestScenarioOncePerTx(t *testing.T) {
	r := newRig(t)
	ctx := testContext(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "runs.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scs, err := response.ParseScenarios([]byte(`
scenarios:
  - name: pause-vault
    monitors: [vault-drain]
    actions:
      - contract: LendingVault
        action: pause
`))
	if err != nil {
		t.Fatal(err)
	}
	newService := func() *response.Service {
		svc := r.service(response.NewKeySigner(r.keys[demo.Deployer], "test"), nil)
		svc.History = db
		svc.SetScenarios(scs)
		return svc
	}
	svc := newService()
	unpause := func() {
		t.Helper()
		if _, err := svc.Send(ctx, r.app.Vault.Hex()+":unpause()", nil, response.SendOptions{}); err != nil || r.paused(t) {
			t.Fatalf("unpause by hand: %v", err)
		}
	}
	one := func(what string, runs []*response.Run, status, errPart string, paused bool) {
		t.Helper()
		if len(runs) != 1 || runs[0].Status != status || !strings.Contains(runs[0].Error, errPart) || r.paused(t) != paused {
			t.Fatalf("%s: %+v (paused %v), want one run %s with %q, paused %v", what, runs, r.paused(t), status, errPart, paused)
		}
	}
	exploit, other, third := common.HexToHash("0xe1"), common.HexToHash("0xe2"), common.HexToHash("0xe3")

	one("the guard on the pending exploit", svc.OnMonitorPending(ctx, "vault-drain", "", exploit, response.SendOptions{}), response.RunDone, "", true)
	unpause()
	one("the mined firing of the same exploit", svc.OnMonitorFiring(ctx, "vault-drain", "", exploit), response.RunSkipped, "already ran for transaction "+exploit.Hex(), false)
	one("a second mined firing", svc.OnMonitorFiring(ctx, "vault-drain", "", exploit), response.RunSkipped, "already ran", false)
	svc = newService()
	one("the firing after a restart", svc.OnMonitorFiring(ctx, "vault-drain", "", exploit), response.RunSkipped, "already ran", false)

	one("a firing for another transaction", svc.OnMonitorFiring(ctx, "vault-drain", "", other), response.RunDone, "", true)
	// Already paused: the guard's pause would revert and is not sent.
	one("the guard while paused", svc.OnMonitorPending(ctx, "vault-drain", "", third, response.SendOptions{}), response.RunFailed, "the simulation reverts", true)
	unpause()
	one("the mined firing after a run that sent nothing", svc.OnMonitorFiring(ctx, "vault-drain", "", third), response.RunDone, "", true)

	hist, err := svc.Runs(ctx, store.ResponseRunQuery{Scenario: "pause-vault"})
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, h := range hist {
		for _, st := range h.Steps {
			if st.Hash != (common.Hash{}) {
				sent++
			}
		}
	}
	if len(hist) != 7 || sent != 3 {
		t.Errorf("%d runs sent %d transactions, want 7 runs and 3 pauses", len(hist), sent)
	}
}

// TestParseScenarios refuses bad scenario files with what is wrong.
func TestParseScenarios(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown field", "scenarios:\n  - name: a\n    actoins: []\n", "field actoins not found"},
		{"bad name", "scenarios:\n  - name: 'A B'\n    actions: [{contract: X, action: pause}]\n", `name "A B"`},
		{"twice", "scenarios:\n  - name: a\n    actions: [{contract: X, action: pause}]\n  - name: a\n    actions: [{contract: X, action: pause}]\n", "defined twice"},
		{"no actions", "scenarios:\n  - name: a\n", "has no actions"},
		{"no contract", "scenarios:\n  - name: a\n    actions: [{action: pause}]\n", "needs a contract"},
		{"bad cooldown", "scenarios:\n  - name: a\n    cooldown: soon\n    actions: [{contract: X, action: pause}]\n", `cooldown "soon"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := response.ParseScenarios([]byte(tc.yaml))
			if !errors.Is(err, response.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	if scs, err := response.ParseScenarios(nil); err != nil || len(scs) != 0 {
		t.Errorf("an empty file: %v %v", scs, err)
	}
}

// FuzzParseScenarios: any input parses or is refused as invalid, never
// panics, and what parses has named, non-empty scenarios.
func FuzzParseScenarios(f *testing.F) {
	f.Add([]byte("scenarios:\n  - name: a\n    cooldown: 1m\n    actions: [{contract: X, action: pause, args: [1]}]\n"))
	f.Add([]byte("scenarios: [{name: b, monitors: [m], actions: [{contract: '0x01', action: x}]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		scs, err := response.ParseScenarios(data)
		if err != nil {
			if !errors.Is(err, response.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		for _, sc := range scs {
			if sc.Name == "" || len(sc.Actions) == 0 {
				t.Fatalf("parsed a scenario without name or actions: %+v", sc)
			}
		}
	})
}
