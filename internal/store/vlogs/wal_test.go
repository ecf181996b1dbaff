package vlogs

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"reflect"
	"testing"

	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// readAll reads frames until the end or a torn frame.
func readAll(b []byte) ([][]walRow, error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var out [][]walRow
	for {
		rows, err := readFrame(r)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rows)
	}
}

// rowsOf makes rows from fuzz input: every byte string is a field.
func rowsOf(t int64, names, values []byte) []walRow {
	var rows []walRow
	for i := 0; i < len(names); i += 3 {
		n := names[i:min(i+3, len(names))]
		rows = append(rows, walRow{Time: t + int64(i), Streams: min(1, len(n)),
			Fields: []logsql.Field{{Name: string(n), Value: string(values)}, {Name: "id", Value: string(n)}}})
	}
	return rows
}

// FuzzWAL: reading any bytes never panics; frames written by appendFrame
// read back equal; a log cut anywhere reads back as the whole frames
// before the cut, and a flipped byte never reads back as other rows.
func FuzzWAL(f *testing.F) {
	f.Add([]byte{}, int64(0), []byte("abc"), []byte("v"), 3, 0)
	f.Add(appendFrame(nil, rowsOf(1, []byte("source"), []byte("app"))), int64(-5), []byte("xyzw"), []byte(""), 10, 9)
	f.Fuzz(func(t *testing.T, raw []byte, ts int64, names, values []byte, cut, flip int) {
		readAll(raw)

		a, b := rowsOf(ts, names, values), rowsOf(ts+1, values, names)
		log := appendFrame(appendFrame(nil, a), b)
		got, err := readAll(log)
		if err != nil || len(got) != 2 || !sameRows(got[0], a) || !sameRows(got[1], b) {
			t.Fatalf("round trip: %v, %v", got, err)
		}
		first := len(appendFrame(nil, a))
		if cut >= 0 && cut < len(log) {
			got, err := readAll(log[:cut])
			want := 0
			if cut >= first {
				want = 1
			}
			if len(got) != want || (cut != 0 && cut != first && !errors.Is(err, errTorn)) {
				t.Fatalf("cut at %d of %d: %d frames, %v; want %d", cut, len(log), len(got), err, want)
			}
		}
		if flip >= 0 && flip < len(log) {
			bad := bytes.Clone(log)
			bad[flip] ^= 0x55
			got, _ := readAll(bad)
			for i, rows := range got {
				if !sameRows(rows, [][]walRow{a, b}[i]) {
					t.Fatalf("a flipped byte at %d read back as other rows: %v", flip, rows)
				}
			}
		}
	})
}

func sameRows(x, y []walRow) bool {
	if len(x) == 0 && len(y) == 0 {
		return true
	}
	return reflect.DeepEqual(x, y)
}
