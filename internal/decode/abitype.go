package decode

import (
	"fmt"
	"strconv"
	"strings"
)

// kind is the shape of an ABI type.
type kind uint8

const (
	kindUint kind = iota
	kindInt
	kindAddress
	kindBool
	kindString
	kindBytes      // dynamic bytes
	kindFixedBytes // bytes1..bytes32
	kindFunction   // 20-byte address + 4-byte selector
	kindArray      // T[k]
	kindSlice      // T[]
	kindTuple
)

// Limits on ABI types. A contract ABI comes from the operator, but it may be
// copied from an explorer, so it is checked as carefully as chain data.
const (
	maxTypeDepth   = 32      // nesting of arrays and tuples
	maxStaticWords = 1 << 15 // static encoding size of one type, in 32-byte words (1 MiB)
	maxComponents  = 256     // components of one tuple, parameters of one fragment
)

// abiType is a parsed, validated ABI type.
type abiType struct {
	kind  kind
	size  int      // bits for ints; N for bytesN; k for T[k]
	elem  *abiType // arrays and slices
	comps []*abiType
	names []string // tuple component names, arg0… for unnamed ones
	canon string   // canonical form used in signatures, e.g. "(address,uint256)[]"

	dynamic bool
	words   int // head size in 32-byte words: the whole value when static, 1 when dynamic
}

// component is a tuple member as found in the ABI JSON.
type component struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Components []component `json:"components"`
	Indexed    bool        `json:"indexed"`
}

// parseType parses a type string such as "uint256", "bytes32[2][]" or
// "tuple[]" (with its components) into a validated abiType.
func parseType(t string, comps []component) (*abiType, error) {
	return parseTypeDepth(t, comps, 0)
}

func parseTypeDepth(t string, comps []component, depth int) (*abiType, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("type %q is nested more than %d levels deep", t, maxTypeDepth)
	}
	if t == "" {
		return nil, fmt.Errorf("missing type")
	}
	// Array suffixes bind from the right: "uint8[2][]" is a slice of uint8[2].
	if strings.HasSuffix(t, "]") {
		open := strings.LastIndexByte(t, '[')
		if open <= 0 {
			return nil, fmt.Errorf("invalid type %q: unbalanced brackets", t)
		}
		elem, err := parseTypeDepth(t[:open], comps, depth+1)
		if err != nil {
			return nil, err
		}
		dim := t[open+1 : len(t)-1]
		if dim == "" {
			return &abiType{kind: kindSlice, elem: elem, canon: elem.canon + "[]", dynamic: true, words: 1}, nil
		}
		k, err := strconv.Atoi(dim)
		if err != nil || k <= 0 || dim[0] == '0' || dim[0] == '+' {
			return nil, fmt.Errorf("invalid type %q: array length %q is not a positive integer", t, dim)
		}
		at := &abiType{kind: kindArray, size: k, elem: elem, canon: elem.canon + "[" + dim + "]", dynamic: elem.dynamic}
		if at.dynamic {
			at.words = 1
			if k > maxStaticWords {
				return nil, fmt.Errorf("invalid type %q: array length %d exceeds %d", t, k, maxStaticWords)
			}
		} else {
			if k > maxStaticWords/elem.words {
				return nil, fmt.Errorf("invalid type %q: static size exceeds %d words", t, maxStaticWords)
			}
			at.words = k * elem.words
		}
		return at, nil
	}
	if strings.ContainsAny(t, "[]") {
		return nil, fmt.Errorf("invalid type %q: unbalanced brackets", t)
	}
	if t == "tuple" {
		return parseTuple(comps, depth)
	}
	if len(comps) > 0 {
		return nil, fmt.Errorf("type %q cannot have components (only tuple can)", t)
	}
	switch t {
	case "address":
		return &abiType{kind: kindAddress, canon: t, words: 1}, nil
	case "bool":
		return &abiType{kind: kindBool, canon: t, words: 1}, nil
	case "string":
		return &abiType{kind: kindString, canon: t, dynamic: true, words: 1}, nil
	case "bytes":
		return &abiType{kind: kindBytes, canon: t, dynamic: true, words: 1}, nil
	case "function":
		return &abiType{kind: kindFunction, canon: t, words: 1}, nil
	case "uint":
		// Aliases of the 256-bit types; the canonical form has the size.
		return &abiType{kind: kindUint, size: 256, canon: "uint256", words: 1}, nil
	case "int":
		return &abiType{kind: kindInt, size: 256, canon: "int256", words: 1}, nil
	}
	for _, p := range []struct {
		prefix string
		k      kind
	}{{"uint", kindUint}, {"int", kindInt}, {"bytes", kindFixedBytes}} {
		rest, ok := strings.CutPrefix(t, p.prefix)
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || rest[0] == '0' || rest[0] == '+' || rest[0] == '-' {
			return nil, fmt.Errorf("unknown type %q", t)
		}
		if p.k == kindFixedBytes {
			if n < 1 || n > 32 {
				return nil, fmt.Errorf("invalid type %q: bytesN needs 1 <= N <= 32", t)
			}
		} else if n < 8 || n > 256 || n%8 != 0 {
			return nil, fmt.Errorf("invalid type %q: %sN needs N a multiple of 8 from 8 to 256", t, p.prefix)
		}
		return &abiType{kind: p.k, size: n, canon: t, words: 1}, nil
	}
	if strings.HasPrefix(t, "fixed") || strings.HasPrefix(t, "ufixed") {
		return nil, fmt.Errorf("unsupported type %q: fixed-point types cannot be decoded", t)
	}
	return nil, fmt.Errorf("unknown type %q", t)
}

func parseTuple(comps []component, depth int) (*abiType, error) {
	if len(comps) == 0 {
		return nil, fmt.Errorf("type \"tuple\" needs components")
	}
	if len(comps) > maxComponents {
		return nil, fmt.Errorf("tuple has %d components, more than %d", len(comps), maxComponents)
	}
	tt := &abiType{kind: kindTuple, comps: make([]*abiType, len(comps)), names: make([]string, len(comps))}
	var canon strings.Builder
	canon.WriteByte('(')
	for i, c := range comps {
		ct, err := parseTypeDepth(c.Type, c.Components, depth+1)
		if err != nil {
			return nil, fmt.Errorf("component %d (%s): %w", i, argName(c.Name, i), err)
		}
		tt.comps[i] = ct
		tt.names[i] = argName(c.Name, i)
		if i > 0 {
			canon.WriteByte(',')
		}
		canon.WriteString(ct.canon)
		tt.dynamic = tt.dynamic || ct.dynamic
		tt.words += ct.words
	}
	canon.WriteByte(')')
	tt.canon = canon.String()
	if tt.dynamic {
		tt.words = 1
	} else if tt.words > maxStaticWords {
		return nil, fmt.Errorf("tuple %s: static size exceeds %d words", tt.canon, maxStaticWords)
	}
	return tt, nil
}

// argName returns the name to show for argument i: its own, or argN.
func argName(name string, i int) string {
	if name != "" {
		return name
	}
	return "arg" + strconv.Itoa(i)
}

// isValueType reports whether an indexed event argument of this type is
// stored in its topic as the value itself rather than as a hash.
func (t *abiType) isValueType() bool {
	switch t.kind {
	case kindString, kindBytes, kindArray, kindSlice, kindTuple:
		return false
	}
	return true
}
