package contracts

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/sourcemap"
)

// CodeMetadata is what the CBOR section at the end of solc output says.
type CodeMetadata struct {
	// Solc is the compiler version ("0.8.28"), empty for old compilers.
	Solc string `json:"solc,omitempty"`
	// Hash is the metadata hash with its kind ("ipfs", "bzzr0", "bzzr1"), hex.
	HashKind string `json:"hashKind,omitempty"`
	Hash     string `json:"hash,omitempty"`
	// Experimental is set when solc marked the code as experimental.
	Experimental bool `json:"experimental,omitempty"`
}

// ParseCodeMetadata decodes the CBOR metadata section at the end of code. It
// returns false when code has none or it is not a map of the expected shape.
func ParseCodeMetadata(code []byte) (CodeMetadata, bool) {
	n := sourcemap.MetadataLength(code)
	if n == 0 {
		return CodeMetadata{}, false
	}
	md, err := decodeCBORMap(code[len(code)-n : len(code)-2])
	if err != nil {
		return CodeMetadata{}, false
	}
	var out CodeMetadata
	for k, v := range md {
		b, _ := v.([]byte)
		switch k {
		case "solc":
			if s, ok := v.(string); ok {
				out.Solc = s // pre-release builds write the full version as text
			} else if len(b) == 3 {
				out.Solc = fmt.Sprintf("%d.%d.%d", b[0], b[1], b[2])
			}
		case "ipfs", "bzzr0", "bzzr1":
			out.HashKind, out.Hash = k, hex.EncodeToString(b)
		case "experimental":
			out.Experimental, _ = v.(bool)
		}
	}
	return out, true
}

// decodeCBORMap decodes the small subset of CBOR solc writes: one definite
// map of text keys to byte strings, text strings or booleans, filling data
// exactly.
func decodeCBORMap(data []byte) (map[string]any, error) {
	d := cborReader{data: data}
	major, n, err := d.head()
	if err != nil {
		return nil, err
	}
	if major != 5 || n > 16 {
		return nil, errors.New("metadata is not a small CBOR map")
	}
	out := make(map[string]any, n)
	for range n {
		major, kn, err := d.head()
		if err != nil {
			return nil, err
		}
		if major != 3 {
			return nil, errors.New("metadata key is not text")
		}
		key, err := d.bytes(kn)
		if err != nil {
			return nil, err
		}
		major, vn, err := d.head()
		if err != nil {
			return nil, err
		}
		switch major {
		case 2:
			b, err := d.bytes(vn)
			if err != nil {
				return nil, err
			}
			out[string(key)] = b
		case 3:
			b, err := d.bytes(vn)
			if err != nil {
				return nil, err
			}
			out[string(key)] = string(b)
		case 7:
			switch vn {
			case 20:
				out[string(key)] = false
			case 21:
				out[string(key)] = true
			default:
				return nil, fmt.Errorf("unsupported CBOR simple value %d", vn)
			}
		default:
			return nil, fmt.Errorf("unsupported CBOR major type %d", major)
		}
	}
	if d.pos != len(data) {
		return nil, errors.New("trailing bytes after the metadata map")
	}
	return out, nil
}

type cborReader struct {
	data []byte
	pos  int
}

// head reads an item head: major type and argument (length or value).
func (d *cborReader) head() (major byte, n uint64, err error) {
	if d.pos >= len(d.data) {
		return 0, 0, errors.New("truncated CBOR")
	}
	b := d.data[d.pos]
	d.pos++
	major, info := b>>5, b&0x1f
	switch {
	case info < 24:
		return major, uint64(info), nil
	case info <= 27:
		size := 1 << (info - 24)
		if d.pos+size > len(d.data) {
			return 0, 0, errors.New("truncated CBOR")
		}
		for _, c := range d.data[d.pos : d.pos+size] {
			n = n<<8 | uint64(c)
		}
		d.pos += size
		return major, n, nil
	}
	return 0, 0, fmt.Errorf("unsupported CBOR additional info %d", info)
}

func (d *cborReader) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.pos) {
		return nil, errors.New("truncated CBOR")
	}
	b := d.data[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}
