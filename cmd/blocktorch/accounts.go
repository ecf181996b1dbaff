package main

// This file is "blocktorch users …" and "blocktorch keys …". They talk to
// the server's API (/api/v1/users, /api/v1/keys) with an admin's key,
// like every other command that changes a running server, rather than
// to the store: so they work the same against one SQLite node or a
// cluster on PostgreSQL, the server checks the caller's permission and
// writes the audit log naming them, and no second process opens the
// store. The way in when no admin can log in is the operator key
// (BLOCKTORCH_OPERATOR_KEY on the server, BLOCKTORCH_KEY here).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

var (
	usersGroup = group{
		name: "users",
		about: `The users of a running server: people who log in to the UI with a password, each with a
role (viewer, editor, responder, admin). Each subcommand takes --server and --key: an admin's
API key (blocktorch keys create --scopes admin) or the server's operator key.`,
	}
	usersAddSpec = spec{
		name: "users add", args: "NAME", min: 1, max: 1,
		short:   "add a user; prints the one-time link that sets their password",
		example: "blocktorch users add ana --role responder",
		about: `Add a user with a role (--role, default viewer). The user has no password yet: the command
prints a one-time setup link, valid 24 hours, with which they choose one. Send it to them.`,
	}
	usersListSpec   = spec{name: "users list", min: 0, max: 0, short: "the users, their roles and state", about: "List the users with their roles and state."}
	usersPasswdSpec = spec{
		name: "users passwd", args: "NAME", min: 1, max: 1,
		short:   "a new setup link for a user, or set the password from stdin (--stdin)",
		example: "blocktorch users passwd ana",
		about: `Reset a user's password: print a new one-time setup link (the default), or with --stdin
read the new password from the first line of standard input (never from a flag, which
would show in ps). Either way the user's sessions end.`,
	}
	usersDisableSpec = spec{
		name: "users disable", args: "NAME", min: 1, max: 1,
		short: "stop a user: no login, sessions end, their keys stop working",
		about: "Disable a user: they cannot log in, their sessions end, and the API keys they made stop working. blocktorch users enable NAME undoes it.",
	}
	usersEnableSpec = spec{name: "users enable", args: "NAME", min: 1, max: 1, short: "let a disabled user in again", about: "Enable a disabled user again."}
	usersRoleSpec   = spec{
		name: "users role", args: "NAME ROLE", min: 2, max: 2,
		short:   "change a user's role",
		example: "blocktorch users role ana editor",
		about:   "Change a user's role: viewer, editor, responder or admin. The change is audited.",
	}

	keysGroup = group{
		name: "keys",
		about: `API keys of a running server, for scripts, the CLI and log shippers. A key has scopes
(ingest, read, write, respond, admin) and acts within its maker's role. Each subcommand takes
--server and --key: an admin's API key or the server's operator key.`,
	}
	keysCreateSpec = spec{
		name: "keys create", args: "NAME", min: 1, max: 1,
		short:   "make a key; it is printed once",
		example: "blocktorch keys create vector --scopes ingest",
		about: `Make an API key named NAME (what uses it) with --scopes. The key is printed once, on
standard output, and only its hash is kept: store it where it is used. Send it as
"Authorization: Bearer KEY" (log shippers may also use X-Blocktorch-Key or basic auth).`,
	}
	keysListSpec   = spec{name: "keys list", min: 0, max: 0, short: "the keys, their scopes and last use", about: "List the API keys (never their secrets) with scopes, owner, last use and state."}
	keysRevokeSpec = spec{
		name: "keys revoke", args: "ID", min: 1, max: 1,
		short:   "revoke a key at once, on every node",
		example: "blocktorch keys revoke 3",
		about:   "Revoke the API key with ID (blocktorch keys list shows it): every node refuses it from then on.",
	}
)

// runUsers is "blocktorch users add|list|passwd|disable|enable|role".
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := usersGroup
	g.subs = []groupSub{
		{usersAddSpec, func(args []string) error { return runUsersAdd(ctx, args, stdout) }},
		{usersListSpec, func(args []string) error { return runUsersList(ctx, args, stdout) }},
		{usersPasswdSpec, func(args []string) error { return runUsersPasswd(ctx, args, os.Stdin, stdout) }},
		{usersDisableSpec, func(args []string) error { return runUsersSet(ctx, usersDisableSpec, args, stdout) }},
		{usersEnableSpec, func(args []string) error { return runUsersSet(ctx, usersEnableSpec, args, stdout) }},
		{usersRoleSpec, func(args []string) error { return runUsersSet(ctx, usersRoleSpec, args, stdout) }},
	}
	return g.run(args, stdout)
}

// runKeys is "blocktorch keys create|list|revoke".
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := keysGroup
	g.subs = []groupSub{
		{keysCreateSpec, func(args []string) error { return runKeysCreate(ctx, args, stdout, stderr) }},
		{keysListSpec, func(args []string) error { return runKeysList(ctx, args, stdout) }},
		{keysRevokeSpec, func(args []string) error { return runKeysRevoke(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

// cliUser is what the CLI reads of a user.
type cliUser struct {
	Name        string    `json:"name"`
	Role        string    `json:"role"`
	Disabled    bool      `json:"disabled"`
	HasPassword bool      `json:"hasPassword"`
	Created     time.Time `json:"created"`
}

func (u cliUser) state() string {
	switch {
	case u.Disabled:
		return "disabled"
	case !u.HasPassword:
		return "waiting for its setup link"
	}
	return "active"
}

// userPath is the API path of user name.
func userPath(name string) string { return "/api/v1/users/" + url.PathEscape(name) }

func runUsersAdd(ctx context.Context, args []string, stdout io.Writer) error {
	sp := usersAddSpec
	fs, cf := serverCommand(sp, false)
	role := fs.String("role", "viewer", "the user's `ROLE`: viewer, editor, responder or admin")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	var out struct {
		User      cliUser `json:"user"`
		SetupLink string  `json:"setupLink"`
	}
	if err := cf.client().post(ctx, "/api/v1/users", "application/json", jsonBody(map[string]string{"name": pos[0], "role": *role}), &out); err != nil {
		return fmt.Errorf("cannot add user %q: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "added %s (%s)\nsetup link (one use, 24 h; send it to them): %s\n", oneLine(out.User.Name), out.User.Role, out.SetupLink)
	return nil
}

func runUsersList(ctx context.Context, args []string, stdout io.Writer) error {
	sp := usersListSpec
	fs, cf := serverCommand(sp, false)
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	var users []cliUser
	if err := cf.client().get(ctx, "/api/v1/users", &users); err != nil {
		return err
	}
	for _, u := range users {
		fmt.Fprintf(stdout, "%-24s %-10s %-28s created %s\n", oneLine(u.Name), u.Role, u.state(), u.Created.Local().Format(time.DateTime))
	}
	return nil
}

func runUsersPasswd(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	sp := usersPasswdSpec
	fs, cf := serverCommand(sp, false)
	fromStdin := fs.Bool("stdin", false, "read the new password from the first line of standard input")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	c := cf.client()
	if !*fromStdin {
		var out struct {
			SetupLink string `json:"setupLink"`
		}
		if err := c.post(ctx, userPath(pos[0])+"/setup-link", "", nil, &out); err != nil {
			return fmt.Errorf("cannot make a setup link for %q: %w", pos[0], err)
		}
		fmt.Fprintf(stdout, "setup link for %s (one use, 24 h): %s\n", oneLine(pos[0]), out.SetupLink)
		return nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return fmt.Errorf("cannot read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return fmt.Errorf("no password on standard input: pipe it in (printf '%%s\\n' \"$PASSWORD\" | blocktorch users passwd %s --stdin), or leave out --stdin for a setup link", pos[0])
	}
	if err := c.call(ctx, "PATCH", userPath(pos[0]), "application/json", jsonBody(map[string]string{"password": pw}), nil); err != nil {
		return fmt.Errorf("cannot set the password of %q: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "password of %s set; their sessions ended\n", oneLine(pos[0]))
	return nil
}

// runUsersSet is users disable, enable and role.
func runUsersSet(ctx context.Context, sp spec, args []string, stdout io.Writer) error {
	fs, cf := serverCommand(sp, false)
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	var change map[string]any
	var done string
	switch sp.name {
	case "users disable":
		change, done = map[string]any{"disabled": true}, "disabled; their sessions ended"
	case "users enable":
		change, done = map[string]any{"disabled": false}, "enabled"
	default:
		change, done = map[string]any{"role": pos[1]}, "now "+pos[1]
	}
	var u cliUser
	if err := cf.client().call(ctx, "PATCH", userPath(pos[0]), "application/json", jsonBody(change), &u); err != nil {
		return fmt.Errorf("cannot change user %q: %w", pos[0], err)
	}
	fmt.Fprintf(stdout, "%s is %s\n", oneLine(u.Name), done)
	return nil
}

// cliKey is what the CLI reads of an API key.
type cliKey struct {
	ID       int64      `json:"id"`
	Name     string     `json:"name"`
	Prefix   string     `json:"prefix"`
	Scopes   []string   `json:"scopes"`
	Owner    string     `json:"owner"`
	Created  time.Time  `json:"created"`
	LastUsed *time.Time `json:"lastUsed"`
	Revoked  *time.Time `json:"revoked"`
}

func runKeysCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sp := keysCreateSpec
	fs, cf := serverCommand(sp, false)
	scopes := fs.String("scopes", "", "comma-separated `SCOPES`: ingest, read, write, respond, admin")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if strings.TrimSpace(*scopes) == "" {
		return sp.errorf("missing --scopes (ingest, read, write, respond, admin; for example --scopes ingest)")
	}
	var out struct {
		Key    string   `json:"key"`
		ID     int64    `json:"id"`
		Scopes []string `json:"scopes"`
	}
	if err := cf.client().post(ctx, "/api/v1/keys", "application/json", jsonBody(map[string]any{"name": pos[0], "scopes": strings.Split(*scopes, ",")}), &out); err != nil {
		return fmt.Errorf("cannot create key %q: %w", pos[0], err)
	}
	// The key alone on stdout, so that it can be captured; the rest on
	// stderr.
	fmt.Fprintln(stdout, out.Key)
	fmt.Fprintf(stderr, "key %d %q with scopes %s: shown once, only its hash is kept\n", out.ID, pos[0], strings.Join(out.Scopes, ","))
	return nil
}

func runKeysList(ctx context.Context, args []string, stdout io.Writer) error {
	sp := keysListSpec
	fs, cf := serverCommand(sp, false)
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	var keys []cliKey
	if err := cf.client().get(ctx, "/api/v1/keys", &keys); err != nil {
		return err
	}
	for _, k := range keys {
		used, state := "never used", "live"
		if k.LastUsed != nil {
			used = "used " + k.LastUsed.Local().Format(time.DateTime)
		}
		if k.Revoked != nil {
			state = "revoked " + k.Revoked.Local().Format(time.DateTime)
		}
		fmt.Fprintf(stdout, "%-4d %-20s %s…  %-22s by %-12s %-28s %s\n", k.ID, oneLine(k.Name), k.Prefix, strings.Join(k.Scopes, ","), oneLine(k.Owner), used, state)
	}
	return nil
}

func runKeysRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	sp := keysRevokeSpec
	fs, cf := serverCommand(sp, false)
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return sp.errorf("the key ID %q is not a positive number (blocktorch keys list shows the IDs)", pos[0])
	}
	var k cliKey
	if err := cf.client().call(ctx, "DELETE", "/api/v1/keys/"+pos[0], "", nil, &k); err != nil {
		return fmt.Errorf("cannot revoke key %d: %w", id, err)
	}
	fmt.Fprintf(stdout, "revoked key %d %q (%s…)\n", k.ID, oneLine(k.Name), k.Prefix)
	return nil
}
