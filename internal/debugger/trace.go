package debugger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/tracefs"
)

// ErrNotFound is returned when no trace of the transaction is stored.
var ErrNotFound = store.Sentinel("trace not found", store.ErrNotFound)

// meta is the trace's JSON sidecar: the result and the code each frame ran.
type meta struct {
	Result *Result `json:"result"`
	// Codes maps a code hash to the code; FrameCode maps a frame to the
	// hash of the code it ran (runtime code, or init code for a CREATE).
	Codes     map[common.Hash]hexutil.Bytes `json:"codes"`
	FrameCode []common.Hash                 `json:"frameCode"`
}

// The parts of a stored trace (store.TraceStore): the fixed-size step
// records, the blob they point into, and the JSON sidecar (meta), written
// last, so a trace whose sidecar exists is whole.
const (
	partSteps = "steps"
	partBlob  = "blob"
	partMeta  = "json"
)

// Trace is a stored trace, read from its store on demand. Its methods are safe
// for use by one goroutine at a time.
type Trace struct {
	Result *Result

	recF, blobF store.TracePart
	blobSize    int64
	frames      []*Frame
	codes       map[common.Hash][]byte
	frameCode   []common.Hash
	sources     Sources
	texts       *texts             // prepared source texts, made on first use
	cache       map[int]*stepState // last reconstructed state by frame
}

// Step is one EVM step with its full stack and memory.
type Step struct {
	Index   int    `json:"index"`
	PC      uint64 `json:"pc"`
	Op      string `json:"op"`
	Gas     uint64 `json:"gas"`
	GasCost uint64 `json:"gasCost"`
	Depth   int    `json:"depth"`
	FrameID int    `json:"frame"`
	// Stack is bottom first, as 0x-hex words.
	Stack   []string       `json:"stack"`
	Memory  hexutil.Bytes  `json:"memory"`
	MemSize int            `json:"memSize"`
	Storage *StorageAccess `json:"storage,omitempty"`
	Error   string         `json:"error,omitempty"`
	Source  *Location      `json:"source,omitempty"`
}

// StorageAccess is a storage slot a step read or wrote, under the address
// whose storage it is.
type StorageAccess struct {
	Kind    string         `json:"kind"` // "read" or "write"
	Address common.Address `json:"address"`
	Slot    common.Hash    `json:"slot"`
	Value   common.Hash    `json:"value"`
}

// OpenTrace opens the trace of tx stored as files under dir. sources may
// be nil.
func OpenTrace(dir string, tx common.Hash, sources Sources) (*Trace, error) {
	return OpenStoredTrace(context.Background(), tracefs.New(dir), tx, sources)
}

// readPart reads a whole part of tx's trace; a missing part is ErrNotFound.
func readPart(ctx context.Context, traces store.TraceStore, tx common.Hash, part string) ([]byte, error) {
	p, err := traces.OpenTracePart(ctx, tx, part)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("cannot open trace of %s: %w", tx, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("cannot open trace of %s: %w", tx, err)
	}
	defer p.Close()
	raw, err := io.ReadAll(io.NewSectionReader(p, 0, p.Size()))
	if err != nil {
		return nil, fmt.Errorf("cannot read trace of %s: %w", tx, err)
	}
	return raw, nil
}

// OpenStoredTrace opens the trace of tx kept in traces, or returns
// ErrNotFound when none is stored. sources may be nil.
func OpenStoredTrace(ctx context.Context, traces store.TraceStore, tx common.Hash, sources Sources) (*Trace, error) {
	raw, err := readPart(ctx, traces, tx, partMeta)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil || m.Result == nil || m.Result.Root == nil {
		return nil, fmt.Errorf("cannot decode trace of %s: %w", tx, errors.Join(errCorrupt, err))
	}
	t := &Trace{Result: m.Result, frameCode: m.FrameCode, sources: sources, cache: make(map[int]*stepState)}
	t.codes = make(map[common.Hash][]byte, len(m.Codes))
	for h, c := range m.Codes {
		t.codes[h] = c
	}
	linkFrames(t.Result.Root, nil)
	t.Result.Root.Walk(func(f *Frame) {
		if f.ID != len(t.frames) {
			err = errCorrupt
		}
		t.frames = append(t.frames, f)
	})
	if err != nil {
		return nil, fmt.Errorf("cannot decode trace of %s: frames out of order: %w", tx, err)
	}
	if t.recF, err = traces.OpenTracePart(ctx, tx, partSteps); err != nil {
		return nil, fmt.Errorf("cannot open trace of %s: %w", tx, err)
	}
	if t.blobF, err = traces.OpenTracePart(ctx, tx, partBlob); err != nil {
		t.recF.Close()
		return nil, fmt.Errorf("cannot open trace of %s: %w", tx, err)
	}
	t.blobSize = t.blobF.Size()
	if t.recF.Size() != int64(t.Result.Steps)*recordSize {
		t.Close()
		return nil, fmt.Errorf("cannot open trace of %s: step file does not hold %d steps: %w", tx, t.Result.Steps, errCorrupt)
	}
	return t, nil
}

func linkFrames(f, parent *Frame) {
	f.parent = parent
	for _, c := range f.Calls {
		linkFrames(c, f)
	}
}

// Close releases the trace's parts.
func (t *Trace) Close() error {
	var errs []error
	if t.recF != nil {
		errs = append(errs, t.recF.Close())
	}
	if t.blobF != nil {
		errs = append(errs, t.blobF.Close())
	}
	return errors.Join(errs...)
}

// Frames returns the frames by ID.
func (t *Trace) Frames() []*Frame { return t.frames }

// Code returns the code frame id ran.
func (t *Trace) Code(frame int) []byte {
	if frame < 0 || frame >= len(t.frameCode) {
		return nil
	}
	return t.codes[t.frameCode[frame]]
}

func (t *Trace) record(i int) (record, error) {
	var r record
	if i < 0 || i >= t.Result.Steps {
		return r, fmt.Errorf("step %d is outside the trace's %d steps", i, t.Result.Steps)
	}
	var b [recordSize]byte
	if _, err := t.recF.ReadAt(b[:], int64(i)*recordSize); err != nil {
		return r, fmt.Errorf("cannot read step %d: %w", i, err)
	}
	r.get(b[:])
	return r, nil
}

func (t *Trace) blob(i int, r record) (*decodedBlob, error) {
	end := t.blobSize
	if i+1 < t.Result.Steps {
		next, err := t.record(i + 1)
		if err != nil {
			return nil, err
		}
		end = int64(next.BlobOff)
	}
	if int64(r.BlobOff) > end || end-int64(r.BlobOff) > maxMemory+1<<20 {
		return nil, fmt.Errorf("step %d: %w", i, errCorrupt)
	}
	b := make([]byte, end-int64(r.BlobOff))
	if _, err := t.blobF.ReadAt(b, int64(r.BlobOff)); err != nil {
		return nil, fmt.Errorf("cannot read step %d: %w", i, err)
	}
	d, err := decodeBlob(b)
	if err != nil {
		return nil, fmt.Errorf("step %d: %w", i, err)
	}
	return d, nil
}

// Step reads step i with its stack, memory and source location.
func (t *Trace) Step(i int) (*Step, error) {
	r, err := t.record(i)
	if err != nil {
		return nil, err
	}
	// Walk back along the frame's chain to a keyframe or a cached state,
	// then replay the deltas forward.
	chain := []int{i}
	var base *stepState
	if c := t.cache[int(r.Frame)]; c != nil && c.step == i {
		base = c
		chain = chain[:0]
	} else {
		cur := r
		for cur.Flags&flagKeyframe == 0 {
			if cur.Prev == 0 {
				return nil, fmt.Errorf("step %d: no keyframe: %w", i, errCorrupt)
			}
			p := int(cur.Prev - 1)
			if c := t.cache[int(r.Frame)]; c != nil && c.step == p {
				base = c
				break
			}
			if len(chain) > keyframeEvery+1 {
				return nil, fmt.Errorf("step %d: keyframe too far: %w", i, errCorrupt)
			}
			chain = append(chain, p)
			if cur, err = t.record(p); err != nil {
				return nil, err
			}
		}
	}
	st := &stepState{step: -1}
	if base != nil {
		st.stack = append(st.stack, base.stack...)
		st.mem = append(st.mem, base.mem...)
	}
	var last *decodedBlob
	for k := len(chain) - 1; k >= 0; k-- {
		ri, err := t.record(chain[k])
		if err != nil {
			return nil, err
		}
		d, err := t.blob(chain[k], ri)
		if err != nil {
			return nil, err
		}
		if err := st.apply(d); err != nil {
			return nil, fmt.Errorf("step %d: %w", chain[k], err)
		}
		last = d
	}
	if last == nil {
		if last, err = t.blob(i, r); err != nil {
			return nil, err
		}
	}
	st.step = i
	t.cache[int(r.Frame)] = st
	s := &Step{
		Index: i, PC: uint64(r.PC), Op: vm.OpCode(r.Op).String(), Gas: r.Gas, GasCost: r.Cost,
		Depth: int(r.Depth), FrameID: int(r.Frame), MemSize: len(st.mem), Error: last.err,
		Memory: append([]byte(nil), st.mem...),
	}
	s.Stack = make([]string, len(st.stack))
	for k := range st.stack {
		s.Stack[k] = st.stack[k].Hex()
	}
	if last.access != accessNone {
		kind := "read"
		if last.access == accessWrite {
			kind = "write"
		}
		s.Storage = &StorageAccess{Kind: kind, Address: last.address, Slot: last.slot, Value: last.value}
	}
	if loc, ok := t.locate(int(r.Frame), uint64(r.PC)); ok {
		loc.WholeContract = loc.File != "" && !loc.Generated && t.wholeContract(loc)
		s.Source = &loc
	}
	return s, nil
}

// Steps reads count steps from from; fewer at the end of the trace.
func (t *Trace) Steps(from, count int) ([]*Step, error) {
	if from < 0 || count < 0 {
		return nil, fmt.Errorf("bad step range %d+%d", from, count)
	}
	end := min(from+count, t.Result.Steps)
	out := make([]*Step, 0, max(end-from, 0))
	for i := from; i < end; i++ {
		s, err := t.Step(i)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// header reads only the fixed part of step i: what navigation needs.
func (t *Trace) header(i int) (pc uint64, depth, frame int, err error) {
	r, err := t.record(i)
	if err != nil {
		return 0, 0, 0, err
	}
	return uint64(r.PC), int(r.Depth), int(r.Frame), nil
}

func (t *Trace) locate(frame int, pc uint64) (Location, bool) {
	if t.sources == nil {
		return Location{}, false
	}
	code := t.Code(frame)
	if len(code) == 0 {
		return Location{}, false
	}
	return t.sources.Locate(code, pc)
}

func codeHash(code []byte) common.Hash { return crypto.Keccak256Hash(code) }
