package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

func TestVerifiedSuite(t *testing.T) {
	storetest.RunVerified(t, func(t *testing.T) store.VerifiedStore {
		db := openTemp(t)
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// Each distinct text is stored once, and a text no contract links to any
// more is deleted with the verification that dropped it.
func TestVerifiedSourcesStoredOnce(t *testing.T) {
	ctx := t.Context()
	db := openTemp(t)
	defer db.Close()
	texts := func() int {
		t.Helper()
		var n int
		if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM verified_sources`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	shared := map[string]string{"lib/L.sol": "library L {}", "src/A.sol": "contract A {}"}
	for k := byte(1); k <= 5; k++ {
		if err := db.PutVerified(ctx, storetest.Verification(k, store.VerifiedFull, shared)); err != nil {
			t.Fatal(err)
		}
	}
	if n := texts(); n != 2 {
		t.Fatalf("five contracts of one build stored %d texts, want 2", n)
	}
	for k := byte(1); k <= 5; k++ {
		if err := db.PutVerified(ctx, storetest.Verification(k, store.VerifiedFull, map[string]string{"src/A.sol": "contract A { uint x; }"})); err != nil {
			t.Fatal(err)
		}
		want := 3
		if k == 5 {
			want = 1 // the old texts lost their last contract
		}
		if n := texts(); n != want {
			t.Fatalf("after replacing %d of 5: %d texts, want %d", k, n, want)
		}
	}
}

// Verifications survive closing and reopening the file.
func TestVerifiedReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	v := storetest.Verification(7, store.VerifiedFull, map[string]string{"src/Vault.sol": "contract Vault {}"})
	if err := db.PutVerified(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.Verified(ctx, v.Address)
	if err != nil || got.Sources["src/Vault.sol"] != "contract Vault {}" || string(got.Result) != string(v.Result) {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
}
