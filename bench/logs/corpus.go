package main

import (
	"strconv"
	"time"
)

// seed fixes the corpus: line k is a pure function of (seed, k), so both
// stores receive the same bytes, and a run is reproducible.
const seed = 20240601

// corpusStart is the time of line 0; lines are 10 ms apart.
var corpusStart = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

const lineGap = 10 * time.Millisecond

// Pools the lines draw from.
const (
	nAddrs = 10_000
	nUsers = 10_000
)

type corpus struct {
	n   int
	txs int // transaction ids are drawn from [0, txs)
}

func newCorpus(n int) *corpus { return &corpus{n: n, txs: max(1, n/5)} }

// txWindow is how many of the latest transaction ids a line may mention:
// about 15 s of transactions at 20 a second. A transaction's lines
// (submitted, confirmed, reverted) come within seconds of each other, as
// an application logs them, rather than at random over the corpus.
const txWindow = 300

// recentTx draws the transaction line k mentions among the latest ids.
func (c *corpus) recentTx(r *rng, k int) int {
	latest := int(int64(k) * int64(c.txs) / int64(c.n))
	return max(0, latest-r.intn(txWindow))
}

func (c *corpus) end() time.Time { return corpusStart.Add(time.Duration(c.n) * lineGap) }

// mix is splitmix64: a well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is the random stream of one line.
type rng struct{ s uint64 }

func (r *rng) next() uint64 { r.s = mix(r.s); return r.s }
func (r *rng) intn(n int) int {
	return int(r.next() % uint64(n))
}

const hexDigits = "0123456789abcdef"

func appendHex(b []byte, x uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(x>>(4*uint(i)))&15])
	}
	return b
}

func txHash(b []byte, id int) []byte {
	b = append(b, "0x"...)
	for i := range 4 {
		b = appendHex(b, mix(uint64(seed)<<20^uint64(id)<<3^uint64(i)), 16)
	}
	return b
}

func address(b []byte, id int) []byte {
	b = append(b, "0x"...)
	b = appendHex(b, mix(uint64(seed)^0xadd7e55<<32^uint64(id)<<2), 16)
	b = appendHex(b, mix(uint64(seed)^0xadd7e55<<32^uint64(id)<<2|1), 16)
	return appendHex(b, mix(uint64(seed)^0xadd7e55<<32^uint64(id)<<2|2), 8)
}

var routes = []string{"/api/v1/quote", "/api/v1/positions", "/api/v1/prices", "/api/v1/health", "/api/v1/borrow",
	"/api/v1/repay", "/api/v1/deposit", "/api/v1/withdraw", "/api/v1/history", "/api/v1/session"}

// line appends line k, a JSON object and a newline, to b.
func (c *corpus) line(b []byte, k int) []byte {
	r := rng{s: uint64(seed)<<32 ^ uint64(k)}
	t := corpusStart.Add(time.Duration(k) * lineGap)
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	kind := r.intn(100)
	level, source, service := "info", "app", "backend"
	msg := make([]byte, 0, 128)
	var tx, addr = -1, -1
	switch {
	case kind < 30:
		msg = append(msg, "GET "...)
		msg = append(msg, routes[r.intn(len(routes))]...)
		msg = append(msg, " 200 in "...)
		msg = strconv.AppendInt(msg, int64(5+r.intn(200)), 10)
		msg = append(msg, "ms"...)
	case kind < 45:
		service, addr = "frontend", r.intn(nAddrs)
		msg = address(append(msg, "wallet connected "...), addr)
	case kind < 55:
		service, tx, addr = "frontend", c.recentTx(&r, k), r.intn(nAddrs)
		msg = txHash(append(msg, "tx "...), tx)
		msg = address(append(msg, " submitted by "...), addr)
	case kind < 60:
		tx = c.recentTx(&r, k)
		msg = txHash(append(msg, "tx "...), tx)
		msg = strconv.AppendInt(append(msg, " confirmed in block "...), int64(1_000_000+k/50), 10)
	case kind < 65:
		level, service = "warn", "frontend"
		msg = append(msg, "wallet rejected signature request"...)
	case kind < 70:
		level = "error"
		msg = append(msg, "RPC timeout after 5000 ms calling eth_call"...)
	case kind < 75:
		level, tx = "error", c.recentTx(&r, k)
		msg = txHash(append(msg, "tx "...), tx)
		msg = append(msg, " reverted: InsufficientCollateral"...)
	case kind < 80:
		service, addr = "liquidator", r.intn(nAddrs)
		msg = address(append(msg, "liquidation of "...), addr)
		msg = strconv.AppendInt(append(msg, " at health 0."...), int64(80+r.intn(20)), 10)
	case kind < 88:
		level, source, service = "warn", "security", "auth"
		msg = strconv.AppendInt(append(msg, "failed login for user "...), int64(r.intn(nUsers)), 10)
		msg = strconv.AppendInt(append(msg, " from 203.0.113."...), int64(r.intn(255)), 10)
	default:
		level, source, service = "debug", "system", "node"
		msg = strconv.AppendInt(append(msg, "disk usage "...), int64(50+r.intn(50)), 10)
		msg = append(msg, "% on /var/lib/blocktorch"...)
	}
	if mix(uint64(k)^seed)%500_000 == 7 { // about 2 lines per million
		level, source, service = "fatal", "system", "node"
		msg = append(msg[:0], "kaboom: unexpected state root"...)
	}
	b = append(b, `","level":"`...)
	b = append(b, level...)
	b = append(b, `","source":"`...)
	b = append(b, source...)
	b = append(b, `","service":"`...)
	b = append(b, service...)
	b = append(b, `","msg":"`...)
	b = append(b, msg...) // no character of a message needs escaping
	b = append(b, `","session":"s`...)
	b = strconv.AppendInt(b, int64(r.intn(100_000)), 10)
	b = append(b, `","user":{"id":`...)
	b = strconv.AppendInt(b, int64(r.intn(nUsers)), 10)
	b = append(b, `},"latency_ms":`...)
	b = strconv.AppendInt(b, int64(r.intn(2000)), 10)
	if tx >= 0 {
		b = txHash(append(b, `,"tx":"`...), tx)
		b = append(b, '"')
	}
	if addr >= 0 {
		b = address(append(b, `,"address":"`...), addr)
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

// bytes estimates the corpus size from its first 10,000 lines.
func (c *corpus) bytes() int64 {
	var b []byte
	n := min(c.n, 10_000)
	var total int
	for k := range n {
		b = c.line(b[:0], k)
		total += len(b)
	}
	return int64(float64(total) / float64(n) * float64(c.n))
}

// probeLine returns the first line from the middle on whose message has a
// transaction hash (wantTx) or an address, and that value.
func (c *corpus) probe(wantTx bool) string {
	var b []byte
	for k := c.n / 2; k < c.n; k++ {
		b = c.line(b[:0], k)
		key := `"address":"`
		if wantTx {
			key = `"tx":"`
		}
		if i := indexOf(b, key); i >= 0 {
			v := b[i+len(key):]
			return string(v[:indexOf(v, `"`)])
		}
	}
	return "0x00"
}

func (c *corpus) probeTx() string   { return c.probe(true) }
func (c *corpus) probeAddr() string { return c.probe(false) }

// window is one minute in the middle of the corpus.
func (c *corpus) window() (time.Time, time.Time) {
	mid := corpusStart.Add(time.Duration(c.n/2) * lineGap).Truncate(time.Minute)
	return mid, mid.Add(time.Minute)
}

func indexOf(b []byte, s string) int {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return i
		}
	}
	return -1
}
