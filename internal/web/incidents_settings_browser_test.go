package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blocktorch/blocktorch/internal/incident"
)

// TestIncidentSettingsInBrowser drives, in chromium, what the incidents
// page keeps besides the incidents, and the way in from Explore:
//   - Explore's "Open incident" opens /incidents with the form filled from
//     the search and its range, and the incident opened there starts at
//     the range's start with the search on its timeline; "Add to
//     incident" links another search on the open incident's timeline;
//   - the status page's components: added, edited, a state set by hand,
//     listed with what /status shows for each, removed; typed markup
//     stays text;
//   - the postmortem template editor: the default in force, a live
//     preview, a template that does not parse shows why and saves
//     nothing, a good one is saved and used by the Markdown export with
//     typed text escaped, and reset restores the default.
func TestIncidentSettingsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	rig := newIncidentRig(t, "")
	ctx := browser(t)
	watchScripts(t, ctx)
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(css(sel))
	}
	// afterNav waits for expr on the page a click navigated to: a poll
	// begun on the page it left ends with it, so poll again.
	afterNav := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
			if err == nil {
				return
			}
			if !(strings.Contains(err.Error(), "navigated or closed") || strings.Contains(err.Error(), "Cannot find context")) || time.Now().After(deadline) {
				t.Fatalf("%s: waiting for %s: %v", what, expr, err)
			}
		}
	}

	// Explore → Open incident, with the search and its range.
	const q, from, to = `level:error service:api`, "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"
	do(t, ctx, "explore", chromedp.Navigate(rig.url+"/explore?"+url.Values{"q": {q}, "from": {from}, "to": {to}}.Encode()))
	waitJS(t, ctx, "the Open incident link", `(document.querySelector('#open-incident')?.getAttribute('href') || '').includes('from=')`)
	href := eval[string](t, ctx, `document.querySelector('#open-incident').getAttribute('href')`)
	u, err := url.Parse(href)
	if err != nil || u.Path != "/incidents" || u.Query().Get("q") != q || u.Query().Get("from") != "2026-03-01T10:00:00.000Z" || u.Query().Get("to") != "2026-03-01T11:00:00.000Z" {
		t.Fatalf("Open incident links to %q", href)
	}
	do(t, ctx, "open incident", click(`#open-incident`))
	afterNav("the form, filled from the search", `document.body.dataset.page === 'incidents' && !document.querySelector('#open-card').hidden && document.querySelector('#open-from').innerText.includes('level:error service:api')`)
	do(t, ctx, "open it", chromedp.SetValue(css(`#open-form [name=title]`), "API errors <b>x</b>"), click(`#open-form button[type=submit]`))
	afterNav("the incident's page", `document.body.dataset.page === 'incident'`)
	id, _ := strconv.ParseInt(eval[string](t, ctx, `document.querySelector('#incident').dataset.id`), 10, 64)
	inc, err := rig.svc.Get(t.Context(), id)
	if err != nil || inc.Source != incident.SourceSearch || inc.SourceRef != q || inc.Started.UTC().Format("2006-01-02T15:04:05Z") != from {
		t.Fatalf("the incident opened from Explore: %+v, %v", inc, err)
	}
	tl, err := rig.svc.Timeline(t.Context(), id)
	if err != nil || len(tl) == 0 || !strings.Contains(tl[0].Link, "from="+url.QueryEscape(from)) || !strings.Contains(tl[0].Link, "to="+url.QueryEscape(to)) {
		t.Errorf("the search on the timeline: %+v, %v", tl, err)
	}

	// Another search, added to the open incident's timeline from Explore.
	const q2 = `kind:tx status:failed`
	do(t, ctx, "explore again", chromedp.Navigate(rig.url+"/explore?"+url.Values{"q": {q2}, "from": {from}, "to": {to}}.Encode()))
	waitJS(t, ctx, "Add to incident", `document.querySelector('#link-incident')?.textContent === 'Add to incident #`+strconv.FormatInt(id, 10)+`'`)
	do(t, ctx, "add to incident", click(`#link-incident`))
	waitJS(t, ctx, "added", `document.querySelector('#link-incident').textContent.startsWith('Added')`)
	const want = "/explore?q=kind%3Atx+status%3Afailed&from=2026-03-01T10%3A00%3A00.000Z&to=2026-03-01T11%3A00%3A00.000Z"
	tl, err = rig.svc.Timeline(t.Context(), id)
	if err != nil || len(tl) < 2 || tl[len(tl)-1].Kind != incident.KindSearch || tl[len(tl)-1].Text != q2 ||
		tl[len(tl)-1].Link != want {
		t.Errorf("the linked search on the timeline: %+v, %v", tl, err)
	}

	// Components: add two, edit one, remove one.
	do(t, ctx, "incidents page", chromedp.Navigate(rig.url+"/incidents"))
	waitJS(t, ctx, "the components card", `!!document.querySelector('#component-list td.empty')`)
	addComponent := func(cid, name, kind, ref string) {
		t.Helper()
		do(t, ctx, "component "+cid, chromedp.SetValue(css(`#component-form [name=cid]`), cid), chromedp.SetValue(css(`#component-form [name=name]`), name),
			chromedp.SetValue(css(`#component-form [name=kind]`), kind), chromedp.SetValue(css(`#component-form [name=ref]`), ref),
			click(`#component-form button[type=submit]`))
		waitJS(t, ctx, "component "+cid+" listed", `!!document.querySelector('#component-list tr[data-component="`+cid+`"]')`)
	}
	addComponent("vault", "Vault "+xss, "contract", "0x000000000000000000000000000000000000beef")
	addComponent("api", "API", "service", "api")
	if got := eval[string](t, ctx, `document.querySelector('#component-list tr[data-component="vault"]').innerText`); !strings.Contains(got, "Vault <img") || !strings.Contains(got, "0x000000000000000000000000000000000000bEEF") || !strings.Contains(got, "Operational") {
		t.Errorf("the vault's row: %q", got)
	}
	do(t, ctx, "edit", click(`#component-list tr[data-component="vault"] .component-edit`))
	if got := eval[string](t, ctx, `document.querySelector('#component-form [name=ref]').value`); got != "0x000000000000000000000000000000000000bEEF" {
		t.Errorf("edit filled the form with %q", got)
	}
	do(t, ctx, "rename", chromedp.SetValue(css(`#component-form [name=name]`), "Lending vault"), click(`#component-form button[type=submit]`))
	waitJS(t, ctx, "renamed", `document.querySelector('#component-list tr[data-component="vault"]')?.innerText.includes('Lending vault')`)
	// A state set by hand: shown here and on /status.
	do(t, ctx, "edit again", click(`#component-list tr[data-component="vault"] .component-edit`))
	do(t, ctx, "degraded", chromedp.SetValue(css(`#component-form [name=status]`), "degraded"), click(`#component-form button[type=submit]`))
	waitJS(t, ctx, "degraded by hand", `document.querySelector('#component-list tr[data-component="vault"] .set-status')?.textContent === 'Degraded performance' && document.querySelector('#component-list tr[data-component="vault"] [data-status]').dataset.status === 'degraded'`)
	if _, _, page := get(t, rig.url+"/status"); !strings.Contains(page, "Degraded performance") {
		t.Errorf("/status lacks the state set by hand")
	}
	do(t, ctx, "a bad address", chromedp.SetValue(css(`#component-form [name=cid]`), "bad"), chromedp.SetValue(css(`#component-form [name=name]`), "Bad"),
		chromedp.SetValue(css(`#component-form [name=kind]`), "contract"), chromedp.SetValue(css(`#component-form [name=ref]`), "0xnope"), click(`#component-form button[type=submit]`))
	waitJS(t, ctx, "the error", `!document.querySelector('#component-error').hidden && document.querySelector('#component-error').textContent.includes('0xnope')`)
	do(t, ctx, "delete", click(`#component-list tr[data-component="api"] .component-delete`))
	waitJS(t, ctx, "deleted", `!document.querySelector('#component-list tr[data-component="api"]')`)
	comps, err := rig.svc.Components(t.Context())
	if err != nil || len(comps) != 1 || comps[0].ID != "vault" || comps[0].Name != "Lending vault" || comps[0].Status != "degraded" {
		t.Errorf("components stored: %+v, %v", comps, err)
	}
	// A public incident naming the vault shows on it, here and on /status.
	if _, err := rig.svc.Open(t.Context(), "ana", incident.Draft{Title: "Drained", Severity: "critical", Public: true,
		Contracts: []string{"0x000000000000000000000000000000000000beef"}}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "reload", chromedp.Reload())
	waitJS(t, ctx, "the vault's state", `document.querySelector('#component-list tr[data-component="vault"] [data-status]')?.dataset.status === 'major_outage'`)
	if _, _, page := get(t, rig.url+"/status"); !strings.Contains(page, "Lending vault") || !strings.Contains(page, "Major outage") {
		t.Errorf("/status lacks the component's state")
	}

	// The template editor: the default, previewed.
	waitJS(t, ctx, "the template", `document.querySelector('#template-body').value.startsWith('# Postmortem') && document.querySelector('#template-preview').textContent.includes('# Postmortem: Sample')`)
	if got := eval[string](t, ctx, `document.querySelector('#template-state').textContent`); got != "the default template" {
		t.Errorf("template state %q", got)
	}
	// A template that does not parse: the reason, and nothing saved.
	do(t, ctx, "a broken template", chromedp.SetValue(css(`#template-body`), "# {{.Title"), click(`#template-save`))
	waitJS(t, ctx, "the parse error", `!document.querySelector('#template-error').hidden && document.querySelector('#template-error').textContent.includes('does not parse') && document.querySelector('#template-result').textContent === 'Not saved.'`)
	if _, def, err := rig.svc.Template(t.Context()); err != nil || !def {
		t.Errorf("a broken template was saved (default %v, %v)", def, err)
	}
	// A good one: previewed with the incident as typed, saved, exported.
	tmpl := "# PM {{.Title}}\n\nOwner: {{.Owner}}\n"
	do(t, ctx, "a template", chromedp.SetValue(css(`#template-body`), tmpl), chromedp.SetValue(css(`#template-incident`), strconv.FormatInt(id, 10)))
	eval[bool](t, ctx, `document.querySelector('#template-incident').dispatchEvent(new Event('input'))`)
	waitJS(t, ctx, "the preview of the incident", `document.querySelector('#template-preview').textContent.startsWith('# PM API errors \\<b\\>x\\<\\/b\\>') && document.querySelector('#template-error').hidden`)
	do(t, ctx, "save", click(`#template-save`))
	waitJS(t, ctx, "saved", `document.querySelector('#template-result').textContent === 'Saved.' && document.querySelector('#template-state').textContent === 'your template'`)
	md, err := rig.svc.Markdown(t.Context(), id)
	if err != nil || md != "# PM API errors \\<b\\>x\\<\\/b\\>\n\nOwner: \n" {
		t.Errorf("the export with the saved template: %q, %v", md, err)
	}
	checkNoScriptRan(t, ctx, "the incidents page")
	// Reset: the default again.
	do(t, ctx, "reset", click(`#template-reset`))
	waitJS(t, ctx, "the default again", `document.querySelector('#template-state').textContent === 'the default template' && document.querySelector('#template-body').value.startsWith('# Postmortem')`)
	if _, def, err := rig.svc.Template(t.Context()); err != nil || !def {
		t.Errorf("reset left a template in force (default %v, %v)", def, err)
	}
}
