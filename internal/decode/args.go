package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Text → ABI arguments: the one parser behind the contract page's read
// functions and the monitors' state reads. An argument is a JSON value as
// a form or a YAML file gives it: a string ("123", "0xabc…", "true"), a
// number or a boolean for scalars, and for arrays and tuples a JSON array
// (or object keyed by field name), or a string holding one. Numbers are
// decimal or 0x-hex and must fit the type; addresses are 0x and 40 hex
// digits, with a mixed-case EIP-55 checksum checked; bytes are 0x-hex.

// maxArgDepth bounds nesting of array and tuple arguments.
const maxArgDepth = 16

// FindMethod returns the function of a named sig ("balanceOf(address)") or
// name ("balanceOf", when it is not overloaded).
func FindMethod(a *abi.ABI, sig string) (abi.Method, error) {
	sig = strings.TrimSpace(sig)
	var byName []abi.Method
	for _, m := range a.Methods {
		if m.Sig == sig {
			return m, nil
		}
		if m.RawName == sig {
			byName = append(byName, m)
		}
	}
	switch len(byName) {
	case 0:
		return abi.Method{}, fmt.Errorf("the ABI has no function %q", sig)
	case 1:
		return byName[0], nil
	}
	sigs := make([]string, len(byName))
	for i, m := range byName {
		sigs[i] = m.Sig
	}
	return abi.Method{}, fmt.Errorf("%s is overloaded: name one of %s", sig, strings.Join(sigs, ", "))
}

// EncodeCall converts the arguments to the method's input types and
// ABI-encodes the call (selector and arguments). An argument that does not
// fit says which one and why.
func EncodeCall(m abi.Method, raw []json.RawMessage) ([]byte, error) {
	if len(raw) != len(m.Inputs) {
		return nil, fmt.Errorf("%s takes %d arguments, got %d", m.Sig, len(m.Inputs), len(raw))
	}
	vals := make([]any, len(raw))
	for i, in := range m.Inputs {
		v, err := ParseArg(in.Type, raw[i])
		if err != nil {
			name := in.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			return nil, fmt.Errorf("argument %s (%s): %w", name, in.Type.String(), err)
		}
		vals[i] = v
	}
	return PackCall(m, vals)
}

// PackCall ABI-encodes a call of m with arguments already converted by
// ParseArg.
func PackCall(m abi.Method, vals []any) ([]byte, error) {
	args, err := m.Inputs.Pack(vals...)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the arguments of %s: %w", m.Sig, err)
	}
	return append(append([]byte(nil), m.ID...), args...), nil
}

// ParseArg converts one argument, a JSON value, to the Go value
// go-ethereum's ABI packer expects for t.
func ParseArg(t abi.Type, raw json.RawMessage) (any, error) {
	v, err := argValue(t, raw, 0)
	if err != nil {
		return nil, err
	}
	return v.Interface(), nil
}

// ParseArgText converts one argument written as plain text, as in a YAML
// file: the text is read as a JSON string would be, so "12", "0xab…" and,
// for arrays and tuples, "[1, 2]" all work.
func ParseArgText(t abi.Type, s string) (any, error) {
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	return ParseArg(t, raw)
}

// argValue converts one JSON argument to the Go value go-ethereum's ABI
// packer expects for t.
func argValue(t abi.Type, raw json.RawMessage, depth int) (reflect.Value, error) {
	if depth > maxArgDepth {
		return reflect.Value{}, errors.New("nested too deeply")
	}
	switch t.T {
	case abi.SliceTy, abi.ArrayTy, abi.TupleTy:
		items, obj, err := listArg(raw)
		if err != nil {
			return reflect.Value{}, err
		}
		return compositeValue(t, items, obj, depth)
	}
	s, err := scalarArg(raw)
	if err != nil {
		return reflect.Value{}, err
	}
	switch t.T {
	case abi.IntTy, abi.UintTy:
		n, err := parseInt(s, t.T == abi.IntTy, t.Size)
		if err != nil {
			return reflect.Value{}, err
		}
		rt := t.GetType()
		if rt == reflect.TypeOf((*big.Int)(nil)) {
			return reflect.ValueOf(n), nil
		}
		v := reflect.New(rt).Elem()
		if t.T == abi.IntTy {
			v.SetInt(n.Int64())
		} else {
			v.SetUint(n.Uint64())
		}
		return v, nil
	case abi.BoolTy:
		switch strings.ToLower(s) {
		case "true", "1":
			return reflect.ValueOf(true), nil
		case "false", "0":
			return reflect.ValueOf(false), nil
		}
		return reflect.Value{}, fmt.Errorf("%q is not true or false", s)
	case abi.AddressTy:
		if !common.IsHexAddress(s) || !strings.HasPrefix(s, "0x") {
			return reflect.Value{}, fmt.Errorf("%q is not an address (0x and 40 hex digits)", s)
		}
		a := common.HexToAddress(s)
		// A mixed-case address carries an EIP-55 checksum: a typo shows.
		if s[2:] != strings.ToLower(s[2:]) && s[2:] != strings.ToUpper(s[2:]) && a.Hex() != s {
			return reflect.Value{}, fmt.Errorf("%q has a wrong EIP-55 checksum (did you mean %s?)", s, a.Hex())
		}
		return reflect.ValueOf(a), nil
	case abi.StringTy:
		return reflect.ValueOf(s), nil
	case abi.BytesTy:
		b, err := hexArg(s)
		if err != nil {
			return reflect.Value{}, err
		}
		return reflect.ValueOf(b), nil
	case abi.FixedBytesTy, abi.HashTy, abi.FunctionTy:
		b, err := hexArg(s)
		if err != nil {
			return reflect.Value{}, err
		}
		rt := t.GetType()
		if rt.Kind() != reflect.Array || len(b) != rt.Len() {
			return reflect.Value{}, fmt.Errorf("want exactly %d bytes, got %d", rt.Len(), len(b))
		}
		v := reflect.New(rt).Elem()
		reflect.Copy(v, reflect.ValueOf(b))
		return v, nil
	}
	return reflect.Value{}, fmt.Errorf("type %s cannot be entered", t.String())
}

func compositeValue(t abi.Type, items []json.RawMessage, obj map[string]json.RawMessage, depth int) (reflect.Value, error) {
	switch t.T {
	case abi.TupleTy:
		rt := t.GetType()
		v := reflect.New(rt).Elem()
		if obj != nil {
			items = make([]json.RawMessage, len(t.TupleElems))
			for i, name := range t.TupleRawNames {
				raw, ok := obj[name]
				if !ok {
					return reflect.Value{}, fmt.Errorf("field %q is missing", name)
				}
				items[i] = raw
			}
			if len(obj) != len(items) {
				return reflect.Value{}, fmt.Errorf("the tuple has %d fields, got %d", len(items), len(obj))
			}
		}
		if len(items) != len(t.TupleElems) {
			return reflect.Value{}, fmt.Errorf("the tuple has %d fields, got %d", len(t.TupleElems), len(items))
		}
		for i, et := range t.TupleElems {
			ev, err := argValue(*et, items[i], depth+1)
			if err != nil {
				return reflect.Value{}, fmt.Errorf("field %s: %w", t.TupleRawNames[i], err)
			}
			v.Field(i).Set(ev)
		}
		return v, nil
	case abi.ArrayTy:
		if obj != nil || len(items) != t.Size {
			return reflect.Value{}, fmt.Errorf("want an array of %d values", t.Size)
		}
	}
	if obj != nil {
		return reflect.Value{}, errors.New("want an array, not an object")
	}
	rt := t.GetType()
	var v reflect.Value
	if t.T == abi.SliceTy {
		v = reflect.MakeSlice(rt, len(items), len(items))
	} else {
		v = reflect.New(rt).Elem()
	}
	for i, raw := range items {
		ev, err := argValue(*t.Elem, raw, depth+1)
		if err != nil {
			return reflect.Value{}, fmt.Errorf("[%d]: %w", i, err)
		}
		v.Index(i).Set(ev)
	}
	return v, nil
}

// listArg reads an array (or tuple object) argument: a JSON array or
// object, or a JSON string holding one, as a form field gives it.
func listArg(raw json.RawMessage) ([]json.RawMessage, map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, nil, fmt.Errorf("not valid JSON: %w", err)
		}
		raw = json.RawMessage(strings.TrimSpace(s))
	}
	switch {
	case len(raw) > 0 && raw[0] == '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, nil, fmt.Errorf("not a valid JSON array: %w", err)
		}
		return items, nil, nil
	case len(raw) > 0 && raw[0] == '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return nil, nil, fmt.Errorf("not a valid JSON object: %w", err)
		}
		return nil, obj, nil
	}
	return nil, nil, errors.New(`want a JSON array, such as ["0x…", "0x…"] or [1, 2]`)
}

// scalarArg reads a JSON string, number or boolean as text.
func scalarArg(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("not a valid JSON string: %w", err)
		}
		return strings.TrimSpace(s), nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return "", fmt.Errorf("not a valid JSON value: %w", err)
	}
	switch v := v.(type) {
	case json.Number:
		return v.String(), nil
	case bool:
		return fmt.Sprint(v), nil
	}
	return "", errors.New("want a single value, not a list or an object")
}

func hexArg(s string) ([]byte, error) {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return nil, fmt.Errorf("%q is not hex (0x…)", s)
	}
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("%q has an odd number of hex digits", s)
	}
	b, err := hexutil.Decode("0x" + s[2:])
	if err != nil && s != "0x" {
		return nil, fmt.Errorf("%q is not hex: %w", s, err)
	}
	return b, nil
}

// parseInt reads a decimal or 0x-hex integer and checks it fits the
// type's bits.
func parseInt(s string, signed bool, bits int) (*big.Int, error) {
	if s == "" {
		return nil, errors.New("a number is required")
	}
	if len(s) > 100 {
		return nil, errors.New("the number is too long")
	}
	neg := strings.HasPrefix(s, "-")
	digits := strings.TrimPrefix(s, "-")
	n := new(big.Int)
	var ok bool
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		_, ok = n.SetString(digits[2:], 16)
	} else {
		_, ok = n.SetString(digits, 10)
	}
	if !ok || strings.HasPrefix(digits, "+") || strings.HasPrefix(digits, "-") {
		return nil, fmt.Errorf("%q is not a whole number (decimal or 0x hex)", s)
	}
	if neg {
		n.Neg(n)
	}
	lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), uint(bits)) // [lo, hi)
	if signed {
		hi.Rsh(hi, 1)
		lo.Neg(hi)
	}
	if n.Cmp(lo) < 0 || n.Cmp(hi) >= 0 {
		kind := "uint"
		if signed {
			kind = "int"
		}
		return nil, fmt.Errorf("%s is out of range for %s%d", s, kind, bits)
	}
	return n, nil
}

// ParseABI reads a contract's JSON ABI for encoding calls and decoding
// their results with go-ethereum's accounts/abi types.
func ParseABI(abiJSON []byte) (*abi.ABI, error) {
	a, err := abi.JSON(bytes.NewReader(abiJSON))
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// MethodFromSignature builds a view function from its text signature, as
// a monitor's read names a function its ABI need not know:
// "latestRoundData()" with returns "(uint80 roundId, int256 answer)".
// Each type may be followed by a name (which selects an output); an empty
// returns means one uint256.
func MethodFromSignature(sig, returns string) (*abi.Method, error) {
	open := strings.Index(sig, "(")
	if open <= 0 || !strings.HasSuffix(sig, ")") {
		return nil, fmt.Errorf("%q is not a signature like totalSupply()", sig)
	}
	name := sig[:open]
	parseList := func(list string) (abi.Arguments, error) {
		list = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(list), "("), ")"))
		var out abi.Arguments
		if list == "" {
			return out, nil
		}
		for _, t := range strings.Split(list, ",") {
			// "int256 answer": a type and an optional name (which
			// latestRoundData().answer selects by).
			f := strings.Fields(t)
			if len(f) == 0 {
				return nil, fmt.Errorf("empty type in %q", list)
			}
			typ, err := abi.NewType(f[0], "", nil)
			if err != nil {
				return nil, fmt.Errorf("type %q: %v", t, err)
			}
			arg := abi.Argument{Type: typ}
			if n := f[len(f)-1]; len(f) > 1 && isIdentifier(n) {
				arg.Name = n
			}
			out = append(out, arg)
		}
		return out, nil
	}
	ins, err := parseList(sig[open:])
	if err != nil {
		return nil, err
	}
	if returns == "" {
		returns = "(uint256)"
	}
	outs, err := parseList(returns)
	if err != nil {
		return nil, err
	}
	m := abi.NewMethod(name, name, abi.Function, "view", false, false, ins, outs)
	return &m, nil
}

// FunctionName returns the name of the function of abiJSON that calldata
// input calls, by its selector, without decoding the arguments.
func FunctionName(abiJSON, input []byte) (name string, ok bool) {
	if len(input) < 4 || len(abiJSON) == 0 {
		return "", false
	}
	defer func() {
		if p := recover(); p != nil {
			name, ok = "", false
		}
	}()
	c, err := parseABI("", abiJSON)
	if err != nil {
		return "", false
	}
	if f := c.methods[[4]byte(input[:4])]; f != nil {
		return f.name, true
	}
	return "", false
}
