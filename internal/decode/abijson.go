package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// MaxABISize is the largest ABI JSON that Add accepts.
const MaxABISize = 16 << 20

// ABIError reports an ABI that cannot be used: malformed JSON, a JSON value of
// the wrong kind, or a fragment that is not a valid ABI entry.
type ABIError struct {
	// Line and Column locate the problem in the ABI JSON, both counted from 1
	// (Column in bytes); they are 0 when the problem has no position.
	Line, Column int
	// Msg says what is wrong.
	Msg string
	// Err is the underlying JSON error, if any.
	Err error
}

func (e *ABIError) Error() string {
	if e.Line == 0 {
		return "abi: " + e.Msg
	}
	return fmt.Sprintf("abi: line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

func (e *ABIError) Unwrap() error { return e.Err }

// newABIError builds an ABIError positioned at byte offset off of data.
func newABIError(data []byte, off int64, msg string, err error) *ABIError {
	line, col := position(data, off)
	return &ABIError{Line: line, Column: col, Msg: msg, Err: err}
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off < 0 {
		off = 0
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// jsonError converts an error from encoding/json about data (whose first
// byte is at offset base of the whole document doc) into an ABIError.
func jsonError(doc []byte, base int64, err error) *ABIError {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, including the offending one.
		return newABIError(doc, base+se.Offset-1, se.Error(), err)
	case errors.As(err, &te):
		what := "the ABI"
		if te.Field != "" {
			what = fmt.Sprintf("field %q", te.Field)
		}
		return newABIError(doc, base+te.Offset-1, fmt.Sprintf("%s must be %s, not %s", what, jsonKind(te.Type), te.Value), err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return newABIError(doc, int64(len(doc)), "unexpected end of JSON input", err)
	}
	return &ABIError{Msg: err.Error(), Err: err}
}

// jsonKind names the JSON kind that a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.Kind().String()
}

// rawFragment is one ABI entry as found in the JSON.
type rawFragment struct {
	Type      string      `json:"type"`
	Name      string      `json:"name"`
	Inputs    []component `json:"inputs"`
	Outputs   []component `json:"outputs"`
	Anonymous bool        `json:"anonymous"`
}

// fragment is a validated function, event or error.
type fragment struct {
	kind      string // "function", "event" or "error"
	name      string
	sig       string // e.g. "transfer(address,uint256)"
	params    []param
	indexed   int // number of indexed parameters (events)
	anonymous bool
	owner     string // name of the ABI that declared it
}

type param struct {
	name    string
	typ     *abiType
	indexed bool
}

// contractABI is a parsed ABI, indexed for lookups by selector and topic.
type contractABI struct {
	name    string
	methods map[[4]byte]*fragment
	events  map[common.Hash][]*fragment
	errors  map[[4]byte]*fragment
}

// parseABI parses and validates an ABI JSON array.
func parseABI(name string, data []byte) (*contractABI, error) {
	if len(data) > MaxABISize {
		return nil, &ABIError{Msg: fmt.Sprintf("ABI is %d bytes, more than the %d allowed", len(data), MaxABISize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ABIError{Msg: "empty ABI: expected a JSON array of fragments"}
	}
	// Check the syntax of the whole document first: json.Unmarshal reports
	// syntax errors at offsets from the start of data, where a Decoder
	// counts from the start of the value it was reading.
	var probe json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, jsonError(data, 0, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, jsonError(data, 0, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		start := skipSpace(data, 0)
		return nil, newABIError(data, start, fmt.Sprintf("expected a JSON array of fragments, found %s", tokenKind(tok)), nil)
	}
	c := &contractABI{
		name:    name,
		methods: make(map[[4]byte]*fragment),
		events:  make(map[common.Hash][]*fragment),
		errors:  make(map[[4]byte]*fragment),
	}
	for dec.More() {
		start := skipSpace(data, dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, jsonError(data, 0, err)
		}
		var rf rawFragment
		if err := json.Unmarshal(raw, &rf); err != nil {
			return nil, jsonError(data, start, err)
		}
		f, err := newFragment(name, &rf)
		if err != nil {
			return nil, newABIError(data, start, err.Error(), nil)
		}
		if f == nil {
			continue // constructor, fallback, receive: nothing to decode by selector
		}
		c.add(f)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, jsonError(data, 0, err)
	}
	if rest := skipSpace(data, dec.InputOffset()); rest < int64(len(data)) {
		return nil, newABIError(data, rest, "unexpected data after the ABI array", nil)
	}
	return c, nil
}

// add indexes f. The first of two fragments with the same selector wins.
func (c *contractABI) add(f *fragment) {
	switch f.kind {
	case "function":
		sel := selector(f.sig)
		if _, dup := c.methods[sel]; !dup {
			c.methods[sel] = f
		}
	case "error":
		sel := selector(f.sig)
		if _, dup := c.errors[sel]; !dup {
			c.errors[sel] = f
		}
	case "event":
		if f.anonymous {
			return // no topic0 to find it by
		}
		id := crypto.Keccak256Hash([]byte(f.sig))
		c.events[id] = append(c.events[id], f)
	}
}

func skipSpace(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',':
			off++
		default:
			return off
		}
	}
	return off
}

func tokenKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return fmt.Sprintf("%q", string(v))
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// newFragment validates one ABI entry. It returns nil, nil for entries that
// carry nothing to decode by selector or topic (constructor, fallback,
// receive), after checking their parameters.
func newFragment(owner string, rf *rawFragment) (*fragment, error) {
	typ := rf.Type
	if typ == "" {
		typ = "function" // the type field was optional in early ABIs
	}
	switch typ {
	case "function", "event", "error":
	case "constructor", "fallback", "receive":
		if _, _, err := parseParams(typ, "input", rf.Inputs, false); err != nil {
			return nil, err
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("unknown fragment type %q (want function, event, error, constructor, fallback or receive)", rf.Type)
	}
	if rf.Name == "" {
		return nil, fmt.Errorf("%s without a name", typ)
	}
	if !isIdentifier(rf.Name) {
		return nil, fmt.Errorf("%s name %q is not a valid identifier", typ, rf.Name)
	}
	what := fmt.Sprintf("%s %q", typ, rf.Name)
	params, indexed, err := parseParams(what, "input", rf.Inputs, typ == "event")
	if err != nil {
		return nil, err
	}
	if typ == "function" {
		if _, _, err := parseParams(what, "output", rf.Outputs, false); err != nil {
			return nil, err
		}
	}
	if typ == "event" {
		maxIndexed := 3
		if rf.Anonymous {
			maxIndexed = 4
		}
		if indexed > maxIndexed {
			return nil, fmt.Errorf("%s has %d indexed inputs, more than %d", what, indexed, maxIndexed)
		}
	}
	var sig strings.Builder
	sig.WriteString(rf.Name)
	sig.WriteByte('(')
	for i, p := range params {
		if i > 0 {
			sig.WriteByte(',')
		}
		sig.WriteString(p.typ.canon)
	}
	sig.WriteByte(')')
	return &fragment{
		kind:      typ,
		name:      rf.Name,
		sig:       sig.String(),
		params:    params,
		indexed:   indexed,
		anonymous: rf.Anonymous && typ == "event",
		owner:     owner,
	}, nil
}

func parseParams(what, dir string, comps []component, event bool) ([]param, int, error) {
	if len(comps) > maxComponents {
		return nil, 0, fmt.Errorf("%s has %d %ss, more than %d", what, len(comps), dir, maxComponents)
	}
	params := make([]param, len(comps))
	indexed := 0
	for i, c := range comps {
		t, err := parseType(c.Type, c.Components)
		if err != nil {
			return nil, 0, fmt.Errorf("%s %s %d (%s): %w", what, dir, i, argName(c.Name, i), err)
		}
		if c.Indexed {
			if !event {
				return nil, 0, fmt.Errorf("%s %s %d (%s): only event inputs can be indexed", what, dir, i, argName(c.Name, i))
			}
			indexed++
		}
		params[i] = param{name: argName(c.Name, i), typ: t, indexed: c.Indexed}
	}
	return params, indexed, nil
}

// isIdentifier reports whether s is a Solidity identifier.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == '$':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func selector(sig string) [4]byte {
	var s [4]byte
	copy(s[:], crypto.Keccak256([]byte(sig)))
	return s
}
