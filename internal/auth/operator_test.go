package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

func withCookie(id string) *http.Request {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(&http.Cookie{Name: SessionCookie, Value: id})
	return r
}

func login(t *testing.T, o *Operator, key string) (Session, bool) {
	t.Helper()
	s, ok, err := o.Login(context.Background(), key)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s, ok
}

// sessionStores are the stores an operator keeps sessions in: its own
// memory, and a SQLite store as nodes share one.
func sessionStores(t *testing.T) map[string]store.SessionStore {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "bt.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return map[string]store.SessionStore{"memory": nil, "sqlite": db}
}

func TestOperator(t *testing.T) {
	for name, st := range sessionStores(t) {
		t.Run(name, func(t *testing.T) {
			open := NewOperator("", st)
			if open.Enabled() || !open.Allowed(httptest.NewRequest("GET", "/", nil)) {
				t.Fatal("without a key every request is the operator's")
			}
			o := NewOperator("s3cret", st)
			if !o.Enabled() || o.Allowed(httptest.NewRequest("GET", "/", nil)) {
				t.Fatal("with a key, a request without the cookie is refused")
			}
			if sess, ok := login(t, o, "wrong"); ok || sess.ID != "" {
				t.Fatal("a wrong key logged in")
			}
			sess, ok := login(t, o, "s3cret")
			if !ok || sess.ID == "" {
				t.Fatal("the right key did not log in")
			}
			if !o.Allowed(withCookie(sess.ID)) {
				t.Fatal("the session cookie is not accepted")
			}
			if o.Allowed(withCookie("forged")) || NewOperator("other", nil).Allowed(withCookie("forged")) {
				t.Fatal("a forged cookie is accepted")
			}
			if err := o.Logout(context.Background(), sess.ID); err != nil {
				t.Fatal(err)
			}
			if o.Allowed(withCookie(sess.ID)) {
				t.Fatal("a logged-out session is accepted")
			}
		})
	}
}

// Two nodes on one store: a login on one is accepted by the other, a
// logout on either ends it on both, expiry holds on both, and the store
// keeps the id's hash, not the id.
func TestOperatorSharedSessions(t *testing.T) {
	st := sessionStores(t)["sqlite"]
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	a, b := NewOperator("k3y", st), NewOperator("k3y", st)
	a.Now, b.Now = clock, clock

	s1, _ := login(t, a, "k3y")
	if !b.Allowed(withCookie(s1.ID)) {
		t.Fatal("a login on node A is refused by node B")
	}
	var raw [32]byte
	copy(raw[:], s1.ID)
	if _, err := st.SessionExpires(context.Background(), raw, now); err == nil {
		t.Fatal("the store finds the session by its id: it must keep only its hash")
	}
	if err := b.Logout(context.Background(), s1.ID); err != nil {
		t.Fatal(err)
	}
	if a.Allowed(withCookie(s1.ID)) {
		t.Fatal("a logout on node B left the session live on node A")
	}

	s2, _ := login(t, b, "k3y")
	now = now.Add(SessionTTL - time.Second)
	if !a.Allowed(withCookie(s2.ID)) {
		t.Fatal("a session is refused before its end")
	}
	now = now.Add(time.Second)
	if a.Allowed(withCookie(s2.ID)) || b.Allowed(withCookie(s2.ID)) {
		t.Fatal("a session is accepted at its end")
	}
}

// The sessions kept are bounded: past maxSessions, the ones that end first
// are ended.
func TestOperatorBoundsSessions(t *testing.T) {
	for name, st := range sessionStores(t) {
		t.Run(name, func(t *testing.T) {
			o := NewOperator("k", st)
			now := time.Unix(1_800_000_000, 0)
			o.Now = func() time.Time { return now }
			first, _ := login(t, o, "k")
			for range maxSessions {
				now = now.Add(time.Millisecond)
				login(t, o, "k")
			}
			if o.Allowed(withCookie(first.ID)) {
				t.Fatalf("the oldest of %d+1 sessions is still live", maxSessions)
			}
			last, _ := login(t, o, "k")
			if !o.Allowed(withCookie(last.ID)) {
				t.Fatal("the newest session was ended")
			}
		})
	}
}
