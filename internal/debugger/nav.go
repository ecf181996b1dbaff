package debugger

import (
	"fmt"

	"github.com/blocktorch/blocktorch/internal/sourcemap"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Navigation moves through a stored trace the way a source debugger does:
// by source line where the code's sources are known, by instruction where
// they are not. Each method takes the current step and returns the new one;
// at either end of the trace it returns the last (or first) step.

// ErrNoStep is returned when a navigation has nowhere to go.
var ErrNoStep = store.Sentinel("no such step", store.ErrInvalid)

// scanChunk is how many step records a scan reads at once.
const scanChunk = 4096

// scan calls fn on each record from i in direction dir (+1 or -1) until fn
// returns true, and returns that step, or -1.
func (t *Trace) scan(i, dir int, fn func(i int, r *record) bool) (int, error) {
	buf := make([]byte, scanChunk*recordSize)
	for i >= 0 && i < t.Result.Steps {
		lo, hi := i, min(i+scanChunk, t.Result.Steps)
		if dir < 0 {
			lo, hi = max(i-scanChunk+1, 0), i+1
		}
		b := buf[:(hi-lo)*recordSize]
		if _, err := t.recF.ReadAt(b, int64(lo)*recordSize); err != nil {
			return -1, fmt.Errorf("cannot read steps %d-%d: %w", lo, hi, err)
		}
		var r record
		for ; i >= lo && i < hi; i += dir {
			r.get(b[(i-lo)*recordSize:])
			if fn(i, &r) {
				return i, nil
			}
		}
	}
	return -1, nil
}

// line is a step's source line, or "" when unknown. A step mapped to a
// whole contract (most of via-IR code) has no line to stop at either.
func (t *Trace) line(r *record) string {
	loc, ok := t.locate(int(r.Frame), uint64(r.PC))
	if !ok || loc.File == "" || loc.Generated || loc.Line == 0 {
		return ""
	}
	if t.wholeContract(loc) {
		return ""
	}
	return fmt.Sprintf("%s:%d", loc.File, loc.Line)
}

// wholeContract reports whether loc is a whole contract's range.
func (t *Trace) wholeContract(loc Location) bool {
	if t.texts == nil {
		t.texts = &texts{sources: t.sources, m: make(map[string]*sourcemap.Text)}
	}
	text := t.texts.get(loc.File)
	return text != nil && text.Contract(loc.Offset, loc.Length)
}

func (t *Trace) current(i int) (record, string, error) {
	r, err := t.record(i)
	if err != nil {
		return r, "", fmt.Errorf("%w: %w", ErrNoStep, err)
	}
	return r, t.line(&r), nil
}

// next finds the first step after i (or before, dir -1) that keep accepts
// and that is on another source line than i: from a step of code with
// sources but no line (generated code, via-IR code mapped to the whole
// contract) the next step with a line, and any step in code without
// sources.
func (t *Trace) next(i, dir int, keep func(r *record) bool) (int, error) {
	cur, line, err := t.current(i)
	if err != nil {
		return i, err
	}
	_, mapped := t.locate(int(cur.Frame), uint64(cur.PC))
	j, err := t.scan(i+dir, dir, func(_ int, r *record) bool {
		if !keep(r) {
			return false
		}
		if line == "" && !mapped {
			return true
		}
		l := t.line(r)
		return l != "" && (l != line || r.Frame != cur.Frame)
	})
	if err != nil {
		return i, err
	}
	if j < 0 {
		if dir > 0 {
			return t.Result.Steps - 1, nil
		}
		return 0, nil
	}
	return j, nil
}

// StepInto goes to the next line, entering calls.
func (t *Trace) StepInto(i int) (int, error) {
	return t.next(i, 1, func(*record) bool { return true })
}

// StepOver goes to the next line of the same call, or of its caller once it
// returns.
func (t *Trace) StepOver(i int) (int, error) {
	cur, err := t.record(i)
	if err != nil {
		return i, fmt.Errorf("%w: %w", ErrNoStep, err)
	}
	return t.next(i, 1, func(r *record) bool { return r.Depth <= cur.Depth })
}

// StepOut goes to the first step of the caller after the current call
// returns.
func (t *Trace) StepOut(i int) (int, error) {
	cur, err := t.record(i)
	if err != nil {
		return i, fmt.Errorf("%w: %w", ErrNoStep, err)
	}
	j, err := t.scan(i+1, 1, func(_ int, r *record) bool { return r.Depth < cur.Depth })
	if err != nil || j < 0 {
		return t.Result.Steps - 1, err
	}
	return j, nil
}

// StepBack goes to the previous line, in any call.
func (t *Trace) StepBack(i int) (int, error) {
	return t.next(i, -1, func(*record) bool { return true })
}

// RunToLine goes to the first step after i on file:line, or returns
// ErrNoStep when execution never reaches it.
func (t *Trace) RunToLine(i int, file string, line int) (int, error) {
	want := fmt.Sprintf("%s:%d", file, line)
	j, err := t.scan(i+1, 1, func(_ int, r *record) bool { return t.line(r) == want })
	if err != nil {
		return i, err
	}
	if j < 0 {
		return i, fmt.Errorf("%w: execution does not reach %s after step %d", ErrNoStep, want, i)
	}
	return j, nil
}

// GoTo checks that step n exists and returns it.
func (t *Trace) GoTo(n int) (int, error) {
	if n < 0 || n >= t.Result.Steps {
		return 0, fmt.Errorf("%w: step %d is outside 0-%d", ErrNoStep, n, t.Result.Steps-1)
	}
	return n, nil
}

// Failure returns the step where the failure originated.
func (t *Trace) Failure() (int, error) {
	f := t.Result.Failure
	if f == nil || f.Step < 0 {
		return 0, fmt.Errorf("%w: the transaction did not fail in code", ErrNoStep)
	}
	return f.Step, nil
}
