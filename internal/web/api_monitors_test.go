package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/notify"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// monitorsOnStore is a monitor engine over a fresh SQLite store that knows
// the demo vault's ABI, with no chain.
func monitorsOnStore(t *testing.T) (*monitor.Engine, *sqlite.DB) {
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
	vault := common.HexToAddress("0x71326f4d34BD2027b7b35Dc056436c39E201a1C2")
	if err := st.PutContract(context.Background(), store.Contract{Address: vault, Name: "LendingVault", ABI: arts["LendingVault"].ABI, Origin: "demo"}); err != nil {
		t.Fatal(err)
	}
	ob := notify.NewOutbox(st, notify.Options{Destinations: notify.Destinations{Allow: notify.Loopback}}) // the files name receivers on 127.0.0.1
	e := monitor.New(monitor.Deps{Store: st, Contracts: st.Contracts, Blocks: st, Search: st, Notifier: ob}, monitor.Options{Now: time.Now})
	if err := e.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return e, st
}

// monitorsServer is the web server with the monitors API of e.
func monitorsServer(t *testing.T, e *monitor.Engine, st *sqlite.DB) http.Handler {
	t.Helper()
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Monitors: e})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

// contentType labels a request body as the API wants it (a write in a type
// a foreign page could send is refused as cross-site): YAML for monitor
// files, JSON otherwise.
func contentType(req *http.Request, body string) {
	switch {
	case body == "":
	case strings.HasPrefix(strings.TrimSpace(body), "{"):
		req.Header.Set("Content-Type", "application/json")
	default:
		req.Header.Set("Content-Type", "application/yaml")
	}
}

const monitorsFile = `channels:
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

// opsOncallFile is what an operator applies with `blocktorch monitors apply`:
// a channel and the monitors that notify it.
const opsOncallFile = `channels:
  - name: oncall
    type: webhook
    url: http://127.0.0.1:9/oncall
monitors:
  - id: vault-paused
    kind: event
    contract: LendingVault
    event: Paused
    channels: [oncall]
  - id: vault-unpaused
    kind: event
    contract: LendingVault
    event: Unpaused
    channels: [oncall]
`

// TestUIApplyKeepsChannels reproduces issue 19's report through the API:
// a monitors file with its channel, then the editor's apply. Whatever the
// editor did not show (the channel, the other monitors) survives, and a
// monitor naming a channel that does not exist is refused at its place.
func TestUIApplyKeepsChannels(t *testing.T) {
	e, st := monitorsOnStore(t)
	srv := httptest.NewServer(monitorsServer(t, e, st))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		contentType(req, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The editor's document: the monitor it shows, nothing else.
	newMonitor := "monitors:\n  - id: my-event\n    name: New event monitor\n    kind: event\n    contract: \"*\"\n    event: Transfer\n"
	steps := []struct {
		name, method, path, body string
		code                     int
		contains                 []string
	}{
		{"the operator applies the file", "POST", "/api/v1/monitors/apply?file=ops.yaml", opsOncallFile, 200, []string{`"created":["vault-paused","vault-unpaused"]`, `"channels":1`}},
		{"channel listed", "GET", "/api/v1/channels", "", 200, []string{`"name":"oncall"`}},
		// What the editor used to send: the monitors without the channel,
		// as the whole set. The channel would go while its monitors stay.
		{"a replace dropping a named channel is refused", "POST", "/api/v1/monitors/apply?file=monitors.yaml",
			"monitors:\n  - id: vault-paused\n    kind: event\n    contract: LendingVault\n    event: Paused\n    channels: [oncall]\n", 400,
			[]string{`monitors.yaml:6:16: monitors[0] channels[0]: unknown channel \"oncall\"`}},
		{"channel kept after the refusal", "GET", "/api/v1/channels", "", 200, []string{`"name":"oncall"`}},
		{"the editor applies a new monitor", "POST", "/api/v1/monitors/apply?file=monitors.yaml&mode=merge", newMonitor, 200,
			[]string{`"created":["my-event"]`, `"updated":[]`, `"deleted":[]`}},
		{"channel kept after the editor's apply", "GET", "/api/v1/channels", "", 200, []string{`"name":"oncall"`}},
		{"the file's monitors kept", "GET", "/api/v1/monitors", "", 200, []string{`"id":"vault-paused"`, `"id":"vault-unpaused"`, `"id":"my-event"`, `"channels":["oncall"]`}},
		{"the editor changes one monitor", "POST", "/api/v1/monitors/apply?mode=merge", "monitors:\n  - id: vault-unpaused\n    kind: event\n    contract: LendingVault\n    event: Unpaused\n    severity: warning\n    channels: [oncall]\n", 200,
			[]string{`"updated":["vault-unpaused"]`, `"deleted":[]`}},
		{"a merge naming an unknown channel is refused at its place", "POST", "/api/v1/monitors/apply?file=monitors.yaml&mode=merge",
			"monitors:\n  - id: my-event\n    kind: event\n    event: Transfer\n    channels: [oncall, pager]\n", 400,
			[]string{`monitors.yaml:5:24: monitors[0] channels[1]: unknown channel \"pager\"`}},
		{"the editor deletes one monitor", "POST", "/api/v1/monitors/apply?mode=merge&delete=my-event", "monitors: []\n", 200, []string{`"deleted":["my-event"]`}},
		{"deleting what is not there", "POST", "/api/v1/monitors/apply?mode=merge&delete=nope", "monitors: []\n", 404, []string{`no`}},
		{"delete without merge", "POST", "/api/v1/monitors/apply?delete=vault-paused", "monitors: []\n", 400, []string{`needs mode=merge`}},
		{"unknown mode", "POST", "/api/v1/monitors/apply?mode=patch", "monitors: []\n", 400, []string{`mode must be`}},
		{"channel kept at the end", "GET", "/api/v1/channels", "", 200, []string{`"name":"oncall"`}},
		{"monitors at the end", "GET", "/api/v1/monitors", "", 200, []string{`"id":"vault-paused"`, `"id":"vault-unpaused"`, `"severity":"warning"`}},
		// A monitor of the UI's that notifies the file's channel keeps it:
		// a file that drops the channel is refused, naming that monitor.
		{"a UI monitor notifies oncall", "POST", "/api/v1/monitors", `{"id":"ui-withdraw","kind":"event","contract":"LendingVault","event":"Withdrawn","channels":["oncall"]}`, 201, nil},
		{"a file dropping a channel still used is refused", "POST", "/api/v1/monitors/apply?file=ops.yaml",
			"channels:\n  - name: ops\n    type: webhook\n    url: http://127.0.0.1:9/ops\nmonitors: []\n", 400,
			[]string{`ops.yaml:2:3: channels: channel \"oncall\" would be removed, but monitor \"ui-withdraw\" (the UI or API) still notifies it`}},
		{"an API monitor naming an unknown channel is refused", "POST", "/api/v1/monitors", `{"id":"ui-2","kind":"event","event":"Withdrawn","channels":["pager"]}`, 400, []string{`unknown channel \"pager\"`}},
	}
	for _, s := range steps {
		code, body := do(s.method, s.path, s.body)
		ok := code == s.code
		for _, c := range s.contains {
			ok = ok && strings.Contains(body, c)
		}
		if !ok {
			t.Errorf("%s: %s %s: %d %s\nwant %d containing %q", s.name, s.method, s.path, code, body, s.code, s.contains)
		}
	}
	if _, body := do("GET", "/api/v1/monitors/vault-unpaused", ""); strings.Contains(body, `"event":"Paused"`) {
		t.Errorf("a merge changed a monitor it was not given: %s", body)
	}
}

// TestMonitorsAPI exercises the monitors API through the server.
func TestMonitorsAPI(t *testing.T) {
	e, st := monitorsOnStore(t)
	srv := httptest.NewServer(monitorsServer(t, e, st))
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		contentType(req, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 4096)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	cases := []struct {
		method, path, body string
		code               int
		contains           string
	}{
		{"POST", "/api/v1/monitors", `{"id":"big-withdraw","kind":"event","contract":"LendingVault","event":"Withdrawn","where":["amount > 1e18"]}`, 201, `"status":"success"`},
		{"POST", "/api/v1/monitors", `{"id":"big-withdraw","kind":"event","event":"Withdrawn"}`, 409, `"errorKind":"conflict"`},
		{"POST", "/api/v1/monitors", `{"id":"x","kind":"event","contract":"LendingVault","event":"Nope"}`, 400, `unknown event`},
		{"POST", "/api/v1/monitors", `{"id":"x","kind":"event","evnt":"Nope"}`, 400, `"errorKind":"bad_request"`},
		{"GET", "/api/v1/monitors/big-withdraw", "", 200, `"amount \u003e 1e18"`},
		{"GET", "/api/v1/monitors/nope", "", 404, `"errorKind":"not_found"`},
		{"PUT", "/api/v1/monitors/big-withdraw", `{"id":"big-withdraw","kind":"event","contract":"LendingVault","event":"Withdrawn","where":["amount > 1e20"]}`, 200, `1e20`},
		{"POST", "/api/v1/monitors/apply?file=ops.yaml", "monitors:\n  - id: y\n    kind: event\n    evnt: Paused\n", 400, `ops.yaml:4:5: unknown field`},
		{"POST", "/api/v1/monitors/apply", monitorsFile, 200, `"created":["vault-paused","api-errors"]`},
		{"GET", "/api/v1/channels", "", 200, `"url":"http://127.0.0.1:9/***"`},
		{"POST", "/api/v1/monitors/dry-run?hours=1", monitorsFile, 200, `"monitors":[{"id":"vault-paused"`},
		{"POST", "/api/v1/silences", `{"matchers":["monitor == vault-paused"],"duration":"1h","comment":"maintenance"}`, 201, `"comment":"maintenance"`},
		{"POST", "/api/v1/silences", `{"matchers":["monitor == "],"duration":"1h"}`, 400, `bad_request`},
		{"GET", "/api/v1/silences", "", 200, `maintenance`},
		{"GET", "/api/v1/alerts?monitor=vault-paused", "", 200, `"data":[]`},
		{"GET", "/api/v1/alerts/active", "", 200, `"data":[]`},
		{"GET", "/api/v1/deadletters", "", 200, `"data":[]`},
		{"POST", "/api/v1/deadletters/7/retry", "", 404, `not_found`},
		{"DELETE", "/api/v1/monitors/vault-paused", "", 409, `managed by a monitors file`},
		{"DELETE", "/api/v1/monitors/big-withdraw", "", 200, `"deleted":"big-withdraw"`},
	}
	for _, c := range cases {
		code, body := do(c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.contains) {
			t.Errorf("%s %s: %d %s\nwant %d containing %s", c.method, c.path, code, body, c.code, c.contains)
		}
	}
}
