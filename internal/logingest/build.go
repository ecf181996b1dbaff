package logingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/blocktorch/blocktorch/internal/record"
)

// builder turns the fields one protocol decoded into a record, applying the
// limits shared by every protocol. One builder serves one record at a time.
type builder struct {
	opts *Options
	// attrs counts the attributes of the current record at any depth.
	attrs int
	// invalidUTF8 is set when a string of the current record was repaired.
	invalidUTF8 bool
	// parser is reused for every JSON line of one body.
	parser fastjson.Parser
	// kvs, keys and num are scratch space reused from record to record.
	kvs  []fastKV
	keys []string
	num  []byte
	// keyNames holds the attribute names seen (builder.key).
	keyNames map[string]string
}

func (in *Ingester) newBuilder() *builder { return &builder{opts: &in.opts} }

// reset starts a new record.
func (b *builder) reset() {
	b.attrs = 0
	b.invalidUTF8 = false
}

// str repairs invalid UTF-8, replacing each bad sequence with U+FFFD.
func (b *builder) str(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b.invalidUTF8 = true
	return strings.ToValidUTF8(s, "\uFFFD")
}

var (
	errTooDeep = errors.New("attributes nested too deep")

	minTime = time.Unix(0, 0).UTC()
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// value converts a decoded attribute value into the types record.Attrs
// holds (string, float64, int64, bool, map[string]any, []any), counting
// attributes and depth. ok is false for a null, which is left out as if
// absent.
func (b *builder) value(v any, depth int) (out any, ok bool, err error) {
	if depth > b.opts.MaxDepth {
		return nil, false, fmt.Errorf("%w (over %d levels)", errTooDeep, b.opts.MaxDepth)
	}
	switch v := v.(type) {
	case nil:
		return nil, false, nil
	case string:
		return b.str(v), true, nil
	case bool, int64:
		return v, true, nil
	case int:
		return int64(v), true, nil
	case float64:
		return finite(v), true, nil
	case json.Number:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return n, true, nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			// Out of float range: keep the digits rather than lose them.
			return string(v), true, nil
		}
		return finite(f), true, nil
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			if err := b.count(); err != nil {
				return nil, false, err
			}
			y, ok, err := b.value(x, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ok {
				m[b.str(k)] = y
			}
		}
		return m, true, nil
	case []any:
		s := make([]any, 0, len(v))
		for _, x := range v {
			if err := b.count(); err != nil {
				return nil, false, err
			}
			y, ok, err := b.value(x, depth+1)
			if err != nil {
				return nil, false, err
			}
			if ok {
				s = append(s, y)
			}
		}
		return s, true, nil
	}
	return nil, false, fmt.Errorf("BUG: attribute of type %T", v)
}

// count counts one more attribute against MaxAttrs.
func (b *builder) count() error {
	b.attrs++
	if b.attrs > b.opts.MaxAttrs {
		return fmt.Errorf("over %d attributes (counting nested keys and array elements)", b.opts.MaxAttrs)
	}
	return nil
}

// setAttr sets a top-level attribute, converting its value.
func (b *builder) setAttr(rec *record.Record, k string, v any) error {
	if err := b.count(); err != nil {
		return err
	}
	x, ok, err := b.value(v, 1)
	if err != nil || !ok {
		return err
	}
	if rec.Attrs == nil {
		rec.Attrs = make(map[string]any)
	}
	rec.Attrs[b.str(k)] = x
	return nil
}

// finite keeps JSON-encodable numbers: NaN and infinities become strings.
func finite(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return f
}

// offChainSources are the sources a shipper may name; chain records come
// only from the indexer.
var offChainSources = map[string]bool{record.SourceApp: true, record.SourceSecurity: true, record.SourceSystem: true}

// chainKinds are kinds only the indexer writes.
var chainKinds = map[string]bool{record.KindTx: true, record.KindEvent: true, record.KindRevert: true}

// finish validates a record, fills its defaults and extracts its links.
func (b *builder) finish(rec *record.Record) error {
	rec.Source = strings.ToLower(strings.TrimSpace(rec.Source))
	if rec.Source == "" {
		rec.Source = record.SourceApp
	}
	if !offChainSources[rec.Source] {
		return fmt.Errorf("source %q is not one of app, security, system", rec.Source)
	}
	rec.Kind = strings.TrimSpace(rec.Kind)
	if rec.Kind == "" {
		rec.Kind = record.KindLog
	}
	if chainKinds[rec.Kind] {
		return fmt.Errorf("kind %q is reserved for chain records", rec.Kind)
	}
	if len(rec.Kind) > 64 || len(rec.Service) > 256 {
		return errors.New("kind over 64 bytes or service over 256 bytes")
	}
	if len(rec.Message) > b.opts.MaxLineBytes {
		return fmt.Errorf("message over %d bytes", b.opts.MaxLineBytes)
	}
	if rec.Level == "" {
		rec.Level = "info"
	}
	rec.Message = b.str(rec.Message)
	rec.Service = b.str(rec.Service)
	rec.Kind = b.str(rec.Kind)
	if rec.Time.IsZero() {
		rec.Time = b.opts.Now()
	}
	rec.Time = rec.Time.UTC()
	// Beyond these a time is a broken clock or a hostile line, and years
	// past 9999 do not even encode as RFC 3339.
	if rec.Time.Before(minTime) || !rec.Time.Before(maxTime) {
		return fmt.Errorf("time %s is outside 1970-2199", rec.Time.Format(time.RFC3339))
	}

	l := links{max: b.opts.MaxLinks}
	l.scan(rec.Message)
	// Sorted keys keep which links survive the cap independent of map order.
	keys := b.keys[:0]
	for k := range rec.Attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		l.scanValue(rec.Attrs[k])
	}
	clear(keys)
	b.keys = keys
	rec.TxHashes, rec.Addresses = l.hashes, l.addrs
	return nil
}

// level sets rec.Level from a spelling, keeping an unknown spelling in the
// attribute "levelText".
func (b *builder) level(rec *record.Record, s string) error {
	l, ok := normalizeLevel(s)
	rec.Level = l
	if !ok {
		return b.setAttr(rec, "levelText", s)
	}
	return nil
}

// hasReplacement reports whether a record holds U+FFFD anywhere, which after
// a decoder repaired invalid UTF-8 tells the records it touched.
func hasReplacement(rec record.Record) bool {
	const r = "\uFFFD"
	if strings.Contains(rec.Message, r) || strings.Contains(rec.Service, r) || strings.Contains(rec.Kind, r) {
		return true
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, r)
		case map[string]any:
			for k, x := range v {
				if strings.Contains(k, r) || walk(x) {
					return true
				}
			}
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(any(rec.Attrs))
}
