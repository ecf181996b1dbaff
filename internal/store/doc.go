// Package store declares the storage contracts of blocktorch as small role
// interfaces, and the domain errors every backend returns. Backends live in
// sub-packages (sqlite, postgres, tracefs; the records engines vlogs,
// embedded, and vlhttp, an external VictoriaLogs, beside the relational
// store) and pass the storetest suites.
//
// Every method takes the caller's ctx first; it bounds that call, and a
// call whose ctx is done returns an error. Every interface is safe for
// concurrent use unless its comment says otherwise. A lookup of one missing
// item returns an error wrapping ErrNotFound (never a zero value and a nil
// error); a list that matches nothing is empty, not an error.
//
// One file per domain: errors.go (ErrNotFound, ErrConflict, ErrInvalid),
// chain.go (indexed blocks, transactions and logs), contracts.go and
// verified.go (the contract registry and verified sources), records.go and
// search.go (off-chain records and queries over every record),
// dashboards.go (dashboards and saved searches), shares.go (share links and
// their audit log), monitors.go (monitor definitions, alerts, silences,
// series), outbox.go (the notification queue), traces.go (the debugger's
// recorded traces), changes.go (change notices between the nodes that
// share a store), sessions.go (login sessions, of users and of the operator
// key), accounts.go (users, API keys, setup tokens and the accounts audit
// log),
// incidents.go (incidents and their timelines, kill
// switches, status page components, the postmortem template and the
// incident audit log), store.go (what every backend provides) and
// tablepipes.go (fields, sort and limit after an aggregation, run the same
// way by every records engine).
//
// MonitorStore is the sum of four roles (MonitorDefStore, AlertStore,
// SilenceStore, SeriesStore) so that a consumer can take only the one it
// uses. TraceStore has its own backend, tracefs (files in a directory), for
// a node alone; PostgreSQL keeps traces too, for nodes that share it.
package store
