// Package auth decides who may see what: share links (random tokens, stored
// only as SHA-256 hashes, with expiry, revocation and an audit log of their
// creation and use) and the optional operator key that guards everything
// else, with login sessions kept (as hashes) in the relational store so
// that every node sharing it accepts them. Without an operator key every request that is not a share link is
// the local operator's.
package auth
