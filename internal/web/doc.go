// Package web is the only package that serves HTTP: blocktorch's API
// (/api/v1, JSON, one envelope and one error mapper in envelope.go), its
// HTML pages, the public status page and flags, and the log ingest doors
// (api_ingest.go: JSON lines, OTLP/HTTP and Loki push, decoded by
// logingest). Every route is one line of the route table (routes.go) with
// the permission it needs (public, ingest, read, write, respond, admin);
// ServeHTTP identifies the caller (auth.Accounts) and refuses those who
// lack it. Login, logout and setup links are in guard.go, the accounts
// API in api_accounts.go, the Users & keys page in settings_page.go. It
// calls inward only: it reads the store through the role interfaces and
// reaches other capabilities through Deps.
package web
