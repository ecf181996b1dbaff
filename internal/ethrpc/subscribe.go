package ethrpc

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/rpc"
)

// HeadSubscription delivers new chain heads pushed by the node.
type HeadSubscription struct {
	heads chan chain.BlockRef
	errc  chan error
	sub   *rpc.ClientSubscription
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}
}

// Heads delivers each new head. It is closed when the subscription ends.
// Heads may skip numbers or repeat them after a reorg.
func (s *HeadSubscription) Heads() <-chan chain.BlockRef { return s.heads }

// Err delivers at most one error, when the node or connection ended the
// subscription; it is not sent to after Unsubscribe.
func (s *HeadSubscription) Err() <-chan error { return s.errc }

// Unsubscribe ends the subscription and waits for its goroutine to stop.
// It may be called more than once.
func (s *HeadSubscription) Unsubscribe() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}

// SubscribeHeads subscribes to eth_subscribe newHeads. It returns
// ErrNoSubscriptions when the node or transport cannot push heads, in which
// case callers poll BlockNumber. The subscription ends on Unsubscribe or
// when ctx ends.
func (c *Client) SubscribeHeads(ctx context.Context) (*HeadSubscription, error) {
	caps, err := c.capabilities(ctx)
	if err != nil {
		return nil, fmt.Errorf("cannot subscribe to new heads: %w", err)
	}
	if !caps.Subscriptions {
		return nil, ErrNoSubscriptions
	}
	in := make(chan json.RawMessage, 16)
	var sub *rpc.ClientSubscription
	err = c.retry(ctx, "subscribe to new heads", "eth_subscribe", func(ctx context.Context) error {
		sctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
		var err error
		sub, err = c.rpc.EthSubscribe(sctx, in, "newHeads")
		return classify("eth_subscribe", err)
	})
	if err != nil {
		return nil, err
	}
	s := &HeadSubscription{
		heads: make(chan chain.BlockRef),
		errc:  make(chan error, 1),
		sub:   sub,
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
	go s.run(ctx, c, in)
	return s, nil
}

func (s *HeadSubscription) run(ctx context.Context, c *Client, in <-chan json.RawMessage) {
	defer close(s.done)
	defer close(s.heads)
	defer s.sub.Unsubscribe()
	for {
		select {
		case raw := <-in:
			ref, err := parseHead(raw)
			if err != nil {
				c.opts.Logger.Warn("ignoring malformed new head", "err", err)
				continue
			}
			select {
			case s.heads <- ref:
			case <-s.stop:
				return
			case <-ctx.Done():
				return
			}
		case err := <-s.sub.Err():
			if err != nil {
				s.errc <- fmt.Errorf("head subscription ended: %w", err)
			}
			return
		case <-s.stop:
			return
		case <-ctx.Done():
			return
		}
	}
}

// parseHead decodes a newHeads notification.
func parseHead(data []byte) (chain.BlockRef, error) {
	var h rpcHeader
	if err := json.Unmarshal(data, &h); err != nil {
		return chain.BlockRef{}, malformed("new head: %v", err)
	}
	if h.Number == nil {
		return chain.BlockRef{}, malformed("new head without number")
	}
	if err := h.check(uint64(*h.Number)); err != nil {
		return chain.BlockRef{}, err
	}
	return chain.BlockRef{Number: uint64(*h.Number), Hash: *h.Hash, ParentHash: h.ParentHash}, nil
}
