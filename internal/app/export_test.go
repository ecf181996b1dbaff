package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/postgres"
	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// Every data table of the SQLite schema has a table of the same name and
// columns in PostgreSQL, or is left out with a reason: a migration that
// adds a table to one backend only fails here, not in a user's export.
func TestExportCoversTheSchema(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bt.db")
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	snap, err := sqlite.OpenSnapshot(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	tables, err := snap.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := postgres.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	dst, err := pg.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := pg.References(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := exportPlan(tables, dst, refs)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, p := range plan {
		pos[p.Name] = i
	}
	for from, tos := range refs {
		for _, to := range tos {
			if pos[to] > pos[from] {
				t.Errorf("%s is copied before %s, which it references", from, to)
			}
		}
	}
	for name := range notExported {
		if _, ok := pos[name]; ok {
			t.Errorf("%s is both exported and left out", name)
		}
	}
	// The check itself: a table or a column with no place fails the plan.
	extra := append(tables[:len(tables):len(tables)], sqlite.Table{Name: "new_thing", Columns: []string{"id"}})
	if _, err := exportPlan(extra, dst, refs); err == nil || !strings.Contains(err.Error(), "new_thing") {
		t.Errorf("a table only SQLite has: %v, want an error naming it", err)
	}
	col := append([]sqlite.Table(nil), tables...)
	for i := range col {
		if col[i].Name == "monitors" {
			col[i].Columns = append(col[i].Columns[:len(col[i].Columns):len(col[i].Columns)], "owner")
		}
	}
	if _, err := exportPlan(col, dst, refs); err == nil || !strings.Contains(err.Error(), "monitors.owner") {
		t.Errorf("a column only SQLite has: %v, want an error naming it", err)
	}
}

// exportT0 is the time the filled store's data is stamped with.
var exportT0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// fillStore writes data into every table of a relational store through its
// role interfaces.
func fillStore(t *testing.T, db relational) {
	t.Helper()
	ctx := t.Context()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	blocks := storetest.Chain(1, 1, storetest.BlockHash(1, 0), 30, 4, 2)
	must("WriteBlocks", db.WriteBlocks(ctx, blocks))
	must("PutContract", db.PutContract(ctx, store.Contract{Address: storetest.Addr(1), Name: "Vault", ABI: json.RawMessage(`[]`), Origin: "abi add", Added: exportT0}))
	must("PutVerified", db.PutVerified(ctx, store.VerifiedContract{Address: storetest.Addr(1), Status: store.VerifiedFull,
		ContractName: "Vault", SourceName: "src/Vault.sol", Compiler: "0.8.28", Result: json.RawMessage(`{"match":"full"}`),
		Sources: map[string]string{"src/Vault.sol": "contract Vault {}\n// a NUL: \x00", "src/Lib.sol": "library L {}"}, Verified: exportT0}))
	must("PutDashboard", db.PutDashboard(ctx, store.Dashboard{ID: "home", Name: "Home <b>", Spec: json.RawMessage(`{"panels":[]}`), Created: exportT0, Updated: exportT0}))
	must("PutSavedSearch", db.PutSavedSearch(ctx, store.SavedSearch{ID: "errs", Name: "Errors", Query: "level:error", From: "now-1h", To: "now", Created: exportT0, Updated: exportT0}))
	tok := sha256.Sum256([]byte("token"))
	must("CreateShare", db.CreateShare(ctx, store.Share{ID: "s1", TokenHash: tok[:], Kind: "search", Target: "errs", Title: "errors",
		From: "now-1h", To: "now", Expires: exportT0.Add(24 * time.Hour), Created: exportT0, Snapshot: json.RawMessage(`{"rows":[]}`)}))
	must("PutSession", db.PutSession(ctx, store.OperatorSession{Hash: sha256.Sum256([]byte("session")), Created: exportT0, Expires: exportT0.Add(time.Hour)}, 10))
	admin, err := db.CreateUser(ctx, store.User{Name: "admin", Role: "admin", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=2$c2FsdA$aGFzaA", Created: exportT0, Updated: exportT0})
	must("CreateUser", err)
	must("PutSession", db.PutSession(ctx, store.OperatorSession{Hash: sha256.Sum256([]byte("user session")), Created: exportT0, Expires: exportT0.Add(time.Hour), UserID: admin.ID}, 10))
	_, err = db.CreateAPIKey(ctx, store.APIKey{Name: "shipper", Hash: sha256.Sum256([]byte("bt_key")), Prefix: "bt_key", Scopes: []string{"ingest"}, UserID: admin.ID, Created: exportT0})
	must("CreateAPIKey", err)
	must("AddAudit", db.AddAudit(ctx, store.AuditEvent{At: exportT0, Actor: "admin", Action: "key.create", Target: "bt_key", Detail: "shipper", Client: "127.0.0.1"}))
	must("LogShareEvent", db.LogShareEvent(ctx, store.ShareEvent{Time: exportT0, ShareID: "s1", Action: "view", Detail: "from 127.0.0.1"}))
	must("ReplaceMonitorSet", db.ReplaceMonitorSet(ctx, store.MonitorSet{Origin: "file:monitors.yaml",
		Monitors: []store.MonitorDef{{ID: "failures", Spec: json.RawMessage(`{"query":"kind:tx status:failed"}`), Updated: exportT0}},
		Channels: []store.ChannelDef{{Name: "ops", Spec: json.RawMessage(`{"url":"http://127.0.0.1:9/hook","secret":"s3cret"}`), Updated: exportT0}}}))
	must("SaveAlerts", db.SaveAlerts(ctx, []store.AlertState{{MonitorID: "failures", Key: "", State: json.RawMessage(`{"status":"firing"}`)}},
		[]store.AlertEvent{{MonitorID: "failures", Status: "firing", Time: exportT0, Block: 12, Detail: json.RawMessage(`{"value":3}`)},
			{MonitorID: "failures", Status: "resolved", Time: exportT0.Add(time.Minute), Detail: json.RawMessage(`{}`)}}))
	must("PutSilence", db.PutSilence(ctx, store.Silence{ID: "sil", Matchers: json.RawMessage(`{"monitor":"failures"}`), Comment: "deploy",
		CreatedBy: "ana", Starts: exportT0, Ends: exportT0.Add(time.Hour)}))
	must("AppendSeries", db.AppendSeries(ctx, []store.SeriesPoint{{MonitorID: "failures", Block: 3, Time: exportT0, Value: "1.5"}, {MonitorID: "failures", Block: 4, Time: exportT0, Value: "2"}}))
	_, err = db.Enqueue(ctx, []store.Delivery{
		{Key: "failures//firing/1", Channel: "ops", Payload: json.RawMessage(`{"a":1}`), Created: exportT0, NextAttempt: exportT0},
		{Key: "failures//resolved/2", Channel: "ops", Payload: json.RawMessage(`{"a":2}`), Created: exportT0, NextAttempt: exportT0.Add(time.Hour)},
	})
	must("Enqueue", err)
	due, err := db.Due(ctx, exportT0, 10)
	must("Due", err)
	if len(due) != 1 {
		t.Fatalf("Due = %d deliveries, want 1", len(due))
	}
	d := due[0]
	d.State, d.Attempts, d.Done = store.DeliveryDelivered, 1, exportT0.Add(time.Second)
	must("Settle", db.Settle(ctx, d))
	inc, err := db.CreateIncident(ctx, store.Incident{Title: "Oracle stale", Severity: "critical", Status: "investigating", Owner: "ana",
		Contracts: []string{storetest.Addr(1).Hex()}, Services: []string{"api"}, Source: "alert", SourceRef: "failures/",
		Started: exportT0, Created: exportT0, Updated: exportT0, Postmortem: []byte(`{"rootCause":"x"}`)})
	must("CreateIncident", err)
	_, err = db.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: inc.ID, Time: exportT0, Kind: "note", Text: "looking", Author: "ana", Ref: "r1"})
	must("AddIncidentEntry", err)
	_, err = db.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: inc.ID, Time: exportT0.Add(time.Minute), Kind: "update", Text: "fixed", Public: true, Notify: true})
	must("AddIncidentEntry", err)
	must("PutIncidentTemplate", db.PutIncidentTemplate(ctx, "postmortem", "# {{.Title}}"))
	must("LogIncidentAudit", db.LogIncidentAudit(ctx, store.IncidentAudit{Time: exportT0, Actor: "ana", Action: "open", Target: "incident 1"}))
	must("PutFlag", db.PutFlag(ctx, store.Flag{Deployment: "prod", Name: "deposits", Enabled: true, Percent: 50, Description: "d", Updated: exportT0, UpdatedBy: "ana"}))
	must("PutStatusComponent", db.PutStatusComponent(ctx, store.StatusComponent{ID: "api", Name: "API", Kind: "service", Ref: "api", Position: 1, Status: "degraded"}))
	ref := storetest.Addr(3)
	must("PutOracleFeed", db.PutOracleFeed(ctx, store.OracleFeed{Address: storetest.Addr(2), Source: "manual", Kind: "price", Heartbeat: time.Hour,
		DeviationPct: 0.5, Reference: &ref, Aggregator: storetest.Addr(4), AggregatorChanged: exportT0, Added: exportT0, Updated: exportT0}))
	must("RecordOracleRead", db.RecordOracleRead(ctx, store.OracleRead{Feed: storetest.Addr(2), Reader: storetest.Addr(1), Block: 7,
		Tx: storetest.TxHash(1, 7, 0), Time: exportT0, Method: "latestRoundData", RoundID: "18446744073709551617", Answer: "-1", UpdatedAt: exportT0, Stale: true}))
	_, err = db.AddResponseRun(ctx, store.ResponseRun{Scenario: "pause all", Trigger: "monitor:failures", DryRun: true, Status: "done",
		Contracts: []string{strings.ToLower(storetest.Addr(1).Hex())}, Started: exportT0, Finished: exportT0.Add(time.Second), Steps: []byte(`[{"action":"pause"}]`)})
	must("AddResponseRun", err)
	must("PutSafeProposal", db.PutSafeProposal(ctx, store.SafeProposal{Hash: "0x" + strings.Repeat("ab", 32), Safe: strings.ToLower(storetest.Addr(5).Hex()),
		Nonce: 3, Created: exportT0, Proposal: []byte(`{"to":"0x1"}`)}))
	must("PutPatchCheck", db.PutPatchCheck(ctx, store.PatchCheck{ID: "pc1", Target: strings.ToLower(storetest.Addr(1).Hex()), Started: exportT0, Done: true, Run: []byte(`{"report":{}}`)}))
}

// sameAnswers asks both stores every role's reads and fails on the first
// that differs.
func sameAnswers(t *testing.T, a, b relational) {
	t.Helper()
	ctx := t.Context()
	type read struct {
		what string
		fn   func(s relational) (any, error)
	}
	addr := storetest.Addr(1)
	blocks5 := time.Unix(1_700_000_000+5*12+3, 0)
	reads := []read{
		{"Head", func(s relational) (any, error) { return s.Head(ctx) }},
		{"Tail", func(s relational) (any, error) { return s.Tail(ctx) }},
		{"Counts", func(s relational) (any, error) { return s.Counts(ctx) }},
		{"Blocks", func(s relational) (any, error) { return s.Blocks(ctx, store.BlockQuery{Limit: 1000}) }},
		{"Txs", func(s relational) (any, error) { return s.Txs(ctx, store.TxQuery{Limit: 1000}) }},
		{"Txs by address", func(s relational) (any, error) { return s.Txs(ctx, store.TxQuery{Limit: 1000, Address: &addr}) }},
		{"failed Txs", func(s relational) (any, error) { return s.Txs(ctx, store.TxQuery{Limit: 1000, Status: "failed"}) }},
		{"Tx", func(s relational) (any, error) { return s.Tx(ctx, storetest.TxHash(1, 9, 2)) }},
		{"Logs", func(s relational) (any, error) { return s.Logs(ctx, store.LogQuery{Limit: 1000}) }},
		{"BlockRange", func(s relational) (any, error) { return s.BlockRange(ctx, 1, 30) }},
		{"BlockAt", func(s relational) (any, error) { return s.BlockAt(ctx, blocks5) }},
		{"Contracts", func(s relational) (any, error) { return s.Contracts(ctx) }},
		{"Verified", func(s relational) (any, error) { return s.Verified(ctx, addr) }},
		{"Dashboards", func(s relational) (any, error) { return s.Dashboards(ctx) }},
		{"SavedSearches", func(s relational) (any, error) { return s.SavedSearches(ctx) }},
		{"Shares", func(s relational) (any, error) { return s.Shares(ctx) }},
		{"ShareByTokenHash", func(s relational) (any, error) {
			h := sha256.Sum256([]byte("token"))
			sh, err := s.ShareByTokenHash(ctx, h[:])
			return []any{sh, sh.TokenHash, sh.Snapshot}, err
		}},
		{"ShareEvents", func(s relational) (any, error) { return s.ShareEvents(ctx, 100) }},
		{"MonitorDefs", func(s relational) (any, error) { return s.MonitorDefs(ctx) }},
		{"ChannelDefs", func(s relational) (any, error) { return s.ChannelDefs(ctx) }},
		{"AlertStates", func(s relational) (any, error) { return s.AlertStates(ctx) }},
		{"AlertEvents", func(s relational) (any, error) { return s.AlertEvents(ctx, store.AlertQuery{Limit: 100}) }},
		{"Silences", func(s relational) (any, error) { return s.Silences(ctx, exportT0) }},
		{"Series", func(s relational) (any, error) { return s.Series(ctx, "failures", 0, 100, 100) }},
		{"pending Deliveries", func(s relational) (any, error) { return s.Deliveries(ctx, store.DeliveryPending, 100) }},
		{"delivered Deliveries", func(s relational) (any, error) { return s.Deliveries(ctx, store.DeliveryDelivered, 100) }},
		{"NextDue", func(s relational) (any, error) { return s.NextDue(ctx) }},
		{"Incidents", func(s relational) (any, error) {
			l, err := s.Incidents(ctx, store.IncidentQuery{})
			var pms [][]byte
			for _, i := range l {
				pms = append(pms, i.Postmortem)
			}
			return []any{l, pms}, err
		}},
		{"IncidentEntries", func(s relational) (any, error) { return s.IncidentEntries(ctx, 1) }},
		{"IncidentTemplate", func(s relational) (any, error) { return s.IncidentTemplate(ctx, "postmortem") }},
		{"IncidentAuditLog", func(s relational) (any, error) { return s.IncidentAuditLog(ctx, 100) }},
		{"Flags", func(s relational) (any, error) { return s.Flags(ctx, "prod") }},
		{"StatusComponents", func(s relational) (any, error) { return s.StatusComponents(ctx) }},
		{"OracleFeeds", func(s relational) (any, error) { return s.OracleFeeds(ctx) }},
		{"OracleReads", func(s relational) (any, error) { return s.OracleReads(ctx, storetest.Addr(2)) }},
		{"ResponseRuns", func(s relational) (any, error) {
			l, err := s.ResponseRuns(ctx, store.ResponseRunQuery{})
			var steps [][]byte
			for _, r := range l {
				steps = append(steps, r.Steps)
			}
			return []any{l, steps}, err
		}},
		{"SafeProposals", func(s relational) (any, error) {
			l, err := s.SafeProposals(ctx, strings.ToLower(storetest.Addr(5).Hex()))
			var ps [][]byte
			for _, p := range l {
				ps = append(ps, p.Proposal)
			}
			return []any{l, ps}, err
		}},
		{"PatchCheck", func(s relational) (any, error) {
			c, err := s.PatchCheck(ctx, "pc1")
			return []any{c, c.Run}, err
		}},
		{"CursorKey", func(s relational) (any, error) { return s.CursorKey(), nil }},
	}
	for _, r := range reads {
		va, errA := r.fn(a)
		vb, errB := r.fn(b)
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v on SQLite, %v on PostgreSQL", r.what, errA, errB)
		}
		ja, _ := json.MarshalIndent(va, "", " ")
		jb, _ := json.MarshalIndent(vb, "", " ")
		if !bytes.Equal(ja, jb) {
			t.Errorf("%s differs:\nSQLite:     %.600s\nPostgreSQL: %.600s", r.what, ja, jb)
		}
		if string(ja) == "null" || string(ja) == "[]" {
			t.Errorf("%s is empty on both: the filled store should answer it", r.what)
		}
	}
	var all []store.VerifiedContract
	for _, s := range []relational{a, b} {
		if err := s.EachVerified(ctx, func(v store.VerifiedContract) error { all = append(all, v); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if len(all) != 2 || fmt.Sprint(all[0]) != fmt.Sprint(all[1]) {
		t.Errorf("EachVerified: %v", all)
	}
}

// rowCounts counts the rows of every table export copies, on both sides.
func rowCounts(t *testing.T, sqlitePath, dsn string) (lite, pg map[string]int64) {
	t.Helper()
	ctx := t.Context()
	snap, err := sqlite.OpenSnapshot(ctx, sqlitePath)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	tables, err := snap.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	dst, err := db.Tables(ctx)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := db.References(ctx)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := exportPlan(tables, dst, refs)
	if err != nil {
		t.Fatal(err)
	}
	lite, pg = map[string]int64{}, map[string]int64{}
	for _, p := range plan {
		lite[p.Name] = p.Rows
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{p.Name}.Sanitize()).Scan(&n); err != nil {
			t.Fatal(err)
		}
		pg[p.Name] = n
	}
	return lite, pg
}

// An embedded store with data in every table, exported into PostgreSQL:
// the PostgreSQL store answers every read as the SQLite store does, holds
// as many rows in every table, and hands out new ids after the copied
// ones. Exporting again into the same database is refused, saying so.
func TestExport(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	lite.SetChainRecords(true)
	fillStore(t, lite)
	if err := lite.AppendRecords(ctx, []record.Record{{Time: exportT0, Source: record.SourceApp, Kind: "log", Level: "info", Service: "api", Message: "hello"}}); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)

	var progress bytes.Buffer
	res, err := Export(ctx, "sqlite:"+path, dsn, ExportOptions{Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if res.Records == 0 || res.Rows == 0 || strings.Contains(res.Target, "postgres@") {
		t.Errorf("result %+v: want records counted, rows copied and a target without its user", res)
	}
	if !strings.Contains(progress.String(), "rows/s") || !strings.Contains(progress.String(), "100%") {
		t.Errorf("progress:\n%s\nwant a rate and 100%%", progress.String())
	}

	liteRows, pgRows := rowCounts(t, path, dsn)
	for name, n := range liteRows {
		if n == 0 {
			t.Errorf("table %s is empty in the filled store: make fillStore write to it", name)
		}
		if pgRows[name] != n {
			t.Errorf("table %s: %d rows in PostgreSQL, %d in SQLite", name, pgRows[name], n)
		}
	}

	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	sameAnswers(t, lite, pg)

	// New rows on both get the same new ids.
	for _, s := range []relational{lite, pg} {
		inc, err := s.CreateIncident(ctx, store.Incident{Title: "next", Status: "investigating", Started: exportT0})
		if err != nil || inc.ID != 2 {
			t.Fatalf("CreateIncident after export = %d, %v; want id 2", inc.ID, err)
		}
		if n, err := s.Enqueue(ctx, []store.Delivery{{Key: "next", Channel: "ops", Payload: json.RawMessage(`{}`), Created: exportT0, NextAttempt: exportT0}}); err != nil || n != 1 {
			t.Fatalf("Enqueue after export = %d, %v", n, err)
		}
		if err := s.LogShareEvent(ctx, store.ShareEvent{Time: exportT0, ShareID: "s1", Action: "view"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddResponseRun(ctx, store.ResponseRun{Trigger: "hand", Status: "done", Started: exportT0, Finished: exportT0}); err != nil {
			t.Fatal(err)
		}
	}
	sameAnswers(t, lite, pg)

	_, err = Export(ctx, "sqlite:"+path, dsn, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "not empty") || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("second export into the same database = %v, want a refusal saying it is not empty", err)
	}
}

// An export cancelled half-way leaves the target empty, and running it
// again completes it.
func TestExportCancelled(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	lite.SetChainRecords(false)
	fillStore(t, lite)
	// More chain, so that the cancel lands in the middle of the txs.
	head, _ := lite.Head(ctx)
	if err := lite.WriteBlocks(ctx, storetest.Chain(1, head.Number+1, head.Hash, 200, 20, 1)); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)

	cctx, cancel := context.WithCancel(ctx)
	var cancelledIn string
	_, err = Export(cctx, "sqlite:"+path, dsn, ExportOptions{onRows: func(table string, n int64) {
		if table == "txs" && n == 1000 {
			cancelledIn = table
			cancel()
		}
	}})
	cancel()
	if cancelledIn == "" || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("cancelled export (in %q) = %v, want context.Canceled and nothing written", cancelledIn, err)
	}
	_, pgRows := rowCounts(t, path, dsn)
	for name, n := range pgRows {
		if _, seed := map[string]bool{"settings": true, "chain_counts": true}[name]; n != 0 && !seed {
			t.Errorf("after a cancelled export, %s holds %d rows", name, n)
		}
	}

	if _, err := Export(ctx, "sqlite:"+path, dsn, ExportOptions{}); err != nil {
		t.Fatalf("export after a cancelled one: %v", err)
	}
	liteRows, pgRows := rowCounts(t, path, dsn)
	for name, n := range liteRows {
		if pgRows[name] != n {
			t.Errorf("table %s: %d rows in PostgreSQL, %d in SQLite", name, pgRows[name], n)
		}
	}
	pg, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	sameAnswers(t, lite, pg)
}

// A bad source gets a clear error and nothing is written to the target.
func TestExportBadSource(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	dsn := pgtest.DSN(t)
	notSQLite := filepath.Join(dir, "notes.txt")
	os.WriteFile(notSQLite, []byte(strings.Repeat("not a database\n", 100)), 0o644)
	other := filepath.Join(dir, "other.db")
	newer := filepath.Join(dir, "newer.db")
	for _, p := range []string{other, newer} {
		lite, err := sqlite.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		lite.Close()
	}
	// other.db: a SQLite file of another program.
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(sqliteExec(ctx, other, `DROP TABLE schema_migrations`))
	must(sqliteExec(ctx, newer, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 0)`))
	missing := filepath.Join(dir, "nope", "blocktorch.db")
	for _, c := range []struct{ from, want string }{
		{"sqlite:" + missing, "does not exist"},
		{"sqlite:" + dir, "is a directory"},
		{"sqlite:" + notSQLite, "not a SQLite database"},
		{"sqlite:" + other, "not a blocktorch store"},
		{"sqlite:" + newer, "newer blocktorch"},
		{"mysql://u:s3cret@h/db", "want sqlite:PATH"},
	} {
		_, err := Export(ctx, c.from, dsn, ExportOptions{})
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Export(%s) = %v, want an error saying %q", c.from, err, c.want)
		}
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("export created the missing source: %v", err)
	}
	if _, err := Export(ctx, "sqlite:"+other, "http://u:s3cret@h/db", ExportOptions{}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Export to http:// = %v, want an error without the password", err)
	}
	// Nothing was written: not even the schema, since every source was
	// refused before the target was opened.
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Head(ctx); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("target after refused exports: head %v", err)
	}
}

// sqliteExec runs one statement on a SQLite store's file.
func sqliteExec(ctx context.Context, path, stmt string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, stmt)
	return err
}
