package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"maps"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// now is the tests' clock: incidents are looked at half an hour into
// their window.
var now = time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)

var (
	vault = common.HexToAddress("0x00000000000000000000000000000000000000Aa")
	token = common.HexToAddress("0x00000000000000000000000000000000000000Bb")
	user1 = common.HexToAddress("0x0000000000000000000000000000000000000001")
	user2 = common.HexToAddress("0x0000000000000000000000000000000000000002")
	user3 = common.HexToAddress("0x0000000000000000000000000000000000000003")
)

type rig struct {
	db  *sqlite.DB
	svc *incident.Service
	clk *clock

	mu      sync.Mutex
	updates []incident.Update
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newRig(t *testing.T) *rig {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &rig{db: db, clk: &clock{t: now}}
	r.svc = incident.New(incident.Deps{Store: db, Search: db, Alerts: db, Monitors: db,
		Notify: func(ctx context.Context, u incident.Update) error {
			r.mu.Lock()
			r.updates = append(r.updates, u)
			r.mu.Unlock()
			return nil
		}}, incident.Options{Now: r.clk.Now, BaseURL: "http://bt.example"})
	return r
}

func (r *rig) sent() []incident.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]incident.Update(nil), r.updates...)
}

func hash(b byte, n uint64) common.Hash {
	var h common.Hash
	h[0], h[31] = b, byte(n)
	return h
}

func tx(n uint64, i uint, from common.Address, ok bool, logs ...chain.Log) chain.Tx {
	to := vault
	status := uint64(0)
	if ok {
		status = 1
	}
	t := chain.Tx{Hash: hash(0xee, n*16+uint64(i)), BlockNumber: n, Index: i, From: from, To: &to, Value: big.NewInt(0),
		Input: []byte{1, 2, 3, 4}, Status: status, GasUsed: 21000, EffectiveGasPrice: big.NewInt(1), Logs: logs,
		Call: &chain.Call{Contract: "Vault", Method: "withdraw", Signature: "withdraw()"}}
	if !ok {
		t.Revert = &chain.Revert{Kind: chain.RevertError, Name: "Error", Message: "Vault: paused"}
	}
	return t
}

func event(addr common.Address, name string, args ...chain.Arg) chain.Log {
	return chain.Log{Address: addr, Topics: []common.Hash{hash(0x70, 1)}, Data: []byte{},
		Event: &chain.Event{Contract: "X", Name: name, Signature: name + "()", Args: args}}
}

func transfer(from, to common.Address, v string) chain.Log {
	return event(token, "Transfer", chain.Arg{Name: "from", Type: "address", Value: from.Hex()},
		chain.Arg{Name: "to", Type: "address", Value: to.Hex()}, chain.Arg{Name: "value", Type: "uint256", Value: v})
}

// loadChain stores a day-earlier block and two blocks in the incident's
// window, and application logs in both windows.
func (r *rig) loadChain(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	day := 24 * time.Hour
	blocks := []chain.Block{
		{Number: 1, Time: now.Add(-day - 30*time.Minute), Txs: []chain.Tx{tx(1, 0, user1, false)}},
		{Number: 2, Time: now.Add(-30 * time.Minute), Txs: []chain.Tx{
			tx(2, 0, user1, false), tx(2, 1, user2, false),
			tx(2, 2, user3, true, transfer(vault, user3, "500"), event(vault, "Paused", chain.Arg{Name: "account", Type: "address", Value: user3.Hex()})),
		}},
		{Number: 3, Time: now.Add(-20 * time.Minute), Txs: []chain.Tx{tx(3, 0, user2, true, transfer(vault, user2, "250"), transfer(user1, vault, "9999"))}},
	}
	for i := range blocks {
		b := &blocks[i]
		b.Hash = hash(0xbb, b.Number)
		b.ParentHash = hash(0xbb, b.Number-1)
		b.TxCount = len(b.Txs)
		for j := range b.Txs {
			b.Txs[j].BlockHash, b.Txs[j].Time = b.Hash, b.Time
			for k := range b.Txs[j].Logs {
				l := &b.Txs[j].Logs[k]
				l.BlockNumber, l.BlockHash, l.TxHash, l.TxIndex, l.Index = b.Number, b.Hash, b.Txs[j].Hash, uint(j), uint(k)
			}
		}
	}
	if err := r.db.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	logs := []record.Record{
		{Time: now.Add(-day - 10*time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "api", Message: "boom"},
		{Time: now.Add(-10 * time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "api", Message: "boom"},
		{Time: now.Add(-9 * time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "fatal", Service: "api", Message: "boom"},
		{Time: now.Add(-8 * time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "error", Service: "web", Message: "wallet rejected"},
		{Time: now.Add(-7 * time.Minute), Source: record.SourceApp, Kind: record.KindLog, Level: "info", Service: "web", Message: "fine"},
	}
	if err := r.db.AppendRecords(ctx, logs); err != nil {
		t.Fatal(err)
	}
}

func TestScopeOfImpact(t *testing.T) {
	r := newRig(t)
	r.loadChain(t)
	ctx := t.Context()
	inc, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "Vault drained", Severity: "critical",
		Contracts: []string{strings.ToLower(vault.Hex())}, Started: now.Add(-40 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Contracts[0] != vault.Hex() {
		t.Errorf("contract stored as %s, want the checksummed %s", inc.Contracts[0], vault.Hex())
	}
	sc, err := r.svc.Scope(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := incident.Scope{From: now.Add(-40 * time.Minute), To: now, Live: true,
		Now: incident.Figures{FailedTxs: 2, Addresses: 3,
			ValueOut:  []incident.TokenAmount{{Token: token.Hex(), Amount: "750"}},
			ErrorLogs: []incident.ServiceCount{{Service: "api", Count: 2}, {Service: "web", Count: 1}}},
		DayBefore: incident.Figures{FailedTxs: 1, Addresses: 1, ValueOut: []incident.TokenAmount{},
			ErrorLogs: []incident.ServiceCount{{Service: "api", Count: 1}}},
	}
	if !reflect.DeepEqual(sc, want) {
		t.Errorf("scope:\n got %+v\nwant %+v", sc, want)
	}

	// Kept live: a later failure counts while the incident is open, and
	// resolving freezes the window.
	r.clk.Add(time.Minute)
	if err := r.db.AppendRecords(ctx, []record.Record{{Time: now.Add(30 * time.Second), Source: record.SourceApp,
		Kind: record.KindLog, Level: "error", Service: "web", Message: "late"}}); err != nil {
		t.Fatal(err)
	}
	if sc, _ = r.svc.Scope(ctx, inc.ID); sc.Now.ErrorLogTotal() != 4 {
		t.Errorf("live scope counts %d error logs, want 4", sc.Now.ErrorLogTotal())
	}
	if _, err := r.svc.SetStatus(ctx, "ana", inc.ID, incident.Change{Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Hour)
	if sc, _ = r.svc.Scope(ctx, inc.ID); sc.Live || !sc.To.Equal(now.Add(time.Minute)) {
		t.Errorf("resolved scope: live %v, to %v; want a window closed at %v", sc.Live, sc.To, now.Add(time.Minute))
	}

	// Named services narrow the error logs.
	other, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "web only", Services: []string{"web"}, Started: now.Add(-40 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if sc, _ = r.svc.Scope(ctx, other.ID); !reflect.DeepEqual(sc.Now.ErrorLogs, []incident.ServiceCount{{Service: "web", Count: 2}}) ||
		sc.Now.FailedTxs != 2 || sc.Now.Addresses != 2 {
		t.Errorf("scope of a service incident: %+v", sc.Now)
	}
}

func TestStatusMachine(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	inc, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "t", Channels: []string{"oncall"}})
	if err != nil {
		t.Fatal(err)
	}
	if inc.Status != incident.StatusInvestigating || inc.Severity != "major" || !inc.Started.Equal(now) {
		t.Errorf("opened as %+v", inc)
	}
	for _, tc := range []struct {
		to      string
		wantErr bool
	}{
		{"identified", false},
		{"identified", true}, // not a move
		{"bogus", true},
		{"mitigated", false},
		{"investigating", false}, // a regression
		{"resolved", false},      // skipping steps
		{"mitigated", true},      // a resolved incident only reopens
		{"investigating", false}, // reopen
		{"resolved", false},
	} {
		r.clk.Add(time.Minute)
		got, err := r.svc.SetStatus(ctx, "bo", inc.ID, incident.Change{Status: tc.to, Message: "m"})
		if (err != nil) != tc.wantErr {
			t.Fatalf("→ %s: err %v, want error %v", tc.to, err, tc.wantErr)
		}
		if err != nil {
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("→ %s: %v is not ErrInvalid", tc.to, err)
			}
			continue
		}
		if got.Status != tc.to || (tc.to == "resolved") != !got.Resolved.IsZero() {
			t.Errorf("→ %s: status %s resolved %v", tc.to, got.Status, got.Resolved)
		}
	}
	// Open and every status change went to the incident's channels, with a
	// link back.
	ups := r.sent()
	if len(ups) != 7 {
		t.Fatalf("%d updates sent, want 7 (open + 6 changes)", len(ups))
	}
	keys := map[string]bool{}
	for _, u := range ups {
		if u.Link != "http://bt.example/incidents/1" || !reflect.DeepEqual(u.Channels, []string{"oncall"}) || keys[u.Key] {
			t.Errorf("update %+v", u)
		}
		keys[u.Key] = true
	}
	if last := ups[len(ups)-1]; last.Entry.Text != "Resolved: m" || last.Incident.Status != "resolved" {
		t.Errorf("last update %+v", last)
	}
	if _, err := r.svc.SetStatus(ctx, "bo", 99, incident.Change{Status: "resolved"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	// The audit log has who did what.
	audit, err := r.svc.Audit(ctx, 0)
	if err != nil || len(audit) != 7 || audit[0].Actor != "bo" || audit[0].Action != "status" || audit[0].Detail != "investigating → resolved" ||
		audit[len(audit)-1].Actor != "ana" || audit[len(audit)-1].Action != "open" {
		t.Errorf("audit log: %+v, %v", audit, err)
	}
}

func TestBadInput(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	for _, d := range []incident.Draft{
		{},
		{Title: "   "},
		{Title: "a\nb"},
		{Title: strings.Repeat("x", 201)},
		{Title: "t", Severity: "apocalyptic"},
		{Title: "t", Contracts: []string{"0x12"}},
		{Title: "t", Contracts: []string{"00000000000000000000000000000000000000aa"}},
		{Title: "t", Services: []string{""}},
		{Title: "bad\xffutf8"},
		{Title: "nul\x00"},
	} {
		if _, err := r.svc.Open(ctx, "a", d); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Open(%+v) = %v, want ErrInvalid", d, err)
		}
	}
	inc, err := r.svc.Open(ctx, "a", incident.Draft{Title: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []incident.Link{
		{Kind: "search", Text: "x", URL: "javascript:alert(1)"},
		{Kind: "search", Text: "x", URL: "//evil.example/x"},
		{Kind: "search", Text: "x", URL: "data:text/html,hi"},
		{Kind: "search", Text: "x", URL: "/explore?q=a b"},
		{Kind: "search", Text: "x", URL: ""},
		{Kind: "other", Text: "x", URL: "/explore"},
		{Kind: "search", Text: "", URL: "/explore"},
	} {
		if _, err := r.svc.AddLink(ctx, "a", inc.ID, l); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("AddLink(%+v) = %v, want ErrInvalid", l, err)
		}
	}
	for _, f := range []incident.FlagChange{
		{Name: "Borrow"}, {Name: ""}, {Name: "a/b"}, {Name: "x", Percent: 101}, {Name: "x", Percent: -1},
		{Name: "x", Deployment: "../etc"},
	} {
		if _, err := r.svc.SetFlag(ctx, "a", f); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetFlag(%+v) = %v, want ErrInvalid", f, err)
		}
	}
	if _, err := r.svc.AddNote(ctx, "a", inc.ID, incident.Note{Text: " "}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("empty note: %v", err)
	}
	if err := r.svc.AddTimelineEntry(ctx, "action", "x", "javascript:1"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("AddTimelineEntry with a bad link: %v", err)
	}
	if err := r.svc.SetTemplate(ctx, "a", "{{.Nope}}"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("template naming an unknown field: %v", err)
	}
	if err := r.svc.SetTemplate(ctx, "a", "{{if}}"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("template that does not parse: %v", err)
	}
}

func TestTimelineCollects(t *testing.T) {
	r := newRig(t)
	r.loadChain(t)
	ctx := t.Context()
	// An alert fired before anyone opened the incident, and another one
	// during it.
	detail := func(summary, tx string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"summary": summary, "tx": tx, "since": now.Add(-35 * time.Minute),
			"labels": map[string]string{"address": vault.Hex()}})
		return b
	}
	failing := hash(0xee, 2*16).Hex()
	if err := r.db.SaveAlerts(ctx, nil, []store.AlertEvent{
		{MonitorID: "vault-fails", Key: "k1", Status: "firing", Time: now.Add(-32 * time.Minute), Detail: detail("2 failed withdrawals", failing)},
		{MonitorID: "noise", Key: "", Status: "firing", Time: now.Add(-3 * time.Hour), Detail: detail("long ago", "")},
		{MonitorID: "api-errors", Key: "", Status: "firing", Time: now.Add(-5 * time.Minute), Detail: detail("api errors", "")},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.OpenFromAlert(ctx, "ana", incident.Draft{}, "vault-fails", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown alert: %v", err)
	}
	inc, err := r.svc.OpenFromAlert(ctx, "ana", incident.Draft{Severity: "critical"}, "vault-fails", "k1")
	if err != nil {
		t.Fatal(err)
	}
	if inc.Title != "vault-fails: 2 failed withdrawals" || !inc.Started.Equal(now.Add(-35*time.Minute)) ||
		!reflect.DeepEqual(inc.Contracts, []string{vault.Hex()}) || inc.Source != "alert" || inc.SourceRef != "vault-fails/k1" {
		t.Errorf("opened from the alert: %+v", inc)
	}
	// Other capabilities write on the open incident.
	if err := r.svc.AddTimelineEntry(ctx, incident.KindAction, "paused the vault from the Safe", "/respond/runs/1"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the same debugged transaction is entered once
		if err := r.svc.AddTimelineEntry(ctx, incident.KindDebug, "0xee… failed at LendingVault.sol:88", "/debug/"+failing); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.AddLink(ctx, "bo", inc.ID, incident.Link{Kind: "search", Text: "failed withdrawals", URL: "/explore?q=status:failed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.SetFlag(ctx, "bo", incident.FlagChange{Deployment: "app", Name: "withdraw", Enabled: false}); err != nil {
		t.Fatal(err)
	}
	tl, err := r.svc.Timeline(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range tl {
		got = append(got, e.Kind+" "+e.Text+" → "+e.Link)
	}
	want := []string{
		"alert Alert vault-fails firing (k1): 2 failed withdrawals → /debug/" + failing,
		"contract Paused(account=" + user3.Hex() + ") from " + vault.Hex() + " (block 2) → /tx/" + hash(0xee, 2*16+2).Hex(),
		"alert Alert api-errors firing: api errors → /monitors?monitor=api-errors",
		"open Opened (critical, investigating) → ",
		"action paused the vault from the Safe → /respond/runs/1",
		"debug 0xee… failed at LendingVault.sol:88 → /debug/" + failing,
		"search failed withdrawals → /explore?q=status:failed",
		"flag Kill switch app/withdraw: off (by bo) → /incidents#flags",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("timeline:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// With nothing open, entries have nowhere to go.
	if _, err := r.svc.SetStatus(ctx, "ana", inc.ID, incident.Change{Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.AddTimelineEntry(ctx, incident.KindAction, "x", ""); !errors.Is(err, incident.ErrNoOpenIncident) || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddTimelineEntry with no open incident: %v", err)
	}
}

func TestPublicOutput(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	for _, c := range []store.StatusComponent{
		{ID: "vault", Name: "Lending vault", Kind: "contract", Ref: strings.ToLower(vault.Hex()), Position: 1},
		{ID: "api", Name: "API", Kind: "service", Ref: "api", Position: 2},
	} {
		if err := r.svc.PutComponent(ctx, "ana", c); err != nil {
			t.Fatal(err)
		}
	}
	// A private incident changes nothing public but its banner.
	secret, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "SECRET internal title", Summary: "SECRET summary",
		Severity: "critical", Contracts: []string{vault.Hex()}, Banner: "Do not sign transactions to " + vault.Hex()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AddNote(ctx, "ana", secret.ID, incident.Note{Text: "SECRET note"}); err != nil {
		t.Fatal(err)
	}
	page, err := r.svc.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if page.Status != incident.Operational || len(page.Active) != 0 || page.Components[0].Status != incident.Operational {
		t.Errorf("a private incident shows: %+v", page)
	}
	b, etag1, err := r.svc.PublicBanner(ctx)
	if err != nil || len(b.Banners) != 1 || b.Banners[0].Incident != 0 || !strings.Contains(b.Banners[0].Text, vault.Hex()) {
		t.Errorf("banner %+v, %v", b, err)
	}
	pub, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "SECRET too", Severity: "major", Public: true,
		PublicTitle: "Withdrawals failing", Services: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	if _, err := r.svc.AddNote(ctx, "ana", pub.ID, incident.Note{Text: "We are looking into it", Public: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.AddNote(ctx, "ana", pub.ID, incident.Note{Text: "SECRET private note"}); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	if _, err := r.svc.SetStatus(ctx, "ana", pub.ID, incident.Change{Status: "identified", Message: "SECRET not public"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.SetStatus(ctx, "ana", pub.ID, incident.Change{Status: "mitigated", Message: "A fix is rolling out", Public: true}); err != nil {
		t.Fatal(err)
	}
	if page, err = r.svc.Status(ctx); err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(page)
	if strings.Contains(string(js), "SECRET") {
		t.Errorf("the status page shows private text: %s", js)
	}
	want := incident.StatusPage{Status: incident.PartialOutage,
		Components: []incident.ComponentStatus{{ID: "vault", Name: "Lending vault", Status: incident.Operational},
			{ID: "api", Name: "API", Status: incident.PartialOutage}},
		Active: []incident.PublicIncident{{ID: pub.ID, Title: "Withdrawals failing", Status: "mitigated", Impact: incident.PartialOutage,
			Started: now, Updated: now.Add(2 * time.Minute), Updates: []incident.PublicUpdate{
				{Time: now.Add(2 * time.Minute), Text: "Mitigated: A fix is rolling out"},
				{Time: now.Add(time.Minute), Text: "We are looking into it"}}}},
		Past: []incident.PublicIncident{}, Updated: now.Add(2 * time.Minute)}
	if !reflect.DeepEqual(page, want) {
		t.Errorf("status page:\n got %+v\nwant %+v", page, want)
	}
	if _, err := r.svc.PublicIncident(ctx, secret.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a private incident by ID: %v", err)
	}
	if _, err := r.svc.Edit(ctx, "ana", secret.ID, incident.Patch{Banner: ptr("")}); err != nil {
		t.Fatal(err)
	}
	if b, etag2, _ := r.svc.PublicBanner(ctx); len(b.Banners) != 0 || etag2 == etag1 {
		t.Errorf("banner after clearing: %+v, etag %s (was %s)", b, etag2, etag1)
	}

	// Flags: the ETag follows every change; a gradual restore keeps a
	// percentage.
	f0, e0, err := r.svc.PublicFlags(ctx, "app")
	if err != nil || len(f0.Flags) != 0 {
		t.Fatalf("no flags: %+v, %v", f0, err)
	}
	var etags = map[string]bool{e0: true}
	for _, c := range []incident.FlagChange{
		{Deployment: "app", Name: "borrow", Enabled: true, Description: "Borrow button"},
		{Deployment: "app", Name: "borrow", Enabled: false},
		{Deployment: "app", Name: "borrow", Enabled: true, Percent: 25},
	} {
		if _, err := r.svc.SetFlag(ctx, "ana", c); err != nil {
			t.Fatal(err)
		}
		_, e, _ := r.svc.PublicFlags(ctx, "app")
		if etags[e] {
			t.Errorf("flag change %+v kept an old ETag %s", c, e)
		}
		etags[e] = true
	}
	f, e, _ := r.svc.PublicFlags(ctx, "app")
	if !reflect.DeepEqual(f.Flags, map[string]incident.PublicFlag{"borrow": {Enabled: true, Percent: 25}}) {
		t.Errorf("flags %+v", f)
	}
	if _, again, _ := r.svc.PublicFlags(ctx, "app"); again != e {
		t.Errorf("ETag changed without a change: %s then %s", e, again)
	}
	if all, _ := r.svc.Flags(ctx, "app"); all[0].Description != "Borrow button" || all[0].UpdatedBy != "ana" {
		t.Errorf("a flag change lost its description or author: %+v", all)
	}
}

func ptr[T any](v T) *T { return &v }

// hostile is text a person could type to break out of Markdown or HTML.
const hostile = "<script>alert(1)</script> [click](javascript:alert(1)) **bold** # heading\n- item\n    code | pipe &amp; `tick` ![img](x)"

func TestPostmortemMarkdown(t *testing.T) {
	r := newRig(t)
	r.loadChain(t)
	ctx := t.Context()
	inc, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "Vault <b>drained</b> [x](y)", Severity: "critical", Owner: "ana_*",
		Summary: hostile, Contracts: []string{vault.Hex()}, Services: []string{"api"}, Started: now.Add(-40 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	if _, err := r.svc.AddNote(ctx, "bo", inc.ID, incident.Note{Text: hostile}); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.AddTimelineEntry(ctx, incident.KindDebug, "0xee failed at LendingVault.sol:88: require(!paused)", "/debug/0xee"); err != nil {
		t.Fatal(err)
	}
	r.clk.Add(time.Minute)
	if _, err := r.svc.SetStatus(ctx, "ana", inc.ID, incident.Change{Status: "resolved", Message: "fixed"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.SetPostmortem(ctx, "ana", inc.ID, incident.Postmortem{RootCause: hostile, Lessons: "1. numbered?",
		ActionItems: []incident.ActionItem{{Text: "Add a staleness monitor", Owner: "bo"}, {Text: "<img src=x onerror=alert(1)>", Done: true}, {Text: ""}},
		Review:      []incident.CheckItem{{Text: "Audit scheduled", Done: true}}}); err != nil {
		t.Fatal(err)
	}
	md, err := r.svc.Markdown(ctx, inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "postmortem.md", md)
	for _, bad := range []string{"<script", "<img", "<b>", "](javascript", "\n# heading", "\n- item", "**bold", "&amp;", "![img"} {
		for i := strings.Index(md, bad); i >= 0; i = next(md, bad, i) {
			if i == 0 || md[i-1] != '\\' {
				t.Errorf("the Markdown holds unescaped %q at %d: %q", bad, i, md[max(0, i-20):min(len(md), i+20)])
			}
		}
	}
	// A template edited by the operator is used, and sees only escaped
	// text.
	if err := r.svc.SetTemplate(ctx, "ana", "# {{.Title}}\n{{range .ActionItems}}* {{.Text}} — {{.Owner}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	if md, err = r.svc.Markdown(ctx, inc.ID); err != nil {
		t.Fatal(err)
	}
	if want := "# Vault \\<b\\>drained\\<\\/b\\> \\[x\\]\\(y\\)\n* Add a staleness monitor — bo\n* \\<img src\\=x onerror\\=alert\\(1\\)\\> — \n"; md != want {
		t.Errorf("custom template:\n%s\nwant\n%s", md, want)
	}
	if body, def, _ := r.svc.Template(ctx); def || !strings.HasPrefix(body, "# {{.Title}}") {
		t.Errorf("template in force: default %v", def)
	}
	if err := r.svc.SetTemplate(ctx, "ana", ""); err != nil {
		t.Fatal(err)
	}
	if body, def, _ := r.svc.Template(ctx); !def || body != incident.DefaultTemplate {
		t.Errorf("restoring the default template did not")
	}
}

// next returns the index of the next sub in s after i, or -1.
func next(s, sub string, i int) int {
	j := strings.Index(s[i+1:], sub)
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (run with -update to accept):\n%s", name, got)
	}
}

// TestComponentStatusByHand: a component's state set by hand shows on the
// status page and sets its overall state; an open public incident naming
// the component shows worse, never better; an unknown state is refused.
func TestComponentStatusByHand(t *testing.T) {
	r := newRig(t)
	ctx := t.Context()
	put := func(c store.StatusComponent) error { return r.svc.PutComponent(ctx, "ana", c) }
	if err := put(store.StatusComponent{ID: "api", Name: "API", Kind: "service", Ref: "api", Status: "sleepy"}); err == nil || !strings.Contains(err.Error(), `unknown component status "sleepy"`) {
		t.Errorf("an unknown status: %v", err)
	}
	if err := put(store.StatusComponent{ID: "api", Name: "API", Kind: "service", Ref: "api", Status: incident.Degraded}); err != nil {
		t.Fatal(err)
	}
	if err := put(store.StatusComponent{ID: "vault", Name: "Vault", Kind: "contract", Ref: vault.Hex(), Status: incident.MajorOutage}); err != nil {
		t.Fatal(err)
	}
	if err := put(store.StatusComponent{ID: "web", Name: "Web", Kind: "service", Ref: "web"}); err != nil {
		t.Fatal(err)
	}
	states := func() map[string]string {
		t.Helper()
		page, err := r.svc.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{"": page.Status}
		for _, c := range page.Components {
			m[c.ID] = c.Status
		}
		return m
	}
	want := map[string]string{"": incident.MajorOutage, "api": incident.Degraded, "vault": incident.MajorOutage, "web": incident.Operational}
	if got := states(); !maps.Equal(got, want) {
		t.Errorf("set by hand: %v, want %v", got, want)
	}
	// A public incident on the API, worse than its state by hand; the
	// vault back to operational by hand.
	if _, err := r.svc.Open(ctx, "ana", incident.Draft{Title: "API down", Severity: "critical", Public: true, Services: []string{"api"}}); err != nil {
		t.Fatal(err)
	}
	if err := put(store.StatusComponent{ID: "vault", Name: "Vault", Kind: "contract", Ref: vault.Hex(), Status: incident.Operational}); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"": incident.MajorOutage, "api": incident.MajorOutage, "vault": incident.Operational, "web": incident.Operational}
	if got := states(); !maps.Equal(got, want) {
		t.Errorf("with an incident: %v, want %v", got, want)
	}
}
