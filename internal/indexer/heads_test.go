package indexer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/ethrpc"
)

type fakeSub struct {
	heads chan chain.BlockRef
	errc  chan error
	once  sync.Once
	gone  chan struct{}
}

func newFakeSub() *fakeSub {
	return &fakeSub{heads: make(chan chain.BlockRef), errc: make(chan error, 1), gone: make(chan struct{})}
}

func (s *fakeSub) Heads() <-chan chain.BlockRef { return s.heads }
func (s *fakeSub) Err() <-chan error            { return s.errc }
func (s *fakeSub) Unsubscribe()                 { s.once.Do(func() { close(s.gone) }) }

// TestFollowHeads walks the follower through what a node does: refuse a
// subscription (retried after 5s), push heads (each one a wake-up, at most
// one pending), drop the subscription (renewed at once), and finally say it
// cannot push heads at all (the follower stops; the indexer polls).
func TestFollowHeads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		first, second := newFakeSub(), newFakeSub()
		var (
			mu    sync.Mutex
			calls []time.Time
		)
		at := func() []time.Time { mu.Lock(); defer mu.Unlock(); return append([]time.Time(nil), calls...) }
		start := time.Now()
		subscribe := func(ctx context.Context) (HeadSubscription, error) {
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, time.Now())
			switch len(calls) {
			case 1:
				return nil, errors.New("dial refused")
			case 2:
				return first, nil
			case 3:
				return second, nil
			default:
				return nil, fmt.Errorf("cannot subscribe to new heads: %w", ethrpc.ErrNoSubscriptions)
			}
		}
		wake := make(chan struct{}, 1)
		done := make(chan struct{})
		go func() {
			FollowHeads(t.Context(), subscribe, wake, slog.New(slog.NewTextHandler(io.Discard, nil)))
			close(done)
		}()

		synctest.Wait()
		if calls := at(); len(calls) != 1 {
			t.Fatalf("subscribed %d times before the retry delay, want 1", len(calls))
		}
		time.Sleep(resubscribeDelay) // fake clock: advances at once
		synctest.Wait()
		if calls := at(); len(calls) != 2 {
			t.Fatalf("after a refusal and %v: %d subscriptions, want 2", resubscribeDelay, len(calls))
		} else if d := calls[1].Sub(start); d != resubscribeDelay {
			t.Fatalf("second subscription at %v, want %v", d, resubscribeDelay)
		}

		first.heads <- chain.BlockRef{Number: 1}
		first.heads <- chain.BlockRef{Number: 2} // a wake-up is pending: dropped, not blocking
		synctest.Wait()
		if got := len(wake); got != 1 {
			t.Fatalf("pending wake-ups after two heads = %d, want 1", got)
		}
		<-wake
		first.heads <- chain.BlockRef{Number: 3}
		synctest.Wait()
		if got := len(wake); got != 1 {
			t.Fatalf("pending wake-ups after a head = %d, want 1", got)
		}
		<-wake

		first.errc <- errors.New("connection reset")
		synctest.Wait()
		select {
		case <-first.gone:
		default:
			t.Fatal("a dropped subscription was not unsubscribed")
		}
		if calls := at(); len(calls) != 3 || calls[2] != calls[1] {
			t.Fatalf("after a drop: %d subscriptions, want 3 at once", len(calls))
		}

		close(second.heads) // the node ended this one too; the next attempt finds no subscriptions
		<-done
		if calls := at(); len(calls) != 4 {
			t.Fatalf("subscriptions = %d, want 4", len(calls))
		}
		select {
		case <-second.gone:
		default:
			t.Fatal("the closed subscription was not unsubscribed")
		}
	})
}

// TestFollowHeadsStopsWithContext checks that a follower waiting for heads
// returns when its context ends.
func TestFollowHeadsStopsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sub := newFakeSub()
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			FollowHeads(ctx, func(context.Context) (HeadSubscription, error) { return sub, nil }, make(chan struct{}, 1), nil)
			close(done)
		}()
		synctest.Wait()
		cancel()
		<-done
		select {
		case <-sub.gone:
		default:
			t.Fatal("the subscription was not unsubscribed when the context ended")
		}
	})
}
