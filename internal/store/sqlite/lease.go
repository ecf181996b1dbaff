package sqlite

import (
	"context"
	"sync"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.Lease = (*DB)(nil)

// Acquire returns the leader lease at once: a SQLite file is served by
// one node, which always leads. The term is lost only when released.
func (db *DB) Acquire(ctx context.Context) (store.LeaseTerm, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return &soleTerm{lost: make(chan struct{})}, nil
}

// soleTerm is the single node's lease.
type soleTerm struct {
	lost chan struct{}
	once sync.Once
}

func (t *soleTerm) Lost() <-chan struct{} { return t.lost }

func (t *soleTerm) Release(context.Context) error {
	t.once.Do(func() { close(t.lost) })
	return nil
}
