package app_test

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

// Three real `blocktorch serve` processes on one PostgreSQL database and
// one chain, with a monitor that fires once per transfer the test makes
// to a webhook receiver the test runs. One node leads; it is killed with
// SIGKILL mid-stream, right after an alert reached the receiver, while
// transfers go on. Another node leads within 10 s and continues from the
// checkpoint: afterwards every transfer's alert was delivered once (by
// Idempotency-Key and by content; a delivery in flight at the kill may
// repeat under its key, which the receiver dedupes on), the chain index
// is the chain's, every node (followers too) lists the same active
// alerts, and the index, the monitor engine's checkpoint, the alert
// states and history and the alerts delivered equal those of one node
// run over the same chain on a fresh database.
func TestFailoverSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs four nodes")
	}
	bin := buildServe(t)
	d := startChain(t)
	r := newReceiver(t)
	mons := monitorsFile(t, r, d)
	dsn := pgtest.DSN(t)
	var nodes []*node
	for i := range 3 {
		nodes = append(nodes, startNode(t, bin, fmt.Sprintf("node%d", i), d.ch.WSEndpoint(), dsn, mons))
	}
	waitFor(t, "a leader among three nodes", 60*time.Second, func() bool { return leaderOf(t, nodes) >= 0 })
	first := leaderOf(t, nodes)
	for i, n := range nodes {
		if st, _, err := status(n, 2*time.Second); i != first && (err != nil || st.Role != store.RoleFollower) {
			t.Fatalf("%s says %q (%v) while %s leads", n.name, st.Role, err, nodes[first].name)
		}
	}
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	go d.run(t, 150*time.Millisecond)
	halted := false
	defer func() {
		if !halted {
			d.halt()
		}
	}()
	waitFor(t, "four alerts delivered by the first leader", 60*time.Second, func() bool { return r.keys() >= 4 })
	nodes[first].cmd.Process.Signal(syscall.SIGKILL)
	<-nodes[first].done
	killed := time.Now()
	sentAtKill, deliveredAtKill := d.transfers(), r.keys()
	var next int
	waitFor(t, "another node to lead", 10*time.Second, func() bool { next = leaderOf(t, nodes); return next >= 0 })
	took := time.Since(killed)
	t.Logf("%s leads %v after %s was killed (%d transfers sent, %d alerts delivered at the kill)",
		nodes[next].name, took.Round(time.Millisecond), nodes[first].name, sentAtKill, deliveredAtKill)
	waitFor(t, "ten more transfers", 60*time.Second, func() bool { return d.transfers() >= sentAtKill+10 })
	d.halt()
	halted = true
	mined := d.settle(t)
	head := d.ch.Head().Number.Uint64()

	waitFor(t, fmt.Sprintf("the new leader indexing and evaluating up to %d and delivering %d alerts", head, len(mined)), 90*time.Second, func() bool {
		return caughtUp(t.Context(), db, head) && r.keys() >= len(mined)
	})
	for i, n := range nodes {
		if i != first && n.exited() {
			t.Fatalf("%s exited", n.name)
		}
	}
	if l := leaderOf(t, nodes); l != next {
		t.Fatalf("the lead moved again, to %d", l)
	}
	if !strings.Contains(nodes[next].log.String(), "this node leads") {
		t.Errorf("the new leader did not log that it leads")
	}
	// Every delivery is settled: none left to send, none dead.
	for _, state := range []string{store.DeliveryPending, store.DeliveryDead} {
		ds, err := db.Deliveries(t.Context(), state, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 0 {
			t.Fatalf("%d deliveries %s after the failover: %+v", len(ds), state, ds)
		}
	}
	hooks := checkDeliveries(t, r, mined, []time.Time{killed}, 5*time.Second)
	counts := checkIndex(t, db, d, head)
	checkActiveAlerts(t, nodes, mined)
	if t.Failed() {
		return
	}
	t.Logf("after the failover: %d blocks, %d txs, %d logs indexed, checkpoint %d, %d alerts delivered once each",
		counts.Blocks, counts.Txs, counts.Logs, head, len(hooks))
	compareSingleNode(t, bin, d, head, db, hooks, pgtest.DSN(t))
}

// syncBuffer collects a child's output while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
