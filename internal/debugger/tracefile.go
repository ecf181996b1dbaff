package debugger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/ethereum/go-ethereum/common"
	"github.com/holiman/uint256"

	"github.com/blocktorch/blocktorch/internal/store"
)

// The trace file format. Steps are fixed-size records in NAME.steps, so step
// N is at offset N*recordSize; each record points into NAME.blob, which holds
// the step's stack and memory as deltas against the previous step of the
// same frame, plus any storage access and error. Every keyframeEvery steps
// of a frame the blob holds the full stack and memory, so reading a step
// replays at most that many deltas.
const (
	recordSize    = 40
	keyframeEvery = 1024
	// maxStackWords bounds what a corrupt blob can make the reader allocate.
	maxStackWords = 1025
	maxMemory     = 64 << 20
)

// Record flags.
const (
	flagKeyframe = 1 << iota
	flagError
)

// Storage access kinds in a step.
const (
	accessNone  = 0
	accessRead  = 1
	accessWrite = 2
)

// record is the fixed part of a step.
type record struct {
	PC      uint32
	Op      byte
	Flags   byte
	Depth   uint16
	Frame   uint32
	Prev    uint32 // 1 + index of the frame's previous step; 0 for its first
	Gas     uint64
	Cost    uint64
	BlobOff uint64
}

func (r *record) put(b []byte) {
	binary.LittleEndian.PutUint32(b[0:], r.PC)
	b[4] = r.Op
	b[5] = r.Flags
	binary.LittleEndian.PutUint16(b[6:], r.Depth)
	binary.LittleEndian.PutUint32(b[8:], r.Frame)
	binary.LittleEndian.PutUint32(b[12:], r.Prev)
	binary.LittleEndian.PutUint64(b[16:], r.Gas)
	binary.LittleEndian.PutUint64(b[24:], r.Cost)
	binary.LittleEndian.PutUint64(b[32:], r.BlobOff)
}

func (r *record) get(b []byte) {
	r.PC = binary.LittleEndian.Uint32(b[0:])
	r.Op = b[4]
	r.Flags = b[5]
	r.Depth = binary.LittleEndian.Uint16(b[6:])
	r.Frame = binary.LittleEndian.Uint32(b[8:])
	r.Prev = binary.LittleEndian.Uint32(b[12:])
	r.Gas = binary.LittleEndian.Uint64(b[16:])
	r.Cost = binary.LittleEndian.Uint64(b[24:])
	r.BlobOff = binary.LittleEndian.Uint64(b[32:])
}

// rawStep is one step as a replay path sees it, before encoding. Stack is
// bottom first; the slices are only read during the call.
type rawStep struct {
	PC      uint64
	Op      byte
	Gas     uint64
	Cost    uint64
	Depth   int // 1 for the top frame
	Frame   int
	Stack   []uint256.Int
	Memory  []byte
	Err     string
	Access  byte // accessNone, accessRead or accessWrite
	Slot    common.Hash
	Value   common.Hash
	Address common.Address // whose storage Access touched
}

// frameDelta is the writer's memory of a frame's last step.
type frameDelta struct {
	frame int
	last  int // index of the frame's last step
	steps int
	op    byte
	stack []uint256.Int
	mem   []byte
}

// traceWriter streams steps to the two parts.
type traceWriter struct {
	recW, blobW store.TraceWriter
	rec, blob   *bufio.Writer
	off         uint64
	n           int
	frames      []*frameDelta // by depth-1
	buf         []byte
	recBuf      [recordSize]byte
}

func newTraceWriter(ctx context.Context, traces store.TraceStore, tx common.Hash) (*traceWriter, error) {
	recW, err := traces.CreateTracePart(ctx, tx, partSteps)
	if err != nil {
		return nil, fmt.Errorf("cannot create trace file: %w", err)
	}
	blobW, err := traces.CreateTracePart(ctx, tx, partBlob)
	if err != nil {
		recW.Abort()
		return nil, fmt.Errorf("cannot create trace file: %w", err)
	}
	return &traceWriter{
		recW: recW, blobW: blobW,
		rec: bufio.NewWriterSize(recW, 256<<10), blob: bufio.NewWriterSize(blobW, 1<<20),
	}, nil
}

// writesMemory reports whether op may change memory after it runs, so the
// next step of the frame must compare memory.
func writesMemory(op byte) bool {
	switch op {
	case 0x52, 0x53, 0x37, 0x39, 0x3c, 0x3e, 0x5e, 0xf1, 0xf2, 0xf4, 0xfa:
		return true
	}
	return false
}

func (w *traceWriter) add(s *rawStep) error {
	if s.Depth < 1 || s.Depth > math.MaxUint16 {
		return fmt.Errorf("step %d has depth %d", w.n, s.Depth)
	}
	for len(w.frames) < s.Depth {
		w.frames = append(w.frames, &frameDelta{frame: -1})
	}
	fd := w.frames[s.Depth-1]
	if fd.frame != s.Frame {
		*fd = frameDelta{frame: s.Frame, last: -1, stack: fd.stack[:0], mem: fd.mem[:0]}
	}
	key := fd.steps%keyframeEvery == 0
	r := record{
		PC: uint32(min(s.PC, math.MaxUint32)), Op: s.Op, Depth: uint16(s.Depth), Frame: uint32(s.Frame),
		Gas: s.Gas, Cost: s.Cost, BlobOff: w.off,
	}
	if fd.last >= 0 {
		r.Prev = uint32(fd.last + 1)
	}
	if key {
		r.Flags |= flagKeyframe
	}
	if s.Err != "" {
		r.Flags |= flagError
	}
	b := w.buf[:0]
	// Stack: how many bottom items stay, then the new ones.
	keep := 0
	if !key {
		for keep < len(fd.stack) && keep < len(s.Stack) && fd.stack[keep] == s.Stack[keep] {
			keep++
		}
	}
	b = binary.AppendUvarint(b, uint64(keep))
	b = binary.AppendUvarint(b, uint64(len(s.Stack)-keep))
	for i := keep; i < len(s.Stack); i++ {
		word := s.Stack[i].Bytes()
		b = append(b, byte(len(word)))
		b = append(b, word...)
	}
	// Memory: the changed range, compared only when the frame's last op could
	// have written memory or its size changed.
	b = binary.AppendUvarint(b, uint64(len(s.Memory)))
	switch {
	case key:
		b = append(b, 2)
		b = append(b, s.Memory...)
	case len(s.Memory) != len(fd.mem) || writesMemory(fd.op):
		lo, hi := diffRange(fd.mem, s.Memory)
		if lo >= hi {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.AppendUvarint(b, uint64(lo))
			b = binary.AppendUvarint(b, uint64(hi-lo))
			b = append(b, s.Memory[lo:hi]...)
		}
	default:
		b = append(b, 0)
	}
	b = append(b, s.Access)
	if s.Access != accessNone {
		b = append(b, s.Address[:]...)
		b = append(b, s.Slot[:]...)
		b = append(b, s.Value[:]...)
	}
	if s.Err != "" {
		b = binary.AppendUvarint(b, uint64(len(s.Err)))
		b = append(b, s.Err...)
	}
	w.buf = b
	if _, err := w.blob.Write(b); err != nil {
		return fmt.Errorf("cannot write trace: %w", err)
	}
	w.off += uint64(len(b))
	r.put(w.recBuf[:])
	if _, err := w.rec.Write(w.recBuf[:]); err != nil {
		return fmt.Errorf("cannot write trace: %w", err)
	}
	fd.stack = append(fd.stack[:0], s.Stack...)
	if len(s.Memory) != len(fd.mem) || writesMemory(fd.op) || key {
		fd.mem = append(fd.mem[:0], s.Memory...)
	}
	fd.op = s.Op
	fd.last = w.n
	fd.steps++
	w.n++
	return nil
}

// diffRange returns the byte range [lo, hi) where cur differs from prev;
// memory only grows within a frame, so bytes past prev are all "changed".
func diffRange(prev, cur []byte) (lo, hi int) {
	n := min(len(prev), len(cur))
	for lo < n && prev[lo] == cur[lo] {
		// Skip equal 32-byte words quickly.
		if lo+32 <= n && bytes.Equal(prev[lo:lo+32], cur[lo:lo+32]) {
			lo += 32
			continue
		}
		lo++
	}
	if lo == len(cur) {
		return lo, lo
	}
	hi = len(cur)
	if len(cur) <= len(prev) {
		for hi > lo && prev[hi-1] == cur[hi-1] {
			hi--
		}
	}
	return lo, hi
}

// close stores both parts, or neither when a write failed.
func (w *traceWriter) close() error {
	if err := errors.Join(w.rec.Flush(), w.blob.Flush()); err != nil {
		w.abort()
		return fmt.Errorf("cannot finish trace file: %w", err)
	}
	if err := errors.Join(w.recW.Close(), w.blobW.Close()); err != nil {
		return fmt.Errorf("cannot finish trace file: %w", err)
	}
	return nil
}

// abort discards the parts of a replay that failed.
func (w *traceWriter) abort() {
	w.recW.Abort()
	w.blobW.Abort()
}

// stepState is a frame's stack and memory as of one step.
type stepState struct {
	step  int
	stack []uint256.Int
	mem   []byte
}

// decodedBlob is a step's blob.
type decodedBlob struct {
	keep    int
	push    []uint256.Int
	memSize int
	memKind byte
	memOff  int
	mem     []byte
	access  byte
	address common.Address
	slot    common.Hash
	value   common.Hash
	err     string
}

var errCorrupt = errors.New("corrupt trace file")

func decodeBlob(b []byte) (*decodedBlob, error) {
	rd := bytes.NewReader(b)
	d := &decodedBlob{}
	keep, err := binary.ReadUvarint(rd)
	if err != nil || keep > maxStackWords {
		return nil, errCorrupt
	}
	n, err := binary.ReadUvarint(rd)
	if err != nil || n > maxStackWords {
		return nil, errCorrupt
	}
	d.keep = int(keep)
	d.push = make([]uint256.Int, n)
	for i := range d.push {
		l, err := rd.ReadByte()
		if err != nil || l > 32 {
			return nil, errCorrupt
		}
		var word [32]byte
		if _, err := io.ReadFull(rd, word[32-int(l):]); err != nil {
			return nil, errCorrupt
		}
		d.push[i].SetBytes32(word[:])
	}
	size, err := binary.ReadUvarint(rd)
	if err != nil || size > maxMemory {
		return nil, errCorrupt
	}
	d.memSize = int(size)
	if d.memKind, err = rd.ReadByte(); err != nil {
		return nil, errCorrupt
	}
	switch d.memKind {
	case 0:
	case 1:
		off, err1 := binary.ReadUvarint(rd)
		l, err2 := binary.ReadUvarint(rd)
		if err1 != nil || err2 != nil || off+l > size {
			return nil, errCorrupt
		}
		d.memOff = int(off)
		d.mem = make([]byte, l)
		if _, err := io.ReadFull(rd, d.mem); err != nil {
			return nil, errCorrupt
		}
	case 2:
		d.mem = make([]byte, size)
		if _, err := io.ReadFull(rd, d.mem); err != nil {
			return nil, errCorrupt
		}
	default:
		return nil, errCorrupt
	}
	if d.access, err = rd.ReadByte(); err != nil {
		return nil, errCorrupt
	}
	if d.access != accessNone {
		var buf [20 + 32 + 32]byte
		if _, err := io.ReadFull(rd, buf[:]); err != nil {
			return nil, errCorrupt
		}
		copy(d.address[:], buf[:20])
		copy(d.slot[:], buf[20:52])
		copy(d.value[:], buf[52:])
	}
	if rd.Len() > 0 {
		l, err := binary.ReadUvarint(rd)
		if err != nil || l > uint64(rd.Len()) {
			return nil, errCorrupt
		}
		e := make([]byte, l)
		io.ReadFull(rd, e)
		d.err = string(e)
	}
	return d, nil
}

// apply moves a frame's state forward by one step's deltas.
func (st *stepState) apply(d *decodedBlob) error {
	if d.keep > len(st.stack) {
		return errCorrupt
	}
	st.stack = append(st.stack[:d.keep], d.push...)
	switch d.memKind {
	case 2:
		st.mem = append(st.mem[:0], d.mem...)
	default:
		if d.memSize > len(st.mem) {
			st.mem = append(st.mem, make([]byte, d.memSize-len(st.mem))...)
		}
		if d.memKind == 1 {
			if d.memOff+len(d.mem) > len(st.mem) {
				return errCorrupt
			}
			copy(st.mem[d.memOff:], d.mem)
		}
	}
	return nil
}
