package app

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/blocktorch/blocktorch/internal/indexer"
)

// progress reports backfill progress on the terminal: a bar redrawn in place
// on a TTY, otherwise a line every few seconds. Following the head one block
// at a time prints nothing.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	start    time.Time
	first    uint64
	active   bool
	lastLine time.Time
	now      func() time.Time
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, now: time.Now}
}

func (p *progress) batch(b indexer.BatchInfo) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	behind := b.Target - b.To
	if !p.active {
		// Only a real backfill earns a progress display.
		if behind < 2*(b.To-b.From+1) && behind < 50 {
			return
		}
		p.active, p.start, p.first = true, now, b.From
	}
	done := b.To - p.first + 1
	total := b.Target - p.first + 1
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed
	}
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(behind)/rate) * time.Second).Round(time.Second).String()
	}
	pct := float64(done) / float64(total)
	line := fmt.Sprintf("backfill %s %3.0f%%  block %d/%d  %.0f blocks/s  ETA %s", bar(pct, 24), pct*100, b.To, b.Target, rate, eta)
	finished := behind == 0
	switch {
	case p.tty:
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		if finished {
			fmt.Fprintln(p.w)
		}
	case finished || now.Sub(p.lastLine) >= 3*time.Second:
		fmt.Fprintln(p.w, line)
		p.lastLine = now
	}
	if finished {
		fmt.Fprintf(p.w, "backfill done: %d blocks in %s; following the head\n", done, now.Sub(p.start).Round(time.Millisecond))
		p.active = false
	}
}

func bar(frac float64, width int) string {
	n := int(frac * float64(width))
	n = max(0, min(width, n))
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", width-n) + "]"
}
