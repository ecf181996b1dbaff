package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

// private marks every field written for the team only. No public route
// may answer it.
const private = "PRIVATE7f3a"

// TestPublicRoutesLeakNothingPrivate walks every route of the route table
// that anyone may reach (public and ingest doors), GETs it with its path
// values filled in, and checks that no answer holds a private field of an
// incident, its timeline, its postmortem, a kill switch, a component's
// reference or the audit log. A public route added later is walked too.
func TestPublicRoutesLeakNothingPrivate(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := incident.New(incident.Deps{Store: st, Search: st, Alerts: st, Monitors: st}, incident.Options{BaseURL: "http://" + private + ".example"})
	if err := svc.PutComponent(ctx, private, store.StatusComponent{ID: "api", Name: "API", Kind: "service", Ref: "svc-" + private}); err != nil {
		t.Fatal(err)
	}
	for i, public := range []bool{true, false} {
		inc, err := svc.Open(ctx, private, incident.Draft{Title: "title " + private, Owner: "owner-" + private, Summary: "summary " + private,
			Severity: "critical", Services: []string{"svc-" + private}, Channels: []string{"chan-" + private}, Public: public,
			PublicTitle: "Public title", Banner: "Do not sign transactions"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddNote(ctx, private, inc.ID, incident.Note{Text: "note " + private}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddNote(ctx, private, inc.ID, incident.Note{Text: "notified " + private, Notify: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddNote(ctx, private, inc.ID, incident.Note{Text: "Public update", Public: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddLink(ctx, private, inc.ID, incident.Link{Kind: incident.KindDebug, Text: "debug " + private, URL: "/debug/" + private}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetStatus(ctx, private, inc.ID, incident.Change{Status: incident.StatusIdentified, Message: "status " + private}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.SetPostmortem(ctx, private, inc.ID, incident.Postmortem{RootCause: "cause " + private,
			ActionItems: []incident.ActionItem{{Text: "item " + private, Owner: private}}}); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := svc.SetStatus(ctx, private, inc.ID, incident.Change{Status: incident.StatusResolved, Message: "resolved " + private}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, dep := range []string{"default", "app"} {
		if _, err := svc.SetFlag(ctx, private, incident.FlagChange{Deployment: dep, Name: "borrow", Enabled: true, Percent: 30, Description: "desc " + private}); err != nil {
			t.Fatal(err)
		}
	}

	srv, err := New(Deps{Chain: st, Contracts: st, Search: st, Incidents: svc, Dashboards: st, Shares: st, OperatorKey: "key-" + private})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	wildcard := regexp.MustCompile(`\{[^}]*\}`)
	walked := map[string]bool{}
	for _, rt := range srv.routeTable() {
		if rt.need.perm() != 0 {
			continue
		}
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			method, path = "GET", rt.pattern
		}
		if method != "GET" {
			continue
		}
		path = wildcard.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "1")
		if strings.HasSuffix(path, "/") {
			path += "style.css"
		}
		for _, q := range []string{"", "?deployment=app"} {
			resp, err := http.Get(ts.URL + path + q)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), private) || strings.Contains(strings.Join(flatHeader(resp.Header), "\n"), private) {
				t.Errorf("GET %s%s (a %v route) answers a private field: %.1000s", path, q, rt.need, b)
			}
		}
		walked[rt.pattern] = true
	}
	// The walk reached the incident's public routes, and they answer what
	// was written for the public.
	for _, p := range []string{"GET /status", "GET /status.json", "GET /status.atom", "GET /api/v1/public/banner", "GET /api/v1/public/flags", "GET /sdk/flags.js"} {
		if !walked[p] {
			t.Errorf("%s was not walked: is it still public?", p)
		}
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/incidents/1", nil)
	req.Header.Set("Authorization", "Bearer key-"+private)
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Count(string(b), private) < 5 {
			t.Fatalf("the operator's view of the incident lacks the private marker, so the walk proves nothing: %.300s", b)
		}
	}
	for path, want := range map[string]string{"/status.json": "Public update", "/status": "Public title",
		"/api/v1/public/banner": "Do not sign transactions", "/api/v1/public/flags?deployment=app": `"percent":30`} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("GET %s lacks %q: %.500s", path, want, b)
		}
	}
}

func flatHeader(h http.Header) []string {
	var out []string
	for k, vs := range h {
		out = append(out, k+": "+strings.Join(vs, ", "))
	}
	return out
}
