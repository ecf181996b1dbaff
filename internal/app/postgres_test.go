package app_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// The whole app on PostgreSQL (--db postgres://…): the demo chain indexed,
// its incident firing monitors, and both the blocks and the alerts found in
// the PostgreSQL database, not in a SQLite file.
func TestServeOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo")
	}
	dsn := pgtest.DSN(t)
	cfg := apptest.DemoConfig(t)
	cfg.DB = dsn
	a, stopApp := apptest.Start(t, cfg)
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			stopApp()
		}
	}
	defer stop()
	base := a.URL()

	waitFor(t, "indexed blocks", 60*time.Second, func() bool {
		var blocks struct{ Data []struct{ Number uint64 } }
		apptest.GetJSON(t, base+"/api/v1/blocks?limit=5", &blocks)
		return len(blocks.Data) > 0 && blocks.Data[0].Number >= 3
	})
	resp, err := http.Post(base+"/api/v1/demo/incident", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("incident: HTTP %d", resp.StatusCode)
	}

	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var firing store.AlertEvent
	waitFor(t, "a firing alert stored in PostgreSQL", 150*time.Second, func() bool {
		evs, err := db.AlertEvents(t.Context(), store.AlertQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Status == "firing" {
				firing = e
				return true
			}
		}
		return false
	})
	t.Logf("stored firing alert %d: %s %s at block %d", firing.ID, firing.MonitorID, firing.Key, firing.Block)
	var alerts struct {
		Data []struct {
			ID        int64  `json:"id"`
			MonitorID string `json:"monitorId"`
		} `json:"data"`
	}
	apptest.GetJSON(t, base+"/api/v1/alerts?limit=1000", &alerts)
	found := false
	for _, e := range alerts.Data {
		found = found || (e.ID == firing.ID && e.MonitorID == firing.MonitorID)
	}
	if !found {
		t.Fatalf("the API's alerts %+v lack the stored firing alert %d of %s", alerts.Data, firing.ID, firing.MonitorID)
	}

	head, err := db.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	blk, err := db.BlockRange(t.Context(), head.Number, head.Number)
	if err != nil || len(blk) != 1 || blk[0].Hash != head.Hash {
		t.Fatalf("BlockRange(head %d) = %+v, %v", head.Number, blk, err)
	}
	var got struct{ Data []struct{ Number uint64 } }
	apptest.GetJSON(t, base+"/api/v1/blocks?limit=1000", &got)
	seen := false
	for _, b := range got.Data {
		seen = seen || b.Number == head.Number
	}
	if !seen {
		t.Fatalf("the API does not list block %d that PostgreSQL holds", head.Number)
	}
	t.Logf("PostgreSQL holds blocks up to %d", head.Number)
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "blocktorch.db")); !os.IsNotExist(err) {
		t.Fatalf("a SQLite store was made beside PostgreSQL: %v", err)
	}

	// The demo runs as one node (its chain is its own): a second is
	// refused while the first runs.
	second := cfg
	second.DataDir = t.TempDir()
	if _, err := app.New(t.Context(), second, app.Options{}); err == nil || !strings.Contains(err.Error(), "another blocktorch node") {
		t.Fatalf("a second node on the same database: %v, want it refused", err)
	}
	// The demo refuses a database that holds a chain: its own is new.
	stop()
	if _, err := app.New(t.Context(), cfg, app.Options{}); err == nil || !strings.Contains(err.Error(), "empty database") {
		t.Fatalf("a second demo on the same database: %v, want it refused", err)
	}
}

// serve --db postgres://… follows a node and, restarted, resumes from the
// checkpoint PostgreSQL holds: every block once, none missing.
func TestServeOnPostgresResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded chain test")
	}
	ch, err := devchain.Start(devchain.Config{BlockInterval: 50 * time.Millisecond, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	dsn := pgtest.DSN(t)
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = ch.WSEndpoint()
	cfg.From = 0
	cfg.DataDir = t.TempDir()
	cfg.DB = dsn
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head := func() uint64 {
		h, err := db.Head(t.Context())
		if errors.Is(err, store.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return h.Number
	}

	_, stop := apptest.Start(t, cfg)
	waitFor(t, "20 blocks in PostgreSQL", 30*time.Second, func() bool { return head() >= 20 })
	stop()
	first := head()
	a, stop := apptest.Start(t, cfg)
	defer stop()
	waitFor(t, fmt.Sprintf("resume past %d", first+10), 30*time.Second, func() bool { return head() >= first+10 })

	// One snapshot of the chain tables: blocks 0..head, each once.
	blocks, err := db.BlockRange(t.Context(), 0, head())
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		if b.Number != uint64(i) || (i > 0 && b.ParentHash != blocks[i-1].Hash) {
			t.Fatalf("stored block %d is number %d (parent %s): gap, duplicate or broken chain", i, b.Number, b.ParentHash)
		}
	}
	var st struct {
		Data struct {
			Status struct{ IndexedHead uint64 } `json:"status"`
		} `json:"data"`
	}
	apptest.GetJSON(t, a.URL()+"/api/v1/status", &st)
	if st.Data.Status.IndexedHead < blocks[len(blocks)-1].Number {
		t.Fatalf("the API's indexed head %d is behind PostgreSQL's %d", st.Data.Status.IndexedHead, blocks[len(blocks)-1].Number)
	}
}

// Two serve nodes on one PostgreSQL database: both serve the API, one
// leads (follows the chain) and both list the two; when the leader stops,
// the other leads within 10 s and resumes from the stored head, with no
// block missing or stored twice.
func TestServeNodesShareTheLease(t *testing.T) {
	if testing.Short() {
		t.Skip("embedded chain test")
	}
	ch, err := devchain.Start(devchain.Config{BlockInterval: 100 * time.Millisecond, RPCAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	dsn := pgtest.DSN(t)
	node := func() config.Config {
		cfg := config.Default(config.ModeServe)
		cfg.Addr = "127.0.0.1:0"
		cfg.RPC = ch.WSEndpoint()
		cfg.From = 0
		cfg.DataDir = t.TempDir()
		cfg.DB = dsn
		return cfg
	}
	type status struct {
		Data struct {
			Status struct {
				Node        string
				Role        string
				IndexedHead uint64
				Nodes       []store.Node
			} `json:"status"`
		} `json:"data"`
	}
	statusOf := func(a *app.App) status {
		var st status
		apptest.GetJSON(t, a.URL()+"/api/v1/status", &st)
		return st
	}
	a, stopA := apptest.Start(t, node())
	defer stopA()
	waitFor(t, "the first node to lead", 15*time.Second, func() bool { return a.Role() == store.RoleLeader })
	b, stopB := apptest.Start(t, node())
	defer stopB()
	waitFor(t, "both nodes listed", 15*time.Second, func() bool { return len(statusOf(b).Data.Status.Nodes) == 2 })
	sb := statusOf(b).Data.Status
	if sb.Role != store.RoleFollower || sb.Node != b.NodeID() {
		t.Fatalf("the second node says it is %q (%s), want a follower named %s", sb.Role, sb.Node, b.NodeID())
	}
	for _, n := range sb.Nodes {
		want := store.RoleFollower
		if n.ID == a.NodeID() {
			want = store.RoleLeader
		}
		if n.Role != want {
			t.Fatalf("nodes list %+v: %s is %s, want %s", sb.Nodes, n.ID, n.Role, want)
		}
	}

	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head := func() uint64 {
		h, err := db.Head(t.Context())
		if errors.Is(err, store.ErrNotFound) {
			return 0
		}
		if err != nil {
			t.Fatal(err)
		}
		return h.Number
	}
	waitFor(t, "10 blocks indexed by the leader", 30*time.Second, func() bool { return head() >= 10 })
	stopA()
	stopped := time.Now()
	waitFor(t, "the second node to lead", 10*time.Second, func() bool { return b.Role() == store.RoleLeader })
	t.Logf("the second node leads %v after the first stopped", time.Since(stopped).Round(time.Millisecond))
	first := head()
	waitFor(t, fmt.Sprintf("the new leader indexing past %d", first+10), 30*time.Second, func() bool { return head() >= first+10 })
	blocks, err := db.BlockRange(t.Context(), 0, head())
	if err != nil {
		t.Fatal(err)
	}
	for i, bl := range blocks {
		if bl.Number != uint64(i) || (i > 0 && bl.ParentHash != blocks[i-1].Hash) {
			t.Fatalf("stored block %d is number %d: gap, duplicate or broken chain", i, bl.Number)
		}
	}
	waitFor(t, "the stopped node off the list", 15*time.Second, func() bool {
		ns := statusOf(b).Data.Status.Nodes
		return len(ns) == 1 && ns[0].ID == b.NodeID() && ns[0].Role == store.RoleLeader
	})
}
