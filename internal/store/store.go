package store

// Store is everything a backend provides.
type Store interface {
	ChainWriter
	ChainReader
	ContractStore
	Close() error
}
