package monitor

import (
	"context"
	"strconv"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// This file is the engine's API for the web layer (internal/web serves it
// as /api/v1/monitors, /alerts, /silences, /channels and /deadletters):
// lookups, file apply and dry run, alert history, silences and dead
// letters. Errors wrap store.ErrNotFound or store.ErrInvalid where the
// caller asked for something missing or wrong.

// Monitor returns the monitor id with its active alerts.
func (e *Engine) Monitor(id string) (MonitorInfo, error) {
	for _, m := range e.Monitors() {
		if m.Spec.ID == id {
			return m, nil
		}
	}
	return MonitorInfo{}, &notFound{id}
}

type notFound struct{ id string }

func (e *notFound) Error() string { return "no monitor " + strconv.Quote(e.id) }
func (e *notFound) Unwrap() error { return store.ErrNotFound }

// invalid is a request the engine refuses; it wraps store.ErrInvalid.
type invalid struct{ msg string }

func (e *invalid) Error() string { return e.msg }
func (e *invalid) Unwrap() error { return store.ErrInvalid }

// Series returns up to limit values of a state or balance watch between
// blocks from and to.
func (e *Engine) Series(ctx context.Context, id string, from, to uint64, limit int) ([]store.SeriesPoint, error) {
	if _, err := e.Monitor(id); err != nil {
		return nil, err
	}
	return e.d.Store.Series(ctx, id, from, to, limit)
}

// ApplyFile applies a monitors file (YAML or JSON) named name as the
// whole "code" set, or with merge only creates or replaces what it holds
// and deletes the monitors named by del. Problems are reported at their
// file:line:column.
func (e *Engine) ApplyFile(ctx context.Context, name string, data []byte, merge bool, del []string) (ApplyResult, error) {
	if len(del) > 0 && !merge {
		return ApplyResult{}, &invalid{"delete= needs mode=merge: a replace deletes what the file does not hold"}
	}
	f, src, err := e.parseChecked(ctx, OriginCode, merge, name, data)
	if err != nil {
		return ApplyResult{}, err
	}
	var res ApplyResult
	if merge {
		res, err = e.Merge(ctx, OriginCode, f, del)
	} else {
		res, err = e.Apply(ctx, OriginCode, f)
	}
	if err != nil {
		return ApplyResult{}, src.Locate(err)
	}
	return res, nil
}

// DryRunFile replays a monitors file (or one JSON spec) over the last
// window of the engine's clock. A dry run replays the file's monitors
// whoever manages them: only what the file itself gets wrong matters.
func (e *Engine) DryRunFile(ctx context.Context, name string, data []byte, window time.Duration) (DryRunResult, error) {
	f, src, err := e.parseChecked(ctx, "", true, name, data)
	if err != nil {
		return DryRunResult{}, err
	}
	to := e.opts.Now()
	res, err := e.DryRun(ctx, f, to.Add(-window), to)
	if err != nil {
		return DryRunResult{}, src.Locate(err)
	}
	return res, nil
}

// AlertEvents returns alert history, newest first.
func (e *Engine) AlertEvents(ctx context.Context, q store.AlertQuery) ([]store.AlertEvent, error) {
	return e.d.Store.AlertEvents(ctx, q)
}

// Silences returns the silences in force or to come.
func (e *Engine) Silences(ctx context.Context) ([]store.Silence, error) {
	return e.d.Store.Silences(ctx, e.opts.Now())
}

// DeadLetters returns up to limit notifications given up on; none without
// a notifier.
func (e *Engine) DeadLetters(ctx context.Context, limit int) ([]store.Delivery, error) {
	if e.d.Notifier == nil {
		return []store.Delivery{}, nil
	}
	return e.d.Notifier.DeadLetters(ctx, limit)
}

// Retry queues dead letter id again.
func (e *Engine) Retry(ctx context.Context, id int64) error {
	if e.d.Notifier == nil {
		return store.ErrNotFound
	}
	return e.d.Notifier.Retry(ctx, id)
}
