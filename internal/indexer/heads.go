package indexer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
)

// HeadSubscription is a live feed of new heads; *ethrpc.HeadSubscription
// satisfies it.
type HeadSubscription interface {
	Heads() <-chan chain.BlockRef
	Err() <-chan error
	Unsubscribe()
}

// Subscribe opens a head subscription. An error wrapping
// ethrpc.ErrNoSubscriptions means the node cannot push heads at all.
type Subscribe func(ctx context.Context) (HeadSubscription, error)

// SubscribeVia adapts ethrpc.Client.SubscribeHeads to Subscribe.
func SubscribeVia(c *ethrpc.Client) Subscribe {
	return func(ctx context.Context) (HeadSubscription, error) {
		sub, err := c.SubscribeHeads(ctx)
		if err != nil {
			return nil, err
		}
		return sub, nil
	}
}

// resubscribeDelay is the wait before subscribing again after a failed
// attempt; the indexer keeps polling meanwhile.
const resubscribeDelay = 5 * time.Second

// FollowHeads turns pushed heads into wake-ups on wake (Config.NewHeads)
// until ctx ends. Without subscriptions it returns at once and the indexer
// polls; a failed attempt is retried after 5s and a dropped subscription is
// renewed. A wake-up is dropped when one is already pending: the indexer
// reads the node's head itself, so one pending wake-up stands for any number
// of heads.
func FollowHeads(ctx context.Context, subscribe Subscribe, wake chan<- struct{}, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	for ctx.Err() == nil {
		sub, err := subscribe(ctx)
		if errors.Is(err, ethrpc.ErrNoSubscriptions) {
			return
		}
		if err != nil {
			log.Warn("cannot subscribe to new heads; polling", "err", err)
			if !sleep(ctx, resubscribeDelay, nil) {
				return
			}
			continue
		}
		pump(ctx, sub, wake, log)
		sub.Unsubscribe()
	}
}

func pump(ctx context.Context, sub HeadSubscription, wake chan<- struct{}, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-sub.Err():
			log.Warn("head subscription ended; renewing", "err", err)
			return
		case _, ok := <-sub.Heads():
			if !ok {
				return
			}
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
}
