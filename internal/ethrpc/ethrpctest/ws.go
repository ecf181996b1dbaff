package ethrpctest

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// wsService serves the websocket side with go-ethereum's own RPC server:
// eth_subscribe newHeads, and eth_chainId, eth_blockNumber and
// eth_getBlockByNumber answered by the upstream.
type wsService struct {
	srv      *rpc.Server
	handler  http.Handler
	upstream Handler

	mu   sync.Mutex
	subs map[rpc.ID]*rpc.Notifier
}

func newWSService(upstream Handler) *wsService {
	w := &wsService{srv: rpc.NewServer(), upstream: upstream, subs: make(map[rpc.ID]*rpc.Notifier)}
	if err := w.srv.RegisterName("eth", &ethAPI{w}); err != nil {
		panic("BUG: cannot register test eth API: " + err.Error())
	}
	w.handler = w.srv.WebsocketHandler([]string{"*"})
	return w
}

func (w *wsService) close() { w.srv.Stop() }

// ethAPI is the eth namespace of the websocket server.
type ethAPI struct{ w *wsService }

// NewHeads serves eth_subscribe newHeads.
func (a *ethAPI) NewHeads(ctx context.Context) (*rpc.Subscription, error) {
	n, ok := rpc.NotifierFromContext(ctx)
	if !ok {
		return nil, rpc.ErrNotificationsUnsupported
	}
	sub := n.CreateSubscription()
	a.w.mu.Lock()
	a.w.subs[sub.ID] = n
	a.w.mu.Unlock()
	go func() {
		<-sub.Err()
		a.w.mu.Lock()
		delete(a.w.subs, sub.ID)
		a.w.mu.Unlock()
	}()
	return sub, nil
}

// ChainId serves eth_chainId.
func (a *ethAPI) ChainId(ctx context.Context) (json.RawMessage, error) {
	return a.w.upstream.ServeRPC(ctx, "eth_chainId", nil)
}

// BlockNumber serves eth_blockNumber.
func (a *ethAPI) BlockNumber(ctx context.Context) (json.RawMessage, error) {
	return a.w.upstream.ServeRPC(ctx, "eth_blockNumber", nil)
}

// GetBlockByNumber serves eth_getBlockByNumber.
func (a *ethAPI) GetBlockByNumber(ctx context.Context, number json.RawMessage, full bool) (json.RawMessage, error) {
	params, _ := json.Marshal([]any{number, full})
	return a.w.upstream.ServeRPC(ctx, "eth_getBlockByNumber", params)
}

// PushHead sends ref as a new head to every websocket subscriber and returns
// how many there were.
func (s *Server) PushHead(ref chain.BlockRef) int {
	head := map[string]any{"number": hexutil.Uint64(ref.Number), "hash": ref.Hash, "parentHash": ref.ParentHash}
	return s.pushRaw(head)
}

// PushRawHead sends any value as a new head notification, such as garbage
// that a client must survive.
func (s *Server) PushRawHead(v any) int { return s.pushRaw(v) }

func (s *Server) pushRaw(v any) int {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	for id, n := range s.ws.subs {
		n.Notify(id, v)
	}
	return len(s.ws.subs)
}

// Subscribers returns how many newHeads subscriptions are open.
func (s *Server) Subscribers() int {
	s.ws.mu.Lock()
	defer s.ws.mu.Unlock()
	return len(s.ws.subs)
}
