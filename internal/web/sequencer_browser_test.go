package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// TestSequencerFeedInBrowser follows Chainlink's MockV3Aggregator as an L2
// sequencer-uptime feed from /oracles in chromium ({"sequencer":true} on
// the API) and shows it there and on its page: marked as a sequencer feed, "up"
// in its grace period right after deployment, then "down" once the feed
// says so. A price feed beside it keeps its price and health.
func TestSequencerFeedInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a chain and a browser")
	}
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	c, err := devchain.Start(devchain.Config{BlockInterval: -1, Alloc: map[common.Address]*big.Int{from: big.NewInt(1e18)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ec := ethclient.NewClient(c.Client())
	ctx := t.Context()
	arts, err := demo.ChainlinkArtifacts()
	if err != nil {
		t.Fatal(err)
	}
	mock, err := abi.JSON(bytes.NewReader(arts["MockV3Aggregator"].ABI))
	if err != nil {
		t.Fatal(err)
	}
	var nonce uint64
	send := func(to *common.Address, data []byte) *types.Receipt {
		t.Helper()
		tx := types.MustSignNewTx(key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
			ChainID: devchain.ChainID, Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(5e9), Gas: 3_000_000, To: to, Data: data,
		})
		nonce++
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		c.Commit()
		r, err := ec.TransactionReceipt(ctx, tx.Hash())
		if err != nil || r.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("transaction: %v %+v", err, r)
		}
		return r
	}
	deploy := func(decimals uint8, answer int64) common.Address {
		ctor, err := mock.Pack("", decimals, big.NewInt(answer))
		if err != nil {
			t.Fatal(err)
		}
		return send(nil, append(append([]byte{}, arts["MockV3Aggregator"].Bytecode...), ctor...)).ContractAddress
	}
	uptime, priceFeed := deploy(0, 0), deploy(8, 3000e8)

	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// The chain's clock: each sealed block is a second or more after the
	// last, ahead of the wall clock.
	now := func() time.Time { return time.Unix(int64(c.Head().Time), 0) }
	svc := &oracle.Service{Node: ec, Store: st, Now: now}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Oracles: svc})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	follow := func(body string) (int, string) {
		t.Helper()
		resp, err := http.Post(ts.URL+"/api/v1/oracles", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := follow(`{"address":"` + priceFeed.Hex() + `"}`); code != 201 || !strings.Contains(body, `"kind":"price"`) {
		t.Fatalf("follow the price feed: %d %s", code, body)
	}
	if code, body := follow(`{"address":"` + priceFeed.Hex() + `","sequencer":"yes"}`); code != 400 {
		t.Errorf("a sequencer flag that is no boolean: %d %s", code, body)
	}

	b := browser(t)
	watchScripts(t, b)
	// The API writes addresses in lower case, as the rows' data-address.
	row := `#feed-list tr[data-address="` + strings.ToLower(uptime.Hex()) + `"]`
	do(t, b, "feeds page", chromedp.Navigate(ts.URL+"/oracles"))
	// Followed from the page, as a sequencer-uptime feed.
	do(t, b, "follow", chromedp.SetValue(chromedp.CSS(`#add-feed [name=address]`), uptime.Hex()),
		chromedp.Click(chromedp.CSS(`#add-feed [name=sequencer]`)), chromedp.Click(chromedp.CSS(`#add-feed button[type=submit]`)))
	waitJS(t, b, "loaded", `document.querySelectorAll('#feed-list tbody tr').length > 0`)
	waitJS(t, b, "the uptime feed, in its grace period", `!!document.querySelector('`+row+`')?.innerText.includes('grace')`)
	if got := eval[string](t, b, `document.querySelector('`+row+`').innerText`); !strings.Contains(got, "L2 sequencer") || !strings.Contains(got, "up (0)") {
		t.Errorf("the uptime feed's row: %q", got)
	}
	if got := eval[string](t, b, `document.querySelector('#feed-list tr[data-address="`+strings.ToLower(priceFeed.Hex())+`"]').innerText`); strings.Contains(got, "sequencer") || !strings.Contains(got, "3000") || !strings.Contains(got, "ok") {
		t.Errorf("the price feed's row: %q", got)
	}

	// The sequencer goes down: the feed's round says so.
	since := big.NewInt(int64(c.Head().Time))
	data, err := mock.Pack("updateRoundData", big.NewInt(2), big.NewInt(1), since, since)
	if err != nil {
		t.Fatal(err)
	}
	send(&uptime, data)
	do(t, b, "feeds page again", chromedp.Reload())
	waitJS(t, b, "the uptime feed down", `!!document.querySelector('`+row+`')?.innerText.includes('down (1)') && !!document.querySelector('`+row+` .bad')`)
	do(t, b, "the feed's page", chromedp.Navigate(ts.URL+"/oracle/"+uptime.Hex()))
	waitJS(t, b, "down on its page", `document.querySelector('#f-health')?.textContent === 'down' && document.querySelector('#f-details').innerText.includes('L2 sequencer uptime')`)
	if got := eval[string](t, b, `document.querySelector('#f-problems')?.textContent || ''`); !strings.Contains(got, "the sequencer is down since") {
		t.Errorf("the feed page's problems: %q", got)
	}
	if !eval[bool](t, b, `document.querySelector('#f-thresholds [name=sequencer]').checked`) {
		t.Error("the feed page's form does not say it is a sequencer feed")
	}
	checkNoScriptRan(t, b, "the feed pages")

	// The API says the same.
	resp, err := http.Get(ts.URL + "/api/v1/oracles/" + uptime.Hex())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data oracle.Feed `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Data.Health.Status != oracle.HealthDown || env.Data.Kind != "sequencer" {
		t.Errorf("GET the uptime feed: %+v, %v", env.Data, err)
	}
}
