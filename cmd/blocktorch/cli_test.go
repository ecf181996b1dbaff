package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// runCLI runs a command line as main does and returns its exit status
// and outputs.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runMain(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandLineConvention checks, for every subcommand, the one
// convention: -h and --help print the command's own help and exit 0; an
// unknown flag or a missing argument says what is wrong and where the help
// is, exit 2, without the top-level help.
func TestCommandLineConvention(t *testing.T) {
	// No server must be reached: a command line error stops first.
	t.Setenv("BLOCKTORCH_SERVER", "http://127.0.0.1:1")
	for _, c := range []struct {
		cmd     []string
		missing string // what a missing argument's error names; "" takes none
	}{
		{[]string{"demo"}, ""},
		{[]string{"serve"}, ""},
		{[]string{"query"}, "missing 'QUERY'"},
		{[]string{"tail"}, ""},
		{[]string{"abi", "add"}, "missing ADDRESS FILE"},
		{[]string{"monitors", "apply"}, "missing FILE"},
		{[]string{"monitors", "test"}, "missing FILE"},
		{[]string{"monitors", "list"}, ""},
		{[]string{"oracle", "list"}, ""},
		{[]string{"oracle", "show"}, "missing ADDRESS"},
		{[]string{"oracle", "add"}, "missing ADDRESS"},
		{[]string{"respond", "actions"}, "missing ADDRESS"},
		{[]string{"respond", "prepare"}, "missing ADDRESS ACTION [ARG…]"},
		{[]string{"respond", "send"}, "missing ADDRESS ACTION [ARG…]"},
		{[]string{"respond", "runs"}, ""},
		{[]string{"respond", "run"}, "missing SCENARIO"},
		{[]string{"respond", "propose"}, "missing ADDRESS ACTION [ARG…]"},
		{[]string{"respond", "sign"}, "missing SAFETXHASH SIGNATURE"},
		{[]string{"respond", "execute"}, "missing SAFETXHASH"},
		{[]string{"incident", "open"}, ""},
		{[]string{"incident", "update"}, "missing ID 'TEXT'"},
		{[]string{"incident", "close"}, "missing ID ['MESSAGE']"},
		{[]string{"incident", "list"}, ""},
		{[]string{"incident", "export"}, "missing ID"},
		{[]string{"incident", "template", "get"}, ""},
		{[]string{"incident", "template", "set"}, "missing FILE"},
		{[]string{"status", "components"}, ""},
		{[]string{"status", "set"}, "missing ID"},
		{[]string{"status", "remove"}, "missing ID"},
		{[]string{"flags", "set"}, "missing NAME on|off|PERCENT"},
		{[]string{"flags", "list"}, ""},
		{[]string{"users", "add"}, "missing NAME"},
		{[]string{"users", "list"}, ""},
		{[]string{"users", "passwd"}, "missing NAME"},
		{[]string{"users", "disable"}, "missing NAME"},
		{[]string{"users", "enable"}, "missing NAME"},
		{[]string{"users", "role"}, "missing NAME ROLE"},
		{[]string{"keys", "create"}, "missing NAME"},
		{[]string{"keys", "list"}, ""},
		{[]string{"keys", "revoke"}, "missing ID"},
		{[]string{"verify"}, "missing ADDRESS PATH…"},
		{[]string{"trace"}, "missing 0xTX"},
		{[]string{"simulate"}, "missing --from"},
		{[]string{"patch-check"}, "missing --impl"},
		{[]string{"migrate", "records"}, "--from and --to are required"},
		{[]string{"migrate", "schema"}, "--db is required"},
		{[]string{"export"}, "--to is required"},
		{[]string{"version"}, ""},
	} {
		name := strings.Join(c.cmd, " ")
		t.Run(name, func(t *testing.T) {
			for _, h := range []string{"-h", "--help"} {
				code, out, errOut := runCLI(t, append(c.cmd, h)...)
				if code != 0 || !regexp.MustCompile(`^usage: blocktorch `+name+`[ \n]`).MatchString(out) || errOut != "" {
					t.Errorf("%s %s: exit %d, stdout %q, stderr %q; want its own help on stdout, exit 0", name, h, code, out, errOut)
				}
			}
			// The flag after an argument is read as a flag too.
			for _, args := range [][]string{append(c.cmd, "--no-such-flag"), append(c.cmd, "x", "--no-such-flag")} {
				code, out, errOut := runCLI(t, args...)
				if code != 2 || out != "" || !strings.Contains(errOut, "blocktorch "+name+": unknown flag --no-such-flag") ||
					!strings.Contains(errOut, "Run 'blocktorch "+name+" -h'") || strings.Contains(errOut, "Usage:") {
					t.Errorf("%q: exit %d, stderr %q; want the wrong flag named and the command's help pointed at, exit 2", args, code, errOut)
				}
			}
			if c.missing != "" {
				code, _, errOut := runCLI(t, c.cmd...)
				if code != 2 || !strings.Contains(errOut, c.missing) || !strings.Contains(errOut, "usage: blocktorch "+name) || strings.Contains(errOut, "Usage:") {
					t.Errorf("%s without arguments: exit %d, stderr %q; want %q and its usage, exit 2", name, code, errOut, c.missing)
				}
			}
		})
	}
	// Groups list their subcommands.
	for _, g := range []struct {
		name string
		subs []string
	}{{"monitors", []string{"apply", "test", "list"}}, {"abi", []string{"add"}}, {"migrate", []string{"records", "schema"}}, {"respond", []string{"actions", "prepare", "send", "runs", "run", "propose", "sign", "execute"}},
		{"incident", []string{"open", "update", "close", "list", "export", "template"}}, {"incident template", []string{"get", "set"}},
		{"flags", []string{"set", "list"}}, {"status", []string{"components", "set", "remove"}},
		{"users", []string{"add", "list", "passwd", "disable", "enable", "role"}}, {"keys", []string{"create", "list", "revoke"}}} {
		for _, h := range []string{"-h", "--help", "help"} {
			code, out, _ := runCLI(t, append(strings.Fields(g.name), h)...)
			for _, s := range g.subs {
				if code != 0 || !strings.Contains(out, g.name+" "+s+" ") {
					t.Errorf("%s %s: exit %d, lacks %q:\n%s", g.name, h, code, g.name+" "+s, out)
				}
			}
		}
		code, _, errOut := runCLI(t, strings.Fields(g.name)...)
		if code != 2 || !strings.Contains(errOut, "missing a subcommand") || !strings.Contains(errOut, "Run 'blocktorch "+g.name+" -h'") {
			t.Errorf("%s alone: exit %d, %q", g.name, code, errOut)
		}
		code, _, errOut = runCLI(t, append(strings.Fields(g.name), "frob")...)
		if code != 2 || !strings.Contains(errOut, `unknown subcommand "frob"`) {
			t.Errorf("%s frob: exit %d, %q", g.name, code, errOut)
		}
	}
	// The top-level help names every command, monitors list too.
	code, out, _ := runCLI(t, "help")
	for _, w := range []string{"demo", "serve", "query", "tail", "abi add", "monitors apply", "monitors test", "monitors list", "respond actions", "respond prepare", "respond send", "respond runs", "incident open", "incident update", "incident close", "incident list", "incident export", "incident template", "flags set", "status", "flags list", "users", "keys", "verify", "trace", "simulate", "migrate records", "migrate schema", "export", "version"} {
		if code != 0 || !regexp.MustCompile(`blocktorch `+w+`[ \n]`).MatchString(out) {
			t.Errorf("help lacks %q", w)
		}
	}
	code, _, errOut := runCLI(t, "frob")
	if code != 2 || !strings.Contains(errOut, `unknown command "frob"`) || !strings.Contains(errOut, "blocktorch help") {
		t.Errorf("frob: exit %d, %q", code, errOut)
	}
}

// fakeServer answers the API like a server with operator key key, and
// records the requests it was sent.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newFakeServer(t *testing.T, key string) *fakeServer {
	f := &fakeServer{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if key != "" && r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"status":"error","errorKind":"forbidden","error":"log in to use the API: this server has an operator key"}`))
			return
		}
		switch r.URL.Path {
		case "/api/v1/search":
			w.Write([]byte(`{"status":"success","data":{"records":[{"time":"2026-01-02T15:04:05Z","level":"error","source":"app","kind":"log","service":"api","message":"boom\u001b[2J\nforged line"}]}}`))
		case "/api/v1/monitors":
			w.Write([]byte(`{"status":"success","data":[{"spec":{"id":"vault-outflow","kind":"event","severity":"critical"},"origin":"file"}]}`))
		case "/api/v1/tail":
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write([]byte("data: {\"message\":\"tailed\"}\n\n"))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"status":"error","errorKind":"not_found","error":"no API endpoint"}`))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) last(t *testing.T) *http.Request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("the server got no request")
	}
	return f.reqs[len(f.reqs)-1]
}

// TestFlagsAfterArguments runs client commands with their flags after the
// arguments and checks what the server was asked.
func TestFlagsAfterArguments(t *testing.T) {
	t.Setenv("BLOCKTORCH_KEY", "")
	srv := newFakeServer(t, "")
	dir := t.TempDir()
	file := filepath.Join(dir, "monitors.yaml")
	os.WriteFile(file, []byte("monitors: []\n"), 0o600)
	for _, c := range []struct {
		args []string
		path string
		want url.Values
		out  string
	}{
		{[]string{"query", "level:error", "--limit", "3", "--server", srv.URL}, "/api/v1/search", url.Values{"q": {"level:error"}, "limit": {"3"}, "from": {"now-1h"}}, "boom"},
		{[]string{"query", "--since", "24h", "level:error", "--limit=7", "--server", srv.URL}, "/api/v1/search", url.Values{"q": {"level:error"}, "limit": {"7"}, "from": {"now-24h"}}, "boom"},
		{[]string{"query", "--server", srv.URL, "--", "-level:error"}, "/api/v1/search", url.Values{"q": {"-level:error"}}, "boom"},
		{[]string{"monitors", "list", "--server", srv.URL}, "/api/v1/monitors", nil, "vault-outflow"},
		{[]string{"tail", "level:error", "--json", "--server", srv.URL}, "/api/v1/tail", url.Values{"q": {"level:error"}}, `{"message":"tailed"}`},
	} {
		code, out, errOut := runCLI(t, c.args...)
		if code != 0 || !strings.Contains(out, c.out) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", c.args, code, out, errOut)
			continue
		}
		r := srv.last(t)
		if r.URL.Path != c.path {
			t.Errorf("%q asked %s, want %s", c.args, r.URL.Path, c.path)
		}
		for k, v := range c.want {
			if got := r.URL.Query().Get(k); got != v[0] {
				t.Errorf("%q: %s=%q, want %q", c.args, k, got, v[0])
			}
		}
	}
	// Log text is attacker-controlled: no escape reaches the terminal and
	// no record forges a line.
	_, out, _ := runCLI(t, "query", "x", "--server", srv.URL)
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\nforged") {
		t.Errorf("a record's text reached the terminal raw:\n%q", out)
	}
}

// TestSinceSyntax checks that --since and --until take the syntax the help
// documents, and that a wrong one is answered with that syntax.
func TestSinceSyntax(t *testing.T) {
	_, help, _ := runCLI(t, "query", "-h")
	if !strings.Contains(help, timeSyntax) {
		t.Fatalf("query -h does not document %q:\n%s", timeSyntax, help)
	}
	// Every example the help gives is accepted.
	examples := regexp.MustCompile(`\d+[smhd]\b|\d{4}-\d\d-\d\dT[\d:]+Z`).FindAllString(timeSyntax, -1)
	if len(examples) < 4 {
		t.Fatalf("examples found in %q: %q", timeSyntax, examples)
	}
	srv := newFakeServer(t, "")
	for _, ok := range append(examples, "1767225600", "366d") {
		code, _, errOut := runCLI(t, "query", "x", "--since", ok, "--until", ok, "--server", srv.URL)
		if code != 0 {
			t.Errorf("--since %s: exit %d, %s", ok, code, errOut)
		}
	}
	for _, bad := range []string{"banana", "1h30m", "now-15m", "-15m", "15x", "0m", "2026-01-02"} {
		code, _, errOut := runCLI(t, "query", "x", "--since", bad, "--server", srv.URL)
		if code != 2 || !strings.Contains(errOut, "is not a time: use "+timeSyntax) {
			t.Errorf("--since %s: exit %d, %q; want the documented syntax", bad, code, errOut)
		}
	}
}

// TestKey checks that the key goes as a Bearer token from --key or
// BLOCKTORCH_KEY, that a refusal says what to do, and that the key is never
// printed.
func TestKey(t *testing.T) {
	const key = "s3cret-operator-key"
	srv := newFakeServer(t, key)
	t.Setenv("BLOCKTORCH_SERVER", srv.URL)
	t.Setenv("BLOCKTORCH_KEY", "")
	code, _, errOut := runCLI(t, "query", "x")
	if code != 1 || !strings.Contains(errOut, "needs its operator key: set BLOCKTORCH_KEY or --key") {
		t.Errorf("without a key: exit %d, %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "monitors", "list", "--key", "wrong-"+key)
	if code != 1 || !strings.Contains(errOut, "refused the key") || !strings.Contains(errOut, "set BLOCKTORCH_KEY or --key") || strings.Contains(errOut, key) {
		t.Errorf("with a wrong key: exit %d, %q", code, errOut)
	}
	code, out, errOut := runCLI(t, "query", "x", "--key", key)
	if code != 0 || !strings.Contains(out, "boom") {
		t.Errorf("with --key: exit %d, %q", code, errOut)
	}
	t.Setenv("BLOCKTORCH_KEY", key)
	for _, args := range [][]string{{"query", "x"}, {"monitors", "list"}, {"tail", "--json"}} {
		code, out, errOut = runCLI(t, args...)
		if code != 0 {
			t.Errorf("%q with BLOCKTORCH_KEY: exit %d, %q", args, code, errOut)
		}
		if strings.Contains(out+errOut, key) {
			t.Errorf("%q printed the key", args)
		}
		if got := srv.last(t).Header.Get("Authorization"); got != "Bearer "+key {
			t.Errorf("%q sent Authorization %q", args, got)
		}
	}
	// Help never shows the key, even when it is set.
	for _, args := range [][]string{{"query", "-h"}, {"trace", "-h"}, {"verify", "-h"}, {"monitors", "apply", "-h"}} {
		_, out, _ := runCLI(t, args...)
		if strings.Contains(out, key) {
			t.Errorf("%q shows the key", args)
		}
	}
}
