package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// AccountBackend is what the accounts suite needs: users, keys, audit and
// the sessions they log in with.
type AccountBackend interface {
	store.AccountStore
	store.SessionStore
}

// RunAccounts runs the suite of store.AccountStore. open returns two
// handles on one new, empty store, as two nodes sharing it hold them (a
// single-node backend returns the same handle twice); the suite does not
// close them.
func RunAccounts(t *testing.T, open func(t *testing.T) (a, b AccountBackend)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b AccountBackend)
	}{
		{"Users", testUsers},
		{"SetupToken", testSetupToken},
		{"APIKeys", testAPIKeys},
		{"UserSessions", testUserSessions},
		{"Audit", testAudit},
		{"ConcurrentSetupToken", testSetupTokenRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := open(t)
			tt.fn(t, a, b)
		})
	}
}

var accountsT0 = time.Unix(1_800_000_000, 123_456_000).UTC()

func testUsers(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	if n, err := b.CountUsers(ctx); err != nil || n != 0 {
		t.Fatalf("CountUsers on an empty store = %d, %v", n, err)
	}
	users, err := b.Users(ctx)
	if err != nil || users == nil || len(users) != 0 {
		t.Fatalf("Users on an empty store = %v, %v; want empty", users, err)
	}
	_, err = b.UserByName(ctx, "alice")
	wantErr(t, "UserByName(unknown)", err, store.ErrNotFound)
	_, err = b.User(ctx, 42)
	wantErr(t, "User(unknown)", err, store.ErrNotFound)

	// A name that is also SQL, and one that is not ASCII.
	want := []store.User{
		{Name: "zoë", Role: "viewer", PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", Created: accountsT0, Updated: accountsT0},
		{Name: "alice'); DROP TABLE users;--", Role: "admin", Created: accountsT0.Add(time.Second), Updated: accountsT0.Add(time.Second)},
	}
	for i, u := range want {
		got, err := a.CreateUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Fatal("CreateUser returned no ID")
		}
		want[i].ID = got.ID
		equal(t, "CreateUser", got, want[i])
	}
	if _, err := b.CreateUser(ctx, store.User{Name: "zoë", Role: "admin", Created: accountsT0, Updated: accountsT0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a second user with the same name: %v, want ErrConflict", err)
	}
	got, err := b.UserByName(ctx, "zoë")
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "UserByName", got, want[0])
	users, err = b.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "Users (by name)", users, []store.User{want[1], want[0]})
	if n, err := b.CountUsers(ctx); err != nil || n != 2 {
		t.Fatalf("CountUsers = %d, %v; want 2", n, err)
	}

	u := want[0]
	u.Role, u.Disabled, u.PasswordHash, u.Updated = "responder", true, "$argon2id$new", accountsT0.Add(time.Hour)
	if err := a.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err = b.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "User after UpdateUser", got, u)
	err = a.UpdateUser(ctx, store.User{ID: 9999, Role: "admin", Updated: accountsT0})
	wantErr(t, "UpdateUser(unknown)", err, store.ErrNotFound)
	if _, err := a.CreateUser(ctx, store.User{Name: "mallory", Role: "root", Created: accountsT0, Updated: accountsT0}); err == nil {
		t.Fatal("a user with an unknown role was stored")
	}
}

func testSetupToken(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	u, err := a.CreateUser(ctx, store.User{Name: "admin", Role: "admin", Created: accountsT0, Updated: accountsT0})
	if err != nil {
		t.Fatal(err)
	}
	old, tok := sha256.Sum256([]byte("old token")), sha256.Sum256([]byte("token"))
	if err := a.SetSetupToken(ctx, u.ID, old, accountsT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// A new token replaces the old one.
	if err := a.SetSetupToken(ctx, u.ID, tok, accountsT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetSetupToken(unknown user)", a.SetSetupToken(ctx, 9999, sha256.Sum256([]byte("x")), accountsT0), store.ErrNotFound)
	_, err = b.UseSetupToken(ctx, old, accountsT0, "$argon2id$old")
	wantErr(t, "UseSetupToken(replaced)", err, store.ErrNotFound)
	_, err = b.UseSetupToken(ctx, tok, accountsT0.Add(time.Hour), "$argon2id$late")
	wantErr(t, "UseSetupToken(at its end)", err, store.ErrNotFound)
	got, err := b.UseSetupToken(ctx, tok, accountsT0.Add(time.Minute), "$argon2id$set")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != u.ID || got.PasswordHash != "$argon2id$set" || !got.Updated.Equal(accountsT0.Add(time.Minute)) {
		t.Fatalf("UseSetupToken = %+v", got)
	}
	_, err = a.UseSetupToken(ctx, tok, accountsT0.Add(2*time.Minute), "$argon2id$again")
	wantErr(t, "UseSetupToken(spent)", err, store.ErrNotFound)
	if got, err := a.User(ctx, u.ID); err != nil || got.PasswordHash != "$argon2id$set" {
		t.Fatalf("a spent token changed the password: %+v, %v", got, err)
	}
}

// testSetupTokenRace: of many nodes spending one token at once, one wins.
func testSetupTokenRace(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	u, err := a.CreateUser(ctx, store.User{Name: "admin", Role: "admin", Created: accountsT0, Updated: accountsT0})
	if err != nil {
		t.Fatal(err)
	}
	tok := sha256.Sum256([]byte("token"))
	if err := a.SetSetupToken(ctx, u.ID, tok, accountsT0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, errs := 0, []error{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := AccountBackend(a)
			if g%2 == 1 {
				s = b
			}
			_, err := s.UseSetupToken(ctx, tok, accountsT0, fmt.Sprint("hash ", g))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrNotFound):
				errs = append(errs, err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || len(errs) > 0 {
		t.Fatalf("%d uses of one token succeeded, errors %v; want exactly 1", won, errs)
	}
}

func testAPIKeys(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	keys, err := b.APIKeys(ctx)
	if err != nil || keys == nil || len(keys) != 0 {
		t.Fatalf("APIKeys on an empty store = %v, %v", keys, err)
	}
	_, err = b.APIKeyByHash(ctx, sha256.Sum256([]byte("none")))
	wantErr(t, "APIKeyByHash(unknown)", err, store.ErrNotFound)
	if n, err := b.CountLiveKeys(ctx, "ingest"); err != nil || n != 0 {
		t.Fatalf("CountLiveKeys = %d, %v", n, err)
	}
	ship := store.APIKey{Name: "shipper", Hash: sha256.Sum256([]byte("k1")), Prefix: "bt_k1", Scopes: []string{"ingest"}, Created: accountsT0}
	ci := store.APIKey{Name: "ci", Hash: sha256.Sum256([]byte("k2")), Prefix: "bt_k2", Scopes: []string{"read", "write"}, UserID: 7, Created: accountsT0.Add(time.Second)}
	// A scope whose name holds another's must not count as it.
	odd := store.APIKey{Name: "odd", Hash: sha256.Sum256([]byte("k3")), Prefix: "bt_k3", Scopes: []string{"reingest"}, Created: accountsT0.Add(2 * time.Second)}
	for _, k := range []*store.APIKey{&ship, &ci, &odd} {
		got, err := a.CreateAPIKey(ctx, *k)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 {
			t.Fatal("CreateAPIKey returned no ID")
		}
		k.ID = got.ID
		equal(t, "CreateAPIKey", got, *k)
	}
	if _, err := b.CreateAPIKey(ctx, store.APIKey{Name: "dup", Hash: ship.Hash, Prefix: "x", Scopes: []string{"read"}, Created: accountsT0}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a key with a taken hash: %v, want ErrConflict", err)
	}
	got, err := b.APIKeyByHash(ctx, ci.Hash)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "APIKeyByHash", got, ci)
	if n, err := b.CountLiveKeys(ctx, "ingest"); err != nil || n != 1 {
		t.Fatalf("CountLiveKeys(ingest) = %d, %v; want 1", n, err)
	}

	// Last use only moves forward.
	for _, at := range []time.Duration{time.Hour, time.Minute} {
		if err := a.TouchAPIKey(ctx, ci.ID, accountsT0.Add(at)); err != nil {
			t.Fatal(err)
		}
	}
	ci.LastUsed = accountsT0.Add(time.Hour)
	revoked, err := b.RevokeAPIKey(ctx, ship.ID, accountsT0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ship.Revoked = accountsT0.Add(2 * time.Hour)
	equal(t, "RevokeAPIKey", revoked, ship)
	// A second revocation keeps the first time.
	if again, err := a.RevokeAPIKey(ctx, ship.ID, accountsT0.Add(3*time.Hour)); err != nil || !again.Revoked.Equal(ship.Revoked) {
		t.Fatalf("revoking twice: %+v, %v", again, err)
	}
	_, err = a.RevokeAPIKey(ctx, 9999, accountsT0)
	wantErr(t, "RevokeAPIKey(unknown)", err, store.ErrNotFound)
	keys, err = a.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	equal(t, "APIKeys (newest first)", keys, []store.APIKey{odd, ci, ship})
	if n, err := b.CountLiveKeys(ctx, "ingest"); err != nil || n != 0 {
		t.Fatalf("CountLiveKeys(ingest) after revocation = %d, %v; want 0", n, err)
	}
	if got, err := b.APIKeyByHash(ctx, ship.Hash); err != nil || got.Revoked.IsZero() {
		t.Fatalf("a revoked key reads as %+v, %v; want it, revoked", got, err)
	}
}

func testUserSessions(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	op := store.OperatorSession{Hash: sessionHash(1), Created: accountsT0, Expires: accountsT0.Add(time.Hour)}
	alice := store.OperatorSession{Hash: sessionHash(2), Created: accountsT0, Expires: accountsT0.Add(time.Hour), UserID: 5}
	alice2 := store.OperatorSession{Hash: sessionHash(3), Created: accountsT0, Expires: accountsT0.Add(2 * time.Hour), UserID: 5}
	bob := store.OperatorSession{Hash: sessionHash(4), Created: accountsT0, Expires: accountsT0.Add(time.Hour), UserID: 6}
	for _, s := range []store.OperatorSession{op, alice, alice2, bob} {
		if err := a.PutSession(ctx, s, 100); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range []store.OperatorSession{op, alice, alice2, bob} {
		got, err := b.Session(ctx, s.Hash, accountsT0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "Session", got, s)
	}
	_, err := b.Session(ctx, alice.Hash, alice.Expires)
	wantErr(t, "Session(at its end)", err, store.ErrNotFound)
	// Disabling alice ends both her sessions, on every node, and no one
	// else's.
	if err := b.DeleteUserSessions(ctx, 5); err != nil {
		t.Fatal(err)
	}
	var live []int64
	for _, s := range []store.OperatorSession{op, alice, alice2, bob} {
		if _, err := a.Session(ctx, s.Hash, accountsT0); err == nil {
			live = append(live, s.UserID)
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if !slices.Equal(live, []int64{0, 6}) {
		t.Fatalf("sessions live after ending user 5's: users %v, want [0 6]", live)
	}
}

func testAudit(t *testing.T, a, b AccountBackend) {
	ctx := t.Context()
	evs, err := b.Audit(ctx, 10)
	if err != nil || evs == nil || len(evs) != 0 {
		t.Fatalf("Audit on an empty store = %v, %v", evs, err)
	}
	var want []store.AuditEvent
	for i := range 5 {
		e := store.AuditEvent{At: accountsT0.Add(time.Duration(i) * time.Second), Actor: "alice", Action: "login",
			Target: fmt.Sprint("t", i), Detail: "<script>x</script>", Client: "127.0.0.1"}
		if err := a.AddAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		want = append(want, e)
	}
	evs, err = b.Audit(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range evs {
		if evs[i].ID == 0 {
			t.Fatal("an event has no ID")
		}
		evs[i].ID = 0
	}
	equal(t, "Audit (newest 3)", evs, []store.AuditEvent{want[4], want[3], want[2]})
	_, err = b.Audit(ctx, 0)
	wantErr(t, "Audit(0)", err, store.ErrInvalid)
}
