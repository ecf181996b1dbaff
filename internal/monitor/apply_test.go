package monitor_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// oncallFile is what an operator applies with `blocktorch monitors apply`:
// a channel and the monitors that notify it.
const oncallFile = `channels:
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
	e, _, _ := engineOnStore(t, time.Now)
	mux := http.NewServeMux()
	e.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
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
		{"the operator applies the file", "POST", "/api/v1/monitors/apply?file=ops.yaml", oncallFile, 200, []string{`"created":["vault-paused","vault-unpaused"]`, `"channels":1`}},
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
