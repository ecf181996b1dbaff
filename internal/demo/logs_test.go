package demo

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/record"
)

func runDemo(t *testing.T, seed uint64) []recordSummary {
	t.Helper()
	w := &memWriter{}
	clock := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	d := NewLogs(w, LogOptions{Seed: seed, Now: func() time.Time { return clock }})
	ctx := context.Background()
	for i := range 200 {
		if i%3 == 0 {
			tx := LogTx{Hash: common.BytesToHash([]byte{byte(i), 7}), From: common.BytesToAddress([]byte{byte(i % 5), 1}),
				To: common.HexToAddress("0x5FbDB2315678afecb367f032d93F642f64180aa3"), Action: "borrow"}
			if i%9 == 0 {
				tx.Failure = "custom-error"
			}
			d.Sent(tx)
		}
		if i == 100 {
			d.Incident(true)
		}
		if i == 150 {
			d.Incident(false)
		}
		if err := d.Step(ctx); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Second)
	}
	var out []recordSummary
	for _, r := range w.records() {
		out = append(out, recordSummary{r.Time, r.Source, r.Kind, r.Level, r.Service, r.Message, len(r.TxHashes), len(r.Addresses)})
	}
	return out
}

type recordSummary struct {
	Time                              time.Time
	Source, Kind, Level, Service, Msg string
	Hashes, Addrs                     int
}

func TestDemoLogs(t *testing.T) {
	a, b := runDemo(t, 7), runDemo(t, 7)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different logs")
	}
	if reflect.DeepEqual(a, runDemo(t, 8)) {
		t.Fatal("another seed gave the same logs")
	}
	count := map[string]int{}
	for i, r := range a {
		count[r.Source+"/"+r.Kind]++
		if i > 0 && r.Time.Before(a[i-1].Time) {
			t.Fatalf("record %d is older than the one before", i)
		}
		if r.Kind == "tx_submitted" && (r.Hashes != 1 || r.Addrs != 2) {
			t.Errorf("tx record without its links: %+v", r)
		}
	}
	for _, k := range []string{"app/signature", "app/tx_submitted", "app/request", "app/tx_failed", "app/wallet_rejected", "app/rpc_error",
		"security/login_failed", "security/admin_key", "security/admin_login", "system/resource"} {
		if count[k] == 0 {
			t.Errorf("no %s record in 200 steps: %v", k, count)
		}
	}
	if count["security/admin_key"] != 1 {
		t.Errorf("%d admin key records, want one when the incident starts", count["security/admin_key"])
	}
	// The incident's admin logins happen only while it lasts.
	for _, r := range a {
		if r.Kind == "admin_login" && (r.Time.Before(a[0].Time.Add(99*time.Second)) || r.Time.After(a[0].Time.Add(151*time.Second))) {
			t.Errorf("admin login outside the incident at %v", r.Time)
		}
	}
	if n := count["app/tx_submitted"]; n != 67 {
		t.Errorf("%d submitted tx records, want one per sent tx (67)", n)
	}
}

func TestDemoLogsSentNeverBlocks(t *testing.T) {
	d := NewLogs(&memWriter{}, LogOptions{Seed: 1})
	for i := range maxPendingTxs + 10 {
		d.Sent(LogTx{Hash: common.BytesToHash([]byte{byte(i)})})
	}
	if len(d.pending) != maxPendingTxs {
		t.Fatalf("%d pending, want the cap %d", len(d.pending), maxPendingTxs)
	}
}

// memWriter keeps the records it is given.
type memWriter struct {
	mu   sync.Mutex
	recs []record.Record
}

func (m *memWriter) AppendRecords(_ context.Context, recs []record.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, recs...)
	return nil
}

func (m *memWriter) records() []record.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]record.Record(nil), m.recs...)
}
