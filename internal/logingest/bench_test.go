package logingest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// benchCorpus is n NDJSON lines like the demo's: requests with latency and
// tx hashes and addresses in messages and attributes.
func benchCorpus(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	t0 := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	levels := []string{"info", "info", "info", "warn", "error", "debug"}
	for i := range n {
		var h [32]byte
		var a [20]byte
		for j := range h {
			h[j] = byte(rng.Uint32())
		}
		for j := range a {
			a[j] = byte(rng.Uint32())
		}
		fmt.Fprintf(&buf, `{"time":%q,"level":%q,"service":"api","msg":"POST /api/tx/relay 200 tx 0x%x","latencyMs":%d,"from":"0x%x","route":"/api/tx/relay","status":200,"session":"s-%d"}`+"\n",
			t0.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), levels[rng.IntN(len(levels))], h, rng.IntN(900), a, rng.IntN(1000))
	}
	return buf.Bytes()
}

// BenchmarkNDJSON measures parsing and link extraction of NDJSON into
// records, without a store.
func BenchmarkNDJSON(b *testing.B) {
	const lines = 10000
	body := benchCorpus(lines)
	in, _ := newTestIngester(Options{})
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		bt := in.parseLogs(body)
		if len(bt.recs) != lines {
			b.Fatalf("parsed %d records, want %d: %v", len(bt.recs), lines, bt.res.Rejected)
		}
	}
	b.ReportMetric(float64(lines)*float64(b.N)/b.Elapsed().Seconds(), "lines/s")
}
