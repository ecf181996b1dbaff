// Package auth decides who may see what: share links (random tokens, stored
// only as SHA-256 hashes, with expiry, revocation and an audit log of their
// creation and use) and the optional operator key that guards everything
// else. Without an operator key every request that is not a share link is
// the local operator's.
package auth
