package ethrpc

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/ethrpc/ethrpctest"
)

var fuzzChain = ethrpctest.NewChain(ethrpctest.ChainConfig{Blocks: 2, TxsPerBlock: 3, LogsPerTx: 2, FailEvery: 4, DepositEvery: 3, CreateEvery: 5})

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseBlockErrors(t *testing.T) {
	good := string(mustJSON(t, fuzzChain.BlockJSON(1, true)))
	for _, tc := range []struct {
		name, data string
		want       error
	}{
		{"null", "null", ErrNotAvailable},
		{"empty", "", ErrNotAvailable},
		{"truncated", good[:len(good)/2], ErrMalformed},
		{"array", "[]", ErrMalformed},
		{"no number", `{"hash":"0x` + string(make([]byte, 0)) + `"}`, ErrMalformed},
		{"wrong number", `{"number":"0x2","hash":"0x0000000000000000000000000000000000000000000000000000000000000001"}`, ErrMalformed},
		{"no hash", `{"number":"0x1"}`, ErrMalformed},
		{"tx hashes only", string(mustJSON(t, fuzzChain.BlockJSON(1, false))), ErrMalformed},
		{"leading zero", `{"number":"0x01"}`, ErrMalformed},
		{"huge timestamp", `{"number":"0x1","hash":"0x0000000000000000000000000000000000000000000000000000000000000001","timestamp":"0xffffffffffffffff"}`, ErrMalformed},
		{"tx without hash", `{"number":"0x1","hash":"0x0000000000000000000000000000000000000000000000000000000000000001","transactions":[{}]}`, ErrMalformed},
		{"tx type beyond a byte", `{"number":"0x1","hash":"0x0000000000000000000000000000000000000000000000000000000000000001","transactions":[{"hash":"0x0000000000000000000000000000000000000000000000000000000000000002","type":"0x100"}]}`, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseBlock([]byte(tc.data), 1); !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
	// Unknown fields and transaction types are kept to their common fields.
	b, err := parseBlock([]byte(`{"number":"0x1","hash":"0x0000000000000000000000000000000000000000000000000000000000000001","l1BlockNumber":"0x5",
		"transactions":[{"hash":"0x0000000000000000000000000000000000000000000000000000000000000002","type":"0x6a","from":"0x00000000000000000000000000000000000a4b05","requestId":"0x1"}]}`), 1)
	if err != nil || len(b.Txs) != 1 || b.Txs[0].Type != 0x6a || b.Txs[0].Value.Sign() != 0 || b.Txs[0].To != nil {
		t.Fatalf("L2 block: %+v, %v", b, err)
	}
}

// FuzzParseBlock checks that no answer makes parseBlock panic and that
// whatever it accepts is consistent with what was asked.
func FuzzParseBlock(f *testing.F) {
	for n := range fuzzChain.Blocks {
		f.Add(mustJSON(f, fuzzChain.BlockJSON(uint64(n), true)), uint64(n))
	}
	f.Add([]byte(`null`), uint64(0))
	f.Add([]byte(`{"number":"0x1","hash":"0x00","transactions":[{"hash":null}]}`), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, want uint64) {
		b, err := parseBlock(data, want)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAvailable) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if b.Number != want || b.TxCount != len(b.Txs) {
			t.Fatalf("accepted block %d with %d txs (count %d) for %d", b.Number, len(b.Txs), b.TxCount, want)
		}
		for i, tx := range b.Txs {
			if tx.BlockHash != b.Hash || tx.BlockNumber != want || tx.Index != uint(i) || tx.Value == nil {
				t.Fatalf("tx %d inconsistent with its block: %+v", i, tx)
			}
		}
	})
}

// FuzzParseReceipts checks that no receipt answer makes the receipt parsers
// panic and that what they accept belongs to the block.
func FuzzParseReceipts(f *testing.F) {
	const n = 2
	f.Add(mustJSON(f, fuzzChain.ReceiptsJSON(n)))
	f.Add(mustJSON(f, fuzzChain.ReceiptsJSON(n)[:2]))
	f.Add(mustJSON(f, fuzzChain.ReceiptJSON(n, 0)))
	f.Add([]byte(`[null,{},{"logs":[{}]}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, single := range []bool{false, true} {
			b, err := parseBlock(mustJSON(t, fuzzChain.BlockJSON(n, true)), n)
			if err != nil {
				t.Fatal(err)
			}
			if single {
				err = parseReceipt(data, &b, 0)
			} else {
				err = parseBlockReceipts(data, &b)
			}
			if err != nil {
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAvailable) {
					t.Fatalf("untyped error %v", err)
				}
				continue
			}
			for _, tx := range b.Txs {
				if tx.Status > 1 {
					t.Fatalf("status %d", tx.Status)
				}
				for _, l := range tx.Logs {
					if l.BlockHash != b.Hash || l.BlockNumber != b.Number || l.TxHash != tx.Hash || l.TxIndex != tx.Index {
						t.Fatalf("log does not belong to tx %s of block %d: %+v", tx.Hash, b.Number, l)
					}
				}
			}
		}
	})
}

func FuzzParseHead(f *testing.F) {
	f.Add([]byte(`{"number":"0x1","hash":"0x0000000000000000000000000000000000000000000000000000000000000001","parentHash":"0x0000000000000000000000000000000000000000000000000000000000000000"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := parseHead(data)
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil {
			// Agreement with a plain reading of the same JSON.
			var plain struct{ Number, Hash, ParentHash string }
			if err := json.Unmarshal(data, &plain); err != nil {
				t.Fatalf("accepted a head plain JSON refuses: %v", err)
			}
			n, err := hexutil.DecodeUint64(plain.Number)
			if err != nil || n != ref.Number || !strings.EqualFold(plain.Hash, ref.Hash.Hex()) ||
				plain.ParentHash != "" && !strings.EqualFold(plain.ParentHash, ref.ParentHash.Hex()) {
				t.Fatalf("head %+v, the JSON says %+v (%v)", ref, plain, err)
			}
			// Round trip: the head written back as a node would send it
			// reads as the same head.
			again, err := parseHead(mustJSON(t, map[string]any{
				"number": hexutil.Uint64(ref.Number), "hash": ref.Hash, "parentHash": ref.ParentHash}))
			if err != nil || again != ref {
				t.Fatalf("head %+v read back as %+v, %v", ref, again, err)
			}
		}
		if _, err := parseTraceOutput(data); err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrNotAvailable) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
