package logingest

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"

	"github.com/valyala/fastjson"

	"github.com/blocktorch/blocktorch/internal/record"
)

// The direct path of a JSON line: most lines are plain (plainJSON) and
// parse with fastjson; their record is built from the parsed value itself,
// without the map[string]any of the whole object that decodeObject builds
// and fields then copies. It gives the record, or the error, that
// decodeObject, fields and finish give for the line (FuzzJSONRecordFast
// holds the two paths equal), and it declines (ok false) any line it does
// not treat exactly the same way: a number JSON does not allow, a key
// repeated inside an attribute object, an object of many keys.

// maxFastKeys bounds the keys of the top-level object the direct path
// takes; it finds repeated keys by comparing each pair.
const maxFastKeys = 64

// fastKV is one key of the top-level object (fastjson's bytes, valid
// until the next parse) and its value.
type fastKV struct {
	key  []byte
	val  *fastjson.Value
	used bool
}

// jsonRecordFast builds the record of a line fastjson parsed into the
// object v.
func (b *builder) jsonRecordFast(v *fastjson.Value) (rec record.Record, err error, ok bool) {
	o, _ := v.Object()
	if o.Len() > maxFastKeys || !b.fastExact(v, true) {
		return rec, nil, false
	}
	kvs := b.kvs[:0]
	o.Visit(func(k []byte, x *fastjson.Value) {
		for i := range kvs {
			if string(kvs[i].key) == string(k) {
				kvs[i].val = x // the last of equal keys wins, as in encoding/json
				return
			}
		}
		kvs = append(kvs, fastKV{key: k, val: x})
	})
	b.kvs = kvs
	err = b.fieldsFast(&rec, kvs)
	if err == nil {
		err = b.finish(&rec)
	}
	return rec, err, true
}

// fastExact reports whether every number in v is JSON and no object below
// the top level repeats a key.
func (b *builder) fastExact(v *fastjson.Value, top bool) bool {
	switch v.Type() {
	case fastjson.TypeNumber:
		b.num = v.MarshalTo(b.num[:0])
		return jsonNumber(b.num)
	case fastjson.TypeArray:
		xs, _ := v.Array()
		for _, x := range xs {
			if !b.fastExact(x, false) {
				return false
			}
		}
	case fastjson.TypeObject:
		o, _ := v.Object()
		if !top && o.Len() > maxFastKeys {
			return false
		}
		ok := true
		var keys [maxFastKeys][]byte
		n := 0
		o.Visit(func(k []byte, x *fastjson.Value) {
			if !ok {
				return
			}
			if !top {
				for _, p := range keys[:n] {
					if string(p) == string(k) {
						ok = false
						return
					}
				}
				keys[n] = k
				n++
			}
			ok = b.fastExact(x, false)
		})
		return ok
	}
	return true
}

// number is the value of a JSON number as value reads a json.Number.
func (b *builder) number(v *fastjson.Value) any {
	b.num = v.MarshalTo(b.num[:0])
	if i, ok := smallInt(b.num); ok {
		return i
	}
	n := string(b.num)
	if i, err := strconv.ParseInt(n, 10, 64); err == nil {
		return i
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil {
		// Out of float range: keep the digits rather than lose them.
		return n
	}
	return finite(f)
}

// smallInt reads an integer of at most 18 digits, the common case, as
// strconv.ParseInt would.
func smallInt(s []byte) (int64, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// key returns k as a string, the same string for a key seen before (up
// to maxKeys of them): attribute names repeat from line to line.
func (b *builder) key(k []byte) string {
	if s, ok := b.keyNames[string(k)]; ok {
		return s
	}
	s := string(k)
	if len(b.keyNames) < maxKeys && len(s) <= 64 {
		if b.keyNames == nil {
			b.keyNames = map[string]string{}
		}
		b.keyNames[s] = s
	}
	return s
}

// maxKeys bounds the attribute names a builder keeps.
const maxKeys = 1024

// fieldsFast is fields over the keys of the top-level object.
func (b *builder) fieldsFast(rec *record.Record, kvs []fastKV) error {
	used := func(keys []string) (string, *fastjson.Value, bool) {
		for _, k := range keys {
			for i := range kvs {
				if !kvs[i].used && string(kvs[i].key) == k {
					kvs[i].used = true
					return k, kvs[i].val, true
				}
			}
		}
		return "", nil, false
	}
	if k, v, ok := used(timeKeys); ok {
		t, err := parseTime(fastValue(v))
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		rec.Time = t
	}
	if _, v, ok := used(levelKeys); ok {
		if err := b.level(rec, scalarString(fastValue(v))); err != nil {
			return err
		}
	}
	if _, v, ok := used(messageKeys); ok {
		rec.Message = scalarString(fastValue(v))
	}
	if err := takeString(kvs, "service", &rec.Service); err != nil {
		return err
	}
	if err := takeString(kvs, "source", &rec.Source); err != nil {
		return err
	}
	if err := takeString(kvs, "kind", &rec.Kind); err != nil {
		return err
	}
	// Sorted keys make which attribute trips the limit reproducible.
	rest := kvs[:0]
	for _, kv := range kvs {
		if !kv.used {
			rest = append(rest, kv)
		}
	}
	kvs = rest
	slices.SortFunc(kvs, func(a, b fastKV) int { return bytes.Compare(a.key, b.key) })
	for i := range kvs {
		if err := b.count(); err != nil {
			return err
		}
		x, ok, err := b.valueFast(kvs[i].val, 1)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if rec.Attrs == nil {
			rec.Attrs = make(map[string]any, len(kvs))
		}
		rec.Attrs[b.key(kvs[i].key)] = x
	}
	return nil
}

// takeString sets dst to the string value of key, an error when it is not
// a string.
func takeString(kvs []fastKV, key string, dst *string) error {
	for i := range kvs {
		if kvs[i].used || string(kvs[i].key) != key {
			continue
		}
		if kvs[i].val.Type() != fastjson.TypeString {
			return fmt.Errorf("%s must be a string", key)
		}
		kvs[i].used = true
		*dst = string(kvs[i].val.GetStringBytes())
	}
	return nil
}

// valueFast is value over a parsed value of a plain line (its strings are
// valid UTF-8, its numbers JSON, its objects without repeated keys).
func (b *builder) valueFast(v *fastjson.Value, depth int) (out any, ok bool, err error) {
	if depth > b.opts.MaxDepth {
		return nil, false, fmt.Errorf("%w (over %d levels)", errTooDeep, b.opts.MaxDepth)
	}
	switch v.Type() {
	case fastjson.TypeNull:
		return nil, false, nil
	case fastjson.TypeString:
		return string(v.GetStringBytes()), true, nil
	case fastjson.TypeTrue:
		return true, true, nil
	case fastjson.TypeFalse:
		return false, true, nil
	case fastjson.TypeNumber:
		return b.number(v), true, nil
	case fastjson.TypeObject:
		o, _ := v.Object()
		m := make(map[string]any, o.Len())
		o.Visit(func(k []byte, x *fastjson.Value) {
			if err != nil {
				return
			}
			if err = b.count(); err != nil {
				return
			}
			var y any
			var ok bool
			if y, ok, err = b.valueFast(x, depth+1); err == nil && ok {
				m[b.key(k)] = y
			}
		})
		if err != nil {
			return nil, false, err
		}
		return m, true, nil
	case fastjson.TypeArray:
		xs, _ := v.Array()
		s := make([]any, 0, len(xs))
		for _, x := range xs {
			if err := b.count(); err != nil {
				return nil, false, err
			}
			y, ok, err := b.valueFast(x, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ok {
				s = append(s, y)
			}
		}
		return s, true, nil
	}
	return nil, false, fmt.Errorf("BUG: attribute of JSON type %s", v.Type())
}
