// Package auth decides who may do what. Users log in with a password
// (argon2id hashes) and get per-user sessions, kept as SHA-256 hashes in
// the relational store so that every node sharing it accepts them; API
// keys carry scopes within their maker's role; the optional operator key
// is an admin's key; one-time setup links set a new user's password; every
// login, user change and key change goes to an audit log, never with a
// secret. Roles (viewer < editor < responder < admin) and scopes map to
// the permissions (Read, Write, Respond, Admin, Ingest) that each route of
// the web route table declares. Without an operator key and with no user,
// the server is open: every request is the Local principal's. Share links
// (random tokens, stored as hashes, with expiry, revocation and their own
// audit log) and the login throttle live here too.
package auth
