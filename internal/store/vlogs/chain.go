package vlogs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/chainrec"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// ChainStore is a store whose records, chain records included, live in
// the engine: base keeps the relational chain index (it must not write
// chain records of its own: sqlite's SetChainRecords(false)), the engine
// the searchable records derived from the blocks. Safe for concurrent
// use; WriteBlocks and RollbackTo are called by one writer (the indexer).
type ChainStore struct {
	store.Store
	*Engine
}

var (
	_ store.Store          = (*ChainStore)(nil)
	_ store.Searcher       = (*ChainStore)(nil)
	_ store.RecordWriter   = (*ChainStore)(nil)
	_ store.RecordRetainer = (*ChainStore)(nil)
)

// intentFile holds the block a rollback goes back to while it runs, so
// that a rollback cut short by a crash is finished at the next start.
const intentFile = "rollback"

// NewChainStore joins base and e, and finishes a rollback that a crash
// interrupted.
func NewChainStore(ctx context.Context, base store.Store, e *Engine) (*ChainStore, error) {
	cs := &ChainStore{Store: base, Engine: e}
	b, err := os.ReadFile(filepath.Join(e.dir, intentFile))
	if errors.Is(err, os.ErrNotExist) {
		return cs, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the records engine's rollback intent: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("the records engine's rollback intent %q is damaged: %w", b, err)
	}
	e.log.Info("records engine: finishing a rollback a crash interrupted", "toBlock", n)
	if err := cs.RollbackTo(ctx, n); err != nil {
		return nil, err
	}
	return cs, nil
}

// Close closes the engine, then the base store.
func (cs *ChainStore) Close() error { return errors.Join(cs.Engine.Close(), cs.Store.Close()) }

// WriteBlocks stores blocks in the base store, then their records in the
// engine. When the engine refuses them, the blocks are rolled back from
// the base store, so that a retry finds the same head.
func (cs *ChainStore) WriteBlocks(ctx context.Context, blocks []chain.Block) error {
	if len(blocks) == 0 {
		return nil
	}
	if err := cs.Store.WriteBlocks(ctx, blocks); err != nil {
		return err
	}
	var recs []record.Record
	lo, hi := cs.TimeRange()
	for i := range blocks {
		recs = chainrec.Append(recs, &blocks[i], lo, hi)
	}
	if err := cs.Engine.AppendRecords(ctx, recs); err != nil {
		if rerr := cs.Store.RollbackTo(context.WithoutCancel(ctx), blocks[0].Number-1); rerr != nil {
			return fmt.Errorf("cannot store chain records (%w), nor roll the blocks back: %v", err, rerr)
		}
		return fmt.Errorf("cannot store chain records: %w", err)
	}
	return nil
}

// RollbackTo removes the blocks above n and their chain records. While
// it runs, searches already leave those records out; the intent is on
// disk first, so that a crash midway is finished by the next
// NewChainStore; the records are deleted (a delete task, waited for)
// before the base store forgets the blocks.
func (cs *ChainStore) RollbackTo(ctx context.Context, n uint64) error {
	e := cs.Engine
	if err := e.enter(); err != nil {
		return err
	}
	defer e.inUse.Done()
	path := filepath.Join(e.dir, intentFile)
	if err := writeFileSync(path, strconv.FormatUint(n, 10)); err != nil {
		return fmt.Errorf("cannot roll back to block %d: %w", n, err)
	}
	f := "{" + logsql.FieldSource + "=" + strconv.Quote(record.SourceChain) + "} AND " + logsql.FieldBlock + ":>" +
		strconv.FormatUint(n, 10)
	e.hide.Store(&f)
	defer e.hide.Store(nil)
	// Every chain record, however far in the future its block claims to
	// be (the engine deletes up to the task's time).
	_, hi := e.TimeRange()
	if _, err := e.deleteWhere(ctx, f, hi.Add(time.Hour)); err != nil {
		return fmt.Errorf("cannot delete the chain records above block %d: %w", n, err)
	}
	if err := cs.Store.RollbackTo(ctx, n); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("cannot clear the rollback intent: %w", err)
	}
	return syncDir(e.dir)
}

// writeFileSync writes a small file durably, replacing any old one.
func writeFileSync(path, s string) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
