package web_test

import (
	"context"
	"fmt"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// recentCorpus stores ten minutes of chain activity ending now, in a home
// range of an hour: one transaction every 2 s (30 a minute), each
// emitting one of 20 kinds of event.
func recentCorpus(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "recent.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	var blocks []chain.Block
	parent := common.Hash{}
	for n := uint64(0); n < 300; n++ {
		bt := now.Add(-10*time.Minute + time.Duration(n)*2*time.Second)
		b := chain.Block{Number: n, Hash: common.BigToHash(big.NewInt(int64(5000 + n))), ParentHash: parent, Time: bt, GasLimit: 30_000_000, TxCount: 1}
		h := common.BigToHash(big.NewInt(int64(n + 1)))
		b.Txs = []chain.Tx{{Hash: h, BlockNumber: n, BlockHash: b.Hash, Time: bt, From: alice, To: &vault, Value: big.NewInt(0), Status: 1,
			GasUsed: 21_000, EffectiveGasPrice: big.NewInt(1), Input: common.FromHex("0xd0e30db0"),
			Logs: []chain.Log{{Address: vault, Topics: []common.Hash{common.HexToHash("0xaa")}, BlockNumber: n, BlockHash: b.Hash, TxHash: h,
				Event: &chain.Event{Name: fmt.Sprintf("Event%02d", n%20), Signature: "E()"}}}}}
		blocks = append(blocks, b)
		parent = b.Hash
	}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	return st
}

// The home headlines: a rate averages over the minutes with data, not the
// whole empty hour, and says so; the bucket still filling is drawn as
// partial; a 20-series stack uses 20 colours; the theme toggle redraws
// the charts in the new theme's colours at once.
func TestBrowserHomeHeadlinesAndTheme(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	st := recentCorpus(t)
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Dashboards: st, Shares: st,
		Status: func(context.Context) web.Status { return web.Status{Mode: "test", ChainID: "1337"} }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	ctx := browser(t)
	dir, err := os.MkdirTemp("", "blocktorch-ui-")
	if err != nil {
		t.Fatal(err)
	}
	sh := &shots{t: t, dir: dir}
	watchScripts(t, ctx)
	do(t, ctx, "home", chromedp.Navigate(ts.URL+"/"))
	waitJS(t, ctx, "home charts", `!!(window.__bt && __bt.charts['panel-txs'] && __bt.charts['panel-events'] && document.querySelector('[data-panel="txs"] .summary').textContent !== '')`)

	// 30 tx a minute for ten minutes: the headline says about 30, over the
	// minutes with data, not 300 / 60 = 5.
	head := eval[string](t, ctx, `document.querySelector('[data-panel="txs"] .summary').firstChild.textContent`)
	rate, err := strconv.ParseFloat(head, 64)
	if err != nil || rate < 26 || rate > 32 {
		t.Errorf("tx/min headline %q, want about 30 (the rate while there was data)", head)
	}
	if note := eval[string](t, ctx, `(document.querySelector('[data-panel="txs"] .summary .window') || {}).textContent || ''`); !strings.Contains(note, "with data") {
		t.Errorf("the headline does not say which window it covers: %q", note)
	}
	// A stack's total counts every series: 300 events of 20 kinds.
	if total := eval[string](t, ctx, `document.querySelector('[data-panel="events"] .summary').firstChild.textContent`); total != "300" {
		t.Errorf("events headline %q, want the 300 events of every kind", total)
	}
	// The last bucket ends after now: it is drawn as partial.
	if p := eval[int](t, ctx, `__bt.charts['panel-txs'].partial - (__bt.charts['panel-txs'].res.times.length - 1)`); p != 0 {
		t.Errorf("partial bucket is %d from the last, want the last", p)
	}

	// Twenty event names, twenty colours.
	colors := eval[[]string](t, ctx, `__bt.charts['panel-events'].colors`)
	seen := map[string]bool{}
	for _, c := range colors {
		seen[strings.ToLower(c)] = true
	}
	if len(colors) != 20 || len(seen) != 20 {
		t.Errorf("the 20-series stack has %d series in %d colours: %v", len(colors), len(seen), colors)
	}
	settled(t, ctx, "home headlines") // the last panels painted
	sh.take(ctx, "home-headlines")

	// The toggle restyles the charts in place: no reload, and the axes
	// take the new theme's colour.
	eval[bool](t, ctx, `(window.__noReload = true, true)`)
	before := eval[string](t, ctx, `__bt.charts['panel-txs'].axisStroke`)
	do(t, ctx, "toggle", chromedp.Click(chromedp.CSS(`#theme-toggle`)))
	waitJS(t, ctx, "restyled", `window.__noReload === true && __bt.charts['panel-txs'].axisStroke === getComputedStyle(document.documentElement).getPropertyValue('--dim').trim()`)
	if after := eval[string](t, ctx, `__bt.charts['panel-txs'].axisStroke`); after == before {
		t.Errorf("the chart axes kept the old theme's colour %s", after)
	}
	settled(t, ctx, "home toggled")
	sh.take(ctx, "home-toggled")
	checkNoScriptRan(t, ctx, "home")
}
