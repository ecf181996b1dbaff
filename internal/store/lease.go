package store

import (
	"context"
	"time"
)

// Lease is the leader lease of the nodes that share one store: at most one
// of them holds it at a time, and only the holder runs the leader's work
// (following the chain, evaluating monitors, delivering the outbox). Safe
// for concurrent use.
type Lease interface {
	// Acquire waits until this node holds the lease, or ctx ends (it then
	// returns ctx's error). Errors talking to the store are retried while
	// waiting, not returned. A node holds at most one term at a time: call
	// Acquire again only after the previous term was released or lost.
	Acquire(ctx context.Context) (LeaseTerm, error)
}

// LeaseTerm is one holding of the lease.
type LeaseTerm interface {
	// Lost is closed when the lease is lost (the store cannot confirm it
	// in time, or the connection that holds it broke). The holder must stop
	// the leader's work at once, then Release.
	Lost() <-chan struct{}
	// Release gives the lease up (if it is still held) and frees what the
	// term holds. It may be called more than once.
	Release(ctx context.Context) error
}

// Node roles.
const (
	RoleLeader   = "leader"
	RoleFollower = "follower"
)

// Node is one serving process as the nodes sharing a store see it.
type Node struct {
	ID string `json:"id"`
	// Addr is the node's HTTP address (http://host:port).
	Addr string `json:"addr"`
	// Role is RoleLeader or RoleFollower, as the node last said.
	Role      string    `json:"role"`
	Started   time.Time `json:"started"`
	Heartbeat time.Time `json:"heartbeat"`
}

// NodeRegistry records the nodes that share a store, so that each can say
// which node leads and which are alive.
type NodeRegistry interface {
	// Beat records n (its role and address) as alive at n.Heartbeat,
	// adding it when new.
	Beat(ctx context.Context, n Node) error
	// Nodes lists the nodes whose last heartbeat is at or after since,
	// by ID.
	Nodes(ctx context.Context, since time.Time) ([]Node, error)
	// Forget removes a node (one stopping cleanly) and the nodes whose
	// last heartbeat is before olderThan. An unknown id is not an error.
	Forget(ctx context.Context, id string, olderThan time.Time) error
}
