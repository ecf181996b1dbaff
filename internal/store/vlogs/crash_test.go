package vlogs_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/storetest"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// The crash child: with VLOGS_CRASH_DIR set, this test appends batches of
// 50 records to an engine in that directory forever, printing "ack N"
// after the Nth batch is acknowledged, until the parent kills it.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("VLOGS_CRASH_DIR")
	if dir == "" {
		t.Skip("the child of TestAcknowledgedSurvivesKill9")
	}
	every, _ := time.ParseDuration(os.Getenv("VLOGS_CRASH_CHECKPOINT"))
	e, err := vlogs.Open(t.Context(), dir, vlogs.Options{CursorKey: []byte("k"), CheckpointInterval: every})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for n := 1; ; n++ {
		batch := make([]record.Record, 50)
		for i := range batch {
			batch[i] = record.Record{Time: storetest.CorpusStart.Add(time.Duration(n) * time.Second), Source: record.SourceApp,
				Kind: record.KindLog, Level: "info", Service: "crash",
				Message: fmt.Sprintf("crashmark batch%d line%d", n, i), Attrs: map[string]any{"batch": int64(n)}}
		}
		if err := e.AppendRecords(t.Context(), batch); err != nil {
			fmt.Println("append:", err)
			os.Exit(1)
		}
		fmt.Printf("ack %d\n", n)
	}
}

// Acknowledged means durable: a child process appends batches and is
// killed with SIGKILL right after an acknowledgement; every batch it
// acknowledged is then searchable, each record once. With checkpoints
// far apart the records come back from the write-ahead log alone; with
// checkpoints racing the appends, from the engine's files and the log
// together.
func TestAcknowledgedSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	for _, tt := range []struct {
		name       string
		checkpoint time.Duration
		acks       int
	}{
		{"log only", time.Hour, 40},
		{"racing checkpoints", 50 * time.Millisecond, 120},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), "VLOGS_CRASH_DIR="+dir, "VLOGS_CRASH_CHECKPOINT="+tt.checkpoint.String())
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			acked := 0
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := sc.Text()
				if n, ok := strings.CutPrefix(line, "ack "); ok {
					acked, _ = strconv.Atoi(n)
					if acked >= tt.acks {
						// Right after the acknowledgement, before the
						// engine's own flush.
						cmd.Process.Signal(syscall.SIGKILL)
						break
					}
				} else if strings.HasPrefix(line, "open:") || strings.HasPrefix(line, "append:") {
					t.Fatalf("child: %s", line)
				}
			}
			cmd.Wait()
			if acked < tt.acks {
				t.Fatalf("the child acknowledged %d batches before it ended, want %d", acked, tt.acks)
			}

			e, err := vlogs.Open(t.Context(), dir, vlogs.Options{CursorKey: []byte("k")})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			q, err := query.Parse("crashmark | stats count(), count_distinct(message), max(attr.batch)")
			if err != nil {
				t.Fatal(err)
			}
			tab, err := e.Table(t.Context(), store.SearchRequest{Query: q})
			if err != nil {
				t.Fatal(err)
			}
			if len(tab.Rows) != 1 {
				t.Fatalf("after kill -9: %v", tab.Rows)
			}
			n, distinct, last := tab.Rows[0][0].(int64), tab.Rows[0][1].(int64), tab.Rows[0][2].(int64)
			if distinct != n {
				t.Fatalf("after kill -9: %d records but %d distinct: a replay stored some twice", n, distinct)
			}
			if last < int64(acked) || n < int64(acked)*50 {
				t.Fatalf("after kill -9: %d records up to batch %d; the child acknowledged %d batches (%d records)",
					n, last, acked, acked*50)
			}
			// Whatever the child wrote after the last acknowledgement is
			// whole batches, never part of one.
			if n%50 != 0 {
				t.Fatalf("after kill -9: %d records, not whole batches of 50", n)
			}
			if segs, _ := filepath.Glob(filepath.Join(dir, "wal", "*.log")); len(segs) != 1 {
				t.Errorf("log segments after the recovery: %v, want only the new one", segs)
			}
		})
	}
}
