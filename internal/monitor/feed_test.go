package monitor_test

import (
	"bytes"
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/demo"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/store"
)

// TestFeedKinds replays the feed health checks over a story told with
// Chainlink's own MockV3Aggregator behind its aggregator proxy, read by a
// LendingVault: the feed goes stale, the vault reads the stale answer,
// the answer crashes a third (a jump, and off its reference feed), then
// goes negative. Each check fires where the contracts say it should, and
// the bounds check, on an aggregator without bounds, never does; on the
// embedded chain and on a real geth --dev alike.
func TestFeedKinds(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain and geth")
	}
	chains(t, testFeedKinds)
}

func testFeedKinds(t *testing.T, r *rig) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r.run(t)
	ec := ethclient.NewClient(r.rpc)
	key := demo.Keys(1)[0]
	arts := map[string]demo.Artifact{}
	abis := map[string]abi.ABI{}
	for _, load := range []func() (map[string]demo.Artifact, error){demo.Artifacts, demo.ChainlinkArtifacts} {
		as, err := load()
		if err != nil {
			t.Fatal(err)
		}
		for n, a := range as {
			arts[n] = a
			abis[n], _ = abi.JSON(bytes.NewReader(a.ABI))
		}
	}
	pack := func(name, method string, args ...any) []byte {
		data, err := abis[name].Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	mined := func(to *common.Address, value *big.Int, data []byte) *types.Receipt {
		t.Helper()
		from := crypto.PubkeyToAddress(key.PublicKey)
		nonce, err := ec.PendingNonceAt(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := types.SignNewTx(key, types.LatestSignerForChainID(r.app.ChainID), &types.DynamicFeeTx{
			ChainID: r.app.ChainID, Nonce: nonce, To: to, Value: value, Gas: 10_000_000, Data: data,
			GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1e9)})
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		rc, err := r.sealed(ctx, tx.Hash())
		if err != nil || rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("transaction %x…: %v %+v", data[:4], err, rc)
		}
		return rc
	}
	deploy := func(name string, args ...any) common.Address {
		return mined(nil, nil, append(append([]byte(nil), arts[name].Bytecode...), pack(name, "", args...)...)).ContractAddress
	}
	usd := func(n int64) *big.Int { return new(big.Int).Mul(big.NewInt(n), big.NewInt(1e8)) }

	agg := deploy("MockV3Aggregator", uint8(8), usd(3000))
	ref := deploy("MockV3Aggregator", uint8(8), usd(3000))
	proxy := deploy("DataFeedsLegacyAggregatorProxy", agg)
	// The vault as the demo deploys it: an implementation behind
	// ERC1967Proxy, initialized by the proxy's constructor.
	impl := deploy("LendingVault")
	vault := deploy("ERC1967Proxy", impl, pack("LendingVault", "initialize", crypto.PubkeyToAddress(key.PublicKey), r.app.Token, proxy, big.NewInt(1<<40)))
	mined(&r.app.Token, nil, pack("DemoToken", "mint", vault, new(big.Int).Mul(big.NewInt(1e6), big.NewInt(1e18))))
	mined(&vault, big.NewInt(1e18), pack("LendingVault", "deposit"))
	mined(&agg, nil, pack("MockV3Aggregator", "updateAnswer", usd(3000)))
	start := r.head(t).Number.Uint64()
	mined(&vault, nil, pack("LendingVault", "borrow", big.NewInt(1e18)))
	for range 6 {
		r.tick(t)
	}
	staleRead := mined(&vault, nil, pack("LendingVault", "borrow", big.NewInt(1e18)))
	crash := mined(&agg, nil, pack("MockV3Aggregator", "updateAnswer", usd(2000)))
	negative := mined(&agg, nil, pack("MockV3Aggregator", "updateAnswer", big.NewInt(-1)))
	head := r.head(t).Number.Uint64()
	waitIndexed(t, r, head)

	svc := &oracle.Service{Node: ec, Store: r.st, Trace: oracle.TraceVia(monitor.NewRPCNode(r.rpc))}
	if _, err := svc.Add(ctx, proxy, store.FeedSourceManual); err != nil {
		t.Fatal(err)
	}
	hb := 3 * time.Second
	refAddr := ref
	if _, err := svc.SetThresholds(ctx, proxy, oracle.Thresholds{Heartbeat: &hb, Reference: &refAddr}); err != nil {
		t.Fatal(err)
	}
	eng := monitor.New(monitor.Deps{Store: r.st, Contracts: r.st.Contracts, Blocks: r.st,
		Node: monitor.NewRPCNode(r.rpc), Feeds: svc}, monitor.Options{})
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f, _, err := monitor.ParseYAML("feeds.yaml", []byte(`
monitors:
  - {id: stale, kind: feed-stale, contracts: ["*"]}
  - {id: stale-read, kind: feed-stale-read, contracts: ["*"]}
  - {id: jump, kind: feed-jump, contracts: ["*"], pct: 20}
  - {id: deviation, kind: feed-deviation, contract: "`+proxy.Hex()+`", pct: 5}
  - {id: nonpositive, kind: feed-nonpositive}
  - {id: bounds, kind: feed-bounds}
`))
	if err != nil {
		t.Fatal(err)
	}
	from := blockTime(t, r, start)
	res, err := eng.DryRun(ctx, f, from, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	firstFiring := map[string]monitor.Firing{}
	for _, m := range res.Monitors {
		if m.Skipped != "" {
			t.Errorf("%s skipped: %s", m.ID, m.Skipped)
		}
		for _, fr := range m.Firings {
			t.Logf("%-11s %-8s block %d %s", m.ID, fr.Status, fr.Block, fr.Summary)
			if _, ok := firstFiring[m.ID]; !ok && fr.Status == "firing" {
				firstFiring[m.ID] = fr
			}
		}
	}
	check := func(id string, block uint64, summary string) {
		t.Helper()
		fr, ok := firstFiring[id]
		if !ok {
			t.Errorf("%s never fired", id)
			return
		}
		if block != 0 && fr.Block != block || !strings.Contains(fr.Summary, summary) {
			t.Errorf("%s fired at block %d with %q, want block %d with %q", id, fr.Block, fr.Summary, block, summary)
		}
	}
	// Stale from the first block more than 3 s after the last update.
	check("stale", 0, "heartbeat 3s")
	if fr := firstFiring["stale"]; fr.Block <= start || fr.Block >= staleRead.BlockNumber.Uint64() {
		t.Errorf("stale fired at block %d, want within (%d, %d)", fr.Block, start, staleRead.BlockNumber)
	}
	check("stale-read", staleRead.BlockNumber.Uint64(), "read 300000000000")
	if fr := firstFiring["stale-read"]; fr.Tx != staleRead.TxHash.Hex() {
		t.Errorf("stale read at tx %s, want %s", fr.Tx, staleRead.TxHash)
	}
	check("jump", crash.BlockNumber.Uint64(), "33.33% in one update, from 3000 to 2000")
	check("deviation", crash.BlockNumber.Uint64(), "33.33% from")
	check("nonpositive", negative.BlockNumber.Uint64(), "answers -0.00000001")
	if _, ok := firstFiring["bounds"]; ok {
		t.Errorf("bounds fired on an aggregator without bounds")
	}
}

// TestFeedKindSpecs: the feed kinds take their own fields and refuse the
// others, with the field named.
func TestFeedKindSpecs(t *testing.T) {
	for _, c := range []struct {
		yaml, err string
	}{
		{`{id: a, kind: feed-stale, heartbeat: 1h, grace: 30s}`, ""},
		{`{id: a, kind: feed-jump, pct: 10}`, ""},
		{`{id: a, kind: feed-jump}`, "pct: a feed-jump monitor needs pct"},
		{`{id: a, kind: feed-jump, pct: 5000}`, "pct: a feed-jump monitor needs pct"},
		{`{id: a, kind: feed-deviation, pct: -1}`, "pct: must be in (0, 1000]"},
		{`{id: a, kind: feed-nonpositive, pct: 3}`, "pct: does not apply to a feed-nonpositive monitor"},
		{`{id: a, kind: feed-bounds, heartbeat: 1h}`, "heartbeat: does not apply to a feed-bounds monitor"},
		{`{id: a, kind: feed-stale, heartbeat: soon}`, "not a duration"},
		{`{id: a, kind: event, event: X, reference: Y}`, "reference: does not apply to a event monitor"},
	} {
		_, _, err := monitor.ParseYAML("m.yaml", []byte("monitors:\n  - "+c.yaml+"\n"))
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", c.yaml, err, c.err)
		}
	}
}

// TestSequencerDown replays sequencer-down over an L2 sequencer-uptime
// feed told with Chainlink's MockV3Aggregator (answer 0 up, 1 down,
// startedAt when the status changed), beside a price feed: it fires while
// the sequencer is down and, back up, for its grace period, then
// resolves; the price kinds leave the uptime feed alone (its 0 is no
// price), and sequencer-down leaves the price feed alone; on the embedded
// chain and on a real geth --dev alike.
func TestSequencerDown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded chain and geth")
	}
	chains(t, testSequencerDown)
}

func testSequencerDown(t *testing.T, r *rig) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r.run(t)
	ec := ethclient.NewClient(r.rpc)
	key := demo.Keys(1)[0]
	arts, err := demo.ChainlinkArtifacts()
	if err != nil {
		t.Fatal(err)
	}
	mock, _ := abi.JSON(bytes.NewReader(arts["MockV3Aggregator"].ABI))
	mined := func(to *common.Address, data []byte) *types.Receipt {
		t.Helper()
		from := crypto.PubkeyToAddress(key.PublicKey)
		nonce, err := ec.PendingNonceAt(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		tx, _ := types.SignNewTx(key, types.LatestSignerForChainID(r.app.ChainID), &types.DynamicFeeTx{
			ChainID: r.app.ChainID, Nonce: nonce, To: to, Gas: 10_000_000, Data: data,
			GasFeeCap: big.NewInt(100e9), GasTipCap: big.NewInt(1e9)})
		if err := ec.SendTransaction(ctx, tx); err != nil {
			t.Fatal(err)
		}
		rc, err := r.sealed(ctx, tx.Hash())
		if err != nil || rc.Status != types.ReceiptStatusSuccessful {
			t.Fatalf("transaction %x…: %v %+v", data[:4], err, rc)
		}
		return rc
	}
	pack := func(method string, args ...any) []byte {
		data, err := mock.Pack(method, args...)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	deploy := func(args ...any) common.Address {
		return mined(nil, append(append([]byte(nil), arts["MockV3Aggregator"].Bytecode...), pack("", args...)...)).ContractAddress
	}
	uptime := deploy(uint8(0), big.NewInt(0))
	priceFeed := deploy(uint8(8), big.NewInt(3000e8))
	// Up since its deployment: past the 5 s grace period before the story.
	for range 8 {
		r.tick(t)
	}
	start := r.head(t).Number.Uint64()
	r.tick(t)
	// Down, since the block before; back up three blocks later.
	setStatus := func(round, answer int64) *types.Receipt {
		t.Helper()
		since := big.NewInt(int64(r.head(t).Time))
		return mined(&uptime, pack("updateRoundData", big.NewInt(round), big.NewInt(answer), since, since))
	}
	down := setStatus(2, 1)
	for range 2 {
		r.tick(t)
	}
	back := setStatus(3, 0)
	// Seal past the 5 s grace period (each block at least a second on).
	for range 8 {
		r.tick(t)
	}
	head := r.head(t).Number.Uint64()
	waitIndexed(t, r, head)

	svc := &oracle.Service{Node: ec, Store: r.st}
	for _, a := range []common.Address{uptime, priceFeed} {
		if _, err := svc.Add(ctx, a, store.FeedSourceManual); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	if _, err := svc.SetThresholds(ctx, uptime, oracle.Thresholds{Sequencer: &yes}); err != nil {
		t.Fatal(err)
	}
	eng := monitor.New(monitor.Deps{Store: r.st, Contracts: r.st.Contracts, Blocks: r.st,
		Node: monitor.NewRPCNode(r.rpc), Feeds: svc}, monitor.Options{})
	if err := eng.Load(ctx); err != nil {
		t.Fatal(err)
	}
	f, _, err := monitor.ParseYAML("seq.yaml", []byte(`
monitors:
  - {id: seq, kind: sequencer-down, contracts: ["*"], grace: 5s}
  - {id: nonpositive, kind: feed-nonpositive, contracts: ["*"]}
  - {id: stale, kind: feed-stale, contracts: ["*"], heartbeat: 1h}
`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.DryRun(ctx, f, blockTime(t, r, start), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var seq []monitor.Firing
	for _, m := range res.Monitors {
		if m.Skipped != "" {
			t.Errorf("%s skipped: %s", m.ID, m.Skipped)
		}
		for _, fr := range m.Firings {
			t.Logf("%-11s %-8s block %d %s", m.ID, fr.Status, fr.Block, fr.Summary)
			if m.ID == "seq" {
				seq = append(seq, fr)
			} else if fr.Status == "firing" {
				t.Errorf("%s fired on %s", m.ID, fr.Summary)
			}
		}
	}
	// Firing at the block that says down (one alert, held through the
	// grace period), resolved once the grace period is over.
	if len(seq) != 2 || seq[0].Status != "firing" || seq[0].Block != down.BlockNumber.Uint64() || !strings.Contains(seq[0].Summary, "the sequencer is down") ||
		seq[1].Status != "resolved" || seq[1].Block < back.BlockNumber.Uint64()+4 || seq[1].Block > head || !strings.Contains(seq[1].Summary, "the sequencer is up") {
		t.Errorf("sequencer-down: %+v; want firing at block %d, resolved 5 s after the block before %d", seq, down.BlockNumber, back.BlockNumber)
	}
	for _, fr := range seq {
		if fr.Key != uptime.Hex() {
			t.Errorf("sequencer-down judged %s", fr.Key)
		}
	}
}
