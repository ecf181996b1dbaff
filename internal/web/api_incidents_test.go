package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// incidentRig is the web server with the incidents API over a fresh
// SQLite store. Stakeholder updates are collected where the incident
// package hands them to its Notifier (the app sends them to the outbox;
// the app's test follows them to a webhook).
type incidentRig struct {
	url string
	st  *sqlite.DB
	svc *incident.Service
	key string

	mu      sync.Mutex
	updates []incident.Update
}

func newIncidentRig(t *testing.T, key string) *incidentRig {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rig := &incidentRig{st: st, key: key}
	rig.svc = incident.New(incident.Deps{Store: st, Search: st, Alerts: st, Monitors: st,
		Notify: func(_ context.Context, u incident.Update) error {
			rig.mu.Lock()
			defer rig.mu.Unlock()
			rig.updates = append(rig.updates, u)
			return nil
		}}, incident.Options{BaseURL: "http://bt.example"})
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Incidents: rig.svc, OperatorKey: key})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	rig.url = ts.URL
	return rig
}

// do sends a request as the operator (with the key when there is one) and
// returns the status, headers and body.
func (rig *incidentRig) do(t *testing.T, method, path, body string, hdr ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, rig.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if rig.key != "" {
		req.Header.Set("Authorization", "Bearer "+rig.key)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// TestIncidentsAPI walks an incident through every operator route, in
// order, checking each answer.
func TestIncidentsAPI(t *testing.T) {
	rig := newIncidentRig(t, "")
	vault := "0x000000000000000000000000000000000000beef"
	steps := []struct {
		name, method, path, body string
		code                     int
		contains                 []string
	}{
		{"no incidents yet", "GET", "/api/v1/incidents", "", 200, []string{`"data":[]`}},
		{"open needs a title", "POST", "/api/v1/incidents", `{"severity":"major"}`, 400, []string{`"errorKind":"bad_request"`, "the title is required"}},
		{"open refuses unknown fields", "POST", "/api/v1/incidents", `{"title":"x","sevrity":"major"}`, 400, []string{`unknown field`}},
		{"open refuses a bad severity", "POST", "/api/v1/incidents", `{"title":"x","severity":"meh"}`, 400, []string{`unknown severity`}},
		{"open refuses alert and search together", "POST", "/api/v1/incidents", `{"title":"x","alert":{"monitor":"m","key":"k"},"search":{"query":"level:error"}}`, 400, []string{"not both"}},
		{"open from an alert that never fired", "POST", "/api/v1/incidents", `{"alert":{"monitor":"m","key":"k"}}`, 404, []string{`no firing alert`}},
		{"open by hand", "POST", "/api/v1/incidents", `{"title":"Vault drained","severity":"critical","owner":"ana","contracts":["` + vault + `"],"services":["api"],"publicTitle":"Withdrawals degraded"}`, 201,
			[]string{`"id":1`, `"status":"investigating"`, `"contracts":["0x000000000000000000000000000000000000bEEF"]`, `"source":"hand"`}},
		{"open from a search", "POST", "/api/v1/incidents", `{"title":"Errors","search":{"query":"level:error service:api"}}`, 201, []string{`"id":2`, `"source":"search"`}},
		{"list, newest first", "GET", "/api/v1/incidents", "", 200, []string{`"id":2`, `"id":1`}},
		{"list open only", "GET", "/api/v1/incidents?open=1&limit=1", "", 200, []string{`"id":2`}},
		{"bad limit", "GET", "/api/v1/incidents?limit=x", "", 400, []string{"limit must be"}},
		{"get with scope, timeline and postmortem", "GET", "/api/v1/incidents/1", "", 200, []string{`"scope":`, `"timeline":[`, `"kind":"open"`, `"postmortem":{`, `"review":[`}},
		{"get an unknown incident", "GET", "/api/v1/incidents/99", "", 404, []string{`"errorKind":"not_found"`}},
		{"get a malformed id", "GET", "/api/v1/incidents/abc", "", 400, []string{"not a positive integer"}},
		{"edit", "PATCH", "/api/v1/incidents/1", `{"owner":"bo","public":true}`, 200, []string{`"owner":"bo"`, `"public":true`}},
		{"edit refuses a bad address", "PATCH", "/api/v1/incidents/1", `{"contracts":["0xnope"]}`, 400, []string{"is not a contract address"}},
		{"status change", "POST", "/api/v1/incidents/1/status", `{"status":"identified","message":"Oracle stale","public":true}`, 200, []string{`"status":"identified"`}},
		{"status change refused", "POST", "/api/v1/incidents/1/status", `{"status":"paused"}`, 400, []string{`unknown status`}},
		{"note", "POST", "/api/v1/incidents/1/notes", `{"text":"Looking at the oracle <b>now</b>"}`, 201, []string{`"kind":"note"`, `\u003cb\u003e`}},
		{"update with notify", "POST", "/api/v1/incidents/1/notes", `{"text":"Withdrawals paused","public":true,"notify":true}`, 201, []string{`"kind":"update"`, `"notify":true`}},
		{"empty note refused", "POST", "/api/v1/incidents/1/notes", `{"text":"  "}`, 400, []string{"the note is required"}},
		{"link a debugged transaction", "POST", "/api/v1/incidents/1/links", `{"kind":"debug","text":"Vault.sol:42 reverted","url":"/debug/0x01"}`, 201, []string{`"kind":"debug"`, `"link":"/debug/0x01"`}},
		{"link refuses javascript:", "POST", "/api/v1/incidents/1/links", `{"kind":"search","text":"x","url":"javascript:alert(1)"}`, 400, []string{"neither a path"}},
		{"timeline", "GET", "/api/v1/incidents/1/timeline", "", 200, []string{`"kind":"status"`, `"kind":"debug"`, `"kind":"edit"`}},
		{"scope", "GET", "/api/v1/incidents/1/scope", "", 200, []string{`"now":{`, `"dayBefore":{`, `"live":true`}},
		{"banner set", "PUT", "/api/v1/incidents/1/banner", `{"text":"Do not sign transactions to ` + vault + `"}`, 200, []string{`"banner":"Do not sign`}},
		{"banner needs text", "PUT", "/api/v1/incidents/1/banner", `{"text":""}`, 400, []string{"DELETE clears"}},
		{"postmortem default", "GET", "/api/v1/incidents/1/postmortem", "", 200, []string{`"actionItems":[]`, `Monitors added for what was missed`}},
		{"postmortem put", "PUT", "/api/v1/incidents/1/postmortem", `{"rootCause":"Stale *oracle*","actionItems":[{"text":"Add a staleness monitor","owner":"bo"}],"review":[{"text":"Audit scheduled","done":true}]}`, 200,
			[]string{`"rootCause":"Stale *oracle*"`, `"owner":"bo"`}},
		{"postmortem refuses a multi-line owner", "PUT", "/api/v1/incidents/1/postmortem", `{"actionItems":[{"text":"x","owner":"a\nb"}]}`, 400, []string{"must be one line"}},
		{"postmortem markdown", "GET", "/api/v1/incidents/1/postmortem.md", "", 200, []string{`Stale \*oracle\*`, "Add a staleness monitor", "Vault drained"}},
		{"template", "GET", "/api/v1/incidents/template", "", 200, []string{`"default":true`}},
		{"template refuses a broken one", "PUT", "/api/v1/incidents/template", `{"body":"{{.Nope"}`, 400, []string{`"errorKind":"bad_request"`}},
		{"template preview of the default on a sample", "POST", "/api/v1/incidents/template/preview", `{}`, 200, []string{`"markdown":"# Postmortem: Sample`}},
		{"template preview on an incident", "POST", "/api/v1/incidents/template/preview", `{"body":"# {{.Title}} / {{.RootCause}}","incident":1}`, 200, []string{`"markdown":"# Vault drained / Stale \\*oracle\\*"`}},
		{"template preview of a broken one", "POST", "/api/v1/incidents/template/preview", `{"body":"{{range .Nope}}"}`, 400, []string{`"errorKind":"bad_request"`, "does not parse"}},
		{"template preview that fails on the incident", "POST", "/api/v1/incidents/template/preview", `{"body":"{{.Nope}}"}`, 400, []string{"the postmortem template fails"}},
		{"template preview of an unknown incident", "POST", "/api/v1/incidents/template/preview", `{"incident":99}`, 404, nil},
		{"the previews saved nothing", "GET", "/api/v1/incidents/template", "", 200, []string{`"default":true`}},
		{"template put", "PUT", "/api/v1/incidents/template", `{"body":"# {{.Title}}\n"}`, 200, []string{`"default":false`}},
		{"markdown with the new template", "GET", "/api/v1/incidents/1/postmortem.md", "", 200, []string{"# Vault drained"}},
		{"flags empty", "GET", "/api/v1/flags", "", 200, []string{`"data":[]`}},
		{"flag off", "PUT", "/api/v1/flags/app/borrow", `{"enabled":false,"description":"Borrow button"}`, 200, []string{`"name":"borrow"`, `"enabled":false`, `"percent":0`}},
		{"flag refuses a bad name", "PUT", "/api/v1/flags/app/Bad%20Name", `{"enabled":false}`, 400, []string{"must be 1 to 64"}},
		{"flag refuses a bad percent", "PUT", "/api/v1/flags/app/borrow", `{"enabled":true,"percent":101}`, 400, []string{"not in 0..100"}},
		{"flag gradual restore", "PUT", "/api/v1/flags/app/swap", `{"enabled":true,"percent":25}`, 200, []string{`"percent":25`}},
		{"flags of a deployment", "GET", "/api/v1/flags?deployment=app", "", 200, []string{`"name":"borrow"`, `"name":"swap"`, `"description":"Borrow button"`}},
		{"flag change on the timeline", "GET", "/api/v1/incidents/2/timeline", "", 200, []string{`Kill switch app/borrow: off`, `Kill switch app/swap: on for 25% of users`}},
		{"flag delete", "DELETE", "/api/v1/flags/app/swap", "", 200, []string{`"deleted":"app/swap"`}},
		{"flag delete unknown", "DELETE", "/api/v1/flags/app/swap", "", 404, nil},
		{"component put", "PUT", "/api/v1/status/components/vault", `{"name":"Lending vault","kind":"contract","ref":"` + vault + `"}`, 200, []string{`"ref":"0x000000000000000000000000000000000000bEEF"`}},
		{"component with a state set by hand", "PUT", "/api/v1/status/components/web", `{"name":"Web","kind":"service","ref":"web","status":"partial_outage"}`, 200, []string{`"status":"partial_outage"`}},
		{"component refuses a bad state", "PUT", "/api/v1/status/components/web", `{"name":"Web","kind":"service","ref":"web","status":"meh"}`, 400, []string{"unknown component status"}},
		{"the state on /status.json", "GET", "/status.json", "", 200, []string{`{"id":"web","name":"Web","status":"partial_outage"}`}},
		{"component refuses a bad kind", "PUT", "/api/v1/status/components/x", `{"name":"X","kind":"thing","ref":"y"}`, 400, []string{"unknown component kind"}},
		{"components", "GET", "/api/v1/status/components", "", 200, []string{`"id":"vault"`}},
		{"resolve", "POST", "/api/v1/incidents/1/status", `{"status":"resolved","message":"Fixed","public":true}`, 200, []string{`"status":"resolved"`, `"resolved":"`}},
		{"banner clear", "DELETE", "/api/v1/incidents/1/banner", "", 200, nil},
		{"component delete", "DELETE", "/api/v1/status/components/vault", "", 200, nil},
		{"audit", "GET", "/api/v1/incidents/audit?limit=500", "", 200, []string{`"action":"open"`, `"action":"status"`, `"action":"flag"`, `"action":"postmortem"`, `"actor":"operator"`}},
	}
	for _, st := range steps {
		code, _, body := rig.do(t, st.method, st.path, st.body)
		if code != st.code {
			t.Errorf("%s: %s %s: %d, want %d: %s", st.name, st.method, st.path, code, st.code, body)
			continue
		}
		for _, c := range st.contains {
			if !strings.Contains(body, c) {
				t.Errorf("%s: %s %s: the answer lacks %s: %.600s", st.name, st.method, st.path, c, body)
			}
		}
	}

	// Stakeholder updates: each opening, each status change and the
	// update marked notify, with a link back to the incident's page.
	rig.mu.Lock()
	defer rig.mu.Unlock()
	var got []string
	for _, u := range rig.updates {
		got = append(got, u.Entry.Kind+" "+u.Link)
	}
	want := []string{"open http://bt.example/incidents/1", "open http://bt.example/incidents/2", "status http://bt.example/incidents/1",
		"update http://bt.example/incidents/1", "status http://bt.example/incidents/1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("stakeholder updates:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestIncidentActor: the audit log names who the client says made a
// change, on one line, and the operator otherwise.
func TestIncidentActor(t *testing.T) {
	rig := newIncidentRig(t, "")
	f := func(hdr, want string) {
		t.Helper()
		code, _, body := rig.do(t, "PUT", "/api/v1/flags/default/f", `{"enabled":true}`, "X-Blocktorch-Actor", hdr)
		if code != 200 {
			t.Fatalf("PUT flag: %d %s", code, body)
		}
		l, err := rig.svc.Audit(t.Context(), 1)
		if err != nil || len(l) != 1 {
			t.Fatalf("audit: %v %v", l, err)
		}
		if l[0].Actor != want {
			t.Errorf("actor header %q: audited as %q, want %q", hdr, l[0].Actor, want)
		}
	}
	f("ana", "ana")
	f("", "operator")
	f("ana\tevil", "operator")
	f(strings.Repeat("é", 150), strings.Repeat("é", 100))
}

// TestIncidentsNeedTheOperator: with an operator key, every incident,
// flag and component route refuses a client without it, writes and reads
// alike, and a cross-site write is refused even with the key's session.
func TestIncidentsNeedTheOperator(t *testing.T) {
	rig := newIncidentRig(t, "s3cret")
	reqs := []struct{ method, path, body string }{
		{"GET", "/api/v1/incidents", ""},
		{"POST", "/api/v1/incidents", `{"title":"x"}`},
		{"GET", "/api/v1/incidents/1", ""},
		{"PATCH", "/api/v1/incidents/1", `{"owner":"x"}`},
		{"POST", "/api/v1/incidents/1/status", `{"status":"resolved"}`},
		{"POST", "/api/v1/incidents/1/notes", `{"text":"x"}`},
		{"PUT", "/api/v1/incidents/1/banner", `{"text":"x"}`},
		{"GET", "/api/v1/incidents/1/postmortem.md", ""},
		{"GET", "/api/v1/incidents/audit", ""},
		{"PUT", "/api/v1/flags/default/x", `{"enabled":false}`},
		{"GET", "/api/v1/flags", ""},
		{"DELETE", "/api/v1/status/components/x", ""},
	}
	for _, r := range reqs {
		req, _ := http.NewRequest(r.method, rig.url+r.path, strings.NewReader(r.body))
		if r.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without the key: %d, want 401", r.method, r.path, resp.StatusCode)
		}
	}
	// With the key, but from a foreign page: refused before the handler.
	code, _, body := rig.do(t, "PUT", "/api/v1/flags/default/x", `{"enabled":false}`, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if code != http.StatusForbidden {
		t.Errorf("cross-site flag change: %d %s, want 403", code, body)
	}
	if l, _ := rig.svc.Flags(t.Context(), ""); len(l) != 0 {
		t.Errorf("a refused request changed the flags: %v", l)
	}
	// The public routes need no key.
	for _, p := range []string{"/status", "/status.json", "/status.atom", "/api/v1/public/flags", "/api/v1/public/banner", "/sdk/flags.js"} {
		resp, err := http.Get(rig.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s without the key: %d, want 200", p, resp.StatusCode)
		}
	}
}

// TestPublicFlagsCaching: the flags answer carries an ETag that a client
// revalidates with (304), changes with any flag, may be cached but must be
// revalidated, and is readable from any origin for GET only.
func TestPublicFlagsCaching(t *testing.T) {
	rig := newIncidentRig(t, "")
	get := func(path, inm string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", rig.url+path, nil)
		req.Header.Set("Origin", "https://dapp.example")
		if inm != "" {
			req.Header.Set("If-None-Match", inm)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, string(b)
	}
	for _, path := range []string{"/api/v1/public/flags?deployment=app", "/api/v1/public/banner", "/status.json"} {
		code, h, body := get(path, "")
		if code != 200 {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		tag := h.Get("ETag")
		if !strings.HasPrefix(tag, `"`) || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Cache-Control") != "public, no-cache" ||
			!strings.Contains(h.Get("Access-Control-Expose-Headers"), "ETag") {
			t.Errorf("GET %s: headers %v", path, h)
		}
		for _, inm := range []string{tag, "W/" + tag, `"x", ` + tag, "*"} {
			if code, h2, body := get(path, inm); code != http.StatusNotModified || body != "" || h2.Get("ETag") != tag {
				t.Errorf("GET %s If-None-Match %s: %d %q etag %s, want 304 with the same ETag", path, inm, code, body, h2.Get("ETag"))
			}
		}
		if code, _, _ := get(path, `"other"`); code != 200 {
			t.Errorf("GET %s with a stale ETag: %d, want 200", path, code)
		}
	}

	_, h, _ := get("/api/v1/public/flags?deployment=app", "")
	before := h.Get("ETag")
	if code, _, body := rig.do(t, "PUT", "/api/v1/flags/app/borrow", `{"enabled":false}`); code != 200 {
		t.Fatalf("PUT flag: %d %s", code, body)
	}
	code, h, body := get("/api/v1/public/flags?deployment=app", before)
	if code != 200 || h.Get("ETag") == before {
		t.Fatalf("after a flag change, the old ETag answers %d with ETag %s (was %s)", code, h.Get("ETag"), before)
	}
	if !strings.Contains(body, `"borrow":{"enabled":false,"percent":0}`) {
		t.Errorf("flags: %s", body)
	}
	// Another deployment's flags do not change this one's answer.
	tag := h.Get("ETag")
	rig.do(t, "PUT", "/api/v1/flags/other/x", `{"enabled":false}`)
	if code, _, _ := get("/api/v1/public/flags?deployment=app", tag); code != http.StatusNotModified {
		t.Errorf("another deployment's change: %d, want 304", code)
	}
	if code, h, body := get("/api/v1/public/flags?deployment=Bad!", ""); code != 400 || h.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("bad deployment: %d %s (CORS %q), want a readable 400", code, body, h.Get("Access-Control-Allow-Origin"))
	}

	// CORS for GET only: a preflight is never granted, and a write from
	// another origin is refused.
	req, _ := http.NewRequest("OPTIONS", rig.url+"/api/v1/public/flags", nil)
	req.Header.Set("Origin", "https://dapp.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Methods") != "" || resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusNoContent {
		t.Errorf("preflight answered %d with %v", resp.StatusCode, resp.Header)
	}

	// The script is served as JavaScript any page may load.
	code, h, body = get("/sdk/flags.js", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") || !strings.Contains(body, "blocktorchFlags") {
		t.Errorf("GET /sdk/flags.js: %d %s", code, h.Get("Content-Type"))
	}
}

// TestStatusPageAndFeed: the status page, its JSON and its feed show the
// public incidents with their public updates, text people typed escaped
// in HTML and XML alike, and nothing of private incidents.
func TestStatusPageAndFeed(t *testing.T) {
	rig := newIncidentRig(t, "")
	ctx := t.Context()
	vault := "0x000000000000000000000000000000000000bEEF"
	if err := rig.svc.PutComponent(ctx, "ana", store.StatusComponent{ID: "vault", Name: "Vault <i>", Kind: "contract", Ref: vault}); err != nil {
		t.Fatal(err)
	}
	pub, err := rig.svc.Open(ctx, "ana", incident.Draft{Title: "private title", Severity: "critical", Contracts: []string{vault},
		Public: true, PublicTitle: "Withdrawals " + xss, Summary: "private summary", Owner: "private-owner"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rig.svc.AddNote(ctx, "ana", pub.ID, incident.Note{Text: "We are on it " + xss, Public: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := rig.svc.AddNote(ctx, "ana", pub.ID, incident.Note{Text: "private note"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rig.svc.Open(ctx, "ana", incident.Draft{Title: "secret incident", Severity: "minor"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ path, ctype string }{{"/status", "text/html"}, {"/status.json", "application/json"}, {"/status.atom", "application/atom+xml"}} {
		code, h, body := get(t, rig.url+p.path)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), p.ctype) {
			t.Fatalf("GET %s: %d %s", p.path, code, h.Get("Content-Type"))
		}
		for _, leak := range []string{"private", "secret", "<img", "<script>alert"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s holds %q: %.800s", p.path, leak, body)
			}
		}
		if !strings.Contains(body, "We are on it") || !strings.Contains(body, "Withdrawals") {
			t.Errorf("GET %s lacks the public incident and its update: %.800s", p.path, body)
		}
	}
	_, _, page := get(t, rig.url+"/status")
	for _, want := range []string{"Major outage", "Vault &lt;i&gt;", "Investigating", `href="/status.atom"`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(page, "read-only view") || strings.Contains(page, `class="nav"`) {
		t.Error("the public status page shows the operator's navigation")
	}
	_, _, feed := get(t, rig.url+"/status.atom")
	if !strings.Contains(feed, `&lt;img src=x onerror=alert(1)&gt;`) || !strings.Contains(feed, `<content type="text">`) {
		t.Errorf("feed: %s", feed)
	}
	var env struct {
		Data incident.StatusPage `json:"data"`
	}
	_, _, js := get(t, rig.url+"/status.json")
	if err := json.Unmarshal([]byte(js), &env); err != nil {
		t.Fatal(err)
	}
	if env.Data.Status != incident.MajorOutage || len(env.Data.Active) != 1 || len(env.Data.Active[0].Updates) != 1 {
		t.Errorf("status.json: %+v", env.Data)
	}
}

// TestStatusUpdatedOnlyOncePublished: /status.json names no "updated"
// time while nothing was ever published (not Go's zero time), and the
// time of the newest public update once one is; the Atom feed, which must
// carry one, never shows the zero time.
func TestStatusUpdatedOnlyOncePublished(t *testing.T) {
	rig := newIncidentRig(t, "")
	ctx := t.Context()
	status := func() (map[string]json.RawMessage, string) {
		t.Helper()
		code, _, js := get(t, rig.url+"/status.json")
		var env struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal([]byte(js), &env); code != 200 || err != nil {
			t.Fatalf("GET /status.json: %d %v: %s", code, err, js)
		}
		_, _, feed := get(t, rig.url+"/status.atom")
		if strings.Contains(js, "0001-01-01") || strings.Contains(feed, "0001-01-01") {
			t.Errorf("the zero time is published:\n%s\n%s", js, feed)
		}
		return env.Data, feed
	}
	// A component and a private incident publish nothing.
	if err := rig.svc.PutComponent(ctx, "ana", store.StatusComponent{ID: "api", Name: "API", Kind: "service", Ref: "api"}); err != nil {
		t.Fatal(err)
	}
	if _, err := rig.svc.Open(ctx, "ana", incident.Draft{Title: "private", Severity: "minor"}); err != nil {
		t.Fatal(err)
	}
	if d, _ := status(); d["updated"] != nil || d["components"] == nil {
		t.Errorf("nothing published, yet status.json says: %v", d)
	}
	pub, err := rig.svc.Open(ctx, "ana", incident.Draft{Title: "t", Severity: "major", Public: true, PublicTitle: "API slow"})
	if err != nil {
		t.Fatal(err)
	}
	e, err := rig.svc.AddNote(ctx, "ana", pub.ID, incident.Note{Text: "Looking into it", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	d, feed := status()
	var updated time.Time
	if err := json.Unmarshal(d["updated"], &updated); err != nil || !updated.Equal(e.Time) {
		t.Errorf("updated %s (%v), want the public update's time %s", d["updated"], err, e.Time)
	}
	if want := "<updated>" + e.Time.UTC().Format(time.RFC3339) + "</updated>"; !strings.Contains(feed, want) {
		t.Errorf("the feed lacks %s: %s", want, feed)
	}
}

// TestIncidentPages: the incidents pages render what people typed as
// text, link to each incident, fill the open form from an alert or a
// search, and answer 404 for an unknown incident.
func TestIncidentPages(t *testing.T) {
	rig := newIncidentRig(t, "")
	_, err := rig.svc.Open(t.Context(), "ana", incident.Draft{Title: "Drained " + xss, Owner: "bo" + xss, Banner: "Careful " + xss})
	if err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		path     string
		code     int
		contains []string
	}{
		{"/incidents", 200, []string{`href="/incidents/1"`, "Drained &lt;img", `href="/incidents" class="on"`, `id="flags"`}},
		{"/incidents?monitor=builtin.paused&key=" + url.QueryEscape(`"><script>x`), 200, []string{`data-monitor="builtin.paused"`, `data-key="&#34;&gt;&lt;script&gt;x"`, "from the alert"}},
		{"/incidents?q=level:error", 200, []string{`data-query="level:error"`, "from the search"}},
		{"/incidents/1", 200, []string{`data-id="1"`, "Drained &lt;img", `value="Careful &lt;img`, `href="/api/v1/incidents/1/postmortem.md"`, `data-status="resolved"`}},
		{"/incidents/2", 404, nil},
		{"/incidents/x", 400, nil},
	}
	for _, p := range pages {
		code, _, body := get(t, rig.url+p.path)
		if code != p.code {
			t.Errorf("GET %s: %d, want %d", p.path, code, p.code)
		}
		if strings.Contains(body, "<img src=x") || strings.Contains(body, "<script>alert") || strings.Contains(body, "<script>x") {
			t.Errorf("GET %s renders typed text as markup", p.path)
		}
		for _, c := range p.contains {
			if !strings.Contains(body, c) {
				t.Errorf("GET %s lacks %s", p.path, c)
			}
		}
	}
	// Every page's navigation links to the incidents.
	if _, _, body := get(t, rig.url+"/monitors"); !strings.Contains(body, `<a href="/incidents">Incidents</a>`) {
		t.Error("the navigation lacks the incidents link")
	}
}
