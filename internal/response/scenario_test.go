package response_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

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
	if runs := svc.OnMonitorFiring(ctx, "vault-drain", ""); len(runs) != 1 || runs[0].Status != response.RunSkipped || !strings.Contains(runs[0].Error, "automation is off") || r.paused(t) {
		t.Fatalf("a firing with automation off: %+v", runs)
	}
	if runs := svc.OnMonitorFiring(ctx, "another", ""); len(runs) != 0 {
		t.Errorf("a monitor no scenario names ran %d", len(runs))
	}
	svc.SetAutomation(true)
	runs := svc.OnMonitorFiring(ctx, "vault-drain", "")
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
