package monitor

import (
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
)

// hit is one thing a match monitor matched in a block.
type hit struct {
	labels  map[string]string
	tx      common.Hash
	summary string
}

// DecodeCallFunc decodes calldata sent to a contract, as the decode
// package's Registry.DecodeCall does; it returns nil when the ABI is
// unknown.
type DecodeCallFunc func(to *common.Address, input []byte) (*chain.Call, error)

// blockInput is what the match kinds read of a block.
type blockInput struct {
	block  *chain.Block
	frames map[common.Hash][]Frame // nil without traces
	decode DecodeCallFunc
	names  func(common.Address) string
	// feeds reads price feeds for the feed kinds; nil leaves them idle.
	feeds FeedReader
}

func (c *compiled) watches(a *common.Address) bool {
	if a == nil {
		return false
	}
	return c.addrs == nil || c.addrs[*a]
}

// txFields are the where-fields every match offers.
func txField(tx *chain.Tx, name string) (string, bool) {
	switch name {
	case "tx.from":
		return tx.From.Hex(), true
	case "tx.to":
		if tx.To == nil {
			return "", false
		}
		return tx.To.Hex(), true
	case "tx.value":
		if tx.Value == nil {
			return "0", true
		}
		return tx.Value.String(), true
	case "tx.gasUsed":
		return fmt.Sprint(tx.GasUsed), true
	case "tx.hash":
		return tx.Hash.Hex(), true
	case "tx.status":
		if tx.Failed() {
			return "failed", true
		}
		return "success", true
	case "tx.create":
		// A contract-creation transaction: what its constructor emits
		// (the first owner, the first roles) is how it starts, not a change.
		return fmt.Sprint(tx.To == nil), true
	}
	return "", false
}

func argField(args []chain.Arg, name string) (string, bool) {
	for _, a := range args {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

func (c *compiled) whereHolds(get func(string) (string, bool)) bool {
	for _, w := range c.where {
		if !w.match(get(w.field)) {
			return false
		}
	}
	return true
}

func argsText(args []chain.Arg) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, a.Name+"="+a.Value)
	}
	return strings.Join(parts, ", ")
}

// matchBlock returns the hits of a match monitor (event, call, callers,
// txfail; nodata and slo use the same matching).
func (c *compiled) matchBlock(in blockInput) []hit {
	var hits []hit
	for i := range in.block.Txs {
		tx := &in.block.Txs[i]
		switch c.spec.Kind {
		case KindEvent:
			hits = c.matchEvents(in, tx, hits)
		case KindNoData:
			if len(c.events) > 0 {
				hits = c.matchEvents(in, tx, hits)
			} else {
				hits = c.matchCalls(in, tx, hits)
			}
		case KindCall, KindCallers:
			hits = c.matchCalls(in, tx, hits)
		case KindTxFail:
			if !tx.Failed() || !c.watches(tx.To) {
				continue
			}
			if !c.method.any {
				name, sig := "", ""
				if tx.Call != nil {
					name, sig = tx.Call.Method, tx.Call.Signature
				}
				if !c.method.match(name, sig, tx.Selector()) {
					continue
				}
			}
			reason, name := "", ""
			if tx.Revert != nil {
				reason, name = tx.Revert.Message, tx.Revert.Name
			}
			if c.reason != "" && !glob(c.reason, reason) && !glob(c.reason, name) {
				continue
			}
			label := name
			if label == "" || label == "Error" {
				label = reason
			}
			if label == "" {
				label = "(no reason)"
			}
			h := c.txHit(in, tx, *tx.To)
			h.labels["reason"] = label
			h.summary = fmt.Sprintf("transaction to %s failed: %s", h.labels["contract"], orNone(reason))
			hits = append(hits, h)
		}
	}
	return hits
}

func orNone(s string) string {
	if s == "" {
		return "(no revert reason)"
	}
	return s
}

func (c *compiled) txHit(in blockInput, tx *chain.Tx, contract common.Address) hit {
	h := hit{tx: tx.Hash, labels: map[string]string{
		"contract": in.names(contract), "address": contract.Hex(), "from": tx.From.Hex(), "tx": tx.Hash.Hex(),
	}}
	if tx.To != nil {
		h.labels["to"] = tx.To.Hex()
	}
	if tx.Call != nil {
		h.labels["method"] = tx.Call.Method
	}
	return h
}

func (c *compiled) matchEvents(in blockInput, tx *chain.Tx, hits []hit) []hit {
	for j := range tx.Logs {
		l := &tx.Logs[j]
		if l.Event == nil || !c.watches(&l.Address) {
			continue
		}
		if !c.events[l.Event.Name] && !c.events[l.Event.Signature] {
			continue
		}
		args := l.Event.Args
		if !c.whereHolds(func(f string) (string, bool) {
			if v, ok := txField(tx, f); ok {
				return v, true
			}
			return argField(args, f)
		}) {
			continue
		}
		h := c.txHit(in, tx, l.Address)
		h.labels["event"] = l.Event.Name
		h.summary = fmt.Sprintf("%s(%s) on %s", l.Event.Name, argsText(args), h.labels["contract"])
		hits = append(hits, h)
	}
	return hits
}

// call is one call, top-level or internal, seen by call monitors.
type call struct {
	from, to common.Address
	input    []byte
	value    *big.Int
	failed   bool
	decoded  *chain.Call
	depth    int
	kind     string
}

func (c *compiled) calls(in blockInput, tx *chain.Tx) []call {
	if c.spec.Internal && in.frames != nil {
		if frames, ok := in.frames[tx.Hash]; ok {
			out := make([]call, 0, len(frames))
			for _, f := range frames {
				cl := call{from: f.From, to: f.To, input: f.Input, value: f.Value, failed: f.Error != "" || tx.Failed(), depth: f.Depth, kind: f.Type}
				if f.Depth == 0 {
					cl.decoded = tx.Call
				} else if in.decode != nil && len(f.Input) >= 4 {
					to := f.To
					cl.decoded, _ = in.decode(&to, f.Input)
				}
				out = append(out, cl)
			}
			return out
		}
	}
	if tx.To == nil {
		return nil
	}
	return []call{{from: tx.From, to: *tx.To, input: tx.Input, value: tx.Value, failed: tx.Failed(), decoded: tx.Call, kind: "CALL"}}
}

func (c *compiled) matchCalls(in blockInput, tx *chain.Tx, hits []hit) []hit {
	for _, cl := range c.calls(in, tx) {
		if !c.watches(&cl.to) {
			continue
		}
		name, sig := "", ""
		var args []chain.Arg
		if cl.decoded != nil {
			name, sig, args = cl.decoded.Method, cl.decoded.Signature, cl.decoded.Args
		}
		var sel []byte
		if len(cl.input) >= 4 {
			sel = cl.input[:4]
		}
		if !c.method.match(name, sig, sel) {
			continue
		}
		switch c.status {
		case "success":
			if cl.failed {
				continue
			}
		case "failed":
			if !cl.failed {
				continue
			}
		}
		if c.spec.Kind == KindCallers {
			listed := c.deny[cl.from]
			if c.allow != nil && !c.allow[cl.from] {
				listed = true
			}
			if !listed {
				continue
			}
		}
		if !c.whereHolds(func(f string) (string, bool) {
			switch f {
			case "from", "caller":
				return cl.from.Hex(), true
			case "value":
				if _, ok := argField(args, f); !ok {
					if cl.value == nil {
						return "0", true
					}
					return cl.value.String(), true
				}
			}
			if v, ok := txField(tx, f); ok {
				return v, true
			}
			return argField(args, f)
		}) {
			continue
		}
		h := c.txHit(in, tx, cl.to)
		h.labels["from"] = cl.from.Hex()
		if name == "" {
			name = fmt.Sprintf("0x%x", sel)
		}
		h.labels["method"] = name
		where := "call"
		if cl.depth > 0 {
			where = fmt.Sprintf("internal %s (depth %d)", strings.ToLower(cl.kind), cl.depth)
		}
		status := ""
		if cl.failed {
			status = ", reverted"
		}
		h.summary = fmt.Sprintf("%s %s.%s(%s) from %s%s", where, h.labels["contract"], name, argsText(args), cl.from.Hex(), status)
		hits = append(hits, h)
	}
	return hits
}
