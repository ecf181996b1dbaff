package indexer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Source is the node the indexer reads from. ethrpc.Client satisfies it.
type Source interface {
	BlockNumber(ctx context.Context) (uint64, error)
	// BlockRefs returns the canonical refs of the given numbers, in order.
	BlockRefs(ctx context.Context, numbers []uint64) ([]chain.BlockRef, error)
	// Blocks returns the full blocks from..to inclusive, with receipts.
	Blocks(ctx context.Context, from, to uint64) ([]chain.Block, error)
	// RevertDataBlocks returns the revert data of the failed transactions of
	// the blocks, by
	// hash; transactions it could not get data for are absent.
	RevertDataBlocks(ctx context.Context, blocks []chain.Block) (map[common.Hash][]byte, error)
}

// Store is what the indexer needs of the store.
type Store interface {
	store.ChainWriter
	Head(ctx context.Context) (chain.BlockRef, error)
	Tail(ctx context.Context) (chain.BlockRef, error)
	BlockRef(ctx context.Context, number uint64) (chain.BlockRef, error)
}

// DecodeFunc fills the decoded call, events and revert of a transaction in
// place. It is called on the indexer's goroutine.
type DecodeFunc func(tx *chain.Tx)

// Hooks are optional callbacks, all called on the indexer's goroutine; they
// must not block.
type Hooks struct {
	// OnBatch is called after a batch is stored.
	OnBatch func(b BatchInfo)
	// OnReorg is called after a rollback: blocks above Ancestor were orphaned.
	OnReorg func(r ReorgInfo)
	// OnHead is called whenever the node's head is read.
	OnHead func(nodeHead uint64)
	// OnError is called for every error the indexer recovers from.
	OnError func(err error)
}

// BatchInfo describes a stored batch.
type BatchInfo struct {
	From, To     uint64
	Txs, Logs    int
	Failed       int
	Target       uint64 // the block the indexer is heading for
	Elapsed      time.Duration
	RevertMissed int // failed txs whose revert data the node did not give
}

// ReorgInfo describes a rollback.
type ReorgInfo struct {
	Ancestor uint64 // the newest block still canonical
	OldHead  chain.BlockRef
	Depth    uint64
}

// ErrChainMismatch is returned when the store holds blocks of another chain
// (no common ancestor within the stored range or MaxReorgDepth).
var ErrChainMismatch = errors.New("the store holds blocks of another chain")

// Config configures an Indexer.
type Config struct {
	// From is the first block to index when the store is empty. A negative
	// value counts back from the node's head at start (-1000: the last
	// thousand blocks).
	From int64
	// Confirmations keeps the indexer that many blocks behind the head.
	Confirmations uint64
	// BatchSize is the number of blocks fetched and stored at once while
	// backfilling (default 100).
	BatchSize uint64
	// FetchConcurrency splits a batch into that many requests sent at once
	// (default 4).
	FetchConcurrency int
	// PollInterval is how often the head is polled when no head
	// notifications arrive (default 1s).
	PollInterval time.Duration
	// NewHeads, when set, wakes the indexer as soon as a head arrives
	// (a WebSocket subscription); polling continues as a fallback.
	NewHeads <-chan struct{}
	// MaxReorgDepth bounds the search for a common ancestor (default 4096).
	MaxReorgDepth uint64
	// Decode decodes transactions before they are stored; nil stores raw.
	Decode DecodeFunc
	Hooks  Hooks
	Logger *slog.Logger
	// RetryMin and RetryMax bound the backoff after a failed round
	// (defaults 200ms and 10s).
	RetryMin, RetryMax time.Duration
}

// Indexer copies a chain into a store. Run it on one goroutine.
type Indexer struct {
	src Source
	st  Store
	cfg Config
	log *slog.Logger
	pre *prefetch // the next batch, being fetched
}

// New returns an indexer; call Run to start it.
func New(src Source, st Store, cfg Config) *Indexer {
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 100
	}
	if cfg.FetchConcurrency == 0 {
		cfg.FetchConcurrency = 4
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = time.Second
	}
	if cfg.MaxReorgDepth == 0 {
		cfg.MaxReorgDepth = 4096
	}
	if cfg.RetryMin == 0 {
		cfg.RetryMin = 200 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Indexer{src: src, st: st, cfg: cfg, log: cfg.Logger}
}

// Run indexes until ctx ends; it returns ctx's error, or ErrChainMismatch,
// the only error it does not retry.
func (ix *Indexer) Run(ctx context.Context) error {
	backoff := ix.cfg.RetryMin
	for {
		caughtUp, err := ix.Step(ctx)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, ErrChainMismatch):
			return err
		case err != nil:
			ix.log.Warn("indexer round failed; retrying", "err", err, "in", backoff)
			if ix.cfg.Hooks.OnError != nil {
				ix.cfg.Hooks.OnError(err)
			}
			if !sleep(ctx, backoff, nil) {
				return ctx.Err()
			}
			backoff = min(backoff*2, ix.cfg.RetryMax)
			continue
		}
		backoff = ix.cfg.RetryMin
		if caughtUp && !sleep(ctx, ix.cfg.PollInterval, ix.cfg.NewHeads) {
			return ctx.Err()
		}
	}
}

// sleep waits for d, a wake-up on wake (nil never wakes), or ctx's end; it
// reports false on the latter.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-wake:
	}
	return true
}

// Step does one round: read the node's head, handle a reorg if the stored
// head is no longer canonical, and store at most one batch. It reports
// whether the store has caught up with the target.
func (ix *Indexer) Step(ctx context.Context) (caughtUp bool, err error) {
	nodeHead, err := ix.src.BlockNumber(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot read the node's head: %w", err)
	}
	if ix.cfg.Hooks.OnHead != nil {
		ix.cfg.Hooks.OnHead(nodeHead)
	}
	if nodeHead < ix.cfg.Confirmations {
		return true, nil
	}
	target := nodeHead - ix.cfg.Confirmations

	head, err := ix.st.Head(ctx)
	var next uint64
	switch {
	case errors.Is(err, store.ErrNotFound):
		next = ix.startBlock(nodeHead)
	case err != nil:
		return false, fmt.Errorf("cannot read the stored head: %w", err)
	default:
		// A node that rewound below our head (a reorg to a shorter chain,
		// or a node restored from an older snapshot) and a head whose hash
		// changed are the same case: find the common ancestor.
		check := min(head.Number, nodeHead)
		refs, err := ix.src.BlockRefs(ctx, []uint64{check})
		if err != nil {
			return false, fmt.Errorf("cannot read block %d from the node: %w", check, err)
		}
		stored := head
		if check != head.Number {
			if stored, err = ix.st.BlockRef(ctx, check); err != nil {
				return false, fmt.Errorf("cannot read stored block %d: %w", check, err)
			}
		}
		if refs[0].Hash != stored.Hash || check != head.Number {
			if err := ix.rollback(ctx, head, check); err != nil {
				return false, err
			}
			return false, nil
		}
		next = head.Number + 1
	}
	if next > target {
		return true, nil
	}
	to := min(next+ix.cfg.BatchSize-1, target)
	if err := ix.index(ctx, next, to, target); err != nil {
		return false, err
	}
	return to == target, nil
}

func (ix *Indexer) startBlock(nodeHead uint64) uint64 {
	if ix.cfg.From >= 0 {
		return uint64(ix.cfg.From)
	}
	back := uint64(-ix.cfg.From)
	if back > nodeHead {
		return 0
	}
	return nodeHead - back
}

// rollback finds the newest stored block at or below from that is still
// canonical and deletes everything above it.
func (ix *Indexer) rollback(ctx context.Context, oldHead chain.BlockRef, from uint64) error {
	tail, err := ix.st.Tail(ctx)
	if err != nil {
		return fmt.Errorf("cannot read the stored tail: %w", err)
	}
	const chunk = 64
	n := from
	for {
		if oldHead.Number-n > ix.cfg.MaxReorgDepth {
			return fmt.Errorf("%w: no common ancestor within %d blocks of %d", ErrChainMismatch, ix.cfg.MaxReorgDepth, oldHead.Number)
		}
		lo := tail.Number
		if n >= lo+chunk {
			lo = n - chunk + 1
		}
		nums := make([]uint64, 0, n-lo+1)
		for i := n; ; i-- {
			nums = append(nums, i)
			if i == lo {
				break
			}
		}
		refs, err := ix.src.BlockRefs(ctx, nums)
		if err != nil {
			return fmt.Errorf("cannot read blocks %d-%d from the node: %w", lo, n, err)
		}
		for i, num := range nums {
			stored, err := ix.st.BlockRef(ctx, num)
			if err != nil {
				return fmt.Errorf("cannot read stored block %d: %w", num, err)
			}
			if stored.Hash == refs[i].Hash {
				return ix.rollbackTo(ctx, oldHead, num)
			}
		}
		if lo == tail.Number {
			if tail.Number == 0 {
				return fmt.Errorf("%w: even block 0 differs (stored %s)", ErrChainMismatch, oldHead.Hash)
			}
			// Everything we hold was orphaned: start over below the tail.
			return ix.rollbackTo(ctx, oldHead, tail.Number-1)
		}
		n = lo - 1
	}
}

func (ix *Indexer) rollbackTo(ctx context.Context, oldHead chain.BlockRef, ancestor uint64) error {
	if err := ix.st.RollbackTo(ctx, ancestor); err != nil {
		return fmt.Errorf("cannot roll back to block %d: %w", ancestor, err)
	}
	info := ReorgInfo{Ancestor: ancestor, OldHead: oldHead, Depth: oldHead.Number - ancestor}
	ix.log.Warn("reorg: rolled back orphaned blocks", "ancestor", ancestor, "oldHead", oldHead.Number, "depth", info.Depth)
	if ix.cfg.Hooks.OnReorg != nil {
		ix.cfg.Hooks.OnReorg(info)
	}
	return nil
}

// fetched is a batch read from the node: blocks with their revert data.
type fetched struct {
	from, to uint64
	blocks   []chain.Block
	reverts  map[common.Hash][]byte
	err      error
	elapsed  time.Duration
}

// prefetch is a fetch running ahead while the previous batch is stored.
type prefetch struct {
	from, to uint64
	done     chan fetched
}

// fetch reads blocks from..to and the revert data of their failed
// transactions; large ranges are split into FetchConcurrency parts fetched
// at once, since a node answers separate requests in parallel.
func (ix *Indexer) fetch(ctx context.Context, from, to uint64) fetched {
	start := time.Now()
	f := fetched{from: from, to: to}
	parts := uint64(max(ix.cfg.FetchConcurrency, 1))
	n := to - from + 1
	size := max((n+parts-1)/parts, 10)
	var ranges [][2]uint64
	for lo := from; lo <= to; lo += size {
		ranges = append(ranges, [2]uint64{lo, min(lo+size-1, to)})
	}
	results := make([][]chain.Block, len(ranges))
	errs := make([]error, len(ranges))
	var wg sync.WaitGroup
	for i, r := range ranges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = ix.src.Blocks(ctx, r[0], r[1])
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.err = fmt.Errorf("cannot fetch blocks %d-%d: %w", from, to, err)
		return f
	}
	for _, r := range results {
		f.blocks = append(f.blocks, r...)
	}
	// The node may have reorged while we fetched: a batch whose blocks do
	// not chain is refetched in the next round.
	for i := 1; i < len(f.blocks); i++ {
		if f.blocks[i].ParentHash != f.blocks[i-1].Hash {
			f.err = fmt.Errorf("blocks %d-%d changed while fetched (reorg in progress)", from, to)
			return f
		}
	}
	hasFailed := false
	for _, b := range f.blocks {
		for _, tx := range b.Txs {
			hasFailed = hasFailed || tx.Failed()
		}
	}
	if hasFailed {
		data, err := ix.src.RevertDataBlocks(ctx, f.blocks)
		if err != nil {
			// Revert data is an enrichment: the blocks are stored without it
			// rather than not at all.
			ix.log.Warn("cannot fetch revert data; storing failed txs without it", "from", from, "to", to, "err", err)
			if ix.cfg.Hooks.OnError != nil {
				ix.cfg.Hooks.OnError(err)
			}
		}
		f.reverts = data
	}
	f.elapsed = time.Since(start)
	return f
}

// startPrefetch fetches from..to in the background.
func (ix *Indexer) startPrefetch(ctx context.Context, from, to uint64) {
	p := &prefetch{from: from, to: to, done: make(chan fetched, 1)}
	go func() { p.done <- ix.fetch(ctx, from, to) }()
	ix.pre = p
}

// takePrefetch returns the prefetched batch if it is the one wanted; a
// stale one (after a reorg, or another range) is dropped.
func (ix *Indexer) takePrefetch(ctx context.Context, from, to uint64) (fetched, bool) {
	p := ix.pre
	if p == nil {
		return fetched{}, false
	}
	ix.pre = nil
	var f fetched
	select {
	case f = <-p.done:
	case <-ctx.Done():
		return fetched{}, false
	}
	if p.from != from || f.err != nil || p.to > to {
		return fetched{}, false
	}
	return f, true
}

// index fetches (or takes the prefetched), decodes and stores blocks
// from..to, starting the fetch of the next batch first when the target is
// further away, so that the node's work overlaps with ours.
func (ix *Indexer) index(ctx context.Context, from, to, target uint64) error {
	f, ok := ix.takePrefetch(ctx, from, to)
	if !ok {
		f = ix.fetch(ctx, from, to)
		if f.err != nil {
			return f.err
		}
	}
	to = f.to
	if to < target {
		ix.startPrefetch(ctx, to+1, min(to+ix.cfg.BatchSize, target))
	}
	start := time.Now()
	blocks := f.blocks
	missing := map[common.Hash]struct{}{}
	info := BatchInfo{From: from, To: to, Target: target}
	for bi := range blocks {
		info.Txs += len(blocks[bi].Txs)
		for ti := range blocks[bi].Txs {
			tx := &blocks[bi].Txs[ti]
			info.Logs += len(tx.Logs)
			if !tx.Failed() {
				continue
			}
			info.Failed++
			if d, ok := f.reverts[tx.Hash]; ok {
				tx.RevertData = d
			} else {
				info.RevertMissed++
				missing[tx.Hash] = struct{}{}
			}
		}
	}
	if ix.cfg.Decode != nil {
		for bi := range blocks {
			for ti := range blocks[bi].Txs {
				ix.cfg.Decode(&blocks[bi].Txs[ti])
			}
		}
	}
	// A failed tx without data reads as "reverted with no data" to a
	// decoder; say instead that the node did not tell.
	for bi := range blocks {
		for ti := range blocks[bi].Txs {
			tx := &blocks[bi].Txs[ti]
			if _, ok := missing[tx.Hash]; ok {
				tx.Revert = &chain.Revert{Kind: chain.RevertUnknown, Message: "revert data unavailable: the node could not replay the transaction"}
			}
		}
	}
	if err := ix.st.WriteBlocks(ctx, blocks); err != nil {
		// ErrConflict: the first block does not extend our head, a reorg
		// that the next round's check handles.
		return fmt.Errorf("cannot store blocks %d-%d: %w", from, to, err)
	}
	info.Elapsed = f.elapsed + time.Since(start)
	if ix.cfg.Hooks.OnBatch != nil {
		ix.cfg.Hooks.OnBatch(info)
	}
	return nil
}
