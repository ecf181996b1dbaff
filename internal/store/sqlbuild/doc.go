// Package sqlbuild translates a parsed search (package query) into SQL for
// the store backends: the filter into a parameterised WHERE condition over
// the records table, fields into column or attribute expressions, and the
// aggregations of pipes into expressions, through a small Dialect that
// holds what differs between SQLite and PostgreSQL (placeholders, full-text
// search, JSON extraction, patterns).
//
// User text never becomes SQL text: every value is a bound argument, field
// names come only from a fixed table, and attribute paths are bound too.
// It also encodes the opaque, signed keyset cursors of search pagination.
package sqlbuild
