package logsql

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// A cursor is the base64url of the time (unix nanoseconds, 8 bytes) and
// id (8 bytes) of the last record of a page, then the first 16 bytes of an
// HMAC-SHA256, under the store's key, of both and the request's
// fingerprint (sqlbuild.Fingerprint). It cannot be forged or edited
// without the key, nor reused with another query, range or order. Nodes
// that share one engine share the key, so that a page continues on any.
const (
	cursorLen    = 16
	cursorMACLen = 16
)

// position is where a page ended: records are ordered by time, then id.
type position struct {
	time int64
	id   int64
}

func encodeCursor(key []byte, p position, fp string) string {
	buf := make([]byte, cursorLen, cursorLen+cursorMACLen)
	binary.BigEndian.PutUint64(buf, uint64(p.time))
	binary.BigEndian.PutUint64(buf[8:], uint64(p.id))
	buf = append(buf, cursorMAC(key, buf[:cursorLen], fp)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func decodeCursor(key []byte, cursor, fp string) (position, error) {
	buf, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(buf) != cursorLen+cursorMACLen {
		return position{}, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
	}
	if !hmac.Equal(buf[cursorLen:], cursorMAC(key, buf[:cursorLen], fp)) {
		return position{}, fmt.Errorf("%w: the cursor belongs to another search or was altered", store.ErrInvalid)
	}
	return position{time: int64(binary.BigEndian.Uint64(buf)), id: int64(binary.BigEndian.Uint64(buf[8:]))}, nil
}

func cursorMAC(key, pos []byte, fp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(pos)
	m.Write([]byte(fp))
	return m.Sum(nil)[:cursorMACLen]
}

// after returns the LogsQL filter of the records after p in the order.
func (p position) after(asc bool) string {
	t := formatTimeFilter(time.Unix(0, p.time))
	id := formatID(p.id)
	if asc {
		// After id: neither a record without an id field (its time is
		// its ID) nor one whose id is its time (written before ids were
		// left out) is after, at time t.
		return "(_time:>" + t + " OR (_time:[" + t + "," + t + "] AND " + quote(FieldID) +
			":string_range(" + quote(id+"\x00") + "," + quote(maxString) + ")))"
	}
	if p.id == p.time {
		// No record has an ID below its time (IDs): nothing of time t
		// comes before.
		return "_time:<" + t
	}
	// A record without an id field has its time as ID, the least of
	// time t; the engine reads the missing field as "".
	return "(_time:<" + t + " OR (_time:[" + t + "," + t + "] AND " + quote(FieldID) +
		":string_range(\"\"," + quote(id) + ")))"
}
