package query

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"time"
)

// dump renders a query's AST as indented JSON, naming each node's type, so
// goldens show the tree and tests compare trees. Without positions, two
// queries that differ only in spacing dump the same.
func dump(q *Query, withPos bool) string {
	b, err := json.MarshalIndent(tree(reflect.ValueOf(q), withPos), "", "  ")
	if err != nil {
		panic("BUG: dump: " + err.Error())
	}
	return string(b)
}

var timeType = reflect.TypeFor[time.Time]()

func tree(v reflect.Value, withPos bool) any {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		inner := tree(v.Elem(), withPos)
		if m, ok := inner.(map[string]any); ok && v.Kind() == reflect.Interface {
			m["@type"] = v.Elem().Type().Elem().Name()
		}
		return inner
	case reflect.Struct:
		if v.Type() == timeType {
			t := v.Interface().(time.Time)
			if t.IsZero() {
				return nil
			}
			return t.Format(time.RFC3339Nano)
		}
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || (!withPos && f.Name == "Start") || v.Field(i).IsZero() {
				continue
			}
			m[f.Name] = tree(v.Field(i), withPos)
		}
		return m
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "0x" + hex.EncodeToString(v.Bytes())
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = tree(v.Index(i), withPos)
		}
		return out
	case reflect.Int, reflect.Int64:
		if s, ok := v.Interface().(fmt.Stringer); ok {
			return s.String()
		}
	}
	return v.Interface()
}
