package response_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/blocktorch/blocktorch/internal/response"
)

// TestChecksumAgreesWithTxBuilder compares the checksum serialization with
// the Transaction Builder's own JavaScript (testdata/checksum.js) on every
// batch file under testdata.
func TestChecksumAgreesWithTxBuilder(t *testing.T) {
	files, _ := filepath.Glob("testdata/batch-*.json")
	if len(files) == 0 {
		t.Fatal("no batch files under testdata")
	}
	out, err := exec.Command("node", append([]string{"testdata/checksum.js"}, files...)...).Output()
	if err != nil {
		t.Fatalf("node testdata/checksum.js: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(files) {
		t.Fatalf("node printed %d lines for %d files", len(lines), len(files))
	}
	for i, f := range files {
		var want string
		if err := json.Unmarshal([]byte(lines[i]), &want); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := response.ChecksumText(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got != want {
			t.Errorf("%s:\n got %s\nwant %s", f, got, want)
		}
	}
}

// TestParseBatchRefuses lists batch files that are not Transaction Builder
// batches and the error each gets.
func TestParseBatchRefuses(t *testing.T) {
	good := func(edit func(m map[string]any)) []byte {
		data, _ := os.ReadFile("testdata/batch-pause.json")
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		delete(m["meta"].(map[string]any), "checksum")
		edit(m)
		out, _ := json.Marshal(m)
		return out
	}
	tx := func(m map[string]any) map[string]any { return m["transactions"].([]any)[0].(map[string]any) }
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte("{"), "not a Transaction Builder batch"},
		{"version", good(func(m map[string]any) { m["version"] = "2.0" }), `batch version "2.0"`},
		{"chain id", good(func(m map[string]any) { m["chainId"] = "0x1" }), "chainId"},
		{"no txs", good(func(m map[string]any) { m["transactions"] = []any{} }), "no transactions"},
		{"bad to", good(func(m map[string]any) { tx(m)["to"] = "vault" }), `to "vault"`},
		{"bad value", good(func(m map[string]any) { tx(m)["value"] = "-1" }), `value "-1"`},
		{"neither", good(func(m map[string]any) { delete(tx(m), "contractMethod") }), "neither data nor a contract method"},
		{"bad data", good(func(m map[string]any) { delete(tx(m), "contractMethod"); tx(m)["data"] = "0xabc" }), "data"},
		{"unknown field", good(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"checksum", good(func(m map[string]any) {
			m["meta"].(map[string]any)["checksum"] = "0x0000000000000000000000000000000000000000000000000000000000000000"
		}), "does not match"},
	} {
		_, err := response.ParseBatch(c.data)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// FuzzParseBatch: a batch that parses, written again with its checksum,
// parses to the same batch, and its checksum is the one ParseBatch checks.
func FuzzParseBatch(f *testing.F) {
	files, _ := filepath.Glob("testdata/batch-*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// A checksummed batch, as Prepare writes them.
	data := "0x8456cb59"
	b := &response.Batch{Version: "1.0", ChainID: "1337", CreatedAt: 1765000000000,
		Meta:         response.BatchMeta{Name: "pause", TxBuilderVersion: "1.18.0"},
		Transactions: []response.BatchTx{{To: "0x8464135c8F25Da09e49BC8782676a84730C318bC", Value: "0", Data: &data}}}
	sum, err := b.Checksum()
	if err != nil {
		f.Fatal(err)
	}
	b.Meta.Checksum = sum
	seed, _ := json.Marshal(b)
	f.Add(seed)
	f.Add([]byte(`{"version":"1.0","chainId":"5","createdAt":0,"meta":{"name":"x"},"transactions":[{"to":"0x0000000000000000000000000000000000000001","value":"0","data":"0x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := response.ParseBatch(data)
		if err != nil {
			return
		}
		sum, err := b.Checksum()
		if err != nil {
			t.Fatal(err)
		}
		b.Meta.Checksum = sum
		again, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		b2, err := response.ParseBatch(again)
		if err != nil {
			t.Fatalf("a batch written again does not parse: %v\n%s", err, again)
		}
		if !reflect.DeepEqual(b, b2) {
			t.Fatalf("round trip changed the batch:\n%+v\n%+v", b, b2)
		}
		// Any change to the transactions breaks the checksum.
		b2.Transactions[0].Value += "0"
		changed, _ := json.Marshal(b2)
		if _, err := response.ParseBatch(changed); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Fatalf("a changed batch kept its checksum: %v", err)
		}
	})
}
