package contracts_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/store"
)

const transferABI = `[{"type":"function","name":"transfer","inputs":[{"name":"to","type":"address"},{"name":"amount","type":"uint256"}],"outputs":[{"type":"bool"}],"stateMutability":"nonpayable"}]`

// TestCatalogAdd checks the one way a contract becomes known: a usable ABI
// reaches the decoder and the store with its origin and time, and the change
// hook runs once; a malformed ABI is an invalid request (store.ErrInvalid,
// naming where it is wrong) that changes nothing.
func TestCatalogAdd(t *testing.T) {
	demoAddr := common.HexToAddress("0xd0")
	added := time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		addr    common.Address
		abi     string
		wantErr string // "" for success
		origin  string
	}{
		{name: "user", addr: common.HexToAddress("0x01"), abi: transferABI, origin: "user"},
		{name: "demo", addr: demoAddr, abi: transferABI, origin: "demo"},
		{name: "not JSON", addr: common.HexToAddress("0x02"), abi: `[{"type":"function",`, wantErr: "line 1, column 20"},
		{name: "bad type", addr: common.HexToAddress("0x03"), abi: `[{"type":"function","name":"f","inputs":[{"name":"x","type":"uint7"}]}]`, wantErr: "uint7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t, filepath.Join(t.TempDir(), "c.db"))
			reg := decode.NewRegistry()
			var changed []common.Address
			cat := &bc.Catalog{
				Decoder: reg, Store: db, Now: func() time.Time { return added },
				Origin: func(a common.Address) string {
					if a == demoAddr {
						return "demo"
					}
					return ""
				},
				Changed: func(_ context.Context, a common.Address) { changed = append(changed, a) },
			}
			err := cat.Add(ctx, tt.addr, "Token", []byte(tt.abi))
			if tt.wantErr != "" {
				if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Add = %v, want store.ErrInvalid naming %q", err, tt.wantErr)
				}
				if _, err := db.Contract(ctx, tt.addr); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a refused ABI was stored (Contract: %v)", err)
				}
				if _, ok := reg.Name(tt.addr); ok || len(changed) != 0 {
					t.Errorf("a refused ABI reached the decoder or the hook (hook calls %d)", len(changed))
				}
				return
			}
			if err != nil {
				t.Fatalf("Add: %v", err)
			}
			c, err := db.Contract(ctx, tt.addr)
			if err != nil {
				t.Fatalf("stored contract: %v", err)
			}
			if c.Name != "Token" || c.Origin != tt.origin || !c.Added.Equal(added) || string(c.ABI) != tt.abi {
				t.Errorf("stored %+v, want name Token, origin %s, added %v, the ABI as given", c, tt.origin, added)
			}
			if name, ok := reg.Name(tt.addr); !ok || name != "Token" {
				t.Errorf("decoder knows %q, %v; want Token", name, ok)
			}
			if len(changed) != 1 || changed[0] != tt.addr {
				t.Errorf("change hook calls %v, want one for %s", changed, tt.addr)
			}
		})
	}
}

// TestCatalogLoad checks that a restart gives the decoder back the stored
// ABIs, and that one that no longer loads is skipped, not fatal.
func TestCatalogLoad(t *testing.T) {
	ctx := context.Background()
	db := openStore(t, filepath.Join(t.TempDir(), "c.db"))
	good, bad := common.HexToAddress("0x01"), common.HexToAddress("0x02")
	for _, c := range []store.Contract{
		{Address: good, Name: "Token", ABI: []byte(transferABI), Origin: "user", Added: time.Now().UTC()},
		{Address: bad, Name: "Broken", ABI: []byte(`[{"type":"function","name":"f","inputs":[{"type":"uint7"}]}]`), Origin: "user", Added: time.Now().UTC()},
	} {
		if err := db.PutContract(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	reg := decode.NewRegistry()
	skipped, err := (&bc.Catalog{Decoder: reg, Store: db}).Load(ctx)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Error(), bad.Hex()) {
		t.Errorf("skipped %v, want one error naming %s", skipped, bad)
	}
	if _, ok := reg.Name(good); !ok {
		t.Error("the stored ABI did not reach the decoder")
	}
	if _, ok := reg.Name(bad); ok {
		t.Error("the broken ABI reached the decoder")
	}
}
