package sqlbuild

import (
	"math/bits"
	"slices"
	"strings"
)

// A Path is where an attribute may be stored in a record's attributes:
// candidate key sequences, in order of preference. The attribute is at the
// first candidate the record has; the others are not looked at.
//
// The query names an attribute by dotted segments (attr.user.id), while
// shippers store it either nested ({"user":{"id":42}}, JSON lines) or flat
// with dots in the key ({"user.id":42}, as OpenTelemetry sends every
// attribute), or a mix ({"http":{"request.method":"GET"}}). A path of n
// segments therefore has up to 2^(n-1) candidates: each dot either
// descends into an object or is part of a key.
type Path [][]string

// maxSplitSegments bounds the segments whose every mix of nesting and dots
// is tried (2^(n-1) candidates: 32 at 6). Longer paths try the fully
// nested and the fully flat shapes only, so that a long name cannot blow
// up the statement.
const maxSplitSegments = 6

// attrPath returns the candidates of the attribute named by segs: fully
// nested first, then shapes with more keys before those with fewer (more
// nesting first), and the fully flat key last. One segment has one
// candidate.
func attrPath(segs []string) Path {
	n := len(segs)
	if n <= 1 {
		return Path{segs}
	}
	gaps := n - 1
	if n > maxSplitSegments {
		return Path{segs, {strings.Join(segs, ".")}}
	}
	// Bit i of a mask set: the dot after segs[i] is part of a key.
	masks := make([]uint, 0, 1<<gaps)
	for m := uint(0); m < 1<<gaps; m++ {
		masks = append(masks, m)
	}
	slices.SortStableFunc(masks, func(a, b uint) int { return bits.OnesCount(a) - bits.OnesCount(b) })
	out := make(Path, 0, len(masks))
	for _, m := range masks {
		keys := []string{segs[0]}
		for i := 1; i < n; i++ {
			if m&(1<<(i-1)) != 0 {
				keys[len(keys)-1] += "." + segs[i]
			} else {
				keys = append(keys, segs[i])
			}
		}
		out = append(out, keys)
	}
	return out
}
