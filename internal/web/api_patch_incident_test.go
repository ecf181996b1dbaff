package web_test

import (
	"context"
	"encoding/json"
	"math/big"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/web"
)

// An incident's transactions for a patch check are the failed
// transactions to its contracts (and the target) in its window, and the
// transactions its timeline links to; not its contracts' successful
// ones, not failures before it started.
func TestPatchTxsOfIncident(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	now := start.Add(time.Hour)
	vault := common.HexToAddress("0x000000000000000000000000000000000000beef")
	target := common.HexToAddress("0x000000000000000000000000000000000000cafe")
	other := common.HexToAddress("0x000000000000000000000000000000000000f00d")
	user := common.HexToAddress("0x0000000000000000000000000000000000000a11")
	h := func(n int64) common.Hash { return common.BigToHash(big.NewInt(n)) }
	tx := func(n int64, block uint64, at time.Time, to common.Address, status uint64) chain.Tx {
		return chain.Tx{Hash: h(n), BlockNumber: block, BlockHash: h(1000 + int64(block)), Time: at, From: user, To: &to,
			Value: new(big.Int), Status: status, EffectiveGasPrice: big.NewInt(1)}
	}
	blocks := []chain.Block{
		{Number: 0, Hash: h(1000), Time: start.Add(-time.Hour)},
		{Number: 1, Hash: h(1001), ParentHash: h(1000), Time: start.Add(-time.Minute), TxCount: 1,
			Txs: []chain.Tx{tx(1, 1, start.Add(-time.Minute), vault, 0)}}, // failed before the incident
		{Number: 2, Hash: h(1002), ParentHash: h(1001), Time: start.Add(time.Minute), TxCount: 5, Txs: []chain.Tx{
			tx(2, 2, start.Add(time.Minute), vault, 0),  // failed to an affected contract: in
			tx(3, 2, start.Add(time.Minute), vault, 1),  // succeeded: out
			tx(4, 2, start.Add(time.Minute), other, 0),  // failed elsewhere: out unless linked
			tx(5, 2, start.Add(time.Minute), target, 0), // failed to the target: in
			tx(6, 2, start.Add(time.Minute), other, 1),  // linked from the timeline: in
		}},
	}
	for i := range blocks[2].Txs {
		blocks[2].Txs[i].Index = uint(i)
	}
	if err := st.WriteBlocks(ctx, blocks); err != nil {
		t.Fatal(err)
	}
	svc := incident.New(incident.Deps{Store: st, Search: st, Alerts: st, Monitors: st}, incident.Options{Now: func() time.Time { return now }})
	inc, err := svc.Open(ctx, "ana", incident.Draft{Title: "Vault drained", Contracts: []string{vault.Hex()}, Started: start})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddLink(ctx, "ana", inc.ID, incident.Link{Kind: incident.KindDebug, Text: "the drain", URL: "/debug/" + h(6).Hex()}); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(web.Deps{Chain: st, Contracts: st, Search: st, Incidents: svc, Now: func() time.Time { return now },
		Patch: &patch.Service{Checker: &patch.Checker{}}})
	if err != nil {
		t.Fatal(err)
	}
	hts := httptest.NewServer(srv)
	t.Cleanup(hts.Close)
	ts := hts.URL
	code, _, body := get(t, ts+"/api/v1/patch-check/txs?set=incident:1&target="+target.Hex())
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var got struct {
		Data struct {
			Txs []common.Hash `json:"txs"`
		} `json:"data"`
	}
	json.Unmarshal([]byte(body), &got)
	slices.SortFunc(got.Data.Txs, func(a, b common.Hash) int { return a.Cmp(b) })
	if want := []common.Hash{h(2), h(5), h(6)}; !slices.Equal(got.Data.Txs, want) {
		t.Errorf("txs %v, want %v", got.Data.Txs, want)
	}
	if code, _, body := get(t, ts+"/api/v1/patch-check/txs?set=incident:9"); code != 404 {
		t.Errorf("unknown incident: %d %s", code, body)
	}
}
