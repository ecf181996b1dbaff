package contracts_test

import (
	"testing"

	bc "github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/demo"
)

func FuzzParseCodeMetadata(f *testing.F) {
	arts, _ := demo.Artifacts()
	f.Add(arts["Router"].DeployedBytecode)
	f.Add([]byte{0xa1, 0x64, 's', 'o', 'l', 'c', 0x43, 0, 8, 28, 0, 0x0a})
	f.Add([]byte{0xa1, 0x61, 'x', 0xf5, 0, 4})
	f.Fuzz(func(t *testing.T, code []byte) {
		md, ok := bc.ParseCodeMetadata(code)
		if !ok && md != (bc.CodeMetadata{}) {
			t.Fatalf("not ok but %+v", md)
		}
	})
}

func FuzzParseStandardJSON(f *testing.F) {
	in, out := demo.StandardJSON()
	f.Add(in[:2000], out[:2000])
	f.Add([]byte(`{"sources":{"a":{"content":"x"}},"settings":{"optimizer":{"runs":1}}}`),
		[]byte(`{"sources":{"a":{"id":0}},"contracts":{"a":{"A":{"evm":{"deployedBytecode":{"object":"__$ab$__","immutableReferences":{"1":[{"start":-1,"length":99}]}}},"metadata":"{\"settings\":{}}"}}}}`))
	f.Fuzz(func(t *testing.T, input, output []byte) {
		arts, err := bc.ParseStandardJSON(input, output, "")
		if err != nil {
			return
		}
		for _, a := range arts {
			_, _ = a.Mapper(true)
			_, _ = a.Mapper(false)
		}
	})
}
