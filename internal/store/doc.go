// Package store declares the storage contracts of blocktorch as small role
// interfaces, and the domain errors every backend returns. Backends live in
// sub-packages (sqlite, later postgres) and all pass the storetest suite.
//
// One file per domain: errors.go (ErrNotFound, ErrConflict, ErrInvalid),
// chain.go (indexed blocks, transactions and logs), contracts.go and
// verified.go (the contract registry and verified sources), records.go and
// search.go (off-chain records and queries over every record),
// dashboards.go (dashboards and saved searches), shares.go (share links and
// their audit log), monitors.go (monitor definitions, alerts, silences,
// series), outbox.go (the notification queue) and store.go (what every
// backend provides).
package store
