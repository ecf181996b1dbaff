// Package chainrec derives the searchable records of indexed blocks: one
// record per transaction (kind tx), per log (kind event) and per decoded
// revert (kind revert), with the attributes the query language's chain
// fields name. Every records engine stores the same records, so that a
// query answers alike on each.
package chainrec
