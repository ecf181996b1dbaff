package logingest

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// ParseRetention parses the --retention flag: comma-separated source=age
// pairs such as "app=30d,security=90d,system=7d". Sources are app, security
// and system (chain data follows the chain, not a retention); ages are a
// number of days (d) or weeks (w), or a Go duration ("720h"), and must be
// positive. A source left out is kept forever; "" means no retention at all.
//
// The map is what RunRetention reads (it deletes records whose time is older
// than now minus the age of their source); ingest itself only carries it in
// Options.Retention.
func ParseRetention(s string) (map[string]time.Duration, error) {
	out := make(map[string]time.Duration)
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	for _, part := range strings.Split(s, ",") {
		src, age, ok := strings.Cut(strings.TrimSpace(part), "=")
		src = strings.ToLower(strings.TrimSpace(src))
		if !ok {
			return nil, fmt.Errorf("retention %q: want source=age, such as app=30d", part)
		}
		if !offChainSources[src] {
			return nil, fmt.Errorf("retention %q: source %q is not one of app, security, system", part, src)
		}
		if _, dup := out[src]; dup {
			return nil, fmt.Errorf("retention %q: source %s given twice", part, src)
		}
		d, err := parseAge(strings.TrimSpace(age))
		if err != nil {
			return nil, fmt.Errorf("retention %q: %w", part, err)
		}
		out[src] = d
	}
	return out, nil
}

func parseAge(s string) (time.Duration, error) {
	var d time.Duration
	unit := map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour}
	if n := len(s); n > 1 && unit[s[n-1:]] != 0 {
		v, err := strconv.ParseFloat(s[:n-1], 64)
		if err != nil || v <= 0 || v > 100*365 {
			return 0, fmt.Errorf("age %q is not a positive number of days or weeks (at most 100 years)", s)
		}
		d = time.Duration(v * float64(unit[s[n-1:]]))
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("age %q is not like 30d, 4w or 720h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("age %q must be positive", s)
	}
	return d, nil
}

// RetainEvery is the time between two passes of RunRetention.
const RetainEvery = 10 * time.Minute

// RunRetention deletes the records past their source's age in ages (as
// ParseRetention returns it), at start and then RetainEvery after each pass, until ctx
// ends; it then returns nil. A failed deletion is logged and tried again at
// the next pass: retention is housekeeping, not a reason to stop serving.
func RunRetention(ctx context.Context, st store.RecordRetainer, ages map[string]time.Duration, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	for {
		for source, keep := range ages {
			n, err := st.Retain(ctx, source, time.Now().Add(-keep))
			if err != nil && ctx.Err() == nil {
				log.Warn("retention: cannot delete old records", "source", source, "err", err)
			} else if n > 0 {
				log.Info("retention: deleted old records", "source", source, "deleted", n, "olderThan", keep)
			}
		}
		t := time.NewTimer(RetainEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
