package app

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/store/postgres/pgtest"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
)

// startVictoriaLogs runs a victoria-logs single node on 127.0.0.1 for the
// test (`make victoria-logs` builds it).
func startVictoriaLogs(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BLOCKTORCH_VICTORIALOGS")
	if bin == "" {
		m, _ := filepath.Glob(filepath.Join("..", "..", "bin", "victoria-logs-*"))
		if len(m) == 0 {
			t.Fatal("victoria-logs not found: run `make victoria-logs` or set BLOCKTORCH_VICTORIALOGS")
		}
		sort.Strings(m)
		bin = m[len(m)-1]
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	cmd := exec.Command(bin, "-httpListenAddr", addr, "-storageDataPath", t.TempDir(), "-retentionPeriod", "100y",
		"-futureRetention", "100y", "-loggerLevel", "WARN")
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); <-done })
	deadline := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get("http://" + addr + "/health"); err == nil {
			resp.Body.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("victoria-logs did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond) // polling the server's start, with a deadline
	}
}

// TestMigrateRecords moves a SQLite store's records to an external
// VictoriaLogs and to the embedded engine's directory.
func TestMigrateRecords(t *testing.T) {
	for _, to := range []string{"http", "embedded"} {
		t.Run(to, func(t *testing.T) {
			target := "embedded:" + filepath.Join(t.TempDir(), "records")
			if to == "http" {
				target = startVictoriaLogs(t)
			}
			testMigrateRecords(t, target)
		})
	}
}

func testMigrateRecords(t *testing.T, target string) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "blocktorch.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBlocks(ctx, storetest.CorpusBlocks()); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRecords(ctx, storetest.CorpusRecords()); err != nil {
		t.Fatal(err)
	}
	before, err := countRecords(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	var progress bytes.Buffer
	res, err := MigrateRecords(ctx, "sqlite:"+path, target, &progress, false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != before || res.Before != 0 || res.After != before || before != 26 {
		t.Fatalf("migrated %+v, want %d records on both sides", res, before)
	}
	if !strings.Contains(progress.String(), "100%  26/26 records") {
		t.Fatalf("progress:\n%s", progress.String())
	}
	// The source is untouched; a second run refuses to copy twice.
	db, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := countRecords(ctx, db); err != nil || n != before {
		t.Fatalf("source after: %d, %v; want %d", n, err, before)
	}
	db.Close()
	if _, err := MigrateRecords(ctx, "sqlite:"+path, target, nil, false); err == nil || !strings.Contains(err.Error(), "already holds 26 records") {
		t.Fatalf("second migration: %v, want a refusal", err)
	}
	for _, bad := range [][2]string{{path, target}, {"sqlite:" + path, "embedded"}, {"sqlite:", target}} {
		if _, err := MigrateRecords(ctx, bad[0], bad[1], nil, false); err == nil {
			t.Errorf("MigrateRecords(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

// migrate schema applies every migration of either backend and says the
// version; running it again (another node) changes nothing.
func TestMigrateSchema(t *testing.T) {
	for _, db := range []string{"sqlite:" + filepath.Join(t.TempDir(), "s.db"), pgtest.DSN(t)} {
		v, err := MigrateSchema(t.Context(), db)
		if err != nil || v < 2 {
			t.Fatalf("MigrateSchema(%.20s…) = %d, %v", db, v, err)
		}
		if again, err := MigrateSchema(t.Context(), db); err != nil || again != v {
			t.Fatalf("MigrateSchema again = %d, %v; want %d", again, err, v)
		}
	}
	if _, err := MigrateSchema(t.Context(), "mysql://u:s3cret@h/db"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("MigrateSchema(mysql://…) = %v, want an error without the password", err)
	}
}
