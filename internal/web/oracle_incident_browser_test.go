package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/blocktorch/blocktorch/internal/app/apptest"
)

// TestOracleIncidentInBrowser plays the demo's scripted incident and opens
// its feed's page: the chart shows the stale period (a gap longer than
// the heartbeat) and the crash (a fall of more than 15% between updates),
// the vault is listed as a reader that got a stale answer, and the
// stale-read verdict opens the vault's stale read among the records.
func TestOracleIncidentInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the whole demo and a browser")
	}
	a, stop := apptest.Start(t, apptest.DemoConfig(t))
	defer stop()
	base := a.URL()

	var feeds []struct {
		Address string `json:"address"`
	}
	var cs []struct {
		Name    string `json:"name"`
		Address string `json:"address"`
	}
	poll := func(what string, d time.Duration, f func() bool) {
		t.Helper()
		for end := time.Now().Add(d); !f(); {
			if time.Now().After(end) {
				t.Fatalf("timed out after %s waiting for %s", d, what)
			}
			<-time.After(250 * time.Millisecond) // the demo's next blocks
		}
	}
	poll("the demo's feed", 30*time.Second, func() bool {
		apptest.GetData(t, base+"/api/v1/oracles", &feeds)
		return len(feeds) == 1
	})
	feed := feeds[0].Address
	apptest.GetData(t, base+"/api/v1/contracts", &cs)
	vault := ""
	for _, c := range cs {
		if c.Name == "LendingVault" {
			vault = c.Address
		}
	}
	resp, err := http.Post(base+"/api/v1/demo/incident", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("incident: HTTP %d", resp.StatusCode)
	}
	// The page's default range: the incident's crash and stale gap are
	// in the history the page asks for, and the vault read a stale answer.
	poll("the incident in the feed's history and readers", 150*time.Second, func() bool {
		var hist struct {
			Points []struct {
				Value float64 `json:"value"`
			} `json:"points"`
			Cadence struct {
				MaxSeconds int64 `json:"maxSeconds"`
			} `json:"cadence"`
		}
		apptest.GetData(t, base+"/api/v1/oracles/"+feed+"/history?from=now-24h", &hist)
		crashed := false
		for i := 1; i < len(hist.Points); i++ {
			crashed = crashed || hist.Points[i].Value < hist.Points[i-1].Value*0.85
		}
		var f struct {
			Readers []struct {
				Reader     string `json:"reader"`
				StaleReads int    `json:"staleReads"`
			} `json:"readers"`
		}
		apptest.GetData(t, base+"/api/v1/oracles/"+feed, &f)
		stale := false
		for _, r := range f.Readers {
			stale = stale || strings.EqualFold(r.Reader, vault) && r.StaleReads > 0
		}
		return crashed && hist.Cadence.MaxSeconds > 45 && stale
	})

	ctx := browser(t)
	watchScripts(t, ctx)
	do(t, ctx, "feed page", chromedp.Navigate(base+"/oracle/"+feed))
	waitJS(t, ctx, "chart", `Number((document.querySelector('#f-chart') || {dataset: {}}).dataset.points) >= 2`)
	type shape struct{ GapSeconds, Drop float64 }
	got := eval[shape](t, ctx, `(() => {
		const pts = __bt.charts.oracle.pts;
		let gap = 0, drop = 0;
		for (let i = 1; i < pts.length; i++) {
			gap = Math.max(gap, (Date.parse(pts[i].updatedAt) - Date.parse(pts[i-1].updatedAt)) / 1000);
			drop = Math.max(drop, 1 - pts[i].value / pts[i-1].value);
		}
		return {GapSeconds: gap, Drop: drop};
	})()`)
	if got.GapSeconds <= 45 || got.Drop < 0.15 {
		t.Errorf("the chart shows a longest gap of %.0f s (want > the 45 s heartbeat) and a largest fall of %.0f%% (want the crash's > 15%%)", got.GapSeconds, got.Drop*100)
	}
	if c := eval[string](t, ctx, `document.querySelector('#f-cadence').textContent`); !strings.Contains(c, "longest gap") {
		t.Errorf("cadence %q", c)
	}
	waitJS(t, ctx, "the vault among the readers, with stale reads", `[...document.querySelectorAll('#f-readers tr[data-reader]')].some((tr) =>
		tr.dataset.reader.toLowerCase() === `+jsString(strings.ToLower(vault))+` && tr.innerText.includes('LendingVault') && !!tr.querySelector('td:nth-child(6) .bad'))`)
	checkNoScriptRan(t, ctx, "feed page in the incident")

	// The stale-read verdict links to the vault's last stale read.
	waitJS(t, ctx, "the stale-read check", `!!document.querySelector('#f-checks tr[data-check="stale-read"] a.records-link')`)
	do(t, ctx, "stale-read records", chromedp.Click(chromedp.CSS(`#f-checks tr[data-check="stale-read"] a.records-link`)))
	waitLocation(t, ctx, "/explore")
	waitJS(t, ctx, "the vault's stale read", `[...document.querySelectorAll('#results .rec')].some((r) => r.innerText.includes('LendingVault'))`)
}
