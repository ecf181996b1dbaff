package vlhttp

import (
	"context"
	"fmt"
	"strconv"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/chainrec"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// ChainStore is a store whose records, chain records included, live on
// the server: base keeps the relational chain index (it must not write
// chain records of its own: sqlite's SetChainRecords(false)), the server
// the searchable records derived from the blocks. Safe for concurrent
// use.
type ChainStore struct {
	store.Store
	*Client
}

var (
	_ store.Store          = (*ChainStore)(nil)
	_ store.Searcher       = (*ChainStore)(nil)
	_ store.RecordWriter   = (*ChainStore)(nil)
	_ store.RecordRetainer = (*ChainStore)(nil)
)

// NewChainStore joins base and c.
func NewChainStore(base store.Store, c *Client) *ChainStore {
	return &ChainStore{Store: base, Client: c}
}

// Close closes the base store.
func (cs *ChainStore) Close() error { return cs.Store.Close() }

// WriteBlocks stores blocks in the base store, then their records on the
// server. When the server refuses them, the blocks are rolled back from
// the base store, so that a retry finds the same head.
func (cs *ChainStore) WriteBlocks(ctx context.Context, blocks []chain.Block) error {
	if len(blocks) == 0 {
		return nil
	}
	if err := cs.Store.WriteBlocks(ctx, blocks); err != nil {
		return err
	}
	var recs []record.Record
	maxTime := cs.opts.Now().Add(cs.opts.FutureLimit)
	for i := range blocks {
		recs = chainrec.Append(recs, &blocks[i], minTime, maxTime)
	}
	if err := cs.Client.AppendRecords(ctx, recs); err != nil {
		if rerr := cs.Store.RollbackTo(context.WithoutCancel(ctx), blocks[0].Number-1); rerr != nil {
			return fmt.Errorf("cannot store chain records (%w), nor roll the blocks back: %v", err, rerr)
		}
		return fmt.Errorf("cannot store chain records: %w", err)
	}
	return nil
}

// RollbackTo rolls the base store back, then deletes the chain records of
// the blocks above n from the server and waits until they are gone.
func (cs *ChainStore) RollbackTo(ctx context.Context, n uint64) error {
	if err := cs.Store.RollbackTo(ctx, n); err != nil {
		return err
	}
	f := "{" + logsql.FieldSource + "=" + strconv.Quote(record.SourceChain) + "} AND " + logsql.FieldBlock + ":>" +
		strconv.FormatUint(n, 10)
	if _, err := cs.deleteWhere(ctx, f); err != nil {
		return fmt.Errorf("cannot delete the chain records above block %d: %w", n, err)
	}
	return nil
}
