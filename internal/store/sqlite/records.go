package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/chainrec"
)

var _ store.RecordWriter = (*DB)(nil)

// The tables every record is written to.
var (
	recordTable = table{name: "records", rowsPerInsert: 64, cols: []string{
		"id", "time", "source", "kind", "level", "service", "message", "attrs", "tx_hashes", "addresses", "block"}}
	ftsTable = table{name: "records_fts", rowsPerInsert: 128, cols: []string{"rowid", "message", "attrs", "txs", "addrs"}}
)

// maxBump bounds id - time (see migrations/0002_records.sql): a search for
// records before T scans ids below T + maxBump.
const maxBump = int64(time.Second)

// Records must have a time whose unix nanoseconds, plus maxBump, fit in an
// int64: from 1678 to 2262.
var (
	minRecordTime = time.Unix(0, math.MinInt64+1)
	maxRecordTime = time.Unix(0, math.MaxInt64-2*maxBump)
)

// AppendRecords stores recs in one transaction and sets their IDs.
func (db *DB) AppendRecords(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := db.appendRecords(ctx, recs); err != nil {
		return fmt.Errorf("cannot append %d records: %w", len(recs), err)
	}
	return nil
}

func (db *DB) appendRecords(ctx context.Context, recs []record.Record) error {
	rows := make([]recordRow, len(recs))
	for i := range recs {
		r := &recs[i]
		if r.Time.Before(minRecordTime) || r.Time.After(maxRecordTime) {
			return fmt.Errorf("%w: record %d has time %s, outside the storable range %d-%d", store.ErrInvalid,
				i, r.Time.UTC().Format(time.RFC3339Nano), minRecordTime.Year(), maxRecordTime.Year())
		}
		if err := rows[i].set(r); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	w := newRecordWriter(tx)
	defer w.close()
	if err := w.write(ctx, rows); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("cannot commit: %w", translate(err))
	}
	for i := range recs {
		recs[i].ID = rows[i].id
	}
	return nil
}

// recordRow is a record encoded for its table and full-text row.
type recordRow struct {
	id, time                     int64
	source, kind, level, service string
	message                      string
	attrs                        any // JSON text or nil
	attrText, txs, addrs         string
	txHashes, addresses          any // concatenated bytes or nil
	block                        any // int64 or nil
}

// set encodes r.
func (row *recordRow) set(r *record.Record) error {
	row.time = r.Time.UnixNano()
	row.source, row.kind, row.level, row.service, row.message = r.Source, r.Kind, r.Level, r.Service, r.Message
	var txs, addrs linkSet
	if len(r.TxHashes) > 0 {
		buf := make([]byte, 0, len(r.TxHashes)*common.HashLength)
		for _, h := range r.TxHashes {
			buf = append(buf, h[:]...)
			txs.addBytes(h[:])
		}
		row.txHashes = buf
	}
	if len(r.Addresses) > 0 {
		buf := make([]byte, 0, len(r.Addresses)*common.AddressLength)
		for _, a := range r.Addresses {
			buf = append(buf, a[:]...)
			addrs.addBytes(a[:])
		}
		row.addresses = buf
	}
	if len(r.Attrs) > 0 {
		j, err := json.Marshal(r.Attrs)
		if err != nil {
			return fmt.Errorf("%w: cannot encode attributes: %v", store.ErrInvalid, err)
		}
		row.attrs = string(j)
		var b strings.Builder
		attrText(&b, &txs, &addrs, r.Attrs)
		row.attrText = b.String()
	}
	row.txs, row.addrs = txs.b.String(), addrs.b.String()
	if r.Block != nil {
		if *r.Block > maxBlock {
			return fmt.Errorf("%w: block %d is above the largest storable, %d", store.ErrInvalid, *r.Block, uint64(maxBlock))
		}
		row.block = int64(*r.Block)
	}
	return nil
}

// linkSet collects the link words of a record: lower-case 0x-hex hashes
// and addresses, the form the full-text index holds and sqlbuild searches
// for, each once.
type linkSet struct {
	b     strings.Builder
	words []string
}

func (l *linkSet) addBytes(b []byte) {
	var buf [2 + 2*common.HashLength]byte
	buf[0], buf[1] = '0', 'x'
	n := hex.Encode(buf[2:], b)
	l.add(string(buf[:2+n]))
}

func (l *linkSet) has(w string) bool { return slices.Contains(l.words, w) }

// add adds a lower-case word.
func (l *linkSet) add(w string) {
	if slices.Contains(l.words, w) {
		return
	}
	l.words = append(l.words, w)
	if l.b.Len() > 0 {
		l.b.WriteByte(' ')
	}
	l.b.WriteString(w)
}

// isHexLink reports whether s is a 0x-hex address or 32-byte hash.
func isHexLink(s string) bool {
	if len(s) != 2+2*common.AddressLength && len(s) != 2+2*common.HashLength || s[0] != '0' || s[1] != 'x' && s[1] != 'X' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// attrText appends the string attribute values to w, depth first in key
// order, separated by spaces: the attribute text that free text matches.
// Hex hashes and addresses already among the links are left out (free
// text searches the links too). Numbers and bools are left out: they are searched by field
// (attr.gasUsed:>100000), and indexing every number as a word made chain
// records a third more expensive to write.
func attrText(w *strings.Builder, txs, addrs *linkSet, v any) {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			attrText(w, txs, addrs, v[k])
		}
	case []any:
		for _, e := range v {
			attrText(w, txs, addrs, e)
		}
	case string:
		switch {
		case v == "":
		case isHexLink(v) && (txs.has(strings.ToLower(v)) || addrs.has(strings.ToLower(v))):
		default:
			if w.Len() > 0 {
				w.WriteByte(' ')
			}
			w.WriteString(v)
		}
	}
}

// recordWriter inserts records within one transaction, assigning their ids.
type recordWriter struct {
	tx          *sql.Tx
	records     *inserter
	fts         *inserter
	stored, got bool
	// storedMax is the largest id stored before this transaction.
	storedMax int64
	// prev is the last id this writer assigned; it assigns ascending ids.
	prev int64
}

func newRecordWriter(tx *sql.Tx) *recordWriter {
	return &recordWriter{tx: tx, records: newInserter(tx, &recordTable), fts: newInserter(tx, &ftsTable), prev: math.MinInt64}
}

func (w *recordWriter) close() {
	w.records.close()
	w.fts.close()
}

// write assigns ids to rows and inserts them. The rows are taken in time
// order, so that ids ascend within the transaction.
func (w *recordWriter) write(ctx context.Context, rows []recordRow) error {
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rows[a].time, rows[b].time) })
	for _, i := range order {
		r := &rows[i]
		id, err := w.allocate(ctx, r.time)
		if err != nil {
			return err
		}
		r.id = id
		if err := w.records.add(ctx, r.id, r.time, r.source, r.kind, r.level, r.service, r.message, r.attrs,
			r.txHashes, r.addresses, r.block); err != nil {
			return err
		}
		if err := w.fts.add(ctx, r.id, r.message, r.attrText, r.txs, r.addrs); err != nil {
			return err
		}
	}
	if err := w.records.flush(ctx); err != nil {
		return err
	}
	return w.fts.flush(ctx)
}

// allocate returns the id of a record at time t (unix nanoseconds): t
// itself, or the next nanosecond that neither a stored record nor this
// transaction holds. Calls must come in ascending order of t.
func (w *recordWriter) allocate(ctx context.Context, t int64) (int64, error) {
	if !w.got {
		var max sql.NullInt64
		if err := w.tx.QueryRowContext(ctx, `SELECT MAX(id) FROM records`).Scan(&max); err != nil {
			return 0, fmt.Errorf("cannot read the newest record id: %w", translate(err))
		}
		w.got, w.stored, w.storedMax = true, max.Valid, max.Int64
	}
	id := max(t, w.prev+1)
	if w.stored && id <= w.storedMax {
		var err error
		if id, err = w.firstFree(ctx, id); err != nil {
			return 0, err
		}
	}
	if id-t >= maxBump {
		return 0, fmt.Errorf("%w: more than %d records within a second of %s", store.ErrConflict, maxBump,
			time.Unix(0, t).UTC().Format(time.RFC3339Nano))
	}
	w.prev = id
	return id, nil
}

// firstFree returns the first id from id on that no stored record holds.
// The ids this transaction inserted are all below id.
func (w *recordWriter) firstFree(ctx context.Context, id int64) (int64, error) {
	const chunk = 256
	for {
		rows, err := w.tx.QueryContext(ctx, `SELECT id FROM records WHERE id >= ? ORDER BY id LIMIT ?`, id, chunk)
		if err != nil {
			return 0, fmt.Errorf("cannot look for a free record id: %w", translate(err))
		}
		n, gap := 0, false
		for rows.Next() {
			var got int64
			if err := rows.Scan(&got); err != nil {
				rows.Close()
				return 0, translate(err)
			}
			n++
			if got != id {
				gap = true
				break
			}
			id++
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, translate(err)
		}
		if gap || n < chunk {
			return id, nil
		}
	}
}

// recordColumns are the columns scanRecord reads, in order.
const recordColumns = `r.id, r.time, r.source, r.kind, r.level, r.service, r.message, r.attrs, r.tx_hashes, r.addresses, r.block`

func scanRecord(row interface{ Scan(...any) error }) (record.Record, error) {
	var (
		r                   record.Record
		t                   int64
		attrs               sql.NullString
		txHashes, addresses []byte
		block               sql.NullInt64
	)
	if err := row.Scan(&r.ID, &t, &r.Source, &r.Kind, &r.Level, &r.Service, &r.Message, &attrs, &txHashes, &addresses, &block); err != nil {
		return r, translate(err)
	}
	r.Time = time.Unix(0, t).UTC()
	if attrs.Valid {
		m, err := decodeAttrs(attrs.String)
		if err != nil {
			return r, fmt.Errorf("record %d attributes: %w", r.ID, err)
		}
		r.Attrs = m
	}
	for b := txHashes; len(b) >= common.HashLength; b = b[common.HashLength:] {
		r.TxHashes = append(r.TxHashes, common.BytesToHash(b[:common.HashLength]))
	}
	for b := addresses; len(b) >= common.AddressLength; b = b[common.AddressLength:] {
		r.Addresses = append(r.Addresses, common.BytesToAddress(b[:common.AddressLength]))
	}
	if block.Valid {
		n := uint64(block.Int64)
		r.Block = &n
	}
	return r, nil
}

// decodeAttrs decodes stored attributes into the types record.Record
// documents: integers that fit become int64, other numbers float64, except
// integers too large for both, which stay decimal strings so that no digit
// is lost (wei amounts).
func decodeAttrs(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return fixNumbers(m).(map[string]any), nil
}

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

// deleteRecords deletes the records selected by where (a fixed fragment)
// in chunks, each in its own transaction, so that a large retention pass
// does not hold the write lock for long.
func (db *DB) deleteRecords(ctx context.Context, where string, args ...any) (int64, error) {
	const chunk = 5000
	var total int64
	for {
		res, err := db.write.ExecContext(ctx, `DELETE FROM records WHERE id IN (SELECT id FROM records WHERE `+where+` LIMIT ?)`,
			append(args, chunk)...)
		if err != nil {
			return total, translate(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, translate(err)
		}
		total += n
		if n < chunk {
			return total, nil
		}
	}
}

// Retain deletes the records of source older than olderThan.
func (db *DB) Retain(ctx context.Context, source string, olderThan time.Time) (int64, error) {
	if olderThan.Before(minRecordTime) {
		return 0, nil
	}
	t := maxRecordTime.UnixNano()
	if olderThan.Before(maxRecordTime) {
		t = olderThan.UnixNano()
	}
	// id >= time, and id < time + maxBump: the id bound lets SQLite walk
	// the source index only as far as needed.
	n, err := db.deleteRecords(ctx, `source = ? AND id < ? AND time < ?`, source, t+maxBump, t)
	if err != nil {
		return n, fmt.Errorf("cannot delete %s records older than %s: %w", source, olderThan.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// writeChainRecords stores the records of blocks within the transaction
// that stores the blocks.
func writeChainRecords(ctx context.Context, tx *sql.Tx, blocks []chain.Block) error {
	var recs []record.Record
	for i := range blocks {
		recs = chainrec.Append(recs, &blocks[i], minRecordTime, maxRecordTime)
	}
	rows := make([]recordRow, len(recs))
	for i := range recs {
		if err := rows[i].set(&recs[i]); err != nil {
			return fmt.Errorf("cannot encode chain record: %w", err)
		}
	}
	w := newRecordWriter(tx)
	defer w.close()
	if err := w.write(ctx, rows); err != nil {
		return fmt.Errorf("cannot store chain records: %w", err)
	}
	return nil
}
