package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"image/png"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// asOperator calls the API with the operator key as a Bearer token.
func asOperator(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	code, _, b := send(t, method, url, body, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + operatorKey})
	return code, b
}

// A link that never expires says so by leaving "expires" out, in the list
// of shares and in what the link itself answers; one with an expiry
// carries the time.
func TestShareExpiresOmittedWhenNever(t *testing.T) {
	ts := newKeyedServer(t, operatorKey, nil)
	code, body := asOperator(t, "POST", ts.URL+"/api/v1/dashboards", `{"name":"D","spec":{"from":"now-1h","to":"now","panels":[]}}`)
	if code != 201 && code != 200 {
		t.Fatalf("create dashboard: %d %s", code, body)
	}
	var d struct {
		Data struct{ ID string } `json:"data"`
	}
	json.Unmarshal([]byte(body), &d)
	for _, tc := range []struct {
		expiresIn   string
		wantExpires bool
	}{{"", false}, {"24h", true}} {
		code, body := asOperator(t, "POST", ts.URL+"/api/v1/shares", `{"kind":"dashboard","target":"`+d.Data.ID+`","expiresIn":"`+tc.expiresIn+`"}`)
		if code != 201 {
			t.Fatalf("create share: %d %s", code, body)
		}
		var created struct {
			Data struct {
				Share map[string]any `json:"share"`
				URL   string         `json:"url"`
			} `json:"data"`
		}
		json.Unmarshal([]byte(body), &created)
		_, _, shared := get(t, ts.URL+"/api/v1/shared/"+strings.TrimPrefix(created.Data.URL, "/s/"))
		for what, text := range map[string]string{"created share": body, "shared view": shared} {
			if strings.Contains(text, "0001-01-01") {
				t.Errorf("expiresIn %q: %s carries a zero time: %s", tc.expiresIn, what, text)
			}
			if has := strings.Contains(text, `"expires":"20`); has != tc.wantExpires {
				t.Errorf("expiresIn %q: %s has an expiry time: %v, want %v: %s", tc.expiresIn, what, has, tc.wantExpires, text)
			}
		}
	}
	if _, list := asOperator(t, "GET", ts.URL+"/api/v1/shares", ""); strings.Contains(list, "0001-01-01") || strings.Count(list, `"expires":`) != 1 {
		t.Errorf("share list: want one expiry and no zero time: %s", list)
	}
}

// /favicon.ico is an ICO of 16 and 32 px PNGs, and /favicon.svg the same
// mark, served to anyone (the login page asks for them too).
func TestFavicon(t *testing.T) {
	ts := newKeyedServer(t, operatorKey, nil)
	code, hdr, body := get(t, ts.URL+"/favicon.ico")
	if code != 200 || hdr.Get("Content-Type") != "image/x-icon" {
		t.Fatalf("/favicon.ico: %d %s", code, hdr.Get("Content-Type"))
	}
	b := []byte(body)
	le := binary.LittleEndian
	if len(b) < 6 || le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 || le.Uint16(b[4:]) != 2 {
		t.Fatalf("/favicon.ico has no ICO header with two images: % x", b[:min(len(b), 6)])
	}
	for i, want := range []int{16, 32} {
		e := b[6+16*i:]
		size, off := le.Uint32(e[8:]), le.Uint32(e[12:])
		img, err := png.Decode(bytes.NewReader(b[off : off+size]))
		if err != nil || int(e[0]) != want || img.Bounds().Dx() != want || img.Bounds().Dy() != want {
			t.Fatalf("image %d: entry says %d px, PNG %v (%v), want %d px", i, e[0], img, err, want)
		}
		// A corner is transparent (rounded tile); the middle is opaque.
		if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
			t.Errorf("%d px: corner alpha %d, want transparent", want, a)
		}
		if _, _, _, a := img.At(want/2, want/2).RGBA(); a != 0xffff {
			t.Errorf("%d px: middle alpha %d, want opaque", want, a)
		}
	}
	code, hdr, body = get(t, ts.URL+"/favicon.svg")
	if code != 200 || hdr.Get("Content-Type") != "image/svg+xml" || !strings.Contains(body, "<svg") {
		t.Fatalf("/favicon.svg: %d %s", code, hdr.Get("Content-Type"))
	}
	if _, _, page := get(t, ts.URL+"/login"); !strings.Contains(page, `rel="icon" href="/favicon.svg"`) {
		t.Error("pages do not name the icon")
	}
}

// The address page tells a wallet from a contract and lists the events
// that name the address, not only those it emitted.
func TestAddressPageWalletAndEvents(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "addr.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	token := common.HexToAddress("0x00000000000000000000000000000000000070c3")
	bob := common.HexToAddress("0x0000000000000000000000000000000000000b0b")
	now := time.Unix(1_700_000_000, 0).UTC()
	h := common.HexToHash("0x77")
	b := chain.Block{Number: 1, Hash: common.HexToHash("0xb1"), ParentHash: common.HexToHash("0xb0"), Time: now, GasLimit: 30_000_000, TxCount: 1,
		Txs: []chain.Tx{{Hash: h, BlockNumber: 1, BlockHash: common.HexToHash("0xb1"), Time: now, From: alice, To: &token,
			Value: big.NewInt(0), Status: 1, GasUsed: 50_000, EffectiveGasPrice: big.NewInt(1), Input: common.FromHex("0xa9059cbb"),
			Call: &chain.Call{Contract: "Token", Method: "transfer", Signature: "transfer(address,uint256)"},
			Logs: []chain.Log{{Address: token, Topics: []common.Hash{common.HexToHash("0xddf2")}, BlockNumber: 1, BlockHash: common.HexToHash("0xb1"), TxHash: h,
				Event: &chain.Event{Name: "Transfer", Contract: "Token", Signature: "Transfer(address,address,uint256)", Args: []chain.Arg{
					{Name: "from", Type: "address", Value: alice.Hex()}, {Name: "to", Type: "address", Value: bob.Hex()}, {Name: "value", Type: "uint256", Value: "5"}}}}}}},
	}
	if err := st.WriteBlocks(ctx, []chain.Block{{Number: 0, Hash: common.HexToHash("0xb0"), Time: now.Add(-time.Second)}, b}); err != nil {
		t.Fatal(err)
	}
	code := map[common.Address][]byte{token: {0x60, 0x80}}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st,
		Code: func(_ context.Context, a common.Address) ([]byte, error) { return code[a], nil }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, tc := range []struct {
		addr      common.Address
		kind      string
		contract  bool   // a link to the contract page
		role      string // the Transfer's role for this address
		notInPage string
	}{
		{alice, "Wallet", false, "from", "No event"},
		{bob, "Wallet", false, "to", "No event"},
		{token, "Contract", true, "emitter", "No event"},
	} {
		code, _, page := get(t, ts.URL+"/address/"+tc.addr.Hex())
		if code != 200 {
			t.Fatalf("%s: HTTP %d", tc.addr, code)
		}
		if !strings.Contains(page, `id="addr-kind">`+tc.kind+`<`) {
			t.Errorf("%s: not shown as a %s", tc.addr, tc.kind)
		}
		if has := strings.Contains(page, `href="/contract/`+tc.addr.Hex()+`"`); has != tc.contract {
			t.Errorf("%s: contract page link %v, want %v", tc.addr, has, tc.contract)
		}
		events := page[strings.Index(page, `id="addr-events"`):]
		if !strings.Contains(events, "<strong>Transfer</strong>") || !strings.Contains(events, "<td class=\"small\">"+tc.role+"</td>") || strings.Contains(events, tc.notInPage) {
			t.Errorf("%s: events table lacks the Transfer naming it as %s:\n%.1500s", tc.addr, tc.role, events)
		}
	}
}
