package logsql

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/VictoriaMetrics/VictoriaLogs/lib/logstorage"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// linkWordsCorpus are records whose links are (or are not quite) hex
// words of their messages: where Encode leaves links to the message, and
// the edges where it must not.
func linkWordsCorpus() []record.Record {
	h := func(i byte) common.Hash { return crypto.Keccak256Hash([]byte{'h', i}) }
	a := func(i byte) common.Address { return common.BytesToAddress(crypto.Keccak256([]byte{'a', i})) }
	lo := func(b []byte) string { return joinHex(1, func(int) []byte { return b }) }
	H1, H2, H3, H4 := h(1), h(2), h(3), h(4)
	A1, A2, A3 := a(1), a(2), a(3)
	t0 := storetest.CorpusStart
	var out []record.Record
	add := func(msg string, txs []common.Hash, addrs []common.Address) {
		out = append(out, record.Record{Time: t0.Add(time.Duration(len(out)) * time.Second), Source: "app", Kind: "log",
			Level: "info", Service: "api", Message: msg, TxHashes: txs, Addresses: addrs})
	}
	add("tx "+lo(H1[:])+" submitted by "+lo(A1[:]), []common.Hash{H1}, []common.Address{A1})                                   // both in the message
	add("tx "+lo(H2[:])+" confirmed", []common.Hash{H2, H3}, nil)                                                              // one more from attributes
	add("see "+lo(H1[:])+"_x and "+lo(H4[:]), []common.Hash{H1, H4}, nil)                                                      // "_" joins a word: not the message's word
	add(lo(H1[:])+" "+lo(H2[:])+" "+lo(H3[:]), []common.Hash{H1, H2}, nil)                                                     // links capped below the words
	add("wallet 0x"+strings.ToUpper(lo(A2[:])[2:])+" TX "+strings.ToUpper(lo(H4[:])), []common.Hash{H4}, []common.Address{A2}) // upper case
	add("mentions "+lo(H2[:])+" without linking it", nil, nil)                                                                 // a hash word, no link
	add(lo(H3[:])+" and "+lo(H3[:])+" again", []common.Hash{H3}, nil)                                                          // one word twice
	add("é"+lo(H4[:])+" is a word with é", []common.Hash{H4}, nil)                                                             // a letter before
	add("", []common.Hash{H1}, []common.Address{A3})                                                                           // no message
	add("pay "+lo(A3[:])+" in "+lo(H4[:])+"\xff", []common.Hash{H4}, []common.Address{A3, A1})                                 // an invalid byte after
	add("pay "+lo(A3[:])+" in "+lo(H4[:])+".", []common.Hash{H4}, []common.Address{A3, A1})                                    // second address elsewhere
	add("short 0x"+lo(H1[:])[2:20]+" and long "+lo(H1[:])+"00", nil, nil)                                                      // prefixes of no link
	return out
}

// TestLinkWordsAgreeWithSQLite stores linkWordsCorpus in the SQLite store
// and in the engine and checks that link searches, link prefixes and the
// tx column find the same records, and that every record reads back as
// written.
func TestLinkWordsAgreeWithSQLite(t *testing.T) {
	ctx := t.Context()
	recs := linkWordsCorpus()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.AppendRecords(ctx, recs); err != nil {
		t.Fatal(err)
	}
	var all []record.Record
	if _, err := db.Search(ctx, store.SearchRequest{Limit: query.MaxLimit, Order: store.OldestFirst}, func(r record.Record) error {
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	left := 0
	for i, r := range all {
		fields, _, err := Encode(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fields {
			if f.Name == FieldMsgLinks {
				left++
			}
		}
		back, _ := roundTrip(t, r)
		if want := canonical(t, r); !reflect.DeepEqual(back, want) {
			t.Errorf("record %d round trip:\n got %#v\nwant %#v", i, back, want)
		}
	}
	if left != 5 {
		t.Errorf("%d records leave links to their message, want 5", left)
	}
	// The same records as rows written before links were left to the
	// message: every link in its field.
	old := openTestEngine(t)
	lr := logstorage.GetLogRows(nil, nil, nil, nil, "")
	defer logstorage.PutLogRows(lr)
	for _, r := range all {
		fields, streams, err := Encode(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		fields = slices.DeleteFunc(fields, func(f Field) bool {
			return f.Name == FieldMsgLinks || f.Name == FieldTx || f.Name == FieldAddress
		})
		if len(r.TxHashes) > 0 {
			fields = append(fields, Field{Name: FieldTx, Value: joinHex(len(r.TxHashes), func(i int) []byte { return r.TxHashes[i][:] })})
		}
		if len(r.Addresses) > 0 {
			fields = append(fields, Field{Name: FieldAddress, Value: joinHex(len(r.Addresses), func(i int) []byte { return r.Addresses[i][:] })})
		}
		lr.MustAdd(logstorage.TenantID{}, r.Time.UnixNano(), fields, streams)
	}
	old.s.MustAddRows(lr)
	old.s.DebugFlush()
	// And as rows of the first form of leaving links to the message,
	// which said so in FieldLive.
	first := openTestEngine(t)
	lr.ResetKeepSettings()
	for _, r := range all {
		fields, streams, err := Encode(nil, &r)
		if err != nil {
			t.Fatal(err)
		}
		if i := slices.IndexFunc(fields, func(f Field) bool { return f.Name == FieldMsgLinks }); i >= 0 {
			flag := fields[i].Value
			fields = slices.Delete(fields, i, i+1)
			fields[slices.IndexFunc(fields, func(f Field) bool { return f.Name == FieldLive })].Value = flag
		}
		lr.MustAdd(logstorage.TenantID{}, r.Time.UnixNano(), fields, streams)
		row := append(slices.Clone(fields), Field{Name: FieldTime, Value: FormatTime(r.Time)})
		if back, err := Decode(row); err != nil || !reflect.DeepEqual(back, canonical(t, r)) {
			t.Errorf("a row of the first form reads back as %+v (%v), want %+v", back, err, r)
		}
	}
	first.s.MustAddRows(lr)
	first.s.DebugFlush()
	e := openTestEngine(t)
	e.addAsIs(t, all)
	s := &Searcher{Runner: e, CursorKey: []byte("key")}
	olds := &Searcher{Runner: old, CursorKey: []byte("key")}
	firsts := &Searcher{Runner: first, CursorKey: []byte("key")}
	var queries []string
	for _, r := range all {
		for _, h := range r.TxHashes {
			queries = append(queries, "tx:"+h.Hex(), "tx:"+h.Hex()[:12]+"*", "tx:"+h.Hex()+"*", h.Hex())
		}
		for _, a := range r.Addresses {
			queries = append(queries, "address:"+a.Hex(), "address:"+strings.ToLower(a.Hex()[:10])+"*", strings.ToLower(a.Hex()))
		}
	}
	queries = append(queries, "tx:*", "-tx:*", "address:*", "-address:* service:api", "tx:0x0*", "address:0x0*",
		"tx:"+all[1].TxHashes[0].Hex()+" tx:"+all[1].TxHashes[1].Hex(),
		"* | fields time, tx", "tx:* | stats count() by tx", "* | top 3 tx")
	for _, text := range queries {
		q, err := query.Parse(text)
		if err != nil {
			t.Fatalf("%s: %v", text, err)
		}
		req := store.SearchRequest{Query: q, Limit: query.MaxLimit}
		run := func(s store.Searcher) (any, error) {
			if len(q.Pipes) > 0 {
				return s.Table(ctx, req)
			}
			return searchIDs(ctx, s, req)
		}
		ref, refErr := run(db)
		if refErr != nil {
			t.Fatalf("%s: sqlite: %v", text, refErr)
		}
		for _, x := range []struct {
			name string
			s    store.Searcher
		}{{"engine", s}, {"engine, rows of the earlier format", olds}, {"engine, rows of the first form", firsts}} {
			got, err := run(x.s)
			if err != nil {
				t.Errorf("%s: %s: %v", text, x.name, err)
			} else if !reflect.DeepEqual(ref, got) {
				t.Errorf("%s:\n %s: %v\n sqlite: %v", text, x.name, got, ref)
			}
		}
	}
}

// TestMsgHexWords checks the words the engine's word filter finds.
func TestMsgHexWords(t *testing.T) {
	w := "0x" + strings.Repeat("ab", 20)
	for _, tc := range []struct {
		msg  string
		want []string
	}{
		{"", nil},
		{w, []string{w}},
		{"a " + w + " b " + w, []string{w}},
		{"x" + w, nil},
		{"_" + w, nil},
		{w + "_", nil},
		{w + "0", nil},
		{"é" + w, nil},
		{"\xff" + w, nil},
		{w + "\xff", nil},
		{"\u00a0" + w + "\u3000", []string{w}},
		{"(" + w + ")," + strings.ToUpper(w), []string{w}},
		{w[:41] + "g", nil},
		{"0x0x" + w[2:], nil},
	} {
		var got []string
		MsgHexWords(tc.msg, 20, func(s string) bool { got = append(got, s); return true })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("MsgHexWords(%q) = %q, want %q", tc.msg, got, tc.want)
		}
	}
}
