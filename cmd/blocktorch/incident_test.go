package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/incident"
)

// TestIncidentCommands runs an incident from the command line against the
// demo with an operator key: open, update, a kill switch off and restored
// for a share of users, close, list and export, each answer checked, and
// the stakeholder updates followed to a webhook receiver on 127.0.0.1
// through the monitors' outbox.
func TestIncidentCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the demo")
	}
	type hook struct{ Status, Summary, Monitor, URL string }
	hooks := make(chan hook, 100)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Status, Summary, Monitor string
			Links                    []struct{ URL string }
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("the webhook got %s: %v", b, err)
		}
		h := hook{Status: m.Status, Summary: m.Summary, Monitor: m.Monitor}
		if len(m.Links) > 0 {
			h.URL = m.Links[0].URL
		}
		hooks <- h
	}))
	defer recv.Close()

	const key = "incident-operator-key-0123456789"
	cfg := apptest.DemoConfig(t)
	cfg.OperatorKey = key
	cfg.NotifyAllow = "127.0.0.1" // the test's receiver
	a, stop := apptest.Start(t, cfg)
	defer stop()
	t.Setenv("BLOCKTORCH_SERVER", a.URL())
	t.Setenv("BLOCKTORCH_KEY", key)

	dir := t.TempDir()
	file := filepath.Join(dir, "monitors.yaml")
	if err := os.WriteFile(file, []byte("channels:\n  - name: stakeholders\n    type: webhook\n    url: "+recv.URL+"/hook\nmonitors: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "pm.md")
	tmplFile, badTmpl, gotTmpl := filepath.Join(dir, "pm.tmpl"), filepath.Join(dir, "bad.tmpl"), filepath.Join(dir, "got.tmpl")
	if err := os.WriteFile(tmplFile, []byte("# PM {{.Title}}\n{{range .Timeline}}- {{.Text}}\n{{end}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badTmpl, []byte("# {{.Title"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args []string
		code int
		out  []string // what stdout holds
	}{
		{[]string{"monitors", "apply", file}, 0, []string{"1 channels"}},
		{[]string{"incident", "open"}, 2, nil},
		{[]string{"incident", "open", "Vault <drained>", "--severity", "critical", "--owner", "ana", "--public", "--public-title", "Withdrawals paused", "--as", "ana"}, 0,
			[]string{"incident 1 opened: Vault <drained> (critical, investigating)", a.URL() + "/incidents/1"}},
		{[]string{"incident", "open", "x", "--severity", "meh"}, 1, nil},
		{[]string{"incident", "update", "1", "Oracle stale since block 120", "--status", "identified", "--public"}, 0, []string{"incident 1: identified"}},
		{[]string{"incident", "update", "1", "Looking at the liquidations"}, 0, []string{"incident 1: note added"}},
		{[]string{"incident", "update", "1", "Withdrawals paused while we fix the feed", "--notify", "--public"}, 0, []string{"incident 1: update added"}},
		{[]string{"incident", "update", "x", "y"}, 2, nil},
		{[]string{"flags", "set", "borrow", "off", "--deployment", "app", "--description", "Borrow button"}, 0, []string{"app/borrow: off"}},
		{[]string{"flags", "set", "borrow", "25%", "--deployment", "app"}, 0, []string{"app/borrow: on for 25% of users"}},
		{[]string{"flags", "set", "borrow", "150", "--deployment", "app"}, 2, nil},
		{[]string{"flags", "list"}, 0, []string{"app", "borrow", "on for 25% of users", "Borrow button"}},
		{[]string{"incident", "close", "1", "Feed fixed; withdrawals work again", "--public"}, 0, []string{"incident 1: resolved"}},
		{[]string{"incident", "list"}, 0, []string{"critical", "resolved", "ana", "Vault <drained>"}},
		{[]string{"incident", "list", "--open"}, 0, nil},
		{[]string{"incident", "export", "1", "-o", md}, 0, []string{"wrote the postmortem of incident 1 to " + md}},
		{[]string{"incident", "export", "9"}, 1, nil},
		{[]string{"incident", "template", "get", "-o", gotTmpl}, 0, []string{"wrote the default template to " + gotTmpl}},
		{[]string{"incident", "template", "set", badTmpl}, 1, nil},
		{[]string{"incident", "template", "set", tmplFile}, 0, []string{"the server's template is in force"}},
		{[]string{"incident", "template", "get"}, 0, []string{"# PM {{.Title}}"}},
		{[]string{"incident", "export", "1"}, 0, []string{"# PM Vault \\<drained\\>", "- Resolved\\: Feed fixed"}},
		{[]string{"incident", "template", "set", "--default"}, 0, []string{"the default template is in force"}},
		{[]string{"incident", "template", "set", tmplFile, "--default"}, 2, nil},
		{[]string{"status", "components"}, 0, []string{"no components"}},
		{[]string{"status", "set", "vault", "--name", "Lending <vault>", "--contract", "0x000000000000000000000000000000000000beef"}, 0,
			[]string{"component vault: Lending <vault> (contract 0x000000000000000000000000000000000000bEEF)"}},
		{[]string{"status", "set", "api", "--name", "API", "--service", "api", "--position", "1"}, 0, []string{"component api: API (service api)"}},
		{[]string{"status", "set", "vault", "--position", "2", "--status", "degraded"}, 0, []string{"component vault: Lending <vault>", "degraded"}},
		{[]string{"status", "set", "vault", "--status", "sleepy"}, 1, nil},
		{[]string{"status", "set", "new"}, 2, nil},
		{[]string{"status", "set", "bad", "--name", "B", "--contract", "0xnope"}, 1, nil},
		{[]string{"status", "components"}, 0, []string{"api", "Lending <vault>", "0x000000000000000000000000000000000000bEEF", "auto", "operational", "degraded"}},
		{[]string{"status", "remove", "api"}, 0, []string{"component api removed"}},
		{[]string{"status", "remove", "api"}, 1, nil},
	}
	for _, s := range steps {
		code, out, errOut := runCLI(t, s.args...)
		if code != s.code {
			t.Fatalf("blocktorch %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(s.args, " "), code, s.code, out, errOut)
		}
		for _, want := range s.out {
			if !strings.Contains(out, want) {
				t.Errorf("blocktorch %s: stdout lacks %q:\n%s", strings.Join(s.args, " "), want, out)
			}
		}
		if s.args[1] == "list" && len(s.args) == 3 && strings.TrimSpace(out) != "" {
			t.Errorf("incident list --open after the close: %s", out)
		}
	}
	// A template that does not parse: why, and nothing saved.
	if code, _, errOut := runCLI(t, "incident", "template", "set", badTmpl); code != 1 || !strings.Contains(errOut, "does not parse") || !strings.Contains(errOut, "nothing saved") {
		t.Errorf("a broken template: exit %d, %q", code, errOut)
	}
	if b, err := os.ReadFile(gotTmpl); err != nil || string(b) != incident.DefaultTemplate {
		t.Errorf("template get wrote %d bytes, want the default (%v)", len(b), err)
	}
	// The Markdown escapes what people typed and holds the timeline.
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Vault <drained>", "Oracle stale since block 120", "Kill switch app/borrow: off (by", "Resolved: Feed fixed"} {
		if want = incident.EscapeMarkdown(want); !strings.Contains(string(b), want) {
			t.Errorf("the postmortem lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), "Vault <drained>") {
		t.Errorf("the postmortem holds the title unescaped:\n%s", b)
	}
	// The kill switch change is on the timeline with who made it, and the
	// public status page shows the incident's public updates only.
	code, _, page := httpGet(t, a.URL()+"/status")
	if code != 200 || !strings.Contains(page, "Withdrawals paused") || !strings.Contains(page, "Feed fixed") || strings.Contains(page, "liquidations") {
		t.Errorf("status page: %d %s", code, page)
	}

	// Stakeholder updates: the opening, the two status changes and the
	// notified update, each linking back to the incident's page.
	want := []string{"investigating Opened (critical, investigating)", "identified Identified: Oracle stale since block 120",
		"identified Withdrawals paused while we fix the feed", "resolved Resolved: Feed fixed; withdrawals work again"}
	var got []string
	timeout := time.After(2 * time.Minute)
	for len(got) < len(want) {
		select {
		case h := <-hooks:
			got = append(got, h.Status+" "+h.Summary)
			if h.URL != a.URL()+"/incidents/1" || h.Monitor != "Incident 1: Vault <drained>" {
				t.Errorf("stakeholder update %+v: want a link to %s/incidents/1", h, a.URL())
			}
		case <-timeout:
			t.Fatalf("the webhook got %d of %d stakeholder updates: %v", len(got), len(want), got)
		}
	}
	// The outbox may deliver out of order after a retry.
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("stakeholder updates:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func httpGet(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}
