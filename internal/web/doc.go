// Package web is the only package that serves HTTP: blocktorch's API
// (/api/v1, JSON, one envelope and one error mapper in envelope.go), its
// HTML pages, the public status page and flags, and the log ingest doors
// (api_ingest.go: JSON lines, OTLP/HTTP and Loki push, decoded by
// logingest). Every route is one line of the route table (routes.go) with
// who may reach it. It calls inward only: it reads the store through the
// role interfaces and reaches other capabilities through Deps.
package web
