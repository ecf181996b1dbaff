package logsql

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/VictoriaMetrics/VictoriaMetrics/lib/stringsutil"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// canonical returns r as the SQLite store reads it back: attributes
// through JSON, numbers typed by fixNumbers, times in UTC.
func canonical(t testing.TB, r record.Record) record.Record {
	t.Helper()
	r.Time = r.Time.UTC()
	if len(r.Attrs) == 0 {
		r.Attrs = nil
		return r
	}
	j, err := json.Marshal(r.Attrs)
	if err != nil {
		t.Fatalf("reference cannot encode %v: %v", r.Attrs, err)
	}
	m, err := decodeJSON(string(j))
	if err != nil {
		t.Fatal(err)
	}
	r.Attrs = m
	return r
}

// roundTrip encodes r as a row (with _time) and decodes it.
func roundTrip(t testing.TB, r record.Record) (record.Record, []Field) {
	t.Helper()
	fields, streams, err := Encode(nil, &r)
	if err != nil {
		t.Fatalf("Encode(%+v): %v", r, err)
	}
	for i, f := range fields {
		if i < streams != slices.Contains(StreamFields, f.Name) {
			t.Fatalf("stream fields are not first: %d of %v", streams, fields)
		}
		if f.Value == "" {
			t.Fatalf("field %s is empty; the engine drops empty fields", f.Name)
		}
		if len(f.Name) > maxFieldName {
			t.Fatalf("field name %q is longer than the engine takes", f.Name)
		}
	}
	checkLowerCopies(t, fields)
	row := append(fields, Field{Name: FieldTime, Value: FormatTime(r.Time)})
	back, err := Decode(row)
	if err != nil {
		t.Fatalf("Decode(%v): %v", row, err)
	}
	return back, fields
}

// checkLowerCopies checks that the message and every attribute leaf
// have a lower-cased copy exactly when they are not their own lower case,
// which is what free text's exact word filters rely on.
func checkLowerCopies(t testing.TB, fields []Field) {
	t.Helper()
	byName := map[string]string{}
	for _, f := range fields {
		byName[f.Name] = f.Value
	}
	for _, f := range fields {
		var copyName string
		switch {
		case f.Name == FieldMsg:
			// Its words with capitals (TestMsgLowerWordsMatchLikeI).
			if lc, want := byName[FieldMsgLower], msgLowerWords(f.Value); lc != want {
				t.Fatalf("%s=%q: %s=%q, want %q", f.Name, f.Value, FieldMsgLower, lc, want)
			}
			continue
		case strings.HasPrefix(f.Name, AttrPrefix):
			copyName = LowerPrefix + strings.TrimPrefix(f.Name, AttrPrefix)
		default:
			continue
		}
		lc, ok := byName[copyName]
		want := string(stringsutil.AppendLowercase(nil, f.Value))
		switch {
		case want == f.Value && ok:
			t.Fatalf("%s=%q is lower case but has a copy %s=%q", f.Name, f.Value, copyName, lc)
		case want != f.Value && lc != want:
			t.Fatalf("%s=%q: copy %s=%q (present %v), want %q", f.Name, f.Value, copyName, lc, ok, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	block := uint64(7)
	recs := storetest.CorpusRecords()
	recs = append(recs,
		record.Record{Time: storetest.CorpusStart.Add(time.Nanosecond), Source: "app", Kind: "log", Level: "warn", Service: "svc",
			Message: "round trip ✓ \x00 nul",
			Attrs: map[string]any{"i": int64(-7), "f": 1.5, "s": "x", "b": true, "n": map[string]any{"deep": []any{"a", int64(1)}},
				"big": "123456789012345678901234567890"},
			TxHashes: []common.Hash{storetest.CorpusTx(1), storetest.CorpusTx(2)}, Addresses: []common.Address{storetest.Alice}},
		record.Record{ID: 1 << 62, Time: time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600)), Source: "chain",
			Kind: "tx", Level: "info", Message: "", Block: &block,
			Attrs: map[string]any{"gasUsed": json.Number("51000"), "value": json.Number("2500000000000000000000"),
				"f": json.Number("1.50"), "one": 1.0, "huge": 1e300, "empty": "", "obj": map[string]any{}, "null": nil,
				"ints": []int{1, 2}, "strs": map[string]string{"a": "b"}}},
		// Dots in keys, and a collision: the most nested leaf is the
		// one attr.a.b shows.
		record.Record{Time: storetest.CorpusStart, Source: "app", Kind: "log", Level: "info", Message: "m",
			Attrs: map[string]any{"http": map[string]any{"request.method": "POST"}, "user.id": int64(42)}},
		record.Record{Time: storetest.CorpusStart, Source: "app", Kind: "log", Level: "info", Message: "m",
			Attrs: map[string]any{"a": map[string]any{"b": int64(1)}, "a.b": int64(2), "": "empty key"}},
		record.Record{Time: storetest.CorpusStart, Source: "app", Kind: "log", Level: "info", Message: "m",
			Attrs: map[string]any{strings.Repeat("k", 200): "long"}},
	)
	for _, r := range recs {
		back, _ := roundTrip(t, r)
		if want := canonical(t, r); !reflect.DeepEqual(back, want) {
			t.Errorf("round trip:\n got %#v\nwant %#v", back, want)
		}
	}
}

func TestEncodeFields(t *testing.T) {
	r := record.Record{Time: storetest.CorpusStart, Source: "app", Kind: "log", Level: "info", Service: "api", Message: "m",
		Attrs:    map[string]any{"a": map[string]any{"b": int64(1)}, "a.b": "flat", "s": "x", "n": 2.5},
		TxHashes: []common.Hash{storetest.CorpusTx(3)}}
	_, fields := roundTrip(t, r)
	got := map[string]string{}
	for _, f := range fields {
		got[f.Name] = f.Value
	}
	want := map[string]string{
		"source": "app", "service": "api", "_msg": "m", "id": "0000000000000000000", "rec": "1", "kind": "log", "level": "info",
		"tx":       "0x7473000000000000000000000000000000000000000000000000000000000003",
		"attr.a.b": "1", "attrtype.a.b": "i", "attr.s": "x", "attr.n": "2.5", "attrtype.n": "f",
		"attrs": `{"a":{"b":1},"a.b":"flat","n":2.5,"s":"x"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("fields:\n got %v\nwant %v", got, want)
	}

	// An ID equal to the time in unix nanoseconds (what IDs gives most
	// records) has no field; Decode reads it from the time.
	r.ID = r.Time.UnixNano()
	back, fields := roundTrip(t, r)
	for _, f := range fields {
		if f.Name == FieldID {
			t.Fatalf("an ID equal to the time is stored: %v", f)
		}
	}
	if back.ID != r.ID {
		t.Fatalf("ID %d read back as %d", r.ID, back.ID)
	}
}

func TestEncodeRefuses(t *testing.T) {
	for _, v := range []any{math.NaN(), math.Inf(1), json.Number("12x"), func() {}} {
		r := record.Record{Time: storetest.CorpusStart, Source: "app", Attrs: map[string]any{"x": v}}
		if _, _, err := Encode(nil, &r); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Encode(%v) = %v, want ErrInvalid", v, err)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	tm := Field{Name: FieldTime, Value: "2024-01-01T00:00:00Z"}
	for _, row := range [][]Field{
		{},
		{{Name: FieldTime, Value: "yesterday"}},
		{tm, {Name: FieldID, Value: "x"}},
		{tm, {Name: FieldTx, Value: "0x12"}},
		{tm, {Name: FieldAddress, Value: "0x" + strings.Repeat("g", 40)}},
		{tm, {Name: FieldBlock, Value: "-1"}},
		{tm, {Name: "attr.a", Value: "x"}, {Name: "attrtype.a", Value: "i"}},
		{tm, {Name: "attr.a", Value: "x"}, {Name: "attrtype.a", Value: "?"}},
		{tm, {Name: "attr.a", Value: "x"}, {Name: "attr.a.b", Value: "y"}},
		{tm, {Name: FieldAttrs, Value: "[1]"}},
		{tm, {Name: FieldShape, Value: "{"}},
	} {
		if r, err := Decode(row); err == nil {
			t.Errorf("Decode(%v) = %+v, want an error", row, r)
		}
	}
}

// FuzzRoundTrip: any record whose attributes JSON can hold reads back as
// the SQLite store would return it.
func TestEncodeLowerCopies(t *testing.T) {
	for _, tc := range []struct {
		msg   string
		attrs map[string]any
		want  map[string]string // the copies
	}{
		{"all lower 42", map[string]any{"s": "x", "n": int64(3)}, map[string]string{}},
		{"Wallet REJECTED", map[string]any{"user": map[string]any{"Name": "Alice"}, "b": true},
			map[string]string{FieldMsgLower: "wallet rejected", "attrlc.user.Name": "alice"}},
		{"ÉCOLE straße İ École", map[string]any{"a": []any{"X"}},
			map[string]string{FieldMsgLower: "école i", "attrlc.a": `["x"]`}},
		{"GET /api/v1/quote 200 in 42ms", nil, map[string]string{FieldMsgLower: "get"}},
		{"my iPhone, my iPhone and caféX", nil, map[string]string{FieldMsgLower: "iphone caféx"}},
		{"a\xffBad Ok\ufffd", nil, map[string]string{FieldMsgLower: "\ufffdbad ok\ufffd"}},
	} {
		r := record.Record{Time: storetest.CorpusStart, Source: "app", Kind: "log", Level: "info", Message: tc.msg, Attrs: tc.attrs}
		back, fields := roundTrip(t, r)
		if want := canonical(t, r); !reflect.DeepEqual(back, want) {
			t.Errorf("%q: round trip:\n got %#v\nwant %#v", tc.msg, back, want)
		}
		got := map[string]string{}
		for _, f := range fields {
			if f.Name == FieldMsgLower || strings.HasPrefix(f.Name, LowerPrefix) {
				got[f.Name] = f.Value
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: lower-cased copies %v, want %v", tc.msg, got, tc.want)
		}
	}
}

// FuzzLower checks that lower lower-cases as the engine's i() does.
func FuzzLower(f *testing.F) {
	for _, s := range []string{"", "abc", "ABC def", "ÉCOLE", "İ", "\xff\xfeA", "ǅ Σ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := lower(s), string(stringsutil.AppendLowercase(nil, s)); got != want {
			t.Fatalf("lower(%q) = %q, want the engine's %q", s, got, want)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add("app", "api", "hello world", `{"user":{"id":42},"user.id":"x","a":[1,"b",null],"e":"","o":{}}`, int64(5), uint64(3))
	f.Add("chain", "", "", `{"gasUsed":51000,"value":2500000000000000000000,"f":1.0,"g":1e300}`, int64(-1), uint64(0))
	f.Add("", "s", "\x00", `{"":{"":1},".":2,"a..b":true}`, int64(0), uint64(1<<63))
	f.Fuzz(func(t *testing.T, source, service, msg, attrs string, id int64, block uint64) {
		r := record.Record{ID: id, Time: time.Unix(0, id).UTC(), Source: source, Service: service, Message: msg, Block: &block,
			Kind: "log", Level: "info"}
		d := json.NewDecoder(strings.NewReader(attrs))
		d.UseNumber()
		if err := d.Decode(&r.Attrs); err != nil {
			r.Attrs = nil
		}
		back, _ := roundTrip(t, r)
		if want := canonical(t, r); !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip:\n got %#v\nwant %#v", back, want)
		}
	})
}

// TestAddrShard checks that a record linking an address carries its
// shard as a stream field, and that shards spread addresses evenly, even
// addresses that differ in their last bytes only.
func TestAddrShard(t *testing.T) {
	r := record.Record{Time: time.Unix(1, 0), Source: "app", Message: "m",
		Addresses: []common.Address{storetest.Alice, storetest.Bob}}
	fields, streams, err := Encode(nil, &r)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(fields, func(f Field) bool { return f.Name == FieldAddrShard })
	if i < 0 || i >= streams || fields[i].Value != AddrShard(storetest.Alice) {
		t.Fatalf("want stream field %s=%s (the first address's), got %d stream fields of %v", FieldAddrShard,
			AddrShard(storetest.Alice), streams, fields)
	}
	r.Addresses = nil
	if fields, _, _ = Encode(nil, &r); slices.ContainsFunc(fields, func(f Field) bool { return f.Name == FieldAddrShard }) {
		t.Fatalf("a record without addresses has a shard: %v", fields)
	}
	counts := map[string]int{}
	const n = 256 * 100
	for i := range n {
		counts[AddrShard(common.BigToAddress(big.NewInt(int64(i))))]++
	}
	if len(counts) != AddrShards {
		t.Fatalf("%d addresses fill %d shards of %d", n, len(counts), AddrShards)
	}
	for s, c := range counts {
		if len(s) != 2 || c > 2*n/AddrShards {
			t.Fatalf("shard %q holds %d of %d addresses", s, c, n)
		}
	}
}

// FuzzEncoderAttrs holds the Encoder's path for attributes without dotted
// keys to the general one: the same fields in the same order, also with
// names kept from the records before.
func FuzzEncoderAttrs(f *testing.F) {
	f.Add(`{"user":{"id":42,"Name":"Al"},"latency_ms":17,"session":"s1","tx":"0xab"}`, `{"user":{"id":"x"},"a":[1]}`)
	f.Add(`{"a.b":1,"a":{"b":2}}`, `{"":{"x":1}}`)
	f.Add(`{"e":"","n":null,"o":{},"f":1.5,"big":123456789012345678901234567890,"b":false}`, `{"o":{"p":{"q":"Q"}}}`)
	f.Add(`{"`+strings.Repeat("k", 130)+`":1,"a":2}`, `{"a":2}`)
	var e Encoder
	f.Fuzz(func(t *testing.T, a1, a2 string) {
		for _, s := range []string{a1, a2} {
			d := json.NewDecoder(strings.NewReader(s))
			d.UseNumber()
			var attrs map[string]any
			if d.Decode(&attrs) != nil || len(attrs) == 0 {
				continue
			}
			got, gotErr := e.encodeAttrs([]Field{{Name: "x", Value: "y"}}, attrs)
			want, wantErr := encodeAttrsGeneral([]Field{{Name: "x", Value: "y"}}, attrs)
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("%s: error %v, general %v", s, gotErr, wantErr)
			}
			if gotErr == nil && !reflect.DeepEqual(got, want) {
				t.Fatalf("%s:\n got %v\nwant %v", s, got, want)
			}
		}
	})
}

// TestEncoderAttrsMany: more leaves than MaxLeaves, and a name over the
// engine's limit, are written as the general path writes them.
func TestEncoderAttrsMany(t *testing.T) {
	many := map[string]any{}
	for i := range MaxLeaves + 5 {
		many[fmt.Sprintf("k%03d", i)] = int64(i)
	}
	long := map[string]any{"a": "A", strings.Repeat("k", maxFieldName): 1, "z": "z"}
	var e Encoder
	for _, attrs := range []map[string]any{many, long, many} {
		got, err := e.encodeAttrs(nil, attrs)
		if err != nil {
			t.Fatal(err)
		}
		want, err := encodeAttrsGeneral(nil, attrs)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v\nwant %v", got, want)
		}
	}
}

// TestLowerKeepsWordRunes checks, for every rune, what msgLowerWords and
// sequenceRegexpUpper rely on: lower-casing keeps a rune an engine word
// character (a letter, a decimal digit, "_") or not, and a regexp word
// character (\pL, \pN, "_") or not.
func TestLowerKeepsWordRunes(t *testing.T) {
	reWord := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) || r == '_' }
	for r := rune(0); r <= unicode.MaxRune; r++ {
		l := unicode.ToLower(r)
		if isTokenRune(r) != isTokenRune(l) || reWord(r) != reWord(l) {
			t.Errorf("%U lower-cases to %U, of another kind", r, l)
		}
	}
}

// TestMsgLowerWordsMatchLikeI stores messages with capitals, Unicode and
// invalid bytes beside words, and checks that free text's word, prefix
// and phrase filters over _msg and msglc match the rows that the engine's
// own case-insensitive i() filter matches, and those that the same
// filters matched over the whole message lower-cased (msglc's earlier
// content).
func TestMsgLowerWordsMatchLikeI(t *testing.T) {
	msgs := []string{
		"GET /api/v1/quote 200 in 42ms", "get /api/v1/quote", "Wallet REJECTED signature Request",
		"ÉCOLE straße İ École", "école", "a\xffBad Ok\ufffd bad", "\ufffdok Ok", "KELVIN \u212a k", "ΣΊΣΥΦΟΣ σίσυφος",
		"tx 0xAbC reverted: InsufficientCollateral", "insufficientcollateral", "x_Y_z X_y_Z", "ǅemal Ǆ ǆ", "MiXeD mixed",
		"İstanbul istanbul", "ⅫⅩ ⅻ", "Ａｂｃ ａｂｃ", "my iPhone caféX", "cafÉ",
	}
	e := openTestEngine(t)
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	words := map[string]bool{}
	for i, m := range msgs {
		r := record.Record{Time: storetest.CorpusStart.Add(time.Duration(i) * time.Second), Source: "app", Message: m}
		fields, streams, err := Encode(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		fields = append(fields, Field{Name: "oldlc", Value: lower(m)})
		lr.MustAdd(logstorage.TenantID{}, r.Time.UnixNano(), fields, streams)
		for _, w := range tokens(lower(m)) {
			words[w] = true
		}
	}
	e.s.MustAddRows(lr)
	e.s.DebugFlush()
	run := func(f string) []string {
		t.Helper()
		var got []string
		if err := e.RunQuery(t.Context(), f+" | sort by (_time) | fields _msg", func(row []Field) error {
			got = append(got, row[0].Value)
			return nil
		}); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		return got
	}
	checked := 0
	for w := range words {
		for _, prefix := range []bool{false, true} {
			star := ""
			if prefix {
				star = "*"
			}
			got := run(word(FieldMsg, w, prefix))
			old := run(`("_msg":` + quote(w) + star + ` OR oldlc:` + quote(w) + star + `)`)
			ci := run(`"_msg":i(` + quote(w) + star + `)`)
			if !reflect.DeepEqual(got, old) || !reflect.DeepEqual(got, ci) {
				t.Errorf("word %q%s: found %q, over the lower-cased message %q, i() %q", w, star, got, old, ci)
			}
			checked++
		}
	}
	for _, m := range msgs {
		toks := tokens(m)
		for i := 0; i+1 < len(toks); i++ {
			for _, prefix := range []bool{false, true} {
				pair := toks[i : i+2]
				got := run(sequence(FieldMsg, pair, prefix))
				re := quote(sequenceRegexp(pair, prefix, false))
				old := run(`("_msg":~` + re + ` OR oldlc:~` + re + `)`)
				if !reflect.DeepEqual(got, old) {
					t.Errorf("phrase %q (prefix %v): found %q, over the lower-cased message %q", pair, prefix, got, old)
				}
				checked++
			}
		}
	}
	if checked < 100 {
		t.Fatalf("checked %d filters", checked)
	}
}
