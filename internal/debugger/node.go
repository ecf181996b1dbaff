package debugger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/holiman/uint256"
)

// Node replays transactions with the node's debug_traceTransaction.
type Node struct {
	RPC *rpc.Client
	// URL, when it is the node's HTTP endpoint, lets the struct logger's
	// output be decoded as it arrives instead of held whole in memory.
	URL string
	// MemoryGasLimit is the gas used above which steps are fetched without
	// memory, which would make the node's answer huge; 0 means 10M.
	MemoryGasLimit uint64
}

// traceTimeout is how long the node may spend on one trace.
const traceTimeout = "10m"

// callJSON is a callTracer frame.
type callJSON struct {
	Type         string          `json:"type"`
	From         common.Address  `json:"from"`
	To           *common.Address `json:"to"`
	Value        *hexutil.Big    `json:"value"`
	Gas          hexutil.Uint64  `json:"gas"`
	GasUsed      hexutil.Uint64  `json:"gasUsed"`
	Input        hexutil.Bytes   `json:"input"`
	Output       hexutil.Bytes   `json:"output"`
	Error        string          `json:"error"`
	RevertReason string          `json:"revertReason"`
	Calls        []*callJSON     `json:"calls"`
	Logs         []struct {
		Address  common.Address `json:"address"`
		Topics   []common.Hash  `json:"topics"`
		Data     hexutil.Bytes  `json:"data"`
		Index    hexutil.Uint   `json:"index"`
		Position hexutil.Uint   `json:"position"`
	} `json:"logs"`
}

// prestateAccount is a prestateTracer account.
type prestateAccount struct {
	Balance *hexutil.Big                `json:"balance"`
	Nonce   uint64                      `json:"nonce"`
	Code    *hexutil.Bytes              `json:"code"`
	Storage map[common.Hash]common.Hash `json:"storage"`
}

type prestateDiff struct {
	Pre  map[common.Address]*prestateAccount `json:"pre"`
	Post map[common.Address]*prestateAccount `json:"post"`
}

// Replay traces tx with the node's tracers and writes the trace under
// opts.Dir.
func (n *Node) Replay(ctx context.Context, txHash common.Hash, opts Options) (*Result, error) {
	ec := ethclient.NewClient(n.RPC)
	receipt, err := ec.TransactionReceipt(ctx, txHash)
	if err != nil {
		return nil, fmt.Errorf("cannot read the receipt of %s: %w", txHash, err)
	}
	var top callJSON
	if err := n.RPC.CallContext(ctx, &top, "debug_traceTransaction", txHash, map[string]any{"tracer": "callTracer", "tracerConfig": map[string]any{"withLog": true}, "timeout": traceTimeout}); err != nil {
		return nil, fmt.Errorf("cannot trace calls of %s: %w", txHash, err)
	}
	var pre map[common.Address]*prestateAccount
	if err := n.RPC.CallContext(ctx, &pre, "debug_traceTransaction", txHash, map[string]any{"tracer": "prestateTracer", "timeout": traceTimeout}); err != nil {
		return nil, fmt.Errorf("cannot trace the state read by %s: %w", txHash, err)
	}
	var diff prestateDiff
	if err := n.RPC.CallContext(ctx, &diff, "debug_traceTransaction", txHash, map[string]any{"tracer": "prestateTracer", "tracerConfig": map[string]any{"diffMode": true}, "timeout": traceTimeout}); err != nil {
		return nil, fmt.Errorf("cannot trace the state changed by %s: %w", txHash, err)
	}
	res := &Result{
		TxHash: txHash, BlockNumber: receipt.BlockNumber.Uint64(), BlockHash: receipt.BlockHash, TxIndex: int(receipt.TransactionIndex),
		Mode: ModeNode, From: top.From, Status: receipt.Status, GasUsed: receipt.GasUsed,
	}
	rec, err := newRecorder(opts, res)
	if err != nil {
		return nil, err
	}
	// The call tree, pre-order, so frame IDs match the local path's.
	var build func(c *callJSON, parent *Frame) error
	build = func(c *callJSON, parent *Frame) error {
		op := vm.StringToOp(c.Type)
		to := common.Address{}
		if c.To != nil {
			to = *c.To
		}
		var code []byte
		switch op {
		case vm.CREATE, vm.CREATE2:
			code = c.Input
		case vm.SELFDESTRUCT:
		default:
			if a := pre[to]; a != nil && a.Code != nil {
				code = *a.Code
			} else if len(to) > 0 {
				var got hexutil.Bytes
				if err := n.RPC.CallContext(ctx, &got, "eth_getCode", to, hexutil.EncodeBig(receipt.BlockNumber)); err != nil {
					return fmt.Errorf("cannot read the code of %s: %w", to, err)
				}
				code = got
			}
		}
		f := rec.addFrame(parent, byte(op), c.From, to, c.Input, uint64(c.Gas), (*big.Int)(c.Value), code)
		if c.To == nil {
			f.To = nil
		}
		for _, child := range c.Calls {
			if err := build(child, f); err != nil {
				return err
			}
		}
		f.GasUsed = uint64(c.GasUsed)
		f.Output, f.Error, f.RevertReason = c.Output, c.Error, c.RevertReason
		if c.Error != "" {
			f.Failed = true
			if c.Error != vm.ErrExecutionReverted.Error() {
				f.Output = nil
			}
		}
		for _, l := range c.Logs {
			rec.res.Events = append(rec.res.Events, Event{
				FrameID: f.ID, Position: int(l.Position), Step: -1, LogIndex: int(l.Index),
				Address: l.Address, Topics: l.Topics, Data: l.Data,
			})
		}
		return nil
	}
	if err := build(&top, nil); err != nil {
		rec.w.abort()
		return nil, err
	}
	sortEvents(res.Events)
	markReverted(rec.frames[0], false)
	withMemory := receipt.GasUsed <= n.memoryGasLimit()
	if err := n.streamSteps(ctx, txHash, withMemory, rec); err != nil {
		rec.w.abort()
		return nil, err
	}
	return rec.finish(&nodeState{pre: pre, diff: diff})
}

func (n *Node) memoryGasLimit() uint64 {
	if n.MemoryGasLimit == 0 {
		return 10_000_000
	}
	return n.MemoryGasLimit
}

// sortEvents orders callTracer's per-frame logs by their index.
func sortEvents(ev []Event) {
	for i := 1; i < len(ev); i++ {
		for j := i; j > 0 && ev[j].LogIndex < ev[j-1].LogIndex; j-- {
			ev[j], ev[j-1] = ev[j-1], ev[j]
		}
	}
	for i := range ev {
		ev[i].Index = i
	}
}

// structLog is one struct logger step.
type structLog struct {
	PC      uint64            `json:"pc"`
	Op      string            `json:"op"`
	Gas     uint64            `json:"gas"`
	GasCost uint64            `json:"gasCost"`
	Depth   int               `json:"depth"`
	Error   string            `json:"error"`
	Stack   []string          `json:"stack"`
	Memory  []string          `json:"memory"`
	Storage map[string]string `json:"storage"`
}

// streamSteps fetches the struct logger's steps and feeds them to rec,
// assigning each to its frame: a call opcode moves to the frame's next
// callee, and the depth says whether the callee ran code.
func (n *Node) streamSteps(ctx context.Context, txHash common.Hash, withMemory bool, rec *recorder) error {
	// geth stops a trace after 5 s unless told otherwise.
	cfg := map[string]any{"enableMemory": withMemory, "disableStorage": false, "enableReturnData": false, "timeout": traceTimeout}
	body, err := n.traceBody(ctx, txHash, cfg)
	if err != nil {
		return err
	}
	// The answer goes to a file first: decoding is slower than the node
	// writes, and a node stops writing after its HTTP write timeout (30 s
	// in geth). The file keeps memory flat however large the answer is.
	spool, err := os.CreateTemp(rec.opts.Dir, "structlogs-*.json")
	if err != nil {
		body.Close()
		return fmt.Errorf("cannot spool the steps of %s: %w", txHash, err)
	}
	defer os.Remove(spool.Name())
	defer spool.Close()
	_, err = io.Copy(spool, body)
	body.Close()
	if err != nil {
		return fmt.Errorf("cannot read the steps of %s: %w", txHash, err)
	}
	if _, err := spool.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("cannot read the steps of %s: %w", txHash, err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(spool, 1<<20))
	if err := seekStructLogs(dec); err != nil {
		return fmt.Errorf("cannot read the steps of %s: %w", txHash, err)
	}
	type pos struct {
		f    *Frame
		next int
	}
	stack := []pos{{f: rec.frames[0]}}
	logCount := make(map[int]int)
	eventsByFrame := make(map[int][]int)
	for i, e := range rec.res.Events {
		eventsByFrame[e.FrameID] = append(eventsByFrame[e.FrameID], i)
	}
	var (
		sl      structLog
		step    rawStep
		pending *Frame // callee entered by the previous step
		words   []uint256.Int
		mem     []byte
	)
	for dec.More() {
		sl = structLog{}
		if err := dec.Decode(&sl); err != nil {
			return fmt.Errorf("cannot decode a step of %s: %w", txHash, err)
		}
		if pending != nil && sl.Depth == len(stack)+1 {
			stack = append(stack, pos{f: pending})
		}
		pending = nil
		for len(stack) > 1 && sl.Depth < len(stack) {
			stack = stack[:len(stack)-1]
		}
		if sl.Depth != len(stack) {
			return fmt.Errorf("step %d of %s is at depth %d, its frame at %d: the call tree and the steps disagree", rec.w.n, txHash, sl.Depth, len(stack))
		}
		cur := &stack[len(stack)-1]
		op := vm.StringToOp(sl.Op)
		words = words[:0]
		for _, s := range sl.Stack {
			var w uint256.Int
			if err := w.SetFromHex(s); err != nil {
				return fmt.Errorf("step %d of %s: bad stack word %q", rec.w.n, txHash, s)
			}
			words = append(words, w)
		}
		mem = mem[:0]
		for _, s := range sl.Memory {
			b, err := hexutil.Decode(ensure0x(s))
			if err != nil {
				return fmt.Errorf("step %d of %s: bad memory word", rec.w.n, txHash)
			}
			mem = append(mem, b...)
		}
		step = rawStep{PC: sl.PC, Op: byte(op), Gas: sl.Gas, Cost: sl.GasCost, Depth: sl.Depth, Frame: cur.f.ID, Stack: words, Memory: mem, Err: sl.Error}
		if sl.Error == "" {
			switch op {
			case vm.SLOAD:
				if len(words) >= 1 {
					step.Access, step.Address = accessRead, cur.f.Address
					step.Slot = common.Hash(words[len(words)-1].Bytes32())
					for k, v := range sl.Storage {
						if common.HexToHash(k) == step.Slot {
							step.Value = common.HexToHash(v)
						}
					}
				}
			case vm.SSTORE:
				if len(words) >= 2 {
					step.Access, step.Address = accessWrite, cur.f.Address
					step.Slot = common.Hash(words[len(words)-1].Bytes32())
					step.Value = common.Hash(words[len(words)-2].Bytes32())
				}
			case vm.LOG0, vm.LOG1, vm.LOG2, vm.LOG3, vm.LOG4:
				k := logCount[cur.f.ID]
				logCount[cur.f.ID]++
				if evs := eventsByFrame[cur.f.ID]; k < len(evs) && !cur.f.Reverted {
					rec.res.Events[evs[k]].Step = rec.w.n
				}
			case vm.CALL, vm.CALLCODE, vm.DELEGATECALL, vm.STATICCALL, vm.CREATE, vm.CREATE2, vm.SELFDESTRUCT:
				if cur.next < len(cur.f.Calls) {
					pending = cur.f.Calls[cur.next]
					cur.next++
				}
			}
		}
		if err := rec.step(&step); err != nil {
			return err
		}
	}
	return nil
}

func ensure0x(s string) string {
	if strings.HasPrefix(s, "0x") {
		return s
	}
	return "0x" + s
}

// traceBody returns the struct logger's JSON-RPC response body, streamed
// over HTTP when the node's URL is known.
func (n *Node) traceBody(ctx context.Context, txHash common.Hash, cfg map[string]any) (io.ReadCloser, error) {
	if strings.HasPrefix(n.URL, "http://") || strings.HasPrefix(n.URL, "https://") {
		req, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "debug_traceTransaction", "params": []any{txHash, cfg}})
		if err != nil {
			return nil, err
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(req))
		if err != nil {
			return nil, fmt.Errorf("cannot trace the steps of %s: %w", txHash, err)
		}
		hr.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			return nil, fmt.Errorf("cannot trace the steps of %s: %w", txHash, err)
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return nil, fmt.Errorf("cannot trace the steps of %s: HTTP %s", txHash, resp.Status)
		}
		return resp.Body, nil
	}
	var raw json.RawMessage
	if err := n.RPC.CallContext(ctx, &raw, "debug_traceTransaction", txHash, cfg); err != nil {
		return nil, fmt.Errorf("cannot trace the steps of %s: %w", txHash, err)
	}
	wrapped := append(append([]byte(`{"result":`), raw...), '}')
	return io.NopCloser(bytes.NewReader(wrapped)), nil
}

// seekStructLogs advances dec into the "structLogs" array of a JSON-RPC
// response, or returns the response's error.
func seekStructLogs(dec *json.Decoder) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		switch key {
		case "error":
			var e struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := dec.Decode(&e); err != nil {
				return err
			}
			return fmt.Errorf("node error %d: %s", e.Code, e.Message)
		case "result":
			if err := expectDelim(dec, '{'); err != nil {
				return err
			}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				if k == "structLogs" {
					return expectDelim(dec, '[')
				}
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return err
				}
			}
			return errors.New("the answer has no structLogs")
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return errors.New("the answer has no result")
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

// nodeState is the stateSource of a node replay: prestateTracer's view.
type nodeState struct {
	pre  map[common.Address]*prestateAccount
	diff prestateDiff
}

func (s *nodeState) accounts() []common.Address {
	var out []common.Address
	for a := range s.diff.Post {
		out = append(out, a)
	}
	for a := range s.diff.Pre {
		if s.diff.Post[a] == nil {
			out = append(out, a) // deleted
		}
	}
	return out
}

func bigOf(b *hexutil.Big) *big.Int {
	if b == nil {
		return nil
	}
	return (*big.Int)(b)
}

func (s *nodeState) balance(a common.Address) (*big.Int, *big.Int) {
	before := new(big.Int)
	if p := s.diff.Pre[a]; p != nil && p.Balance != nil {
		before = bigOf(p.Balance)
	}
	after := before
	if p := s.diff.Post[a]; p != nil && p.Balance != nil {
		after = bigOf(p.Balance)
	} else if p == nil {
		after = new(big.Int)
	}
	return before, after
}

func (s *nodeState) nonce(a common.Address) (uint64, uint64) {
	var before uint64
	if p := s.diff.Pre[a]; p != nil {
		before = p.Nonce
	}
	after := before
	if p := s.diff.Post[a]; p != nil && p.Nonce != 0 {
		after = p.Nonce
	}
	return before, after
}

func (s *nodeState) codeChanged(a common.Address) bool {
	p := s.diff.Post[a]
	return p != nil && p.Code != nil
}

func (s *nodeState) slot(a common.Address, slot common.Hash) (common.Hash, common.Hash, bool) {
	p := s.pre[a]
	if p == nil {
		return common.Hash{}, common.Hash{}, false
	}
	before, ok := p.Storage[slot]
	if !ok {
		return common.Hash{}, common.Hash{}, false
	}
	after := before
	// diffMode lists a changed slot in pre (unless it was zero) and in post
	// (unless it became zero).
	_, inPre := s.diff.Pre[a].storage()[slot]
	v, inPost := s.diff.Post[a].storage()[slot]
	switch {
	case inPost:
		after = v
	case inPre:
		after = common.Hash{}
	}
	return before, after, true
}

func (p *prestateAccount) storage() map[common.Hash]common.Hash {
	if p == nil {
		return nil
	}
	return p.Storage
}

func (s *nodeState) written() map[common.Address][]common.Hash {
	out := make(map[common.Address][]common.Hash)
	for a, p := range s.diff.Post {
		for slot := range p.Storage {
			out[a] = append(out[a], slot)
		}
	}
	return out
}
