package sqlite

import (
	"context"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/changehub"
)

var _ store.Changes = (*DB)(nil)

// Publish announces a change to the subscribers of this process. A SQLite
// store serves one node, so the notices never leave it.
func (db *DB) Publish(ctx context.Context, kind, key string) error {
	if err := changehub.CheckKind(kind); err != nil {
		return fmt.Errorf("cannot publish a change: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cannot publish a %s change: %w", kind, err)
	}
	db.changed(kind, key)
	return nil
}

// Subscribe returns the changes published from now on: the store's own
// writes of contracts, verifications and monitors once committed, and
// what Publish announces.
func (db *DB) Subscribe(ctx context.Context) <-chan store.Change {
	return db.changes.Subscribe(ctx)
}

// changed announces a committed write.
func (db *DB) changed(kind, key string) {
	db.changes.Send(store.Change{Kind: kind, Key: key})
}
