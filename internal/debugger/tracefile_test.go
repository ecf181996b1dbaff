package debugger

import (
	"bytes"
	"context"
	"errors"
	"math/big"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/blocktorch/blocktorch/internal/store/tracefs"
)

// TestTraceRoundTrip writes random steps of nested frames and reads every
// one back, comparing stack, memory and storage access with what was
// written.
func TestTraceRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	res := &Result{TxHash: common.Hash{1}}
	rec, err := newRecorder(Options{Dir: t.TempDir()}, res)
	if err != nil {
		t.Fatal(err)
	}
	type frameState struct {
		f      *Frame
		stack  []uint256.Int
		mem    []byte
		lastOp byte
	}
	type want struct {
		stack []uint256.Int
		mem   []byte
		slot  common.Hash
	}
	var wants []want
	root := rec.addFrame(nil, 0xf1, common.Address{1}, common.Address{2}, nil, 1000, nil, []byte{0x00})
	active := []*frameState{{f: root}}
	const n = 6000
	for i := 0; i < n; i++ {
		cur := active[len(active)-1]
		switch k := rng.IntN(100); {
		case k < 3 && len(active) < 5:
			f := rec.addFrame(cur.f, 0xf1, common.Address{}, common.Address{byte(i)}, nil, 10, nil, []byte{byte(i)})
			active = append(active, &frameState{f: f})
			cur = active[len(active)-1]
		case k < 6 && len(active) > 1:
			active = active[:len(active)-1]
			cur = active[len(active)-1]
		case k < 40 && len(cur.stack) > 0:
			cur.stack = cur.stack[:len(cur.stack)-1-rng.IntN(len(cur.stack))]
		case k < 80 || cur.lastOp != 0x52:
			// Memory only changes after an instruction that writes it.
			cur.stack = append(cur.stack, *uint256.NewInt(rng.Uint64() >> rng.IntN(64)))
		default:
			off := rng.IntN(200)
			if need := off + 32; need > len(cur.mem) {
				cur.mem = append(cur.mem, make([]byte, (need-len(cur.mem)+31)/32*32)...)
			}
			for j := 0; j < 32; j++ {
				cur.mem[off+j] = byte(rng.Uint32())
			}
		}
		// Memory changes show on the step after an MSTORE, as in the EVM.
		op := byte(0x01)
		if rng.IntN(4) == 0 {
			op = 0x52
		}
		s := rawStep{PC: uint64(i), Op: op, Depth: len(active), Frame: cur.f.ID, Stack: cur.stack, Memory: cur.mem}
		w := want{stack: append([]uint256.Int(nil), cur.stack...), mem: append([]byte(nil), cur.mem...)}
		if i%7 == 0 {
			s.Access, s.Slot, s.Value = accessRead, common.Hash{byte(i)}, common.Hash{2}
			w.slot = s.Slot
		}
		cur.lastOp = op
		if err := rec.step(&s); err != nil {
			t.Fatal(err)
		}
		wants = append(wants, w)
	}
	if _, err := rec.finish(noState{}); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenTrace(rec.opts.Dir, res.TxHash, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	check := func(i int) {
		s, err := tr.Step(i)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if len(s.Stack) != len(wants[i].stack) {
			t.Fatalf("step %d: stack of %d, want %d", i, len(s.Stack), len(wants[i].stack))
		}
		for k := range s.Stack {
			if s.Stack[k] != wants[i].stack[k].Hex() {
				t.Fatalf("step %d: stack[%d] %s, want %s", i, k, s.Stack[k], wants[i].stack[k].Hex())
			}
		}
		if !bytes.Equal(s.Memory, wants[i].mem) {
			t.Fatalf("step %d: memory differs", i)
		}
		if (wants[i].slot != common.Hash{}) && (s.Storage == nil || s.Storage.Slot != wants[i].slot) {
			t.Fatalf("step %d: storage access %+v", i, s.Storage)
		}
	}
	for i := 0; i < n; i++ { // forward, as paging reads
		check(i)
	}
	for _, i := range []int{n - 1, 0, n / 2, 17, n - 2} { // random access
		tr.cache = map[int]*stepState{}
		check(i)
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add([]byte{0, 1, 1, 0x05, 0, 0, 0})
	f.Add([]byte{0, 0, 64, 2})
	f.Add([]byte{0, 0, 32, 1, 0, 4, 1, 2, 3, 4, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeBlob(b)
		if err != nil {
			return
		}
		var st stepState
		_ = st.apply(d)
	})
}

// noState is a transaction that changed no account: this test is about
// steps, not state.
type noState struct{}

func (noState) accounts() []common.Address                  { return nil }
func (noState) balance(common.Address) (*big.Int, *big.Int) { return nil, nil }
func (noState) nonce(common.Address) (uint64, uint64)       { return 0, 0 }
func (noState) codeChanged(common.Address) bool             { return false }
func (noState) written() map[common.Address][]common.Hash   { return nil }
func (noState) slot(common.Address, common.Hash) (common.Hash, common.Hash, bool) {
	return common.Hash{}, common.Hash{}, false
}

// recordSteps records a trace of tx with n steps of one frame whose stack
// holds the step's number, and returns the trace's directory.
func recordSteps(t *testing.T, dir string, tx common.Hash, n int) {
	t.Helper()
	rec, err := newRecorder(Options{Dir: dir}, &Result{TxHash: tx})
	if err != nil {
		t.Fatal(err)
	}
	root := rec.addFrame(nil, 0xf1, common.Address{1}, common.Address{2}, nil, 1000, nil, []byte{0x00})
	for i := range n {
		s := rawStep{PC: uint64(i), Op: 0x01, Depth: 1, Frame: root.ID, Stack: []uint256.Int{*uint256.NewInt(uint64(i))}}
		if err := rec.step(&s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rec.finish(noState{}); err != nil {
		t.Fatal(err)
	}
}

// TestTraceReplacedWhileOpen: a transaction is replayed again (its sources
// became known) while a page still reads the trace recorded before. The
// open trace keeps reading its own steps, and a new open reads the new one.
func TestTraceReplacedWhileOpen(t *testing.T) {
	dir, tx := t.TempDir(), common.Hash{7}
	recordSteps(t, dir, tx, 3000)
	old, err := OpenTrace(dir, tx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	recordSteps(t, dir, tx, 10)
	for _, i := range []int{2999, 1500, 0} {
		s, err := old.Step(i)
		if err != nil {
			t.Fatalf("step %d of the trace opened before the replay: %v", i, err)
		}
		if want := uint256.NewInt(uint64(i)).Hex(); len(s.Stack) != 1 || s.Stack[0] != want {
			t.Fatalf("step %d of the trace opened before the replay: stack %v, want [%s]", i, s.Stack, want)
		}
	}
	cur, err := OpenTrace(dir, tx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close()
	if cur.Result.Steps != 10 {
		t.Fatalf("the new trace has %d steps, want 10", cur.Result.Steps)
	}
}

// TestTraceInGivenStore: with Options.Traces set, the trace is written to
// that store and read back from it, and no directory is needed.
func TestTraceInGivenStore(t *testing.T) {
	traces := tracefs.New(filepath.Join(t.TempDir(), "elsewhere"))
	rec, err := newRecorder(Options{Traces: traces}, &Result{TxHash: common.Hash{8}})
	if err != nil {
		t.Fatal(err)
	}
	root := rec.addFrame(nil, 0xf1, common.Address{1}, common.Address{2}, nil, 1000, nil, []byte{0x00})
	for i := range 5 {
		if err := rec.step(&rawStep{PC: uint64(i), Op: 0x01, Depth: 1, Frame: root.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rec.finish(noState{}); err != nil {
		t.Fatal(err)
	}
	tr, err := OpenStoredTrace(context.Background(), traces, common.Hash{8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if s, err := tr.Step(4); err != nil || s.PC != 4 {
		t.Fatalf("step 4: %+v, %v", s, err)
	}
	if _, err := OpenStoredTrace(context.Background(), traces, common.Hash{9}, nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a transaction never traced: err %v, want ErrNotFound", err)
	}
}
