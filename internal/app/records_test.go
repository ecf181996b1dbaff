package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/app/apptest"
	"github.com/blocktorch/blocktorch/internal/config"
	"github.com/blocktorch/blocktorch/internal/devchain"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp/vlhttptest"
)

// searchAnswer is the part of /api/v1/search the records tests read.
type searchAnswer struct {
	Records []struct {
		Source  string         `json:"source"`
		Kind    string         `json:"kind"`
		Message string         `json:"message"`
		Attrs   map[string]any `json:"attrs"`
	} `json:"records"`
	Table *struct {
		Columns []string `json:"columns"`
		Rows    [][]any  `json:"rows"`
	} `json:"table"`
}

// `serve --records ENGINE`: a transaction mined on the node and a log
// line that names it are found together by tx:HASH through the search
// API, with the histogram and a stats table, on every records engine;
// with an external VictoriaLogs the records are on that server (asked
// directly) and not in the SQLite file.
func TestServeRecordsEngines(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the app")
	}
	for _, engine := range []string{"sqlite", "embedded", "http"} {
		t.Run(engine, func(t *testing.T) {
			key, _ := crypto.GenerateKey()
			from := crypto.PubkeyToAddress(key.PublicKey)
			ch, err := devchain.Start(devchain.Config{BlockInterval: 100 * time.Millisecond, RPCAddr: "127.0.0.1:0",
				Alloc: map[common.Address]*big.Int{from: big.NewInt(1e18)}})
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			cfg := config.Default(config.ModeServe)
			cfg.Addr = "127.0.0.1:0"
			cfg.RPC = ch.HTTPEndpoint()
			cfg.From = 0
			cfg.DataDir = t.TempDir()
			cfg.DB = "sqlite:" + filepath.Join(cfg.DataDir, "records.db")
			cfg.Records = engine
			var vl *vlhttptest.Server
			if engine == "http" {
				vl = vlhttptest.Start(t)
				cfg.Records = vl.URL()
			}
			a, stop := apptest.Start(t, cfg)
			defer stop()
			base := a.URL()

			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			ec, err := ethclient.DialContext(ctx, ch.HTTPEndpoint())
			if err != nil {
				t.Fatal(err)
			}
			defer ec.Close()
			tx := types.MustSignNewTx(key, types.LatestSignerForChainID(devchain.ChainID), &types.DynamicFeeTx{
				ChainID: devchain.ChainID, Nonce: 0, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(2e9), Gas: 21000,
				To: &common.Address{0x42}, Value: big.NewInt(1000),
			})
			if err := ec.SendTransaction(ctx, tx); err != nil {
				t.Fatal(err)
			}
			hash := strings.ToLower(tx.Hash().Hex())
			line := fmt.Sprintf(`{"time":%q,"level":"error","service":"api","msg":"recordsmarker payment failed for %s"}`,
				time.Now().UTC().Format(time.RFC3339Nano), hash)
			post(t, base+"/api/v1/logs", "application/json", []byte(line), http.StatusOK)

			q := url.QueryEscape("tx:" + hash)
			var res searchAnswer
			waitFor(t, "the transaction's chain record and the log line", 60*time.Second, func() bool {
				res = searchAnswer{}
				apptest.GetData(t, base+"/api/v1/search?from=now-1h&q="+q, &res)
				return len(res.Records) == 2
			})
			kinds := map[string]string{}
			for _, r := range res.Records {
				kinds[r.Source] = r.Kind
			}
			if kinds["chain"] != "tx" || kinds["app"] == "" {
				t.Fatalf("tx:%s found %+v, want the chain's tx record and the app's log", hash, res.Records)
			}
			var hist struct{ Buckets []struct{ Count int64 } }
			apptest.GetData(t, base+"/api/v1/search/histogram?from=now-1h&buckets=10&q="+q, &hist)
			total := int64(0)
			for _, b := range hist.Buckets {
				total += b.Count
			}
			if total != 2 {
				t.Errorf("histogram of tx:%s counts %d records, want 2: %+v", hash, total, hist)
			}
			res = searchAnswer{}
			apptest.GetData(t, base+"/api/v1/search?from=now-1h&q="+url.QueryEscape("tx:"+hash+" | stats count() by source"), &res)
			if res.Table == nil || len(res.Table.Rows) != 2 {
				t.Fatalf("stats by source of tx:%s: %+v", hash, res.Table)
			}

			if vl == nil {
				return
			}
			// The server holds them.
			resp, err := http.PostForm(vl.URL()+"/select/logsql/query", url.Values{"query": {`"recordsmarker" | stats count() as n`}})
			if err != nil {
				t.Fatal(err)
			}
			var row map[string]string
			err = json.NewDecoder(resp.Body).Decode(&row)
			resp.Body.Close()
			if err != nil || row["n"] != "1" {
				t.Fatalf("the log line on VictoriaLogs: %v, %v", row, err)
			}
		})
	}
}

// The embedded engine does not start anew beside a SQLite store that
// holds records (a data directory of a version that kept them there):
// the error says how to keep them or move them.
func TestEmbeddedRefusesSQLiteRecords(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "blocktorch.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRecords(t.Context(), storetest.CorpusRecords()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	cfg := config.Default(config.ModeServe)
	cfg.Addr = "127.0.0.1:0"
	cfg.RPC = "http://127.0.0.1:1"
	cfg.DataDir = dir
	_, err = app.New(t.Context(), cfg, app.Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.Contains(err.Error(), "--records sqlite") ||
		!strings.Contains(err.Error(), "blocktorch migrate records --from sqlite:") {
		t.Fatalf("embedded beside SQLite records: %v", err)
	}
}
