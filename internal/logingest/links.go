package logingest

import (
	"encoding/hex"
	"maps"
	"slices"

	"github.com/ethereum/go-ethereum/common"
)

// links collects the transaction hashes and addresses found in one record,
// deduplicated and capped so a hostile line cannot make a record carry
// thousands of links.
type links struct {
	max    int
	hashes []common.Hash
	addrs  []common.Address
}

// scan finds 0x-prefixed hex runs of exactly 64 digits (hashes) or 40 digits
// (addresses) in s. A run must stand alone: preceded by neither a letter nor
// a digit and followed by no further hex digit, so longer hex (calldata,
// signatures) and words such as "abc0x…" yield nothing.
func (l *links) scan(s string) {
	for i := 0; i+2 < len(s); i++ {
		if s[i] != '0' || (s[i+1] != 'x' && s[i+1] != 'X') {
			continue
		}
		if i > 0 && isAlnum(s[i-1]) {
			continue
		}
		j := i + 2
		for j < len(s) && isHex(s[j]) {
			j++
		}
		switch j - i - 2 {
		case 64:
			l.addHash(s[i+2 : j])
		case 40:
			l.addAddr(s[i+2 : j])
		}
		i = j - 1
	}
}

func (l *links) addHash(h string) {
	if len(l.hashes) >= l.max {
		return
	}
	var v common.Hash
	if _, err := hex.Decode(v[:], []byte(h)); err != nil {
		return
	}
	for _, x := range l.hashes {
		if x == v {
			return
		}
	}
	l.hashes = append(l.hashes, v)
}

func (l *links) addAddr(a string) {
	if len(l.addrs) >= l.max {
		return
	}
	var v common.Address
	if _, err := hex.Decode(v[:], []byte(a)); err != nil {
		return
	}
	for _, x := range l.addrs {
		if x == v {
			return
		}
	}
	l.addrs = append(l.addrs, v)
}

// scanValue scans every string inside an attribute value.
func (l *links) scanValue(v any) {
	switch v := v.(type) {
	case string:
		l.scan(v)
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			l.scanValue(v[k])
		}
	case []any:
		for _, x := range v {
			l.scanValue(x)
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}
