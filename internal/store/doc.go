// Package store declares the storage contracts of blocktorch as small role
// interfaces, and the domain errors every backend returns. Backends live in
// sub-packages (sqlite, later postgres) and all pass the storetest suite.
package store
