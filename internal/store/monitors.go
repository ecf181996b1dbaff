package store

import (
	"context"
	"encoding/json"
	"time"
)

// MonitorDef is a stored monitor definition. The definition itself is the
// monitor package's JSON; the store keeps it opaque.
type MonitorDef struct {
	ID   string          `json:"id"`
	Spec json.RawMessage `json:"spec"`
	// Origin says who manages it: "api" (created in the UI or API),
	// "code" (monitors applied from a file), "builtin".
	Origin  string    `json:"origin"`
	Updated time.Time `json:"updated"`
}

// ChannelDef is a stored notification channel. Spec holds secrets (URLs
// with tokens, keys): callers must redact it before showing it.
type ChannelDef struct {
	Name    string          `json:"name"`
	Spec    json.RawMessage `json:"spec"`
	Origin  string          `json:"origin"`
	Updated time.Time       `json:"updated"`
}

// MonitorSet is a whole set of definitions of one origin, replaced at once.
type MonitorSet struct {
	Origin   string
	Monitors []MonitorDef
	Channels []ChannelDef
}

// AlertState is the persisted state of one alert instance (a monitor and a
// group of labels), so that a restart resumes its state machine. State is
// the monitor package's JSON.
type AlertState struct {
	MonitorID string          `json:"monitorId"`
	Key       string          `json:"key"`
	State     json.RawMessage `json:"state"`
}

// AlertEvent is one transition of an alert, kept as its history.
type AlertEvent struct {
	ID        int64           `json:"id"`
	MonitorID string          `json:"monitorId"`
	Key       string          `json:"key"`
	Status    string          `json:"status"`
	Time      time.Time       `json:"time"`
	Block     uint64          `json:"block,omitempty"`
	Detail    json.RawMessage `json:"detail"`
}

// AlertQuery selects alert history, newest first. Zero fields do not
// filter; Limit 0 means 100, capped at 1000.
type AlertQuery struct {
	MonitorID string
	Limit     int
	// Before, when non-zero, returns only events with an ID below it.
	Before int64
}

// Silence mutes notifications of the alerts it matches until it ends.
type Silence struct {
	ID        string          `json:"id"`
	Matchers  json.RawMessage `json:"matchers"`
	Comment   string          `json:"comment,omitempty"`
	CreatedBy string          `json:"createdBy,omitempty"`
	Starts    time.Time       `json:"starts"`
	Ends      time.Time       `json:"ends"`
}

// SeriesPoint is one value a state-watch monitor read at a block.
type SeriesPoint struct {
	MonitorID string    `json:"monitorId"`
	Block     uint64    `json:"block"`
	Time      time.Time `json:"time"`
	Value     string    `json:"value"`
}

// MonitorStore keeps monitors, channels, alert state and history,
// silences and state-watch series: every monitor role at once, as the
// monitor engine uses them. Consumers that need one role take that role.
type MonitorStore interface {
	MonitorDefStore
	AlertStore
	SilenceStore
	SeriesStore
}

// MonitorDefStore keeps monitor and channel definitions. Every method takes
// the caller's ctx and stops when it is done. Safe for concurrent use.
type MonitorDefStore interface {
	// ReplaceMonitorSet makes set the whole of its origin's monitors and
	// channels, atomically: definitions of that origin absent from set are
	// deleted. A monitor or channel ID already held by another origin is
	// ErrConflict, and nothing changes.
	ReplaceMonitorSet(ctx context.Context, set MonitorSet) error
	// PutMonitor inserts or replaces one monitor.
	PutMonitor(ctx context.Context, m MonitorDef) error
	// DeleteMonitor deletes a monitor with its alert state and series; an
	// unknown ID returns ErrNotFound.
	DeleteMonitor(ctx context.Context, id string) error
	// MonitorDefs returns every monitor, ordered by ID; none is not an
	// error.
	MonitorDefs(ctx context.Context) ([]MonitorDef, error)
	// ChannelDefs returns every channel, ordered by name; none is not an
	// error.
	ChannelDefs(ctx context.Context) ([]ChannelDef, error)
}

// AlertStore keeps the state of alert instances and their history. Every
// method takes the caller's ctx. Safe for concurrent use.
type AlertStore interface {
	// SaveAlerts stores alert states (upserts; a nil State deletes) and
	// appends events, in one transaction.
	SaveAlerts(ctx context.Context, states []AlertState, events []AlertEvent) error
	// AlertStates returns every stored state; none is not an error.
	AlertStates(ctx context.Context) ([]AlertState, error)
	// AlertEvents returns the history q selects, newest first; none is not
	// an error.
	AlertEvents(ctx context.Context, q AlertQuery) ([]AlertEvent, error)
}

// SilenceStore keeps silences. Every method takes the caller's ctx. Safe
// for concurrent use.
type SilenceStore interface {
	// PutSilence inserts or replaces the silence with s.ID.
	PutSilence(ctx context.Context, s Silence) error
	// DeleteSilence deletes a silence; an unknown ID returns ErrNotFound.
	DeleteSilence(ctx context.Context, id string) error
	// Silences returns the silences that end after now, soonest end
	// first; none is not an error.
	Silences(ctx context.Context, now time.Time) ([]Silence, error)
}

// SeriesStore keeps the values state-watch monitors read, per block. Every
// method takes the caller's ctx. Safe for concurrent use.
type SeriesStore interface {
	// AppendSeries stores points in one transaction; a point at a block
	// already stored for its monitor replaces it.
	AppendSeries(ctx context.Context, pts []SeriesPoint) error
	// Series returns a monitor's points with a block in [from, to], oldest
	// first, at most limit (0: 1000); none is not an error.
	Series(ctx context.Context, monitorID string, from, to uint64, limit int) ([]SeriesPoint, error)
	// DeleteSeriesAbove deletes every point above block n (a reorg).
	DeleteSeriesAbove(ctx context.Context, n uint64) error
}
