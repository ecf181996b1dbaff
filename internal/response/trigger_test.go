package response_test

import (
	"testing"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/response"
)

// FuzzIncidentKey: any trigger reads as a monitor and a transaction or as
// none, never panics, and the two forms a transaction's runs are recorded
// under read back as what they were written from.
func FuzzIncidentKey(f *testing.F) {
	f.Add("monitor:demo.vault-drain:pending:0x00000000000000000000000000000000000000000000000000000000000000e1", "demo.vault-drain")
	f.Add("monitor:a:b:tx:0x1", "a:b")
	f.Add("hand", "")
	f.Add("monitor:", "x")
	f.Fuzz(func(t *testing.T, trigger, monitorID string) {
		if id, tx, ok := response.IncidentKey(trigger); !ok && (id != "" || tx != (common.Hash{})) {
			t.Fatalf("%q: not a key but %q %s", trigger, id, tx)
		}
		if monitorID == "" {
			return
		}
		tx := common.BytesToHash([]byte(monitorID))
		for _, form := range []string{":pending:", ":tx:"} {
			id, got, ok := response.IncidentKey("monitor:" + monitorID + form + tx.Hex())
			if !ok || id != monitorID || got != tx {
				t.Fatalf("monitor %q%s: read %q %s %v", monitorID, form, id, got, ok)
			}
		}
	})
}
