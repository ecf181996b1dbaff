package oracle

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// Node is the part of a JSON-RPC client the oracle reads through;
// *ethclient.Client implements it. A nil block means the latest.
type Node interface {
	CallContract(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
	CodeAt(ctx context.Context, addr common.Address, block *big.Int) ([]byte, error)
	FilterLogs(ctx context.Context, q ethereum.FilterQuery) ([]types.Log, error)
	HeaderByNumber(ctx context.Context, number *big.Int) (*types.Header, error)
}

// Details is what a feed says of itself at one block.
type Details struct {
	Address     common.Address `json:"address"`
	Description string         `json:"description"`
	Decimals    uint8          `json:"decimals"`
	// Version is empty when the feed has no version().
	Version string `json:"version"`
	// Proxy says the address is an aggregator proxy; Aggregator is the
	// aggregator it reads from then (followed through proxies of proxies).
	Proxy      bool           `json:"proxy"`
	Aggregator common.Address `json:"aggregator,omitempty"`
	Latest     Round          `json:"-"`
	// MinAnswer and MaxAnswer are the aggregator's bounds, nil when it
	// does not expose them.
	MinAnswer *big.Int `json:"-"`
	MaxAnswer *big.Int `json:"-"`
	// Block is the block read at.
	Block uint64 `json:"block"`
	// BlockTime is the block's time when read at the latest block (zero
	// when read at a given block).
	BlockTime time.Time `json:"-"`
}

// maxProxyHops bounds how many proxies ReadFeed follows.
const maxProxyHops = 4

// call runs a read-only call. A revert is ErrReverted with the node's
// reason; other errors are the node's, wrapped.
func call(ctx context.Context, n Node, to common.Address, sel [4]byte, args []byte, block *big.Int) ([]byte, error) {
	data := append(sel[:len(sel):len(sel)], args...)
	out, err := n.CallContract(ctx, ethereum.CallMsg{To: &to, Data: data}, block)
	if err != nil {
		if isRevert(err) {
			return nil, fmt.Errorf("%w: %w", ErrReverted, err)
		}
		return nil, err
	}
	return out, nil
}

// isRevert tells a call the EVM refused (revert, out of gas in a loop of
// calls, invalid opcode) from a node that could not answer.
func isRevert(err error) bool {
	var de rpc.DataError
	if errors.As(err, &de) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"execution reverted", "out of gas", "invalid opcode", "stack limit", "invalid jump"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// hasRevertData says a revert carried a reason or a custom error.
func hasRevertData(err error) bool {
	var de rpc.DataError
	if !errors.As(err, &de) {
		return false
	}
	s, ok := de.ErrorData().(string)
	return ok && len(s) > 2
}

// ReadFeed reads a feed's details at block (nil: the latest). It refuses
// an address without code, a contract that does not answer
// latestRoundData and decimals() like a feed (ErrNotFeed), a feed that
// reverts them (ErrReverted), decimals above MaxDecimals (ErrBadDecimals)
// and a proxy whose aggregator() leads back to itself (ErrProxyLoop).
func ReadFeed(ctx context.Context, n Node, addr common.Address, block *big.Int) (Details, error) {
	d := Details{Address: addr}
	if block == nil {
		h, err := n.HeaderByNumber(ctx, nil)
		if err != nil {
			return d, fmt.Errorf("cannot read the head: %w", err)
		}
		block, d.BlockTime = h.Number, time.Unix(int64(h.Time), 0).UTC()
	}
	d.Block = block.Uint64()
	code, err := n.CodeAt(ctx, addr, block)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "historical state") || strings.Contains(msg, "missing trie node") {
			return d, fmt.Errorf("cannot read the code of %s at block %d (a node that prunes old state no longer has it): %w", addr, d.Block, err)
		}
		return d, fmt.Errorf("cannot read the code of %s at block %d: %w", addr, d.Block, err)
	}
	if len(code) == 0 {
		return d, fmt.Errorf("%w: %s holds no contract at block %d", ErrNotFeed, addr, d.Block)
	}
	// Follow aggregator() first: a proxy pointing to itself would make
	// every read recurse until it runs out of gas.
	seen := map[common.Address]bool{addr: true}
	cur := addr
	for hop := 0; ; hop++ {
		out, err := call(ctx, n, cur, selAggregator, nil, block)
		if errors.Is(err, ErrReverted) || (err == nil && len(out) < 32) {
			break // not a proxy
		}
		if err != nil {
			return d, fmt.Errorf("cannot read aggregator() of %s: %w", cur, err)
		}
		next, err := decodeAddress(out)
		if err != nil || next == (common.Address{}) {
			break
		}
		if seen[next] {
			return d, fmt.Errorf("%w: %s → aggregator() %s, read before", ErrProxyLoop, cur, next)
		}
		if hop == maxProxyHops {
			return d, fmt.Errorf("%w: more than %d proxies behind %s", ErrProxyLoop, maxProxyHops, addr)
		}
		seen[next] = true
		d.Proxy, d.Aggregator, cur = true, next, next
	}
	out, err := call(ctx, n, addr, selLatestRoundData, nil, block)
	if errors.Is(err, ErrReverted) && !d.Proxy && !hasRevertData(err) {
		// A contract without the function reverts with nothing to say.
		return d, fmt.Errorf("%w: %s does not answer latestRoundData()", ErrNotFeed, addr)
	}
	if err != nil {
		return d, fmt.Errorf("cannot read latestRoundData() of %s: %w", addr, err)
	}
	if d.Latest, err = DecodeRound(out); err != nil {
		return d, fmt.Errorf("latestRoundData() of %s: %w", addr, err)
	}
	if out, err = call(ctx, n, addr, selDecimals, nil, block); errors.Is(err, ErrReverted) && !d.Proxy {
		return d, fmt.Errorf("%w: %s does not answer decimals()", ErrNotFeed, addr)
	} else if err != nil {
		return d, fmt.Errorf("cannot read decimals() of %s: %w", addr, err)
	}
	if d.Decimals, err = decodeDecimals(out); err != nil {
		return d, fmt.Errorf("decimals() of %s: %w", addr, err)
	}
	// The rest is optional: feeds without them are still feeds.
	if out, err := call(ctx, n, addr, selDescription, nil, block); err == nil {
		d.Description, _ = decodeString(out)
	}
	if out, err := call(ctx, n, addr, selVersion, nil, block); err == nil && len(out) >= 32 {
		d.Version = new(big.Int).SetBytes(out[:32]).String()
	}
	if out, err := call(ctx, n, cur, selMinAnswer, nil, block); err == nil {
		d.MinAnswer, _ = decodeInt(out)
	}
	if out, err := call(ctx, n, cur, selMaxAnswer, nil, block); err == nil {
		d.MaxAnswer, _ = decodeInt(out)
	}
	return d, nil
}
