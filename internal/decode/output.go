package decode

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

// Output is one decoded return value.
type Output struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// DecodeOutputs decodes a call's return data by the method's outputs.
func DecodeOutputs(m abi.Method, data []byte) ([]Output, error) {
	vals, err := m.Outputs.Unpack(data)
	if err != nil {
		return nil, fmt.Errorf("cannot decode what %s returned (0x%x): %w", m.Sig, data, err)
	}
	out := make([]Output, len(vals))
	for i, v := range vals {
		arg := m.Outputs[i]
		out[i] = Output{Name: arg.Name, Type: arg.Type.String(), Value: jsonValue(arg.Type, reflect.ValueOf(v))}
	}
	return out, nil
}

// jsonValue renders a decoded value for JSON: numbers and bytes as
// strings (numbers do not fit a float), tuples as objects in field order
// as a list of outputs.
func jsonValue(t abi.Type, v reflect.Value) any {
	if !v.IsValid() {
		return nil
	}
	for v.Kind() == reflect.Interface {
		v = v.Elem()
	}
	switch t.T {
	case abi.IntTy, abi.UintTy:
		return fmt.Sprint(v.Interface())
	case abi.BoolTy:
		return v.Bool()
	case abi.StringTy:
		return v.String()
	case abi.AddressTy:
		if a, ok := v.Interface().(common.Address); ok {
			return a.Hex()
		}
	case abi.BytesTy:
		return hexutil.Encode(v.Bytes())
	case abi.FixedBytesTy, abi.HashTy, abi.FunctionTy:
		b := make([]byte, v.Len())
		reflect.Copy(reflect.ValueOf(b), v)
		return hexutil.Encode(b)
	case abi.SliceTy, abi.ArrayTy:
		list := make([]any, v.Len())
		for i := range list {
			list[i] = jsonValue(*t.Elem, v.Index(i))
		}
		return list
	case abi.TupleTy:
		fields := make([]Output, len(t.TupleElems))
		for i, et := range t.TupleElems {
			fields[i] = Output{Name: t.TupleRawNames[i], Type: et.String(), Value: jsonValue(*et, v.Field(i))}
		}
		return fields
	}
	return fmt.Sprint(v.Interface())
}

// Text renders the value as one line of text, as chain.Arg does: scalars
// as their string, true/false, and arrays and tuples as compact JSON.
func (o Output) Text() string {
	switch v := o.Value.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	}
	b, err := json.Marshal(o.Value)
	if err != nil {
		return fmt.Sprint(o.Value)
	}
	return string(b)
}
