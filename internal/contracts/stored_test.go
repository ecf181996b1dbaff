package contracts_test

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A registry started on the store of another one shows the same
// verifications, with sources and artifacts the debugger maps through.
func TestRegistryLoadsWhatItStored(t *testing.T) {
	d := newDemo(t)
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v.db")
	st := openStore(t, path)
	at := time.Date(2026, 12, 4, 16, 0, 0, 123_456_789, time.UTC)
	first := bc.NewRegistry(d.eth, st)
	first.Now = func() time.Time { return at }
	arts := demoArtifacts(t)
	vault, err := first.Submit(ctx, d.app.VaultImpl, bc.VerifyRequest{Artifacts: arts, Contract: "LendingVault"})
	if err != nil || vault.Status != bc.StatusFull {
		t.Fatalf("verify the vault: %s, %v", vault.Status, err)
	}
	if want := at.Truncate(time.Microsecond); !vault.Verified.Equal(want) {
		t.Errorf("Verified = %s, want %s", vault.Verified, want)
	}
	// The router's artifact with its metadata hash changed: a partial match.
	router := artifact(t, arts, "Router")
	code, _ := sourcemap.DecodeObject(router.DeployedBytecode)
	code[len(code)-sourcemap.MetadataLength(code)+10] ^= 0xff
	router.DeployedBytecode = hex.EncodeToString(code)
	partial, err := first.Submit(ctx, d.app.Router, bc.VerifyRequest{Artifacts: []bc.Artifact{router}})
	if err != nil || partial.Status != bc.StatusPartial || partial.Mismatch == nil {
		t.Fatalf("verify the router: %+v, %v", partial.Status, err)
	}

	// A restart: a new registry on the same file.
	st.Close()
	second := bc.NewRegistry(d.eth, openStore(t, path))
	if _, ok := second.Verified(d.app.VaultImpl); ok {
		t.Fatal("a registry knows a verification before Load")
	}
	loaded, skipped, err := second.Load(ctx)
	if err != nil || len(skipped) != 0 || len(loaded) != 2 {
		t.Fatalf("Load = %d loaded, skipped %v, %v", len(loaded), skipped, err)
	}
	for _, want := range []bc.Result{vault, partial} {
		got, ok := second.Verified(want.Address)
		if !ok {
			t.Fatalf("%s not loaded", want.ContractName)
		}
		if g, w := asJSON(t, got), asJSON(t, want); g != w {
			t.Errorf("%s after a restart differs:\n got %.400s\nwant %.400s", want.Address, g, w)
		}
	}
	got, _ := second.Verified(d.app.VaultImpl)
	if !strings.Contains(got.Sources["src/LendingVault.sol"], "contract LendingVault") || got.Artifact.Sources["src/LendingVault.sol"] != got.Sources["src/LendingVault.sol"] {
		t.Error("the loaded vault lacks its sources")
	}
	m, err := got.Artifact.Mapper(true)
	if err != nil {
		t.Fatal(err)
	}
	located := 0
	for pc := range 2000 {
		if loc, ok := m.Locate(uint64(pc)); ok && loc.File == "src/LendingVault.sol" && loc.Line > 0 {
			located++
		}
	}
	if located == 0 {
		t.Error("the loaded artifact maps no PC to src/LendingVault.sol")
	}
	if s, ok := second.Summary(d.app.Router); !ok || s.Status != bc.StatusPartial || s.ContractName != "Router" || !strings.HasPrefix(s.Compiler, "0.8.") || s.Verified.IsZero() {
		t.Errorf("Summary(router) = %+v, %v", s, ok)
	}

	// A loaded full match is not replaced by a partial one, in memory or
	// in the store.
	vaultArt := artifact(t, arts, "LendingVault")
	code, _ = sourcemap.DecodeObject(vaultArt.DeployedBytecode)
	code[len(code)-sourcemap.MetadataLength(code)+10] ^= 0xff
	vaultArt.DeployedBytecode = hex.EncodeToString(code)
	if res, err := second.Submit(ctx, d.app.VaultImpl, bc.VerifyRequest{Artifacts: []bc.Artifact{vaultArt}}); err != nil || res.Status != bc.StatusPartial {
		t.Fatalf("partial submission: %s, %v", res.Status, err)
	}
	third := bc.NewRegistry(d.eth, openStore(t, path))
	if _, _, err := third.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := third.Summary(d.app.VaultImpl); s.Status != bc.StatusFull {
		t.Errorf("after a partial submission the stored vault is %q, want full", s.Status)
	}
}

// Rows that cannot be read back are skipped and named; the others load.
func TestRegistryLoadSkipsUnreadable(t *testing.T) {
	d := newDemo(t)
	ctx := t.Context()
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	if _, err := bc.NewRegistry(d.eth, st).Submit(ctx, d.app.Token, bc.VerifyRequest{Artifacts: demoArtifacts(t), Contract: "DemoToken"}); err != nil {
		t.Fatal(err)
	}
	good, err := st.Verified(ctx, d.app.Token)
	if err != nil {
		t.Fatal(err)
	}
	bad := func(k byte, result string) store.VerifiedContract {
		v := good
		v.Address[19] = k
		v.Result = json.RawMessage(result)
		return v
	}
	rows := []store.VerifiedContract{
		bad(1, `{"version":1,"result":{"status":"full"}}`), // another address
		bad(2, `{"version":2,"result":{}}`),
		bad(3, `["not","an","object"]`),
		bad(4, `{"version":1,"result":{"address":"`+good.Address.Hex()+`","status":"none"}}`),
	}
	rows[3].Result = []byte(strings.Replace(string(rows[3].Result), good.Address.Hex(), rows[3].Address.Hex(), 1))
	for _, v := range rows {
		if err := st.PutVerified(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	reg := bc.NewRegistry(d.eth, st)
	loaded, skipped, err := reg.Load(ctx)
	if err != nil || len(loaded) != 1 || loaded[0].Address != d.app.Token || len(skipped) != len(rows) {
		t.Fatalf("Load = %d loaded, %d skipped, %v; want the token and %d skipped", len(loaded), len(skipped), err, len(rows))
	}
	for i, err := range skipped {
		if !errors.Is(err, bc.ErrStoredResult) || !strings.Contains(err.Error(), "0x") {
			t.Errorf("skipped[%d] = %v, want ErrStoredResult naming the address", i, err)
		}
	}
	for _, want := range []string{"describes", "version 2", "cannot decode", `status "none"`} {
		found := false
		for _, err := range skipped {
			found = found || strings.Contains(err.Error(), want)
		}
		if !found {
			t.Errorf("no skipped row says %q: %v", want, skipped)
		}
	}
}

// A match the store refuses is not shown either: memory never claims more
// than a restart would find.
func TestRegistrySubmitFailsWithStore(t *testing.T) {
	d := newDemo(t)
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	st.Close()
	reg := bc.NewRegistry(d.eth, st)
	called := false
	reg.OnVerified = func(context.Context, bc.Result) error { called = true; return nil }
	_, err := reg.Submit(t.Context(), d.app.Token, bc.VerifyRequest{Artifacts: demoArtifacts(t), Contract: "DemoToken"})
	if err == nil || !strings.Contains(err.Error(), "cannot record the verification") {
		t.Fatalf("Submit on a closed store = %v", err)
	}
	if _, ok := reg.Verified(d.app.Token); ok || called {
		t.Errorf("a match the store refused is shown (%v) or hooked (%v)", ok, called)
	}
}

// A verification read back for an address whose code has since changed (a
// chain reset put other code there) is shown with what changed.
func TestContractPageSaysCodeChanged(t *testing.T) {
	d := newDemo(t)
	ctx := t.Context()
	st := openStore(t, filepath.Join(t.TempDir(), "v.db"))
	reg := bc.NewRegistry(d.eth, st)
	if _, err := reg.Submit(ctx, d.app.VaultImpl, bc.VerifyRequest{Artifacts: demoArtifacts(t), Contract: "LendingVault"}); err != nil {
		t.Fatal(err)
	}
	if p := reg.Contract(ctx, d.app.VaultImpl); p.Status != bc.StatusFull || p.CodeChanged != "" {
		t.Fatalf("the vault's page: status %s, code changed %q", p.Status, p.CodeChanged)
	}
	// The vault's record, as if the router's address had held the vault
	// before a reset.
	v, err := st.Verified(ctx, d.app.VaultImpl)
	if err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Version int            `json:"version"`
		Result  map[string]any `json:"result"`
	}
	if err := json.Unmarshal(v.Result, &stored); err != nil {
		t.Fatal(err)
	}
	stored.Result["address"] = d.app.Router.Hex()
	v.Address = d.app.Router
	if v.Result, err = json.Marshal(stored); err != nil {
		t.Fatal(err)
	}
	if err := st.PutVerified(ctx, v); err != nil {
		t.Fatal(err)
	}
	after := bc.NewRegistry(d.eth, st)
	if _, skipped, err := after.Load(ctx); err != nil || len(skipped) != 0 {
		t.Fatalf("Load: %v %v", skipped, err)
	}
	p := after.Contract(ctx, d.app.Router)
	if p.Status != bc.StatusFull || !strings.Contains(p.CodeChanged, "no longer matches") || !strings.Contains(p.CodeChanged, "differs from byte") {
		t.Errorf("the router's page under the vault's record: status %s, code changed %q", p.Status, p.CodeChanged)
	}
	if p := after.Contract(ctx, d.app.VaultImpl); p.CodeChanged != "" {
		t.Errorf("the vault's page after a restart says its code changed: %q", p.CodeChanged)
	}
}
