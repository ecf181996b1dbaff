package debugger

import (
	"regexp"
	"strings"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/decode"
	"github.com/blocktorch/blocktorch/internal/sourcemap"
	"github.com/ethereum/go-ethereum/core/vm"
)

// Optimised and via-IR code does not map its reverting instructions to the
// statement that raised the failure: the optimiser shares one revert tail
// between statements (so the REVERT maps to whichever statement the tail
// was first made for), and via-IR maps most instructions to the whole
// contract. What the failure itself says is exact, though: an Error(string)
// carries its message, a custom error its selector, a panic its code. The
// origin is the latest statement the frame executed that could have raised
// exactly that; a statement that could not (another message, another
// error) is a shared tail to walk back through.

// revertKind is what a frame's failure says about the statement that
// raised it.
type revertKind struct {
	message string         // Error(string)
	errors  []string       // names a custom error's selector may stand for
	panic   *regexp.Regexp // the code a Panic(uint256) comes from
	// strong is set when a match names the failure beyond doubt: its
	// message, its custom error, an assert.
	strong bool
}

// informative reports whether the failure names something to look for in
// the source.
func (k revertKind) informative() bool {
	return k.message != "" || len(k.errors) > 0 || k.panic != nil
}

var (
	selError = []byte{0x08, 0xc3, 0x79, 0xa0}
	selPanic = []byte{0x4e, 0x48, 0x7b, 0x71}
)

// panicCode maps a Panic(uint256) code to the code that raises it; codes
// any statement may raise (enum conversions, bad storage encodings, calls
// of zero-initialised function variables) are left out.
var panicCode = map[uint64]*regexp.Regexp{
	0x01: regexp.MustCompile(`\bassert\s*\(`),
	0x11: regexp.MustCompile(`[-+*]`),
	0x12: regexp.MustCompile(`[/%]`),
	0x31: regexp.MustCompile(`\.\s*pop\s*\(`),
	0x32: regexp.MustCompile(`[\w$)\]]\s*\[\s*[^\]\s]`), // an index, not a type's []
	0x41: regexp.MustCompile(`\bnew\b|\.\s*push\s*\(`),
}

// classify reads a failed frame's revert data. abiJSON is the ABI of the
// code that failed, used to name a custom error by its selector.
func classify(f *Frame, abiJSON []byte) revertKind {
	var k revertKind
	if f.Error != vm.ErrExecutionReverted.Error() || len(f.Output) < 4 {
		return k
	}
	out := []byte(f.Output)
	switch r := decode.Revert(out, abiJSON); r.Kind {
	case chain.RevertError:
		k.message = r.Message
	case chain.RevertPanic:
		if len(out) == 36 {
			k.panic = panicCode[r.PanicCode]
			k.strong = r.PanicCode == 0x01
		}
	default:
		if r.Kind == chain.RevertCustom {
			k.errors = append(k.errors, r.Name)
		}
		if len(k.errors) == 0 && f.Revert != nil && f.Revert.Kind != "" && f.Revert.Name != "" &&
			f.Revert.Name != "Error" && f.Revert.Name != "Panic" {
			k.errors = append(k.errors, f.Revert.Name)
		}
	}
	k.strong = k.strong || k.message != "" || len(k.errors) > 0
	return k
}

// matchAll returns the first statement in [start, end) that can have
// raised k, and how many distinct statements there can.
func (k revertKind) matchAll(text *sourcemap.Text, start, end int) (first, n int) {
	prev := -1
	for start < end {
		at, ok := k.match(text, start, end)
		if !ok {
			break
		}
		if at != prev {
			if n == 0 {
				first = at
			}
			n++
			prev = at
		}
		_, e, ok := text.Statement(at, 1)
		if !ok || e <= start {
			break
		}
		start = e
	}
	return first, n
}

// entryFunction finds, in the contract or function range loc, the
// definition of the function frame f entered by (its selector named by
// the ABI, the constructor of a CREATE, receive for a call without data)
// and returns its range. It needs exactly one such definition.
func entryFunction(text *sourcemap.Text, loc Location, f *Frame, abiJSON []byte) (int, int, bool) {
	var re *regexp.Regexp
	switch {
	case f.Type == "CREATE" || f.Type == "CREATE2":
		re = regexp.MustCompile(`\bconstructor\s*\(`)
	case len(f.Input) == 0:
		re = regexp.MustCompile(`\breceive\s*\(`)
	case len(f.Input) >= 4 && len(abiJSON) > 0:
		name, ok := decode.FunctionName(abiJSON, f.Input)
		if !ok {
			return 0, 0, false
		}
		re = regexp.MustCompile(`\bfunction\s+` + regexp.QuoteMeta(name) + `\s*\(`)
	default:
		return 0, 0, false
	}
	masked := text.Masked()
	if loc.Offset < 0 || loc.Length < 0 || loc.Offset+loc.Length > len(masked) {
		return 0, 0, false
	}
	found := re.FindAllStringIndex(masked[loc.Offset:loc.Offset+loc.Length], 2)
	if len(found) != 1 {
		return 0, 0, false
	}
	start := loc.Offset + found[0][0]
	body := strings.IndexAny(masked[start:], ";{")
	if body < 0 || masked[start+body] != '{' {
		return 0, 0, false
	}
	end, ok := text.Block(start + body)
	if !ok {
		return 0, 0, false
	}
	return start + body, end, true
}

var callRe = regexp.MustCompile(`([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*\(`)

// builtins are what a function body may call without leaving it.
var builtins = regexp.MustCompile(`^(?:if|for|while|require|assert|revert|return|returns|emit|type|keccak256|sha256|ripemd160|ecrecover|addmod|mulmod|blockhash|blobhash|gasleft|u?int\d*|bytes\d*|address|payable|bool|string|(?:abi|this|super|msg|block|tx)\s*\..*|.*\.\s*(?:push|pop|call|delegatecall|staticcall|transfer|send))$`)

var memberBuiltins = map[string]bool{"push": true, "pop": true, "call": true, "delegatecall": true,
	"staticcall": true, "transfer": true, "send": true}

// callsOut reports whether a function body calls other code of the
// contract (an internal function, a modifier's helper, a library), whose
// failures the body's own text does not show.
func callsOut(body string) bool {
	for _, m := range callRe.FindAllStringSubmatchIndex(body, -1) {
		name := body[m[2]:m[3]]
		if builtins.MatchString(name) {
			continue
		}
		// A member of an expression: address(x).call(…), list.push(…).
		if strings.HasSuffix(strings.TrimRight(body[:m[2]], " \t\r\n"), ".") && memberBuiltins[name] {
			continue
		}
		// An event is emitted, not called.
		if strings.HasSuffix(strings.TrimRight(body[:m[2]], " \t\r\n"), "emit") {
			continue
		}
		return true
	}
	return false
}

// match looks in [start, end) of text for what raised k and returns the
// offset of the statement holding it.
func (k revertKind) match(text *sourcemap.Text, start, end int) (int, bool) {
	masked, src := text.Masked(), text.Source()
	if start < 0 || end > len(masked) || start >= end {
		return 0, false
	}
	at := -1
	switch {
	case k.message != "":
		if strings.ContainsAny(k.message, "\"'\\\n") {
			return 0, false // escaped in the source: not worth guessing
		}
		for _, q := range []string{`"`, `'`} {
			lit := q + k.message + q
			for i := start; i < end; {
				j := strings.Index(src[i:end], lit)
				if j < 0 {
					break
				}
				// A literal of the code, not of a comment.
				if masked[i+j] == q[0] {
					at = i + j
					break
				}
				i += j + 1
			}
			if at >= 0 {
				break
			}
		}
	case len(k.errors) > 0:
		for _, name := range k.errors {
			re, err := regexp.Compile(`\b` + regexp.QuoteMeta(name) + `\s*\(`)
			if err != nil {
				continue
			}
			for _, loc := range re.FindAllStringIndex(masked[start:end], -1) {
				// A use of the error, not its declaration.
				if !strings.HasSuffix(strings.TrimRight(masked[start:start+loc[0]], " \t\r\n"), "error") {
					at = start + loc[0]
					break
				}
			}
			if at >= 0 {
				break
			}
		}
	case k.panic != nil:
		if loc := k.panic.FindStringIndex(masked[start:end]); loc != nil {
			at = start + loc[0]
		}
	}
	if at < 0 {
		return 0, false
	}
	s, _, ok := text.Statement(at, 1)
	return s, ok
}

// region is where to look for the failure around a statement: the
// statement, and the body of an if whose header it is (the condition is
// what the optimiser maps; the revert sits in the body).
func region(text *sourcemap.Text, start, end int) (int, int) {
	masked := text.Masked()
	if end < len(masked) && masked[end] == '{' {
		head := strings.TrimLeft(masked[start:end], " \t\r\n")
		if strings.HasPrefix(head, "if") && (len(head) == 2 || !isIdent(head[2])) {
			if close, ok := text.Block(end); ok {
				return start, close
			}
		}
	}
	return start, end
}

func isIdent(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// reach is what a frame's entry function can run: itself, and by name the
// modifiers and functions its text mentions, then theirs, through the
// sources read so far. Names stand in for the call graph (no AST): more
// is reachable than really is, never less.
type reach struct {
	tx    *texts
	entry *scope
	text  *sourcemap.Text // the entry's text and its definition's range
	from  int
	to    int
	names map[string]bool // nil until built
}

var (
	identRe = regexp.MustCompile(`[A-Za-z_$][\w$]*`)
	defRe   = regexp.MustCompile(`\b(?:function|modifier)\s+([A-Za-z_$][\w$]*)`)
)

func newReach(tx *texts, entry *scope) *reach {
	r := &reach{tx: tx, entry: entry}
	if entry != nil {
		if s, e, ok := entry.c.text.Enclosing(entry.start+1, true); ok {
			r.text, r.from, r.to = entry.c.text, s, e
		}
	}
	return r
}

// plausible reports whether the statement at off can run in the frame: it
// lies in the entry function or in a definition reachable from it. Without
// a known entry anything is plausible.
func (r *reach) plausible(text *sourcemap.Text, off int) bool {
	if r.text == nil {
		return true
	}
	s, _, ok := text.Enclosing(off, true)
	if !ok {
		return true
	}
	if text == r.text && s == r.from {
		return true
	}
	r.build()
	return r.names[defName(text.Masked()[s:])]
}

// defName is the name of the definition starting at the start of head.
func defName(head string) string {
	if m := defRe.FindStringSubmatchIndex(head); m != nil && m[0] == 0 {
		return head[m[2]:m[3]]
	}
	return identRe.FindString(head) // constructor, receive, fallback
}

func (r *reach) build() {
	if r.names != nil {
		return
	}
	r.names = make(map[string]bool)
	type seg struct {
		text     *sourcemap.Text
		from, to int
	}
	defs := make(map[string][]seg)
	for _, text := range r.tx.m {
		if text == nil {
			continue
		}
		masked := text.Masked()
		for _, m := range defRe.FindAllStringSubmatchIndex(masked, -1) {
			body := strings.IndexAny(masked[m[0]:], ";{")
			if body < 0 || masked[m[0]+body] != '{' {
				continue
			}
			end, ok := text.Block(m[0] + body)
			if !ok {
				continue
			}
			name := masked[m[2]:m[3]]
			defs[name] = append(defs[name], seg{text, m[0], end})
		}
	}
	queue := []seg{{r.text, r.from, r.to}}
	for n := 0; len(queue) > 0 && n < 1000; n++ {
		s := queue[0]
		queue = queue[1:]
		for _, name := range identRe.FindAllString(s.text.Masked()[s.from:s.to], -1) {
			if r.names[name] {
				continue
			}
			r.names[name] = true
			queue = append(queue, defs[name]...)
		}
	}
}
