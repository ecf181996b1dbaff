package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

var vaultAddr = common.HexToAddress("0x71326f4d34BD2027b7b35Dc056436c39E201a1C2")

// engineOnStore is an engine over a fresh SQLite store that knows the demo
// vault's ABI, with no chain.
func engineOnStore(t *testing.T, now func() time.Time) (*monitor.Engine, *sqlite.DB, *notify.Outbox) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	arts, err := demo.Artifacts()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutContract(context.Background(), store.Contract{Address: vaultAddr, Name: "LendingVault", ABI: arts["LendingVault"].ABI, Origin: "demo"}); err != nil {
		t.Fatal(err)
	}
	ob := notify.NewOutbox(st, notify.Options{Now: now, Destinations: notify.Destinations{Allow: notify.Loopback}}) // the files name receivers on 127.0.0.1
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Search: st, Notifier: ob}, monitor.Options{Now: now})
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, st, ob
}

const goodFile = `channels:
  - name: ops
    type: webhook
    url: http://127.0.0.1:9/hook
monitors:
  - id: vault-paused
    kind: event
    contract: LendingVault
    event: Paused
    channels: [ops]
  - id: api-errors
    kind: query
    query: "level:error service:api | stats count()"
    window: 1m
    condition: "> 50"
    channels: [ops]
`

func TestYAMLErrorsNameTheirPlace(t *testing.T) {
	e, _, _ := engineOnStore(t, time.Now)
	cases := []struct {
		name, file, want string
	}{
		{"unknown field", "monitors:\n  - id: a\n    kind: event\n    evnt: Paused\n", "monitors.yaml:4:5: unknown field \"evnt\" (did you mean \"event\"?)"},
		{"unknown event", "monitors:\n  - id: a\n    kind: event\n    contract: LendingVault\n    event: Pwned\n", "monitors.yaml:5:12: monitors[0] event: unknown event \"Pwned\" (the contract declares"},
		{"unknown contract", "monitors:\n  - id: a\n    kind: event\n    contract: Vault\n    event: Paused\n", "monitors.yaml:4:15: monitors[0] contract: unknown contract \"Vault\" (known: LendingVault)"},
		{"bad query", "monitors:\n  - id: a\n    kind: query\n    query: \"level:error | stats count(\"\n    window: 1m\n    condition: \"> 1\"\n", "monitors.yaml:4:"},
		{"query without stats", "monitors:\n  - id: a\n    kind: query\n    query: level:error\n    window: 1m\n    condition: \"> 1\"\n", "monitors.yaml:4:12: monitors[0] query: a query monitor needs a stats pipe"},
		{"field of another kind", "monitors:\n  - id: a\n    kind: event\n    event: Paused\n    query: x\n", "monitors.yaml:5:12: monitors[0] query: does not apply to a event monitor"},
		{"bad duration", "monitors:\n  - id: a\n    kind: event\n    event: Paused\n    for: soon\n", "monitors.yaml:5:10: monitors[0].for: \"soon\" is not a duration"},
		{"unknown channel", "monitors:\n  - id: a\n    kind: event\n    event: Paused\n    channels: [nope]\n", "monitors.yaml:5:16: monitors[0] channels[0]: unknown channel \"nope\""},
		{"bad where", "monitors:\n  - id: a\n    kind: event\n    event: Paused\n    where: [\"account >> 1\"]\n", "monitors.yaml:5:13: monitors[0] where[0]:"},
		{"not yaml", "monitors: [\n", "monitors.yaml:"},
		{"respond without scenarios", "monitors:\n  - id: a\n    kind: event\n    event: Paused\n    respond: pause-vault\n", "monitors.yaml:5:14: monitors[0] respond: scenario \"pause-vault\": no response scenarios are configured (start the server with --scenarios FILE)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.ApplyYAML(context.Background(), monitor.OriginCode, "monitors.yaml", []byte(c.file))
			if err == nil {
				t.Fatal("applied")
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, c.want)
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%v is not ErrInvalid", err)
			}
		})
	}
}

func TestApplyIsAtomic(t *testing.T) {
	e, st, _ := engineOnStore(t, time.Now)
	ctx := context.Background()
	res, err := e.ApplyYAML(ctx, monitor.OriginCode, "m.yaml", []byte(goodFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 2 || res.Channels != 1 {
		t.Fatalf("apply: %+v", res)
	}
	// A file with one good and one bad monitor changes nothing.
	bad := goodFile + "  - id: broken\n    kind: event\n    contract: LendingVault\n    event: Nope\n"
	bad = strings.Replace(bad, "event: Paused", "event: Unpaused", 1)
	if _, err := e.ApplyYAML(ctx, monitor.OriginCode, "m.yaml", []byte(bad)); err == nil {
		t.Fatal("a file with a bad monitor applied")
	}
	defs, _ := st.MonitorDefs(ctx)
	if len(defs) != 2 || !strings.Contains(string(defs[1].Spec), `"Paused"`) {
		t.Fatalf("after a refused apply: %s", defs[1].Spec)
	}
	// Re-applying the same file changes nothing; dropping a monitor deletes it.
	res, _ = e.ApplyYAML(ctx, monitor.OriginCode, "m.yaml", []byte(goodFile))
	if len(res.Unchanged) != 2 {
		t.Fatalf("re-apply: %+v", res)
	}
	one := goodFile[:strings.Index(goodFile, "  - id: api-errors")]
	res, err = e.ApplyYAML(ctx, monitor.OriginCode, "m.yaml", []byte(one))
	if err != nil || len(res.Deleted) != 1 || res.Deleted[0] != "api-errors" {
		t.Fatalf("apply without api-errors: %+v, %v", res, err)
	}
	// The API cannot take over a monitor the file manages.
	err = e.PutMonitor(ctx, monitor.Spec{ID: "vault-paused", Kind: monitor.KindEvent, Event: "Paused"}, false)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("API edit of a file's monitor: %v", err)
	}
}

func TestBuiltinParses(t *testing.T) {
	for _, demo := range []bool{false, true} {
		f, err := monitor.Builtin(demo)
		if err != nil || len(f.Monitors) < 6 {
			t.Fatalf("builtin(%v): %d monitors, %v", demo, len(f.Monitors), err)
		}
	}
}

// TestQueryMonitor runs a query threshold over off-chain logs in SQLite.
func TestQueryMonitor(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e, st, ob := engineOnStore(t, clock)
	ctx := context.Background()
	got := make(chan notify.Message, 10)
	ob.SetChannel("ops", chanFunc(func(m notify.Message) { got <- m }))
	file := strings.Replace(goodFile, "condition: \"> 50\"", "condition: \"> 5\"", 1)
	if _, err := e.ApplyYAML(ctx, monitor.OriginCode, "m.yaml", []byte(file)); err != nil {
		t.Fatal(err)
	}
	ob.SetChannel("ops", chanFunc(func(m notify.Message) { got <- m }))
	logs := func(n int, level, service string) {
		var recs []record.Record
		for i := range n {
			recs = append(recs, record.Record{Time: now.Add(-time.Duration(i+1) * time.Second), Source: record.SourceApp, Kind: record.KindLog, Level: level, Service: service, Message: "boom"})
		}
		if err := st.AppendRecords(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	logs(5, "error", "api")
	logs(20, "error", "web")
	e.EvaluateQueries(ctx)
	if a := e.ActiveAlerts(); len(a) != 0 {
		t.Fatalf("5 errors fired a > 5 threshold: %+v", a)
	}
	logs(3, "error", "api")
	e.EvaluateQueries(ctx)
	a := e.ActiveAlerts()
	if len(a) != 1 || a[0].MonitorID != "api-errors" || a[0].Value != "8" {
		t.Fatalf("active: %+v", a)
	}
	if _, err := ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m.Status != notify.StatusFiring || !strings.Contains(m.Summary, "is 8") {
		t.Fatalf("notification %+v", m)
	}
	// A minute later the errors are out of the window: resolved.
	now = now.Add(2 * time.Minute)
	e.EvaluateQueries(ctx)
	if a := e.ActiveAlerts(); len(a) != 0 {
		t.Fatalf("still active: %+v", a)
	}
	ob.Flush(ctx)
	if m := <-got; m.Status != notify.StatusResolved {
		t.Fatalf("want resolved, got %+v", m)
	}
	// The query parses as a search: the link is its filter.
	if _, err := query.Parse("level:error service:api"); err != nil {
		t.Fatal(err)
	}
}

type chanFunc func(notify.Message)

func (f chanFunc) Send(_ context.Context, m notify.Message) error { f(m); return nil }

func FuzzParseYAML(f *testing.F) {
	f.Add([]byte(goodFile))
	f.Add([]byte("monitors:\n  - id: a\n    kind: event\n    evnt: x\n"))
	f.Add([]byte("channels: {a: 1}\n"))
	f.Add([]byte("monitors:\n  - id: a\n    kind: txfail\n    contract: LendingVault\n    respond: pause-vault\n"))
	f.Add([]byte("monitors:\n  - {id: a, kind: query, query: '|', window: 1m, condition: '> 1'}\n"))
	f.Add([]byte("monitors:\n  - id: a\n    kind: event\n   event: Paused\n"))
	f.Add([]byte("monitors:\n  - id: a\n    threshold: x\n    for: soon\n    evnt: 1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _, err := monitor.ParseYAML("f.yaml", data)
		if err == nil {
			return
		}
		// Every problem is placed inside the file, in the file's order.
		var fe *monitor.FileError
		if !errors.As(err, &fe) || len(fe.Errs) == 0 {
			t.Fatalf("%T %v is not a FileError", err, err)
		}
		lines := strings.Count(string(data), "\n") + 1
		for i, pe := range fe.Errs {
			if pe.Line < 1 || pe.Line > lines || pe.Col < 1 {
				t.Errorf("%v is outside the file's %d lines", pe, lines)
			}
			if i > 0 && (pe.Line < fe.Errs[i-1].Line || pe.Line == fe.Errs[i-1].Line && pe.Col < fe.Errs[i-1].Col) {
				t.Errorf("%v after %v", pe, fe.Errs[i-1])
			}
		}
	})
}

// TestSchemaMatchesSpec keeps schemas/monitors.schema.json in step with
// the fields the parser accepts.
func TestSchemaMatchesSpec(t *testing.T) {
	data, err := os.ReadFile("../../schemas/monitors.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	check := func(def string, typ reflect.Type) {
		for i := 0; i < typ.NumField(); i++ {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("yaml"), ",")
			if _, ok := s.Defs[def].Properties[name]; !ok {
				t.Errorf("schema %s lacks %q", def, name)
			}
		}
		if len(s.Defs[def].Properties) != typ.NumField() {
			t.Errorf("schema %s has %d properties, the type %d fields", def, len(s.Defs[def].Properties), typ.NumField())
		}
	}
	check("monitor", reflect.TypeOf(monitor.Spec{}))
	check("channel", reflect.TypeOf(notify.Spec{}))
}
