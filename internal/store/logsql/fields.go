package logsql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Field is one field of a VictoriaLogs row: the engine's own type, so
// that the embedded backend hands Encode's output to LogRows as it is.
type Field = logstorage.Field

// Names of the VictoriaLogs fields a record is stored in. See the package
// doc for why these and not others.
const (
	FieldTime    = "_time"   // Record.Time, RFC 3339 with nanoseconds, UTC
	FieldMsg     = "_msg"    // Record.Message
	FieldSource  = "source"  // stream field
	FieldService = "service" // stream field; absent when empty
	// FieldAddrShard is a stream field: the shard (AddrShard) of the
	// record's first linked address, on records that link one. It
	// keeps the records of an address in a few small streams, so that
	// the engine's per-block bloom filters rule out almost every block
	// for an address: lookups read a handful of blocks, not one block
	// per match spread over the whole service stream. Decode ignores it.
	FieldAddrShard = "addrshard"
	// FieldID is Record.ID, decimal, padded to 19 digits (formatID),
	// only when it differs from the record time in unix nanoseconds:
	// IDs gives most records their time as ID, and a column of unique
	// 19-digit texts cost about 7 bytes a record on disk.
	FieldID = "id"
	// FieldLive is "1" on every record: the filter Live, which rows
	// emptied by the engine's delete tasks fail. It is the same in every
	// row, which the engine stores once a block and checks once a block
	// (a value that varied from row to row made every query's Live check
	// read it row by row: top services took 5× the CPU).
	FieldLive = "rec"
	// FieldMsgLinks says which links FieldTx and FieldAddress leave to
	// the message (MsgTx, MsgAddr, MsgBoth); absent when none.
	FieldMsgLinks = "msglinks"
	FieldKind     = "kind"
	FieldLevel    = "level"
	// FieldTx holds the record's linked transaction hashes, lower-case
	// 0x-hex separated by spaces, in the record's order: each is one
	// word of the engine, so tx:0x… is a word filter served by the
	// engine's bloom filters, and tx:0xabc* a prefix filter. When
	// FieldMsgLinks says so (MsgTx, MsgBoth), the first links are not
	// here but are the message's hash words (MsgHexWords), in order:
	// the message already holds them, and a second copy of 66 random
	// characters was the largest part of a log line's row.
	FieldTx = "tx"
	// FieldAddress holds the linked addresses, like FieldTx (MsgAddr,
	// MsgBoth for those left to the message).
	FieldAddress = "address"
	FieldBlock   = "block" // decimal
	// AttrPrefix starts the field of each attribute leaf: attr.user.id
	// for {"user":{"id":42}} and for {"user.id":42} alike. Its value is
	// the leaf as text: a string as is, a number in its JSON form, a bool
	// as true/false, an array as JSON.
	AttrPrefix = "attr."
	// TypePrefix starts the field that gives an attribute leaf's type
	// when it is not a non-empty string: TypeInt, TypeBig, TypeFloat,
	// TypeBool, TypeArray, TypeObject, TypeNull or TypeEmpty.
	TypePrefix = "attrtype."
	// FieldShape holds the key structure of the attributes (JSON with
	// 0 for every leaf), only when a key has a dot in it or is empty:
	// then the leaf field names alone do not say which dots nest.
	FieldShape = "attrshape"
	// FieldAttrs holds the attributes as JSON, only when the leaf fields
	// cannot hold them exactly: two leaves whose names collide
	// ({"a":{"b":1},"a.b":2}; the leaf field holds the one a query sees,
	// the most nested) or a name longer than the engine allows.
	FieldAttrs = "attrs"
	// FieldNoMsg is "1" when the message is empty: the engine replaces
	// an empty _msg with a text of its own.
	FieldNoMsg = "msgnone"
	// FieldMsgLower holds the words of the message that are not their
	// own lower case, lower-cased (as the engine's i() lower-cases; see
	// msgLowerWords), only when there are any: free text is
	// case-insensitive, and exact word filters on _msg and msglc use the
	// engine's bloom filters where i() reads every message. Records
	// written before held the whole message lower-cased here, which the
	// same filters serve.
	FieldMsgLower = "msglc"
	// LowerPrefix starts the lower-cased copy of an attribute leaf's
	// text (attrlc.user.name), only when it differs from the text, for
	// free text as FieldMsgLower. Decode ignores both.
	LowerPrefix = "attrlc."
)

// Values of FieldMsgLinks. MsgTx: the record's first transaction links
// are, in order, exactly the distinct hash words of its message
// (MsgHexWords with common.HashLength) and FieldTx holds only the links
// after them; so a hash word of such a message is always one of the
// record's links, and tx:H is compiled to
// `tx:H OR (msglinks:in(MsgTx, MsgBoth) AND _msg:H)`. MsgAddr: the same
// for addresses (common.AddressLength); MsgBoth: both. Without the
// field, every link is in FieldTx and FieldAddress. Rows of an earlier
// form of this encoding carry the same values in FieldLive, which is
// read the same way (linkInMsg, msgLinksOf).
const (
	MsgTx   = "t"
	MsgAddr = "a"
	MsgBoth = "ta"
)

// msgLinksOf is the FieldMsgLinks flag of a row from its FieldMsgLinks
// and FieldLive values.
func msgLinksOf(msgLinks, live string) string {
	if msgLinks != "" {
		return msgLinks
	}
	if live == MsgTx || live == MsgAddr || live == MsgBoth {
		return live
	}
	return ""
}

// MsgHexWords calls fn with each distinct word of msg, in order of first
// appearance, that is "0x" and exactly 2*size lower-case hex digits, as
// the engine's word filter _msg:W finds a word W: not preceded nor
// followed by a word character (a letter, a digit, "_") or an invalid
// byte (lib/logstorage getPhrasePos). It stops when fn returns false.
func MsgHexWords(msg string, size int, fn func(w string) bool) {
	n := 2 + 2*size
	var seen []string
	for i := 0; i+n <= len(msg); {
		j := strings.Index(msg[i:], "0x")
		if j < 0 || i+j+n > len(msg) {
			return
		}
		at := i + j
		i = at + 1
		w := msg[at : at+n]
		if !lowerHex(w[2:]) || !wordStart(msg, at) || !wordEnd(msg, at+n) || slices.Contains(seen, w) {
			continue
		}
		seen = append(seen, w)
		if !fn(w) {
			return
		}
		i = at + n
	}
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// wordStart reports whether a word may start at s[i] as the engine sees
// it: no word character or invalid byte right before.
func wordStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r != utf8.RuneError && !isTokenRune(r)
}

// wordEnd reports whether a word may end right before s[i].
func wordEnd(s string, i int) bool {
	if i == len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r != utf8.RuneError && !isTokenRune(r)
}

// msgLinks returns how many of the n links (link(i) is the i-th, of size
// bytes) are, in order, the distinct hex words of msg (MsgHexWords): all
// of those words, or 0 when they are not the first links.
func msgLinks(msg string, size, n int, link func(int) []byte) int {
	k, ok := 0, true
	MsgHexWords(msg, size, func(w string) bool {
		if k >= n || !hexEqual(w[2:], link(k)) {
			ok = false
			return false
		}
		k++
		return true
	})
	if !ok {
		return 0
	}
	return k
}

// hexEqual reports whether lower-case hex digits h spell b.
func hexEqual(h string, b []byte) bool {
	if len(h) != 2*len(b) {
		return false
	}
	const digits = "0123456789abcdef"
	for i, c := range b {
		if h[2*i] != digits[c>>4] || h[2*i+1] != digits[c&15] {
			return false
		}
	}
	return true
}

// TxLinks calls fn with the lower-case 0x-hex of each transaction link of
// a row Encode wrote (those it left to the message included), in order.
func TxLinks(row []Field, fn func(h string)) {
	var msg, live, msgLinks, tx string
	for _, f := range row {
		switch f.Name {
		case FieldMsg:
			msg = f.Value
		case FieldLive:
			live = f.Value
		case FieldMsgLinks:
			msgLinks = f.Value
		case FieldTx:
			tx = f.Value
		}
	}
	if m := msgLinksOf(msgLinks, live); m == MsgTx || m == MsgBoth {
		MsgHexWords(msg, common.HashLength, func(w string) bool { fn(w); return true })
	}
	for _, w := range strings.Fields(tx) {
		fn(w)
	}
}

// msgLowerWords returns the distinct words of msg (the engine's: runs of
// letters, digits and "_") that are not their own lower case, lower-cased,
// separated by spaces, each with U+FFFD beside it where the message has
// an invalid byte or U+FFFD beside the word; "" when there are none.
// Word filters on it find exactly what they found on the whole message
// lower-cased (the field's earlier content): lower-casing maps each rune
// to one rune of the same kind (word character or not, which
// TestLowerKeepsWordRunes checks for every rune), so the words of the
// lower-cased message are the lower-cased words of the message, and the
// engine's word and prefix filters look at nothing but a word and the
// rune on each side (an invalid one rejects a match), which the U+FFFD
// kept beside a word preserves. The words that are their own lower case
// are found in _msg itself.
func msgLowerWords(msg string) string {
	// Most lines have nothing to lower-case.
	i := 0
	for i < len(msg) && msg[i] < utf8.RuneSelf && (msg[i] < 'A' || msg[i] > 'Z') {
		i++
	}
	if i == len(msg) {
		return ""
	}
	// The word at i, if any, may start before it.
	for i > 0 && asciiWord(msg[i-1]) {
		i--
	}
	var b []byte
	var seen []string
	for i < len(msg) {
		r, n := runeAt(msg, i)
		if !isTokenRune(r) || r == utf8.RuneError {
			i += n
			continue
		}
		j := i + n
		for j < len(msg) {
			r, n := runeAt(msg, j)
			if r == utf8.RuneError || !isTokenRune(r) {
				break
			}
			j += n
		}
		w := msg[i:j]
		if lw := lower(w); lw != w {
			if !wordStart(msg, i) {
				lw = "\ufffd" + lw
			}
			if !wordEnd(msg, j) {
				lw += "\ufffd"
			}
			if !slices.Contains(seen, lw) {
				seen = append(seen, lw)
				if len(b) > 0 {
					b = append(b, ' ')
				}
				b = append(b, lw...)
			}
		}
		i = j
	}
	return string(b)
}

// runeAt decodes the rune at s[i], ASCII without a call.
func runeAt(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRuneInString(s[i:])
}

func asciiWord(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

// lower is s lower-cased the way the engine's i() filters lower-case a
// value (lib/stringsutil.AppendLowercase: ASCII, else unicode.ToLower of
// each rune), so that an exact word filter on the copy matches where i()
// matched on the original.
func lower(s string) string {
	upper := false
	for i := range len(s) {
		c := s[i]
		if c >= utf8.RuneSelf {
			b := make([]byte, 0, len(s))
			for _, r := range s {
				b = utf8.AppendRune(b, unicode.ToLower(r))
			}
			return string(b)
		}
		upper = upper || 'A' <= c && c <= 'Z'
	}
	if !upper {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// StreamFields are the stream fields, in the order Encode puts them first.
var StreamFields = []string{FieldSource, FieldService, FieldAddrShard}

// AddrShards is the number of address shards (FieldAddrShard): enough
// that the records of one address share blocks with few others, few
// enough that a service's records are not cut into tiny blocks. Measured
// at 1M lines: 64 shards find an address as fast as 256 (3.3 ms of CPU),
// while every scan reads fewer blocks (a rare word 7 ms of CPU with 64,
// 11 with 256, 3.4 unsharded); at 5M lines 256 shards made a rare word,
// a minute's records and top services 2.6–4.9× VictoriaLogs' time.
const AddrShards = 64

// AddrShard is the FieldAddrShard value of an address: two hex digits
// of its FNV-1a hash (vanity and precompile addresses, with long runs of
// zeros, spread as well as any).
func AddrShard(a common.Address) string {
	h := uint32(2166136261)
	for _, c := range a {
		h = (h ^ uint32(c)) * 16777619
	}
	const digits = "0123456789abcdef"
	b := byte(h % AddrShards)
	return string([]byte{digits[b>>4], digits[b&15]})
}

// Attribute leaf types (the value of a TypePrefix field).
const (
	TypeString = ""  // a non-empty string: no type field
	TypeEmpty  = "e" // the empty string
	TypeInt    = "i" // an integer that fits int64
	TypeBig    = "I" // a JSON integer beyond int64, read back as its decimal string
	TypeFloat  = "f" // any other JSON number, read back as float64
	TypeBool   = "b"
	TypeArray  = "a" // JSON array text, read back decoded
	TypeObject = "o" // an empty object
	TypeNull   = "n"
)

// MaxLeaves bounds the attribute leaves of one record that get fields of
// their own (up to three each: text, type, lower-cased copy); the engine
// keeps at most 2000 distinct field names in a block (and drops rows
// beyond that). Leaves past it are kept in FieldAttrs only.
const MaxLeaves = 300

// maxFieldName is the longest field name the engine stores; it rejects a
// row with a longer one.
const maxFieldName = 128

// FormatTime is the text of a record time in FieldTime.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// Encode appends the fields of r to dst, the stream fields first, and
// returns them with the number of stream fields. FieldTime is not among
// them: the embedded engine takes the time apart (r.Time.UnixNano()), and
// the HTTP backend adds it with FormatTime. The attributes are read as
// JSON would write them (what the SQLite store returns): an integral float
// below 1e21 is read back as int64, a JSON integer beyond int64 as its
// decimal string. Errors wrap store.ErrInvalid (attributes JSON cannot
// encode, such as NaN).
func Encode(dst []Field, r *record.Record) ([]Field, int, error) {
	var e Encoder
	return e.Encode(dst, r)
}

// Encoder encodes records as Encode does, keeping the field names of the
// attribute leaves it has seen and its scratch space from one record to
// the next: a batch of records of a few shapes costs a name once rather
// than once a record. The zero value is ready; an Encoder is not safe for
// concurrent use.
type Encoder struct {
	// names holds the field names of each dotted leaf name seen, up to
	// maxNames of them.
	names  map[string]*leafNames
	leaves []leaf
	buf    []byte
}

// leafNames are the field names of one attribute leaf.
type leafNames struct {
	attr, typ, lower string
}

// maxNames bounds Encoder.names: lines whose attribute names never repeat
// (an ID as a key) must not grow it without end.
const maxNames = 4096

// Encode is Encode with e's names and scratch space.
func (e *Encoder) Encode(dst []Field, r *record.Record) ([]Field, int, error) {
	streams := 0
	if r.Source != "" {
		dst = append(dst, Field{Name: FieldSource, Value: r.Source})
		streams++
	}
	if r.Service != "" {
		dst = append(dst, Field{Name: FieldService, Value: r.Service})
		streams++
	}
	if len(r.Addresses) > 0 {
		dst = append(dst, Field{Name: FieldAddrShard, Value: AddrShard(r.Addresses[0])})
		streams++
	}
	// Links that are the message's own hash words stay there only.
	txInMsg, addrInMsg := 0, 0
	if r.Message == "" {
		dst = append(dst, Field{Name: FieldNoMsg, Value: "1"})
	} else {
		dst = append(dst, Field{Name: FieldMsg, Value: r.Message})
		if lc := msgLowerWords(r.Message); lc != "" {
			dst = append(dst, Field{Name: FieldMsgLower, Value: lc})
		}
		if len(r.TxHashes) > 0 {
			txInMsg = msgLinks(r.Message, common.HashLength, len(r.TxHashes), func(i int) []byte { return r.TxHashes[i][:] })
		}
		if len(r.Addresses) > 0 {
			addrInMsg = msgLinks(r.Message, common.AddressLength, len(r.Addresses), func(i int) []byte { return r.Addresses[i][:] })
		}
	}
	dst = append(dst, Field{Name: FieldLive, Value: "1"})
	switch {
	case txInMsg > 0 && addrInMsg > 0:
		dst = append(dst, Field{Name: FieldMsgLinks, Value: MsgBoth})
	case txInMsg > 0:
		dst = append(dst, Field{Name: FieldMsgLinks, Value: MsgTx})
	case addrInMsg > 0:
		dst = append(dst, Field{Name: FieldMsgLinks, Value: MsgAddr})
	}
	if r.ID != r.Time.UnixNano() {
		dst = append(dst, Field{Name: FieldID, Value: formatID(r.ID)})
	}
	if r.Kind != "" {
		dst = append(dst, Field{Name: FieldKind, Value: r.Kind})
	}
	if r.Level != "" {
		dst = append(dst, Field{Name: FieldLevel, Value: r.Level})
	}
	if txs := r.TxHashes[txInMsg:]; len(txs) > 0 {
		dst = append(dst, Field{Name: FieldTx, Value: joinHex(len(txs), func(i int) []byte { return txs[i][:] })})
	}
	if addrs := r.Addresses[addrInMsg:]; len(addrs) > 0 {
		dst = append(dst, Field{Name: FieldAddress, Value: joinHex(len(addrs), func(i int) []byte { return addrs[i][:] })})
	}
	if r.Block != nil {
		dst = append(dst, Field{Name: FieldBlock, Value: strconv.FormatUint(*r.Block, 10)})
	}
	if len(r.Attrs) > 0 {
		var err error
		if dst, err = e.encodeAttrs(dst, r.Attrs); err != nil {
			return nil, 0, fmt.Errorf("%w: cannot encode attributes: %v", store.ErrInvalid, err)
		}
	}
	return dst, streams, nil
}

func joinHex(n int, get func(int) []byte) string {
	var b strings.Builder
	b.Grow(n * (3 + 2*len(get(0))))
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("0x")
		const digits = "0123456789abcdef"
		for _, c := range get(i) {
			b.WriteByte(digits[c>>4])
			b.WriteByte(digits[c&15])
		}
	}
	return b.String()
}

// leaf is one attribute leaf: its keys from the top (encodeAttrsGeneral)
// or its dotted name (Encoder.encodeAttrs), its text and type.
type leaf struct {
	keys []string
	name string
	text string
	typ  string
}

// encodeAttrs appends the fields of the attribute leaves. Most
// attributes have no key with a dot in it (or empty): then each leaf's
// dotted name is its own and says how the keys nest, so the leaves need
// neither a shape nor a check for colliding names, and their names come
// from e.names. Any other attributes take encodeAttrsGeneral, which
// writes the same fields for these.
func (e *Encoder) encodeAttrs(dst []Field, attrs map[string]any) ([]Field, error) {
	e.leaves = e.leaves[:0]
	e.buf = e.buf[:0]
	ok, err := e.walk(attrs)
	if err != nil {
		return nil, err
	}
	if !ok || len(e.leaves) > MaxLeaves {
		return encodeAttrsGeneral(dst, attrs)
	}
	start := len(dst)
	slices.SortFunc(e.leaves, func(a, b leaf) int { return strings.Compare(a.name, b.name) })
	for i := range e.leaves {
		l := &e.leaves[i]
		n := e.leafNames(l.name)
		if n == nil {
			// A name over the engine's limit: the general path keeps the
			// attributes whole.
			return encodeAttrsGeneral(dst[:start], attrs)
		}
		if l.text != "" {
			dst = append(dst, Field{Name: n.attr, Value: l.text})
			if lc := lower(l.text); lc != l.text {
				dst = append(dst, Field{Name: n.lower, Value: lc})
			}
		}
		if l.typ != TypeString {
			dst = append(dst, Field{Name: n.typ, Value: l.typ})
		}
	}
	return dst, nil
}

// walk adds the leaves of m (nested in the keys e.buf holds) to
// e.leaves; ok is false at a key with a dot or an empty key, and then
// e.leaves is incomplete.
func (e *Encoder) walk(m map[string]any) (ok bool, err error) {
	base := len(e.buf)
	for k, v := range m {
		if k == "" || strings.IndexByte(k, '.') >= 0 {
			return false, nil
		}
		e.buf = e.buf[:base]
		if base > 0 {
			e.buf = append(e.buf, '.')
		}
		e.buf = append(e.buf, k...)
		if sub, isMap := v.(map[string]any); isMap && len(sub) > 0 {
			if ok, err := e.walk(sub); !ok || err != nil {
				return ok, err
			}
			continue
		}
		text, typ, sub, err := canonLeaf(v)
		if err != nil {
			return false, fmt.Errorf("attribute %s: %w", e.buf, err)
		}
		if len(sub) > 0 {
			if ok, err := e.walk(sub); !ok || err != nil {
				return ok, err
			}
			continue
		}
		e.leaves = append(e.leaves, leaf{name: e.name(), text: text, typ: typ})
	}
	e.buf = e.buf[:base]
	return true, nil
}

// name returns the dotted name in e.buf, the same string as last time
// when it was seen before.
func (e *Encoder) name() string {
	if n, ok := e.names[string(e.buf)]; ok {
		return n.attr[len(AttrPrefix):]
	}
	return string(e.buf)
}

// leafNames returns the field names of the leaf called name; nil when a
// name is over the engine's limit.
func (e *Encoder) leafNames(name string) *leafNames {
	if n, ok := e.names[name]; ok {
		return n
	}
	if len(TypePrefix)+len(name) > maxFieldName {
		return nil
	}
	n := &leafNames{attr: AttrPrefix + name, typ: TypePrefix + name, lower: LowerPrefix + name}
	if e.names == nil {
		e.names = map[string]*leafNames{}
	}
	if len(e.names) < maxNames {
		e.names[name] = n
	}
	return n
}

// encodeAttrsGeneral appends the fields of the attribute leaves of any
// attributes: leaves whose dotted names collide, keys with dots (a
// shape), names over the engine's limit and more than MaxLeaves leaves
// (the attributes whole, as JSON).
func encodeAttrsGeneral(dst []Field, attrs map[string]any) ([]Field, error) {
	var leaves []leaf
	shape := false
	var walk func(keys []string, m map[string]any) error
	walk = func(keys []string, m map[string]any) error {
		for k, v := range m {
			if k == "" || strings.Contains(k, ".") {
				shape = true
			}
			path := append(keys[:len(keys):len(keys)], k)
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				if err := walk(path, sub); err != nil {
					return err
				}
				continue
			}
			text, typ, sub, err := canonLeaf(v)
			if err != nil {
				return fmt.Errorf("attribute %s: %w", strings.Join(path, "."), err)
			}
			if len(sub) > 0 {
				if err := walk(path, sub); err != nil {
					return err
				}
				continue
			}
			leaves = append(leaves, leaf{keys: path, text: text, typ: typ})
		}
		return nil
	}
	if err := walk(nil, attrs); err != nil {
		return nil, err
	}
	// Leaves whose names collide: the one a query sees (most nested
	// first, as sqlbuild.attrPath orders candidates) gets the fields.
	slices.SortFunc(leaves, func(a, b leaf) int {
		if c := strings.Compare(leafName(a.keys), leafName(b.keys)); c != 0 {
			return c
		}
		return comparePrecedence(a.keys, b.keys)
	})
	exact, n := true, 0
	for i, l := range leaves {
		name := leafName(l.keys)
		if i > 0 && name == leafName(leaves[i-1].keys) {
			exact = false
			continue
		}
		if len(TypePrefix)+len(name) > maxFieldName || n >= MaxLeaves {
			exact = false
			continue
		}
		if l.text != "" {
			dst = append(dst, Field{Name: AttrPrefix + name, Value: l.text})
			if lc := lower(l.text); lc != l.text {
				dst = append(dst, Field{Name: LowerPrefix + name, Value: lc})
			}
		}
		if l.typ != TypeString {
			dst = append(dst, Field{Name: TypePrefix + name, Value: l.typ})
		}
		n++
	}
	if !exact {
		j, err := json.Marshal(attrs)
		if err != nil {
			return nil, err
		}
		return append(dst, Field{Name: FieldAttrs, Value: string(j)}), nil
	}
	if shape {
		s := map[string]any{}
		for _, l := range leaves {
			m := s
			for _, k := range l.keys[:len(l.keys)-1] {
				sub, ok := m[k].(map[string]any)
				if !ok {
					sub = map[string]any{}
					m[k] = sub
				}
				m = sub
			}
			m[l.keys[len(l.keys)-1]] = 0
		}
		j, err := json.Marshal(s)
		if err != nil {
			return nil, err
		}
		dst = append(dst, Field{Name: FieldShape, Value: string(j)})
	}
	return dst, nil
}

// leafName is the dotted name of a leaf, without AttrPrefix.
func leafName(keys []string) string { return strings.Join(keys, ".") }

// comparePrecedence orders two key sequences of the same dotted name as
// sqlbuild.attrPath orders candidates: more keys (more nesting) first;
// among equal counts, the dots joined into keys come later (the mask of
// joined gaps is smaller).
func comparePrecedence(a, b []string) int {
	if len(a) != len(b) {
		return len(b) - len(a)
	}
	ma, mb := joinMask(a), joinMask(b)
	switch {
	case ma < mb:
		return -1
	case ma > mb:
		return 1
	}
	return 0
}

// joinMask sets bit i when the i-th dot of the name is inside a key.
func joinMask(keys []string) uint64 {
	var m uint64
	gap := 0
	for i, k := range keys {
		for j := 0; j < len(k); j++ {
			if k[j] == '.' {
				if gap < 64 {
					m |= 1 << gap
				}
				gap++
			}
		}
		if i < len(keys)-1 {
			gap++
		}
	}
	return m
}

// canonLeaf returns the text and type of an attribute value as a JSON
// round trip reads it back; sub is set instead when the value reads back
// as a non-empty object (a map type other than map[string]any).
func canonLeaf(v any) (text, typ string, sub map[string]any, err error) {
	switch v := v.(type) {
	case string:
		if v == "" {
			return "", TypeEmpty, nil, nil
		}
		return v, TypeString, nil, nil
	case bool:
		return strconv.FormatBool(v), TypeBool, nil, nil
	case int64:
		return strconv.FormatInt(v, 10), TypeInt, nil, nil
	case int:
		return strconv.Itoa(v), TypeInt, nil, nil
	case nil:
		return "", TypeNull, nil, nil
	case map[string]any: // empty
		return "", TypeObject, nil, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "", "", nil, fmt.Errorf("unsupported number %v", v)
		}
		text, typ := canonNumber(jsonFloat(v))
		return text, typ, nil, nil
	case json.Number:
		if !json.Valid([]byte(v)) {
			return "", "", nil, fmt.Errorf("invalid number %q", string(v))
		}
		text, typ := canonNumber(string(v))
		return text, typ, nil, nil
	case []any:
		j, err := json.Marshal(v)
		if err != nil {
			return "", "", nil, err
		}
		return string(j), TypeArray, nil, nil
	}
	// Any other type: as JSON writes and reads it.
	j, err := json.Marshal(v)
	if err != nil {
		return "", "", nil, err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var back any
	if err := d.Decode(&back); err != nil {
		return "", "", nil, err
	}
	if m, ok := back.(map[string]any); ok && len(m) > 0 {
		return "", "", m, nil
	}
	return canonLeaf(back)
}

// canonNumber types a JSON number text as the SQLite store reads it
// back: int64 when it fits, a decimal string when it is an integer beyond
// int64, else float64 (text in JSON's form of that float64).
func canonNumber(s string) (text, typ string) {
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return strconv.FormatInt(i, 10), TypeInt
	}
	if !strings.ContainsAny(s, ".eE") {
		return s, TypeBig
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s, TypeString // out of float64 range: JSON keeps it, the SQLite store reads a string
	}
	// Without exponent: the engine reads numbers in this form only (and
	// bigCmp compares the long ones as text).
	return strconv.FormatFloat(f, 'f', -1, 64), TypeFloat
}

// jsonFloat formats f as encoding/json does.
func jsonFloat(f float64) string {
	b, _ := json.Marshal(f)
	return string(b)
}

// Decode returns the record of a result row's fields (those Encode wrote
// and FieldTime). Unknown fields are ignored. Errors describe a row this
// package did not write.
func Decode(fields []Field) (record.Record, error) {
	var (
		r                   record.Record
		attrs, shape, noMsg string
		live, msgLinks      string
		txs, addrs          string
		haveTime, haveAttrs bool
		haveID              bool
		values, types       map[string]string
		hasLeaf             bool
	)
	for _, f := range fields {
		switch f.Name {
		case FieldTime:
			t, err := time.Parse(time.RFC3339Nano, f.Value)
			if err != nil {
				return r, fmt.Errorf("row time %q: %w", f.Value, err)
			}
			r.Time, haveTime = t.UTC(), true
		case FieldMsg:
			r.Message = f.Value
		case FieldNoMsg:
			noMsg = f.Value
		case FieldSource:
			r.Source = f.Value
		case FieldService:
			r.Service = f.Value
		case FieldID:
			id, err := strconv.ParseInt(f.Value, 10, 64)
			if err != nil {
				return r, fmt.Errorf("row id %q: %w", f.Value, err)
			}
			r.ID, haveID = id, true
		case FieldKind:
			r.Kind = f.Value
		case FieldLevel:
			r.Level = f.Value
		case FieldLive:
			live = f.Value
		case FieldMsgLinks:
			msgLinks = f.Value
		case FieldTx:
			txs = f.Value
		case FieldAddress:
			addrs = f.Value
		case FieldBlock:
			n, err := strconv.ParseUint(f.Value, 10, 64)
			if err != nil {
				return r, fmt.Errorf("row block %q: %w", f.Value, err)
			}
			r.Block = &n
		case FieldAttrs:
			attrs, haveAttrs = f.Value, true
		case FieldShape:
			shape = f.Value
		default:
			if name, ok := strings.CutPrefix(f.Name, AttrPrefix); ok {
				if values == nil {
					values = map[string]string{}
				}
				values[name], hasLeaf = f.Value, true
			} else if name, ok := strings.CutPrefix(f.Name, TypePrefix); ok {
				if types == nil {
					types = map[string]string{}
				}
				types[name], hasLeaf = f.Value, true
			}
		}
	}
	if !haveTime {
		return r, fmt.Errorf("row has no %s", FieldTime)
	}
	if !haveID {
		r.ID = r.Time.UnixNano()
	}
	if noMsg != "" {
		r.Message = ""
	}
	var err error
	inMsg := msgLinksOf(msgLinks, live)
	if r.TxHashes, err = decodeLinks(r.Message, inMsg == MsgTx || inMsg == MsgBoth, txs, common.HashLength,
		func(b []byte) common.Hash { return common.BytesToHash(b) }); err != nil {
		return r, fmt.Errorf("row tx link: %w", err)
	}
	if r.Addresses, err = decodeLinks(r.Message, inMsg == MsgAddr || inMsg == MsgBoth, addrs, common.AddressLength,
		func(b []byte) common.Address { return common.BytesToAddress(b) }); err != nil {
		return r, fmt.Errorf("row address link: %w", err)
	}
	switch {
	case haveAttrs:
		r.Attrs, err = decodeJSON(attrs)
	case shape != "":
		r.Attrs, err = decodeShaped(shape, values, types)
	case hasLeaf:
		r.Attrs, err = decodeDotted(values, types)
	}
	if err != nil {
		return r, fmt.Errorf("row attributes: %w", err)
	}
	return r, nil
}

// decodeLinks reads a row's links of size bytes: the message's hex words
// first when inMsg, then the words of field.
func decodeLinks[T any](msg string, inMsg bool, field string, size int, conv func([]byte) T) ([]T, error) {
	var out []T
	var err error
	add := func(w string) bool {
		b, e := hexWord(w, size)
		if e != nil {
			err = e
			return false
		}
		out = append(out, conv(b))
		return true
	}
	if inMsg {
		MsgHexWords(msg, size, add)
	}
	for _, w := range strings.Fields(field) {
		if !add(w) {
			break
		}
	}
	return out, err
}

func hexWord(w string, n int) ([]byte, error) {
	if len(w) != 2+2*n || w[:2] != "0x" {
		return nil, fmt.Errorf("%q is not 0x and %d hex digits", w, 2*n)
	}
	b := make([]byte, n)
	for i := range n {
		hi, lo := unhex(w[2+2*i]), unhex(w[3+2*i])
		if hi < 0 || lo < 0 {
			return nil, fmt.Errorf("%q is not hex", w)
		}
		b[i] = byte(hi<<4 | lo)
	}
	return b, nil
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// leafValue returns the attribute value of a leaf's text and type.
func leafValue(text, typ string) (any, error) {
	switch typ {
	case TypeString:
		return text, nil
	case TypeEmpty:
		return "", nil
	case TypeBig:
		return text, nil
	case TypeInt:
		return strconv.ParseInt(text, 10, 64)
	case TypeFloat:
		return strconv.ParseFloat(text, 64)
	case TypeBool:
		return strconv.ParseBool(text)
	case TypeNull:
		return nil, nil
	case TypeObject:
		return map[string]any{}, nil
	case TypeArray:
		d := json.NewDecoder(strings.NewReader(text))
		d.UseNumber()
		var v []any
		if err := d.Decode(&v); err != nil {
			return nil, err
		}
		return fixNumbers(v), nil
	}
	return nil, fmt.Errorf("unknown attribute type %q", typ)
}

// decodeDotted builds the attributes from leaf names whose dots all nest.
func decodeDotted(values, types map[string]string) (map[string]any, error) {
	out := map[string]any{}
	put := func(name string) error {
		v, err := leafValue(values[name], types[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		keys := strings.Split(name, ".")
		m := out
		for _, k := range keys[:len(keys)-1] {
			sub, ok := m[k].(map[string]any)
			if !ok {
				if _, taken := m[k]; taken {
					return fmt.Errorf("%s: a leaf and an object share a name", name)
				}
				sub = map[string]any{}
				m[k] = sub
			}
			m = sub
		}
		last := keys[len(keys)-1]
		if _, taken := m[last]; taken {
			return fmt.Errorf("%s: a leaf and an object share a name", name)
		}
		m[last] = v
		return nil
	}
	for name := range values {
		if err := put(name); err != nil {
			return nil, err
		}
	}
	for name := range types {
		if _, done := values[name]; !done {
			if err := put(name); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// decodeShaped builds the attributes from FieldShape and the leaf fields.
func decodeShaped(shape string, values, types map[string]string) (map[string]any, error) {
	var s map[string]any
	if err := json.Unmarshal([]byte(shape), &s); err != nil {
		return nil, fmt.Errorf("shape: %w", err)
	}
	var fill func(prefix string, m map[string]any) error
	fill = func(prefix string, m map[string]any) error {
		for k, v := range m {
			name := prefix + k
			if sub, ok := v.(map[string]any); ok {
				if err := fill(name+".", sub); err != nil {
					return err
				}
				continue
			}
			lv, err := leafValue(values[name], types[name])
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			m[k] = lv
		}
		return nil
	}
	if err := fill("", s); err != nil {
		return nil, err
	}
	return s, nil
}

func decodeJSON(s string) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	return fixNumbers(m).(map[string]any), nil
}

// fixNumbers types JSON numbers as the SQLite store does: int64 when it
// fits, a decimal string for a larger integer, else float64.
func fixNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = fixNumbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = fixNumbers(e)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		if !strings.ContainsAny(string(v), ".eE") {
			return string(v)
		}
		if f, err := v.Float64(); err == nil {
			return f
		}
		return string(v)
	}
	return v
}
