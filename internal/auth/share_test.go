package auth

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

func TestShares(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Unix(1700000000, 0)
	s := NewShares(db, func() time.Time { return now })

	tok, sh, err := s.Create(ctx, NewShare{Kind: store.ShareDashboard, Target: "home", Title: "Home", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 22 {
		t.Fatalf("token %q has %d characters, want 22 (128 bits)", tok, len(tok))
	}
	tok2, _, err := s.Create(ctx, NewShare{Kind: store.ShareSearch, Target: "q"})
	if err != nil {
		t.Fatal(err)
	}
	if tok == tok2 {
		t.Fatal("two shares got the same token")
	}
	if _, _, err := s.Create(ctx, NewShare{Kind: "admin"}); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("unknown kind = %v, want ErrInvalid", err)
	}
	// The store holds only the hash.
	got, err := db.ShareByTokenHash(ctx, HashToken(tok))
	if err != nil || got.ID != sh.ID {
		t.Fatalf("lookup by hash = %+v, %v", got, err)
	}

	open := func(token string, wantErr error) {
		t.Helper()
		_, err := s.Open(ctx, token, "test")
		if !errors.Is(err, wantErr) && !(wantErr == nil && err == nil) {
			t.Fatalf("Open(%q) = %v, want %v", token, err, wantErr)
		}
	}
	open(tok, nil)
	// A token one character off (never the same character: that would be
	// the token itself).
	off := "A"
	if tok[21] == 'A' {
		off = "B"
	}
	open(tok[:21]+off, ErrRefused)
	open("", ErrRefused)
	open("../../etc/passwd", ErrRefused)

	now = now.Add(time.Hour) // expired exactly at its expiry
	open(tok, ErrRefused)
	open(tok2, nil) // never expires

	if err := s.Revoke(ctx, s2ID(t, s, tok2)); err != nil {
		t.Fatal(err)
	}
	open(tok2, ErrRefused)

	ev, err := s.Events(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for i := len(ev) - 1; i >= 0; i-- {
		actions = append(actions, ev[i].Action)
	}
	want := []string{"create", "create", "use", "refuse", "use", "revoke", "refuse"}
	if len(actions) != len(want) {
		t.Fatalf("audit = %v, want %v", actions, want)
	}
	for i := range want {
		if actions[i] != want[i] {
			t.Fatalf("audit = %v, want %v", actions, want)
		}
	}
}

func s2ID(t *testing.T, s *Shares, tok string) string {
	t.Helper()
	sh, err := s.store.ShareByTokenHash(t.Context(), HashToken(tok))
	if err != nil {
		t.Fatal(err)
	}
	return sh.ID
}
