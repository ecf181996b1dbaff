package monitor_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
)

// TestInternalCallsFromTraces: the Router calls the vault's depositFor
// inside its own transaction; only call traces show it. A call monitor
// with internal set sees it, decoded, and one without does not.
func TestInternalCallsFromTraces(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain")
	}
	h := newHook(t)
	r := newRig(t, 20, 0.01, monitor.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	f := monitor.File{
		Channels: []notify.Spec{h.spec()},
		Monitors: []monitor.Spec{
			{ID: "internal-deposit", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor", Internal: true, Channels: []string{"local"}},
			{ID: "toplevel-deposit", Kind: monitor.KindCall, Contract: "LendingVault", Method: "depositFor", Channels: []string{"local"}},
		},
	}
	if _, err := r.eng.Apply(ctx, monitor.OriginCode, f); err != nil {
		t.Fatal(err)
	}
	r.run(t)
	stop := r.mine(t, 10*time.Millisecond)
	defer stop()
	deadline := time.After(90 * time.Second)
	for {
		select {
		case m := <-h.got:
			if m.MonitorID == "toplevel-deposit" {
				t.Fatalf("a top-level monitor saw an internal call: %+v", m)
			}
			if m.MonitorID == "internal-deposit" && m.Status == notify.StatusFiring {
				if !strings.Contains(m.Summary, "internal call (depth 1) LendingVault.depositFor(account=") {
					t.Fatalf("summary %q", m.Summary)
				}
				return
			}
		case <-deadline:
			t.Fatal("no internal depositFor seen in 90 s of demo traffic")
		}
	}
}
