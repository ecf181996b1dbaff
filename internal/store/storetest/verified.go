package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/blocktorch/blocktorch/internal/store"
)

// RunVerified runs the suite of store.VerifiedStore. open must return a
// new, empty store for each call; the suite does not close it.
func RunVerified(t *testing.T, open func(t *testing.T) store.VerifiedStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.VerifiedStore)
	}{
		{"Empty", testVerifiedEmpty},
		{"RoundTrip", testVerifiedRoundTrip},
		{"Replace", testVerifiedReplace},
		{"Refuses", testVerifiedRefuses},
		{"StopsOnError", testVerifiedStops},
		{"Concurrent", testVerifiedConcurrent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

// Verification builds a verification of Addr(k) with the given sources.
func Verification(k byte, status string, sources map[string]string) store.VerifiedContract {
	return store.VerifiedContract{
		Address: Addr(k), Status: status, ContractName: "Vault", SourceName: "src/Vault.sol",
		Compiler: "0.8.28+commit.7893614a",
		Result:   []byte(`{"status":"` + status + `","settings":{"optimizer":true,"runs":200}}`),
		Sources:  sources, Verified: time.Unix(1_700_000_000, 123_456_789).UTC().Truncate(time.Microsecond),
	}
}

func allVerified(t *testing.T, s store.VerifiedStore) []store.VerifiedContract {
	t.Helper()
	var vs []store.VerifiedContract
	if err := s.EachVerified(t.Context(), func(v store.VerifiedContract) error {
		vs = append(vs, v)
		return nil
	}); err != nil {
		t.Fatalf("EachVerified: %v", err)
	}
	return vs
}

func testVerifiedEmpty(t *testing.T, s store.VerifiedStore) {
	_, err := s.Verified(t.Context(), Addr(1))
	wantErr(t, "Verified", err, store.ErrNotFound)
	if vs := allVerified(t, s); len(vs) != 0 {
		t.Errorf("EachVerified on an empty store saw %d", len(vs))
	}
}

func testVerifiedRoundTrip(t *testing.T, s store.VerifiedStore) {
	ctx := t.Context()
	// Texts a build really holds, and what an attacker may put in a
	// source: quotes, SQL, NUL, non-ASCII, a megabyte.
	lib := "// SPDX-License-Identifier: MIT\nlibrary L { function f() internal {} }\n"
	big := strings.Repeat("uint256 constant X = 1; // ünïcødé\n", 30_000)
	a := Verification(2, store.VerifiedFull, map[string]string{
		"src/Vault.sol": "contract Vault {}\n", "lib/L.sol": lib,
		"'; DROP TABLE verified_contracts; --": "x\x00y", "../../etc/passwd": big,
	})
	b := Verification(1, store.VerifiedPartial, map[string]string{"lib/L.sol": lib, "src/Other.sol": ""})
	b.ContractName, b.SourceName = "Other", "src/Other.sol"
	for _, v := range []store.VerifiedContract{a, b} {
		if err := s.PutVerified(ctx, v); err != nil {
			t.Fatalf("PutVerified(%s): %v", v.Address, err)
		}
	}
	got, err := s.Verified(ctx, a.Address)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Verified", got, a)
	vs := allVerified(t, s)
	equal(t, "EachVerified", vs, []store.VerifiedContract{b, a})
	// One copy of a text shared by two contracts.
	if len(vs) == 2 && unsafe.StringData(vs[0].Sources["lib/L.sol"]) != unsafe.StringData(vs[1].Sources["lib/L.sol"]) {
		t.Error("a text two contracts share is read twice")
	}
	// A verification without sources comes back with an empty map.
	c := Verification(3, store.VerifiedFull, nil)
	if err := s.PutVerified(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err = s.Verified(ctx, c.Address)
	if err != nil || got.Sources == nil || len(got.Sources) != 0 {
		t.Errorf("Verified without sources = %+v, %v; want an empty map", got.Sources, err)
	}
}

func testVerifiedReplace(t *testing.T, s store.VerifiedStore) {
	ctx := t.Context()
	first := Verification(1, store.VerifiedPartial, map[string]string{"src/Vault.sol": "v1", "lib/Gone.sol": "gone"})
	other := Verification(2, store.VerifiedFull, map[string]string{"src/Vault.sol": "v1"})
	second := Verification(1, store.VerifiedFull, map[string]string{"src/Vault.sol": "v2"})
	second.Result = []byte(`{"status":"full"}`)
	second.Verified = first.Verified.Add(time.Hour)
	for _, v := range []store.VerifiedContract{first, other, second} {
		if err := s.PutVerified(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Verified(ctx, first.Address)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "replaced verification", got, second)
	// The other contract keeps the text the replaced one dropped.
	got, err = s.Verified(ctx, other.Address)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "untouched verification", got, other)
}

func testVerifiedRefuses(t *testing.T, s store.VerifiedStore) {
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		edit func(*store.VerifiedContract)
	}{
		{"no status", func(v *store.VerifiedContract) { v.Status = "" }},
		{"status none", func(v *store.VerifiedContract) { v.Status = "none" }},
		{"result not JSON", func(v *store.VerifiedContract) { v.Result = []byte(`{"status":`) }},
		{"no result", func(v *store.VerifiedContract) { v.Result = nil }},
	} {
		v := Verification(1, store.VerifiedFull, map[string]string{"a.sol": "a"})
		tc.edit(&v)
		err := s.PutVerified(ctx, v)
		wantErr(t, tc.name, err, store.ErrInvalid)
		if err != nil && !strings.Contains(err.Error(), v.Address.Hex()) {
			t.Errorf("%s: error %q does not name the address", tc.name, err)
		}
	}
	if vs := allVerified(t, s); len(vs) != 0 {
		t.Errorf("refused verifications were stored: %d", len(vs))
	}
}

func testVerifiedStops(t *testing.T, s store.VerifiedStore) {
	ctx := t.Context()
	for k := byte(1); k <= 3; k++ {
		if err := s.PutVerified(ctx, Verification(k, store.VerifiedFull, map[string]string{"a.sol": "a"})); err != nil {
			t.Fatal(err)
		}
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.EachVerified(ctx, func(store.VerifiedContract) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("EachVerified = %v after %d calls, want fn's error as it is after 1", err, calls)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.EachVerified(canceled, func(store.VerifiedContract) error { return nil }); err == nil {
		t.Error("EachVerified with a canceled context succeeded")
	}
	if err := s.PutVerified(canceled, Verification(4, store.VerifiedFull, nil)); err == nil {
		t.Error("PutVerified with a canceled context succeeded")
	}
}

// Writers racing on one address leave one of their verifications whole,
// never a mix of two.
func testVerifiedConcurrent(t *testing.T, s store.VerifiedStore) {
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := Verification(1, store.VerifiedFull, map[string]string{"a.sol": strings.Repeat("a", i+1), "b.sol": strings.Repeat("b", i+1)})
			errs <- s.PutVerified(ctx, v)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Verified(ctx, Addr(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sources) != 2 || len(got.Sources["a.sol"]) != len(got.Sources["b.sol"]) {
		t.Errorf("racing writers left a mix: %q", got.Sources)
	}
}
