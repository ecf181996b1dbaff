package logingest

import (
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

func TestLinksScan(t *testing.T) {
	h1 := "0x" + strings.Repeat("ab", 32)
	h2 := "0x" + strings.Repeat("CD", 32)
	a1 := "0x" + strings.Repeat("12", 20)
	tests := []struct {
		name   string
		in     string
		hashes []string
		addrs  []string
	}{
		{"none", "nothing here 0x 0xzz", nil, nil},
		{"hash and address", "tx " + h1 + " from " + a1 + ".", []string{h1}, []string{a1}},
		{"dedup, case-insensitive", h1 + " " + strings.ToUpper(h1[:2]) + h1[2:] + " " + strings.ToUpper(h1), []string{h1}, nil},
		{"two hashes in order", h2 + "," + h1, []string{h2, h1}, nil},
		{"in punctuation", `{"tx":"` + h1 + `"}`, []string{h1}, nil},
		{"longer hex is neither", "0x" + strings.Repeat("ab", 65), nil, nil},
		{"41 digits is neither", "0x" + strings.Repeat("1", 41), nil, nil},
		{"glued to a word", "abc" + h1, nil, nil},
		{"glued after", h1 + "zz", []string{h1}, nil},
		{"end of string", "x=" + a1, nil, []string{a1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := links{max: 32}
			l.scan(tt.in)
			if len(l.hashes) != len(tt.hashes) || len(l.addrs) != len(tt.addrs) {
				t.Fatalf("got %v %v, want %v %v", l.hashes, l.addrs, tt.hashes, tt.addrs)
			}
			for i, h := range tt.hashes {
				if l.hashes[i] != common.HexToHash(h) {
					t.Errorf("hash %d = %s, want %s", i, l.hashes[i], h)
				}
			}
			for i, a := range tt.addrs {
				if l.addrs[i] != common.HexToAddress(a) {
					t.Errorf("address %d = %s, want %s", i, l.addrs[i], a)
				}
			}
		})
	}
}

func TestLinksCap(t *testing.T) {
	var sb strings.Builder
	for i := range 100 {
		sb.WriteString(common.BigToHash(common.Big1).Hex()[:2])
		sb.WriteString(common.BytesToHash([]byte{byte(i), 1}).Hex()[2:])
		sb.WriteString(" ")
	}
	l := links{max: 32}
	l.scan(sb.String())
	if len(l.hashes) != 32 {
		t.Fatalf("got %d hashes, want the cap of 32", len(l.hashes))
	}
	if l.hashes[0] != common.BytesToHash([]byte{0, 1}) {
		t.Errorf("first hash %s: the first ones must be kept", l.hashes[0])
	}
}
