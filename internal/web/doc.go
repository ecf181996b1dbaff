// Package web serves blocktorch's HTTP API (/api/v1, JSON) and its HTML
// pages. It calls inward only: it reads the store through the role
// interfaces and reaches other capabilities through the function fields of
// Deps.
package web
