package debugger

import (
	"bytes"
	"slices"
	"strings"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
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
func findFailure(t *Trace, sources Sources, names Names) *Failure {
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
	locateOrigin(t, o, sources, names, fail)
	return fail
}

// texts caches the prepared sources of one search, and which offsets lie
// in a function (a walk asks for the same few hundred offsets many times).
type texts struct {
	sources Sources
	m       map[string]*sourcemap.Text
	inFn    map[fileOffset]bool
}

type fileOffset struct {
	text *sourcemap.Text
	off  int
}

// inFunction reports whether off lies in a function-like definition: code
// mapped to a state variable's declaration (a getter, an initializer) is
// not a statement the failing call ran.
func (x *texts) inFunction(text *sourcemap.Text, off int) bool {
	k := fileOffset{text, off}
	in, ok := x.inFn[k]
	if !ok {
		_, _, in = text.Enclosing(off, true)
		if x.inFn == nil {
			x.inFn = make(map[fileOffset]bool)
		}
		x.inFn[k] = in
	}
	return in
}

func (x *texts) get(file string) *sourcemap.Text {
	if t, ok := x.m[file]; ok {
		return t
	}
	var t *sourcemap.Text
	if content, ok := x.sources.Content(file); ok {
		t = sourcemap.NewText(content)
	}
	x.m[file] = t
	return t
}

// locateOrigin finds the source line of the failure of frame o. It walks
// back from the failing step through the frame's own steps:
//   - steps without user source, or mapped to a whole contract, function or
//     block, say nothing of the statement and are passed;
//   - the first statement (or expression, widened to its statement) that can
//     have raised exactly this failure (its message, custom error or panic)
//     is the origin, exact;
//   - failing that, the failing step's own statement in code compiled
//     without the optimiser is exact, as the compiler maps it;
//   - otherwise the nearest statement is shown, approximate, with the
//     function around it as the range of candidate lines.
func locateOrigin(t *Trace, o *Frame, sources Sources, names Names, fail *Failure) {
	var abiJSON []byte
	if names != nil {
		if code := t.Code(o.ID); len(code) > 0 {
			_, abiJSON, _ = names.ABI(code)
		}
	}
	kind := classify(o, abiJSON)
	tx := &texts{sources: sources, m: make(map[string]*sourcemap.Text)}
	var nearest *candidate
	var narrows []*candidate // statements the frame ran, latest first
	var broads []*candidate  // distinct whole-contract or whole-function ranges
	first := true            // the failing step itself
	var prevLoc Location
	step := o.LastStep
walk:
	for walked := 0; step >= 0 && walked < maxWalkBack; walked++ {
		r, err := t.record(step)
		if err != nil {
			break
		}
		loc, ok := t.locate(int(r.Frame), uint64(r.PC))
		if ok && loc == prevLoc {
			ok = false // the same range as the step after it: nothing new
		} else {
			prevLoc = loc
		}
		if ok && loc.File != "" && !loc.Generated && loc.Line > 0 {
			c := &candidate{loc: loc, text: tx.get(loc.File), start: -1}
			switch {
			case c.text == nil:
				// No text to read: the mapping is all there is.
				if nearest == nil {
					nearest = c
				}
			case c.text.Broad(loc.Offset, loc.Length) || !tx.inFunction(c.text, loc.Offset):
				if len(broads) < 8 && !slices.ContainsFunc(broads, func(b *candidate) bool {
					return b.loc.File == loc.File && b.loc.Offset == loc.Offset && b.loc.Length == loc.Length
				}) {
					broads = append(broads, c)
				}
			default:
				c.start, c.end, _ = c.text.Statement(loc.Offset, loc.Length)
				if nearest == nil {
					nearest = c
					if first && !loc.Approximate && !kind.informative() {
						// Unoptimised code maps its failing instruction exactly.
						setOrigin(fail, c.loc.File, c.text, c.start, false)
						return
					}
					if !kind.informative() {
						break walk // the nearest statement is all such a failure gives
					}
				}
				if last := len(narrows) - 1; last < 0 || narrows[last].text != c.text || narrows[last].start != c.start {
					narrows = append(narrows, c)
				}
			}
		}
		first = false
		if r.Prev == 0 {
			break
		}
		step = int(r.Prev - 1)
	}
	// The function the frame entered by, when the contract's text shows it:
	// code of functions it cannot reach is a revert tail the optimiser
	// shares with them.
	var entry *scope
	for _, b := range broads {
		if s, e, ok := entryFunction(b.text, b.loc, o, abiJSON); ok {
			entry = &scope{c: b, start: s, end: e}
			break
		}
	}
	reach := newReach(tx, entry)
	if kind.informative() {
		for i, c := range narrows {
			if !reach.plausible(c.text, c.start) {
				continue
			}
			rs, re := region(c.text, c.start, c.end)
			at, ok := kind.match(c.text, rs, re)
			if !ok {
				continue
			}
			setOrigin(fail, c.loc.File, c.text, at, false)
			// Optimised code may share one revert between statements that
			// raise the same failure, mapped to either. Another such
			// statement the frame ran itself (not only its guard) leaves
			// the mapping unable to tell which one raised it.
			if c.loc.Approximate {
				for _, d := range narrows[i+1:] {
					// A compound statement (an if with its body) only guards.
					simple := !strings.ContainsRune(d.text.Masked()[d.start:d.end], '{')
					if simple && d.text == c.text && d.start != at && reach.plausible(d.text, d.start) {
						if other, ok := kind.match(d.text, d.start, d.end); ok && other != at {
							fail.Approximate = true
							lo, hi := min(at, other), max(at, other)
							fail.FromLine, fail.ToLine = c.text.Line(lo), c.text.Line(hi)
							break
						}
					}
				}
			}
			return
		}
	}
	// No executed statement could have raised it: look for the one
	// statement that can in the function the failure happened in.
	if kind.informative() {
		var scopes [][3]int // file index into files, start, end
		var files []*candidate
		if nearest != nil && nearest.text != nil && reach.plausible(nearest.text, nearest.start) {
			if s, e, ok := functionBody(nearest.text, nearest.start); ok {
				files = append(files, nearest)
				scopes = append(scopes, [3]int{len(files) - 1, s, e})
			}
		}
		if entry != nil {
			files = append(files, entry.c)
			scopes = append(scopes, [3]int{len(files) - 1, entry.start, entry.end})
		}
		for _, sc := range scopes {
			c := files[sc[0]]
			at, n := kind.matchAll(c.text, sc[1], sc[2])
			if n != 1 {
				continue
			}
			// A panic's operator proves less than a message: exact only when
			// the function calls nothing that could hold the real one.
			exact := kind.panic == nil || kind.strong || !callsOut(c.text.Masked()[sc[1]:sc[2]])
			setOrigin(fail, c.loc.File, c.text, at, !exact)
			if !exact {
				fail.FromLine, fail.ToLine = c.text.Line(sc[1]), c.text.Line(max(sc[2]-1, sc[1]))
			}
			return
		}
	}
	switch {
	case nearest != nil && nearest.text == nil:
		fail.File, fail.Line, fail.Column = nearest.loc.File, nearest.loc.Line, nearest.loc.Column
		fail.Approximate = true
		fail.FromLine, fail.ToLine = nearest.loc.Line, nearest.loc.Line
	case nearest != nil:
		setOrigin(fail, nearest.loc.File, nearest.text, nearest.start, !(nearest.loc == firstLoc(t, o) && !nearest.loc.Approximate))
		if fail.Approximate {
			widen(fail, nearest.text, nearest.start, o.Error)
		}
	case len(broads) > 0:
		broad := broads[0]
		fail.File, fail.Line, fail.Column = broad.loc.File, broad.loc.Line, broad.loc.Column
		fail.Approximate = true
		fail.FromLine, fail.ToLine = broad.loc.Line, broad.text.Line(broad.loc.Offset+max(broad.loc.Length-1, 0))
	}
}

type candidate struct {
	loc        Location
	text       *sourcemap.Text
	start, end int // the statement, start -1 without text
}

// scope is a function's body in a candidate's text.
type scope struct {
	c          *candidate
	start, end int
}

// functionBody returns the body (braces included) of the function-like
// definition around off.
func functionBody(text *sourcemap.Text, off int) (int, int, bool) {
	s, e, ok := text.Enclosing(off, true)
	if !ok {
		return 0, 0, false
	}
	b := strings.IndexByte(text.Masked()[s:e], '{')
	if b < 0 {
		return 0, 0, false
	}
	return s + b, e, true
}

// firstLoc is the location of the frame's failing step.
func firstLoc(t *Trace, o *Frame) Location {
	r, err := t.record(o.LastStep)
	if err != nil {
		return Location{}
	}
	loc, _ := t.locate(int(r.Frame), uint64(r.PC))
	return loc
}

func setOrigin(fail *Failure, file string, text *sourcemap.Text, at int, approximate bool) {
	fail.File, fail.Line, fail.Column = file, text.Line(at), text.Column(at)
	fail.Approximate = approximate
	fail.FromLine, fail.ToLine = 0, 0
	if approximate {
		fail.FromLine, fail.ToLine = fail.Line, fail.Line
	}
}

// widen sets the candidate lines of an approximate origin at offset at:
// the block around it when the frame ran out of gas or hit another EVM
// error (the failing instruction is exact, only its mapping may be
// shifted), else the whole function around it (the failure may come from
// any statement of it).
func widen(fail *Failure, text *sourcemap.Text, at int, evmErr string) {
	function := evmErr == vm.ErrExecutionReverted.Error()
	if s, e, ok := text.Enclosing(at, function); ok {
		fail.FromLine, fail.ToLine = text.Line(s), text.Line(max(e-1, s))
	}
}
