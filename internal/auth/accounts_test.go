package auth

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/sqlite"
)

var fastParams = PasswordParams{Memory: 64, Time: 1, Threads: 1}

func TestPasswordHash(t *testing.T) {
	h := HashPassword("correct horse battery", fastParams)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if h == HashPassword("correct horse battery", fastParams) {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	def := HashPassword("pw of the default cost", DefaultPasswordParams)
	for _, c := range []struct {
		name, pw, hash string
		ok             bool
		bad            bool
	}{
		{"right", "correct horse battery", h, true, false},
		{"wrong", "correct horse batterY", h, false, false},
		{"empty", "", h, false, false},
		{"the default cost", "pw of the default cost", def, true, false},
		{"not a hash", "x", "plain text", false, true},
		{"bcrypt", "x", "$2a$10$abcdefghijklmnopqrstuuu", false, true},
		{"another version", "x", strings.Replace(h, "v=19", "v=16", 1), false, true},
		{"a memory cost that would exhaust the server", "x", strings.Replace(h, "m=64", "m=99999999", 1), false, true},
		{"no lanes", "x", strings.Replace(h, "p=1", "p=0", 1), false, true},
		{"a short hash", "x", h[:strings.LastIndex(h, "$")+5], false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, err := VerifyPassword(c.pw, c.hash)
			if ok != c.ok || (err != nil) != c.bad {
				t.Errorf("VerifyPassword = %v, %v; want %v, error %v", ok, err, c.ok, c.bad)
			}
		})
	}
}

func TestScopesAndRoles(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
		err  string
	}{
		{[]string{"read"}, []string{"read"}, ""},
		{[]string{"write,ingest", " READ ", "ingest"}, []string{"ingest", "read", "write"}, ""},
		{[]string{""}, nil, "at least one scope"},
		{[]string{"read,root"}, nil, `unknown scope "root"`},
	} {
		got, err := ParseScopes(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) || !errors.Is(err, ErrInvalid) {
				t.Errorf("ParseScopes(%q) = %v, %v; want %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ParseScopes(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	// Each role holds the permissions of the ones before it, and one more.
	want := map[string]Permission{RoleViewer: Read | Ingest, RoleEditor: Read | Write | Ingest,
		RoleResponder: Read | Write | Respond | Ingest, RoleAdmin: Read | Write | Respond | Admin | Ingest}
	for i, r := range Roles {
		if RolePermissions(r) != want[r] {
			t.Errorf("%s may %v, want %v", r, RolePermissions(r), want[r])
		}
		if i > 0 && RolePermissions(Roles[i-1])&^RolePermissions(r) != 0 {
			t.Errorf("%s lacks a permission of %s", r, Roles[i-1])
		}
	}
	if RolePermissions("root") != 0 || ValidRole("root") == nil {
		t.Error("an unknown role has permissions")
	}
}

// TestKeysWithinTheirMaker: a key cannot do more than its maker, and acts
// within its owner's role from then on.
func TestKeysWithinTheirMaker(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := t.Context()
	a := NewAccounts(st, nil, "", nil)
	a.Params = fastParams
	ed, err := a.CreateUser(ctx, Local, "ed", RoleEditor, "", "")
	if err != nil {
		t.Fatal(err)
	}
	edP := Principal{Kind: "user", Name: "ed", UserID: ed.ID, Role: RoleEditor, Perms: RolePermissions(RoleEditor)}
	if _, err := a.CreateKey(ctx, edP, "too much", []string{"respond"}, ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("an editor made a respond key: %v", err)
	}
	k, err := a.CreateKey(ctx, edP, "ci", []string{"write"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Secret, "bt_") || len(k.Secret) != 46 || k.Key.Prefix != k.Secret[:9] {
		t.Fatalf("key %q, prefix %q", k.Secret, k.Key.Prefix)
	}
	p, err := a.keyPrincipal(ctx, k.Secret)
	if err != nil || !p.Can(Write) || p.Can(Respond) || p.Name != "key:ci" {
		t.Fatalf("the key: %+v, %v", p, err)
	}
	viewer := RoleViewer
	if _, err := a.UpdateUser(ctx, Local, ed.ID, UserChange{Role: &viewer}, ""); err != nil {
		t.Fatal(err)
	}
	if p, err := a.keyPrincipal(ctx, k.Secret); err != nil || p.Can(Write) || !p.Can(Read) {
		t.Fatalf("the key of a demoted owner: %+v, %v; want read only", p, err)
	}
	if _, err := a.keyPrincipal(ctx, "bt_"+strings.Repeat("A", 43)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an unknown key: %v", err)
	}
}
