package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is what a route needs and a principal may hold; a set of
// them is their bitwise OR.
type Permission uint8

// The permissions. Read sees everything; Write changes configuration
// (monitors, dashboards, contracts, incidents, shares, status
// components); Respond runs response actions and flips kill switches;
// Admin manages users and API keys; Ingest posts logs.
const (
	Read Permission = 1 << iota
	Write
	Respond
	Admin
	Ingest

	all = Read | Write | Respond | Admin | Ingest
)

// String names a permission as API keys' scopes do ("read", …), or a set
// joined by commas.
func (p Permission) String() string {
	var names []string
	for _, s := range scopeNames {
		if p&scopeBit[s] != 0 {
			names = append(names, s)
		}
	}
	return strings.Join(names, ",")
}

// Roles, from least to most allowed: each holds the permissions of the
// ones before it.
const (
	RoleViewer    = "viewer"
	RoleEditor    = "editor"
	RoleResponder = "responder"
	RoleAdmin     = "admin"
)

// Roles lists the roles, least allowed first.
var Roles = []string{RoleViewer, RoleEditor, RoleResponder, RoleAdmin}

// rolePerms is what each role may do. Ingest goes with every role: a log
// shipper's key is as good as the person who made it.
var rolePerms = map[string]Permission{
	RoleViewer:    Read | Ingest,
	RoleEditor:    Read | Write | Ingest,
	RoleResponder: Read | Write | Respond | Ingest,
	RoleAdmin:     all,
}

// RolePermissions returns what role may do; 0 for an unknown role.
func RolePermissions(role string) Permission { return rolePerms[role] }

// ValidRole says why role is not a role, or nil.
func ValidRole(role string) error {
	if _, ok := rolePerms[role]; !ok {
		return fmt.Errorf("%w: unknown role %q (one of %s)", ErrInvalid, role, strings.Join(Roles, ", "))
	}
	return nil
}

// Scopes of API keys: each grants the permissions of the role of the same
// level (write is an editor's, respond a responder's, admin everything);
// ingest only posts logs.
const (
	ScopeIngest  = "ingest"
	ScopeRead    = "read"
	ScopeWrite   = "write"
	ScopeRespond = "respond"
	ScopeAdmin   = "admin"
)

var scopeNames = []string{ScopeIngest, ScopeRead, ScopeWrite, ScopeRespond, ScopeAdmin}

var scopeBit = map[string]Permission{ScopeIngest: Ingest, ScopeRead: Read, ScopeWrite: Write, ScopeRespond: Respond, ScopeAdmin: Admin}

var scopePerms = map[string]Permission{
	ScopeIngest:  Ingest,
	ScopeRead:    Read,
	ScopeWrite:   Read | Write,
	ScopeRespond: Read | Write | Respond,
	ScopeAdmin:   all,
}

// ParseScopes checks a list of scopes (comma-separated items are split)
// and returns it sorted without duplicates.
func ParseScopes(list []string) ([]string, error) {
	var out []string
	for _, item := range list {
		for s := range strings.SplitSeq(item, ",") {
			s = strings.ToLower(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			if _, ok := scopePerms[s]; !ok {
				return nil, fmt.Errorf("%w: unknown scope %q (any of %s)", ErrInvalid, s, strings.Join(scopeNames, ", "))
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: a key needs at least one scope (%s)", ErrInvalid, strings.Join(scopeNames, ", "))
	}
	slices.Sort(out)
	return out, nil
}

// scopesPermissions is what a key with scopes may do, before its owner's
// role caps it.
func scopesPermissions(scopes []string) Permission {
	var p Permission
	for _, s := range scopes {
		p |= scopePerms[s]
	}
	return p
}

// Principal is who a request comes from and what it may do.
type Principal struct {
	// Kind is "local" (a server with no operator key and no users: the
	// machine's own operator), "operator" (the operator key), "user" or
	// "key"; empty for an anonymous request.
	Kind string
	// Name is who the audit log names: the user's name, "operator",
	// "key:NAME", or "local".
	Name   string
	UserID int64
	// Role is the user's (a key's owner's) role; "admin" for the
	// operator and the local principal.
	Role  string
	KeyID int64
	Perms Permission
}

// Can reports whether p holds perm.
func (p Principal) Can(perm Permission) bool { return perm != 0 && p.Perms&perm == perm }

// Anonymous reports whether p is nobody.
func (p Principal) Anonymous() bool { return p.Kind == "" }

// Local is the principal of a server with neither an operator key nor
// users: whoever reaches it (loopback, or a network the operator trusts).
var Local = Principal{Kind: "local", Name: "local", Role: RoleAdmin, Perms: all}

// operatorPrincipal is whoever holds the operator key.
var operatorPrincipal = Principal{Kind: "operator", Name: "operator", Role: RoleAdmin, Perms: all}
