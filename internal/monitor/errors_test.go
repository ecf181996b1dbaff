package monitor_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestFileErrorsGolden applies each testdata/errors/*.yaml, files with
// several problems, and compares what is reported, one problem a line, with
// its .golden file: every problem of the file in one run, in line order, at
// its place. Run with -update to rewrite the goldens.
func TestFileErrorsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	e, st, _ := engineOnStore(t, time.Now)
	ctx := context.Background()
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.ApplyYAML(ctx, monitor.OriginCode, filepath.Base(path), data)
			if err == nil {
				t.Fatal("applied")
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%v is not ErrInvalid", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("reported:\n%s\nwant (%s):\n%s", got, golden, want)
			}
			// One line a problem, in the order of the file.
			last := 0
			for _, l := range strings.Split(strings.TrimSpace(got), "\n") {
				var line int
				parts := strings.SplitN(l, ":", 3)
				if len(parts) < 3 {
					t.Fatalf("%q has no place", l)
				}
				for _, c := range parts[1] {
					line = line*10 + int(c-'0')
				}
				if line < last {
					t.Errorf("line %d reported after line %d", line, last)
				}
				last = line
			}
		})
	}
	if defs, _ := st.MonitorDefs(ctx); len(defs) != 0 {
		t.Errorf("files with problems applied %d monitors", len(defs))
	}
}
