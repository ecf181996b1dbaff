package decode

import (
	"fmt"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common"
)

// BenchmarkDecodeTx decodes an ERC-20 transfer with three logs (two from
// the bundled table, one from a registered ABI).
func BenchmarkDecodeTx(b *testing.B) {
	r := newTestRegistry(b)
	tx := testTx(b, r)
	b.ReportAllocs()
	for b.Loop() {
		r.DecodeTx(tx)
	}
	if tx.Call == nil || tx.Logs[2].Event == nil {
		b.Fatal("not decoded")
	}
}

// TestRegistryConcurrent decodes while ABIs come and go; run with -race.
func TestRegistryConcurrent(t *testing.T) {
	r := newTestRegistry(t)
	vaultJSON := readFile(t, "vault.abi.json")
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Go(func() {
			tx := testTx(t, r)
			tx.Status = 0
			tx.RevertData = []byte{0xde, 0xad, 0xbe, 0xef}
			for range 200 {
				r.DecodeTx(tx)
				if tx.Call == nil || tx.Revert == nil {
					t.Error("not decoded")
					return
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			addr := common.BigToAddress(common.Big1)
			if err := r.Add(addr, fmt.Sprint("Vault", i), vaultJSON); err != nil {
				t.Error(err)
				return
			}
			r.Name(addr)
			if i%2 == 0 {
				r.Remove(addr)
			}
		}
	})
	wg.Wait()
}
