package sqlbuild

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/store"
)

// A cursor is the base64url of: the id of the last record of a page (8
// bytes), then the first 16 bytes of an HMAC-SHA256, under the store's
// key, of that id and the request's fingerprint. A cursor cannot be forged
// or edited without the key, nor reused with another query, range or
// order.
const (
	cursorIDLen  = 8
	cursorMACLen = 16
)

// EncodeCursor returns the cursor that continues after the record id of
// the request whose Fingerprint is fp.
func EncodeCursor(key []byte, id int64, fp string) string {
	buf := make([]byte, cursorIDLen, cursorIDLen+cursorMACLen)
	binary.BigEndian.PutUint64(buf, uint64(id))
	buf = append(buf, cursorMAC(key, buf[:cursorIDLen], fp)...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// DecodeCursor returns the record id of a cursor made by EncodeCursor for
// a request with fingerprint fp, or an error wrapping store.ErrInvalid.
func DecodeCursor(key []byte, cursor, fp string) (int64, error) {
	buf, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(buf) != cursorIDLen+cursorMACLen {
		return 0, fmt.Errorf("%w: malformed cursor", store.ErrInvalid)
	}
	if !hmac.Equal(buf[cursorIDLen:], cursorMAC(key, buf[:cursorIDLen], fp)) {
		return 0, fmt.Errorf("%w: the cursor belongs to another search or was altered", store.ErrInvalid)
	}
	return int64(binary.BigEndian.Uint64(buf[:cursorIDLen])), nil
}

func cursorMAC(key, id []byte, fp string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(id)
	m.Write([]byte(fp))
	return m.Sum(nil)[:cursorMACLen]
}

// Fingerprint identifies a search request for its cursors: the canonical
// query filter, the range and the order. Equal requests written
// differently ("a b" and "a AND b") share cursors.
func Fingerprint(req store.SearchRequest) string {
	q := "*"
	if req.Query != nil && req.Query.Filter != nil {
		q = req.Query.Filter.String()
	}
	var from, to int64
	if !req.From.IsZero() {
		from = req.From.UnixNano()
	}
	if !req.To.IsZero() {
		to = req.To.UnixNano()
	}
	return fmt.Sprintf("%d|%d|%d|%s", req.Order, from, to, q)
}
