package store

import "context"

// Kinds of Change: the parts of the relational state that a node keeps a
// copy of in memory.
const (
	// ChangeContracts: a contract's ABI was added or replaced (Key is its
	// address).
	ChangeContracts = "contracts"
	// ChangeVerified: a contract's verification was recorded (Key is its
	// address).
	ChangeVerified = "verified"
	// ChangeMonitors: a monitor, channel or silence was added, replaced or
	// deleted (Key is its id, or the origin of a replaced set).
	ChangeMonitors = "monitors"
)

// Change says that a part of the relational state changed, so that every
// node sharing the store reloads its copy of that part.
type Change struct {
	// Kind is one of the Change… constants, or a kind Publish was given.
	Kind string
	// Key names what changed within the kind; it may be empty.
	Key string
	// Resync says that changes may have been missed (the subscription
	// reconnected, or fell behind): reload every kind. Kind and Key are
	// empty then.
	Resync bool
}

// Changes carries change notices between the nodes that share a store.
// The stores publish their own writes of state that nodes copy (contracts,
// verifications, monitors), in the writing transaction where the backend
// has one that spans nodes; Publish announces anything else.
//
// Safe for concurrent use.
type Changes interface {
	// Publish announces a change of kind (lower-case letters) and key to
	// every subscriber of every node, this one's included.
	Publish(ctx context.Context, kind, key string) error
	// Subscribe returns the changes published from now on, by any node,
	// until ctx ends or the store is closed, when the channel is closed.
	// A subscriber that cannot keep up, or whose backend lost its
	// connection for a while, gets a Change with Resync set instead of
	// what it missed. Notices of one change may arrive more than once.
	Subscribe(ctx context.Context) <-chan Change
}
