package debugger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/tracefs"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/vm"
)

// Options are what every replay needs besides the transaction.
type Options struct {
	// Traces keeps the recorded traces; nil keeps them as files under Dir.
	Traces store.TraceStore
	// Dir is where trace files are written when Traces is nil, and where a
	// node's answer is spooled while it is decoded; it is created if
	// missing.
	Dir string
	// Registry decodes calls, events and reverts; nil decodes nothing.
	Registry *decode.Registry
	// Sources maps steps to source lines; nil maps nothing.
	Sources Sources
	// Names names contracts and storage slots; nil names nothing.
	Names Names
	// Progress, when set, is told how many of the block's transactions
	// before the target have been applied (local replay only). It is
	// called on the replaying goroutine.
	Progress func(done, total int)
}

// slotInfo is what the steps showed of one storage slot.
type slotInfo struct {
	first   common.Hash // value at the first read, when read before written
	read    bool
	written bool
	frame   int
}

// recorder assembles a Result and its trace file from either replay path.
type recorder struct {
	opts      Options
	res       *Result
	w         *traceWriter
	frames    []*Frame
	codes     map[common.Hash]hexutil.Bytes
	frameCode []common.Hash
	slots     map[common.Address]map[common.Hash]*slotInfo
	calls     []int // per frame: calls made so far, for Event.Position
}

// traces returns where traces are kept.
func (o Options) traces() store.TraceStore {
	if o.Traces != nil {
		return o.Traces
	}
	return tracefs.New(o.Dir)
}

// A replay writes its trace under context.Background: the replay paths
// take their own ctx for the node, and a trace half written is discarded.
func newRecorder(opts Options, res *Result) (*recorder, error) {
	if opts.Traces == nil && opts.Dir == "" {
		return nil, errors.New("no trace directory given")
	}
	if opts.Dir != "" {
		if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
			return nil, fmt.Errorf("cannot create trace directory: %w", err)
		}
	}
	w, err := newTraceWriter(context.Background(), opts.traces(), res.TxHash)
	if err != nil {
		return nil, err
	}
	return &recorder{
		opts: opts, res: res, w: w,
		codes: make(map[common.Hash]hexutil.Bytes),
		slots: make(map[common.Address]map[common.Hash]*slotInfo),
	}, nil
}

// addFrame appends a frame under parent (nil for the top frame).
func (r *recorder) addFrame(parent *Frame, typ byte, from, to common.Address, input []byte, gas uint64, value *big.Int, code []byte) *Frame {
	f := &Frame{
		ID: len(r.frames), Type: vm.OpCode(typ).String(), From: from, Input: common.CopyBytes(input), Gas: gas,
		FirstStep: -1, LastStep: -1, parent: parent,
	}
	toCopy := to
	f.To = &toCopy
	f.CodeAddress = to
	f.Address = to
	if op := vm.OpCode(typ); op == vm.DELEGATECALL || op == vm.CALLCODE {
		f.Address = from
	}
	if value != nil {
		f.Value = (*hexutil.Big)(new(big.Int).Set(value))
	}
	if parent != nil {
		f.Depth = parent.Depth + 1
		parent.Calls = append(parent.Calls, f)
		r.calls[parent.ID]++
	}
	r.frames = append(r.frames, f)
	r.calls = append(r.calls, 0)
	h := common.Hash{}
	if len(code) > 0 {
		h = codeHash(code)
		if _, ok := r.codes[h]; !ok {
			r.codes[h] = common.CopyBytes(code)
		}
	}
	r.frameCode = append(r.frameCode, h)
	return f
}

// exitFrame records how a frame ended, as callTracer does.
func (r *recorder) exitFrame(f *Frame, output []byte, gasUsed uint64, err error, reverted bool) {
	f.GasUsed = gasUsed
	if err != nil && !reverted {
		err = nil
	}
	if err == nil {
		f.Output = common.CopyBytes(output)
		return
	}
	f.Error = err.Error()
	f.Failed = true
	if f.Type == "CREATE" || f.Type == "CREATE2" {
		f.To = nil
	}
	if !errors.Is(err, vm.ErrExecutionReverted) || len(output) == 0 {
		return
	}
	f.Output = common.CopyBytes(output)
	if r := decode.Revert(output, nil); r.Kind == chain.RevertError {
		f.RevertReason = r.Message
	}
}

func (r *recorder) addLog(frame int, step int, logIndex int, addr common.Address, topics []common.Hash, data []byte) {
	r.res.Events = append(r.res.Events, Event{
		Index: len(r.res.Events), FrameID: frame, Position: r.calls[frame], Step: step, LogIndex: logIndex,
		Address: addr, Topics: slices.Clone(topics), Data: common.CopyBytes(data),
	})
}

func (r *recorder) step(s *rawStep) error {
	f := r.frames[s.Frame]
	if f.FirstStep < 0 {
		f.FirstStep = r.w.n
	}
	f.LastStep = r.w.n
	if s.Access != accessNone {
		m := r.slots[s.Address]
		if m == nil {
			m = make(map[common.Hash]*slotInfo)
			r.slots[s.Address] = m
		}
		si := m[s.Slot]
		if si == nil {
			si = &slotInfo{frame: s.Frame}
			m[s.Slot] = si
		}
		switch s.Access {
		case accessRead:
			if !si.read && !si.written {
				si.first = s.Value
			}
			si.read = true
		case accessWrite:
			si.written = true
			si.frame = s.Frame
		}
	}
	return r.w.add(s)
}

// stateSource gives the account values before and after the transaction.
type stateSource interface {
	// accounts lists the accounts whose balance, nonce or code changed.
	accounts() []common.Address
	balance(addr common.Address) (before, after *big.Int)
	nonce(addr common.Address) (before, after uint64)
	codeChanged(addr common.Address) bool
	// slot returns a slot's value before and after; ok is false when the
	// value before is unknown (then the first read stands in).
	slot(addr common.Address, slot common.Hash) (before, after common.Hash, ok bool)
	// written lists slots the source knows were written.
	written() map[common.Address][]common.Hash
}

// finish writes the trace and returns the result.
func (r *recorder) finish(src stateSource) (*Result, error) {
	if err := r.w.close(); err != nil {
		return nil, err
	}
	res := r.res
	if len(r.frames) == 0 {
		return nil, errors.New("the replay produced no call frame")
	}
	res.Root = r.frames[0]
	res.Steps = r.w.n
	markReverted(res.Root, false)
	for i := range res.Events {
		res.Events[i].Reverted = r.frames[res.Events[i].FrameID].Reverted
	}
	// Writes the source knows of that the steps did not show (none, in
	// practice) still belong in the diff.
	for addr, slots := range src.written() {
		for _, s := range slots {
			m := r.slots[addr]
			if m == nil {
				m = make(map[common.Hash]*slotInfo)
				r.slots[addr] = m
			}
			if m[s] == nil {
				m[s] = &slotInfo{written: true}
			}
		}
	}
	res.State = r.assembleState(src)
	r.decode()
	res.Gas = gasProfile(r.frames)
	if err := r.writeMeta(); err != nil {
		return nil, err
	}
	if res.Status == 0 {
		t, err := OpenStoredTrace(context.Background(), r.opts.traces(), res.TxHash, r.opts.Sources)
		if err != nil {
			return nil, err
		}
		res.Failure = findFailure(t, r.opts.Sources, r.opts.Names)
		t.Close()
		if err := r.writeMeta(); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func markReverted(f *Frame, parent bool) {
	f.Reverted = parent || f.Failed
	for _, c := range f.Calls {
		markReverted(c, f.Reverted)
	}
}

func (r *recorder) writeMeta() error {
	return writeMeta(r.opts.traces(), &meta{Result: r.res, Codes: r.codes, FrameCode: r.frameCode})
}

// updateResult replaces the stored result of res.TxHash's trace.
func updateResult(traces store.TraceStore, res *Result) error {
	raw, err := readPart(context.Background(), traces, res.TxHash, partMeta)
	if err != nil {
		return fmt.Errorf("cannot update trace: %w", err)
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("cannot update trace: %w", err)
	}
	m.Result = res
	return writeMeta(traces, &m)
}

// writeMeta stores the sidecar, replacing the earlier one at once.
func writeMeta(traces store.TraceStore, m *meta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("cannot encode trace: %w", err)
	}
	w, err := traces.CreateTracePart(context.Background(), m.Result.TxHash, partMeta)
	if err != nil {
		return fmt.Errorf("cannot write trace: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		w.Abort()
		return fmt.Errorf("cannot write trace: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("cannot write trace: %w", err)
	}
	return nil
}

func (r *recorder) assembleState(src stateSource) []AccountDiff {
	diffs := make(map[common.Address]*AccountDiff)
	get := func(a common.Address) *AccountDiff {
		d := diffs[a]
		if d == nil {
			d = &AccountDiff{Address: a}
			diffs[a] = d
		}
		return d
	}
	for _, a := range src.accounts() {
		d := get(a)
		if b, af := src.balance(a); b != nil && af != nil && b.Cmp(af) != 0 {
			d.Balance = &BalanceDiff{Before: (*hexutil.Big)(b), After: (*hexutil.Big)(af)}
		}
		if b, af := src.nonce(a); b != af {
			d.Nonce = &NonceDiff{Before: b, After: af}
		}
		d.CodeChanged = src.codeChanged(a)
		if d.Balance == nil && d.Nonce == nil && !d.CodeChanged {
			delete(diffs, a)
		}
	}
	codeOf := make(map[common.Address][]byte)
	for i, f := range r.frames {
		if f.Type != "CREATE" && f.Type != "CREATE2" && f.Address == f.CodeAddress {
			if c := r.codes[r.frameCode[i]]; len(c) > 0 {
				codeOf[f.Address] = c
			}
		}
	}
	for addr, slots := range r.slots {
		d := get(addr)
		for slot, si := range slots {
			before, after, ok := src.slot(addr, slot)
			if !ok {
				before = si.first
				if !si.written {
					after = si.first
				}
			}
			sd := SlotDiff{Slot: slot, Before: before, After: after, Written: si.written, FrameID: si.frame}
			if r.opts.Names != nil {
				// The layout of the code that touched the slot: the
				// implementation's, for a proxy's storage.
				code := r.codes[r.frameCode[si.frame]]
				if len(code) == 0 {
					code = codeOf[addr]
				}
				if code != nil {
					sd.Label, sd.Type, _ = r.opts.Names.SlotLabel(code, slot)
				}
			}
			d.Storage = append(d.Storage, sd)
		}
		sort.Slice(d.Storage, func(i, j int) bool { return bytes.Compare(d.Storage[i].Slot[:], d.Storage[j].Slot[:]) < 0 })
	}
	out := make([]AccountDiff, 0, len(diffs))
	for _, d := range diffs {
		if r.opts.Registry != nil {
			d.Contract, _ = r.opts.Registry.Name(d.Address)
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Address[:], out[j].Address[:]) < 0 })
	return out
}

// decode fills the decoded call, revert, contract name and events. ABIs the
// Names know are added to the registry under the address that ran them.
func (r *recorder) decode() {
	if r.opts.Names != nil {
		if r.opts.Registry == nil {
			r.opts.Registry = decode.NewRegistry()
		}
		// A proxy's address gets its implementation's ABI first, as
		// explorers do: its events and calls are the implementation's.
		register := func(delegated bool) {
			for i, f := range r.frames {
				if f.Type == "CREATE" || f.Type == "CREATE2" || (f.Address != f.CodeAddress) != delegated {
					continue
				}
				if _, known := r.opts.Registry.Name(f.Address); known {
					continue
				}
				if name, abiJSON, ok := r.opts.Names.ABI(r.codes[r.frameCode[i]]); ok {
					r.opts.Registry.Add(f.Address, name, abiJSON)
					if _, known := r.opts.Registry.Name(f.CodeAddress); !known {
						r.opts.Registry.Add(f.CodeAddress, name, abiJSON)
					}
				}
			}
		}
		register(true)
		register(false)
	}
	for i, f := range r.frames {
		if r.opts.Names != nil {
			if c := r.codes[r.frameCode[i]]; len(c) > 0 {
				f.Contract, _ = r.opts.Names.ContractName(c)
			}
		}
		reg := r.opts.Registry
		if reg == nil {
			continue
		}
		if f.Contract == "" {
			f.Contract, _ = reg.Name(f.CodeAddress)
		}
		code := f.CodeAddress
		if f.Type != "CREATE" && f.Type != "CREATE2" && len(f.Input) >= 4 {
			if call, err := reg.DecodeCall(&code, f.Input); err == nil {
				f.Call = call
			}
		}
		if f.Failed && f.Error == vm.ErrExecutionReverted.Error() {
			f.Revert = reg.DecodeRevert(&code, f.Output)
		}
	}
	// A proxy forwards its calldata to its implementation by DELEGATECALL:
	// a frame its own ABI cannot decode (the proxy's verified source has
	// no such function) takes the call as its delegate decodes it, and the
	// implementation's name, as explorers show a proxied contract.
	for _, f := range r.frames {
		if f.Call != nil || len(f.Input) < 4 {
			continue
		}
		for _, c := range f.Calls {
			if c.Type == "DELEGATECALL" && c.Call != nil && c.Address == f.Address && bytes.Equal(c.Input, f.Input) {
				f.Call = c.Call
				if c.Contract != "" {
					f.Contract = c.Contract
				}
				break
			}
		}
	}
	if r.opts.Registry == nil {
		return
	}
	for i := range r.res.Events {
		e := &r.res.Events[i]
		l := chain.Log{Address: e.Address, Topics: e.Topics, Data: e.Data}
		r.opts.Registry.DecodeLog(&l)
		e.Decoded = l.Event
	}
}

// frameName names a frame for the gas profile.
func frameName(f *Frame) string {
	who := f.Contract
	if who == "" {
		who = f.CodeAddress.Hex()
	}
	switch {
	case f.Call != nil:
		return who + "." + f.Call.Method
	case f.Type == "CREATE" || f.Type == "CREATE2":
		return who + ".constructor"
	case len(f.Input) >= 4:
		// hexutil.Encode, not %#x: Input is a Stringer, and %x would hex its text.
		return who + "." + hexutil.Encode(f.Input[:4])
	case len(f.Input) == 0:
		return who + ".receive"
	}
	return who + ".fallback"
}

func gasProfile(frames []*Frame) GasProfile {
	var p GasProfile
	flame := make(map[string]uint64)
	paths := make([]string, len(frames))
	for _, f := range frames {
		self := f.GasUsed
		for _, c := range f.Calls {
			self -= min(self, c.GasUsed)
		}
		name := frameName(f)
		p.Calls = append(p.Calls, CallGas{FrameID: f.ID, Name: name, Gas: f.GasUsed, Self: self})
		path := name
		if f.parent != nil {
			path = paths[f.parent.ID] + ";" + name
		}
		paths[f.ID] = path
		flame[path] += self
	}
	for k, v := range flame {
		p.Flame = append(p.Flame, FlameEntry{Stack: k, Gas: v})
	}
	sort.Slice(p.Flame, func(i, j int) bool { return strings.Compare(p.Flame[i].Stack, p.Flame[j].Stack) < 0 })
	return p
}
