package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strconv"
)

// Layout is a contract's storage layout as solc reports it
// (outputSelection "storageLayout"): its state variables in declaration
// order, each at a slot and a byte offset in it.
type Layout struct {
	Vars []Var
}

// Var is one state variable of a layout.
type Var struct {
	Label string
	// Slot is the slot number in decimal, as solc writes it.
	Slot   string
	Offset int
	// Type is the type's label ("uint256", "mapping(address => uint256)");
	// Size its number of bytes in the slot (32 for mappings and arrays).
	Type string
	Size int
	// Encoding is solc's "inplace", "mapping", "dynamic_array" or "bytes".
	Encoding string
}

type layoutJSON struct {
	Storage []struct {
		Label  string `json:"label"`
		Offset int    `json:"offset"`
		Slot   string `json:"slot"`
		Type   string `json:"type"`
	} `json:"storage"`
	Types map[string]struct {
		Encoding      string `json:"encoding"`
		Label         string `json:"label"`
		NumberOfBytes string `json:"numberOfBytes"`
	} `json:"types"`
}

// ErrLayout is a storage layout that cannot be read.
var ErrLayout = errors.New("bad storage layout")

// ParseLayout reads solc's storageLayout JSON. An empty or null layout (an
// artifact built without it) is an error: the check cannot be made.
func ParseLayout(raw []byte) (*Layout, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("%w: the artifact has no storageLayout (build with outputSelection storageLayout, or forge build --extra-output storageLayout)", ErrLayout)
	}
	var l layoutJSON
	if err := json.Unmarshal(raw, &l); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLayout, err)
	}
	out := &Layout{Vars: make([]Var, 0, len(l.Storage))}
	type place struct {
		slot   string
		offset int
	}
	taken := make(map[place]string, len(l.Storage))
	for i, s := range l.Storage {
		n, ok := new(big.Int).SetString(s.Slot, 10)
		if !ok || n.Sign() < 0 || n.BitLen() > 256 {
			return nil, fmt.Errorf("%w: variable %d (%q) has slot %q, not a slot number", ErrLayout, i, s.Label, s.Slot)
		}
		if s.Offset < 0 || s.Offset > 31 {
			return nil, fmt.Errorf("%w: variable %d (%q) has offset %d, outside a slot", ErrLayout, i, s.Label, s.Offset)
		}
		t, ok := l.Types[s.Type]
		if !ok {
			return nil, fmt.Errorf("%w: variable %q has type %q, which the layout does not describe", ErrLayout, s.Label, s.Type)
		}
		size, err := strconv.Atoi(t.NumberOfBytes)
		if err != nil || size <= 0 {
			return nil, fmt.Errorf("%w: type %q has %q bytes", ErrLayout, s.Type, t.NumberOfBytes)
		}
		p := place{n.String(), s.Offset}
		if other, ok := taken[p]; ok {
			return nil, fmt.Errorf("%w: variables %q and %q both start at slot %s offset %d", ErrLayout, other, s.Label, p.slot, p.offset)
		}
		taken[p] = s.Label
		out.Vars = append(out.Vars, Var{Label: s.Label, Slot: n.String(), Offset: s.Offset, Type: t.Label, Size: size, Encoding: t.Encoding})
	}
	return out, nil
}

// LayoutError is a storage layout change that would corrupt a proxy's
// state: a variable of the old layout whose place the new layout gives to
// another type, or leaves to nothing.
type LayoutError struct {
	Slot   string
	Offset int
	Old    Var
	// New is what the new layout has at that place; nil when nothing.
	New *Var
}

func (e *LayoutError) Error() string {
	where := "slot " + e.Slot
	if e.Offset > 0 {
		where += fmt.Sprintf(" (offset %d)", e.Offset)
	}
	if e.New == nil {
		return fmt.Sprintf("%s: `%s` (%s) in the old layout is not in the new one: a variable removed or moved leaves its value to whatever comes next",
			where, e.Old.Label, e.Old.Type)
	}
	return fmt.Sprintf("%s: `%s` (%s) in the old layout is `%s` (%s) in the new", where, e.Old.Label, e.Old.Type, e.New.Label, e.New.Type)
}

// CompareLayouts checks that every variable of old keeps its place and
// type in new: the same slot and offset, the same type and size. New
// variables after the old ones, and renamed variables of the same type,
// are fine. It returns every change, by slot.
func CompareLayouts(old, upd *Layout) []*LayoutError {
	type key struct {
		slot   string
		offset int
	}
	at := make(map[key]Var, len(upd.Vars))
	for _, v := range upd.Vars {
		at[key{v.Slot, v.Offset}] = v
	}
	var errs []*LayoutError
	for _, o := range old.Vars {
		n, ok := at[key{o.Slot, o.Offset}]
		switch {
		case !ok:
			errs = append(errs, &LayoutError{Slot: o.Slot, Offset: o.Offset, Old: o})
		case n.Type != o.Type || n.Size != o.Size || n.Encoding != o.Encoding:
			nv := n
			errs = append(errs, &LayoutError{Slot: o.Slot, Offset: o.Offset, Old: o, New: &nv})
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, _ := new(big.Int).SetString(errs[i].Slot, 10)
		b, _ := new(big.Int).SetString(errs[j].Slot, 10)
		if c := a.Cmp(b); c != 0 {
			return c < 0
		}
		return errs[i].Offset < errs[j].Offset
	})
	return errs
}
