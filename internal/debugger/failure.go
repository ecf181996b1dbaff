package debugger

import (
	"bytes"

	"github.com/ethereum/go-ethereum/core/vm"
)

// maxWalkBack bounds how far back findFailure looks for a step with a user
// source line when the failing instruction is compiler-generated.
const maxWalkBack = 4096

// originFrame follows a failure down from the top frame through frames that
// only re-raised their last callee's failure: the callee failed and the
// frame reverted with the very same bytes. A callee whose failure was
// handled and followed by other revert data is not the origin.
func originFrame(root *Frame) *Frame {
	f := root
	for f.Failed && f.Error == vm.ErrExecutionReverted.Error() && len(f.Calls) > 0 {
		last := f.Calls[len(f.Calls)-1]
		if !last.Failed || !bytes.Equal(last.Output, f.Output) {
			break
		}
		f = last
	}
	return f
}

// findFailure locates the origin of a failed transaction's failure.
func findFailure(t *Trace, sources Sources) *Failure {
	root := t.Result.Root
	if !root.Failed {
		return nil
	}
	o := originFrame(root)
	fail := &Failure{Step: o.LastStep, Address: o.CodeAddress, FrameID: o.ID, Error: o.Error, Revert: o.Revert}
	switch {
	case o.Revert != nil && o.Revert.Message != "":
		fail.Reason = o.Revert.Message
	case o.RevertReason != "":
		fail.Reason = o.RevertReason
	default:
		fail.Reason = o.Error
	}
	onChain := make(map[int]bool)
	for f := o; f != nil; f = f.parent {
		onChain[f.ID] = true
	}
	root.Walk(func(f *Frame) {
		if f.Failed && !onChain[f.ID] {
			fail.Caught = append(fail.Caught, f.ID)
		}
	})
	if o.LastStep < 0 || sources == nil {
		return fail
	}
	// The failing step, or the nearest earlier step of the same frame that
	// maps to user source (a panic's REVERT sits in generated Yul).
	step, approximate := o.LastStep, false
	for walked := 0; step >= 0 && walked < maxWalkBack; walked++ {
		r, err := t.record(step)
		if err != nil {
			return fail
		}
		if loc, ok := t.locate(int(r.Frame), uint64(r.PC)); ok && loc.File != "" && !loc.Generated && loc.Line > 0 {
			fail.File, fail.Line, fail.Column = loc.File, loc.Line, loc.Column
			fail.Approximate = approximate || loc.Approximate
			return fail
		}
		approximate = true
		if r.Prev == 0 {
			break
		}
		step = int(r.Prev - 1)
	}
	return fail
}
