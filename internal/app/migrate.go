package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/sqlite"
	"github.com/blocktorch/blocktorch/internal/store/vlhttp"
	"github.com/blocktorch/blocktorch/internal/store/vlogs"
)

// MigrateResult is what MigrateRecords did.
type MigrateResult struct {
	// Source is how many records the source store holds; Before and
	// After how many the target held before and after.
	Source, Before, After int64
}

// recordTarget is a records engine migrated to.
type recordTarget interface {
	store.RecordWriter
	store.Searcher
}

// MigrateRecords copies every record (chain and off-chain) of the SQLite
// store named by from ("sqlite:PATH") into the records engine named by to
// ("http://HOST:PORT", an external VictoriaLogs; "embedded:DIR", the
// embedded engine's directory, DATA/records), oldest first, a page at
// a time, writing a progress bar to progress (redrawn in place when tty). It then checks that the
// target holds as many more records as the source has, and fails if not.
// The source is only read.
func MigrateRecords(ctx context.Context, from, to string, progress io.Writer, tty bool) (MigrateResult, error) {
	var res MigrateResult
	path, ok := strings.CutPrefix(from, "sqlite:")
	if !ok || path == "" {
		return res, fmt.Errorf("--from %q: want sqlite:PATH", from)
	}
	src, err := sqlite.Open(ctx, path)
	if err != nil {
		return res, fmt.Errorf("cannot open the source: %w", err)
	}
	defer src.Close()
	var dst recordTarget
	switch {
	case strings.HasPrefix(to, "http://") || strings.HasPrefix(to, "https://"):
		c, err := vlhttp.Open(ctx, to, vlhttp.Options{})
		if err != nil {
			return res, err
		}
		defer c.Close()
		dst = c
	case strings.HasPrefix(to, "embedded:") && len(to) > len("embedded:"):
		e, err := vlogs.Open(ctx, strings.TrimPrefix(to, "embedded:"), vlogs.Options{CursorKey: src.CursorKey()})
		if err != nil {
			return res, err
		}
		defer e.Close()
		dst = e
	default:
		return res, fmt.Errorf("--to %q: want http://HOST:PORT (an external VictoriaLogs) or embedded:DIR (DATA/records)", to)
	}
	if res.Source, err = countRecords(ctx, src); err != nil {
		return res, fmt.Errorf("cannot count the source's records: %w", err)
	}
	if res.Before, err = countRecords(ctx, dst); err != nil {
		return res, fmt.Errorf("cannot count the target's records: %w", err)
	}
	if res.Before > 0 {
		// A second run would copy every record twice.
		return res, fmt.Errorf("the target already holds %d records: migrate into an empty one", res.Before)
	}
	bar := newBar(progress, tty, res.Source)
	req := store.SearchRequest{Limit: query.MaxLimit, Order: store.OldestFirst}
	var done int64
	for {
		var page []record.Record
		next, err := src.Search(ctx, req, func(r record.Record) error {
			page = append(page, r)
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("cannot read the source after %d records: %w", done, err)
		}
		if len(page) > 0 {
			if err := dst.AppendRecords(ctx, page); err != nil {
				return res, fmt.Errorf("cannot write to the target after %d records: %w", done, err)
			}
			done += int64(len(page))
			bar.set(done)
		}
		if next == "" {
			break
		}
		req.Cursor = next
	}
	bar.finish(done)
	// The target makes rows searchable within a second or so.
	want := res.Before + res.Source
	deadline := time.Now().Add(time.Minute)
	for {
		if res.After, err = countRecords(ctx, dst); err != nil {
			return res, fmt.Errorf("cannot count the target's records: %w", err)
		}
		if res.After == want {
			return res, nil
		}
		if res.After > want || time.Now().After(deadline) {
			return res, fmt.Errorf("the target holds %d records, want %d (%d before and %d migrated)", res.After, want, res.Before, res.Source)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func countRecords(ctx context.Context, s store.Searcher) (int64, error) {
	q, err := query.Parse("* | stats count()")
	if err != nil {
		return 0, err
	}
	t, err := s.Table(ctx, store.SearchRequest{Query: q})
	if err != nil {
		return 0, err
	}
	if len(t.Rows) != 1 || len(t.Rows[0]) != 1 {
		return 0, errors.New("BUG: a count is one row of one column")
	}
	n, ok := t.Rows[0][0].(int64)
	if !ok {
		return 0, fmt.Errorf("BUG: a count of type %T", t.Rows[0][0])
	}
	return n, nil
}

// migrateBar draws the progress of a migration: redrawn in place on a
// terminal, a line every few seconds otherwise.
type migrateBar struct {
	w     io.Writer
	tty   bool
	total int64
	last  time.Time
}

func newBar(w io.Writer, tty bool, total int64) *migrateBar {
	b := &migrateBar{w: w, tty: tty, total: total}
	b.draw(0)
	return b
}

func (b *migrateBar) set(n int64) {
	every := 200 * time.Millisecond
	if !b.tty {
		every = 3 * time.Second
	}
	if time.Since(b.last) < every && n < b.total {
		return
	}
	b.draw(n)
}

func (b *migrateBar) draw(n int64) {
	if b.w == nil {
		return
	}
	b.last = time.Now()
	frac := 1.0
	if b.total > 0 {
		frac = float64(n) / float64(b.total)
	}
	line := fmt.Sprintf("migrate %s %3.0f%%  %d/%d records", bar(frac, 24), frac*100, n, b.total)
	if b.tty {
		fmt.Fprintf(b.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(b.w, line)
	}
}

func (b *migrateBar) finish(n int64) {
	if b.w == nil {
		return
	}
	b.draw(n)
	if b.tty {
		fmt.Fprintln(b.w)
	}
}
