// Package changehub fans change notices (store.Change) out to the
// subscribers of one process, for the store backends: SQLite delivers its
// own writes through it, PostgreSQL what its LISTEN connection hears. A
// subscriber that falls behind gets one Resync notice instead of what it
// missed; publishing never blocks.
package changehub
