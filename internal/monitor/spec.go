package monitor

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/notify"
)

// Kinds of monitors.
const (
	KindEvent   = "event"
	KindCall    = "call"
	KindCallers = "callers"
	KindTxFail  = "txfail"
	KindSLO     = "slo"
	KindState   = "state"
	KindBalance = "balance"
	KindNoData  = "nodata"
	KindQuery   = "query"
)

// Kinds lists every monitor kind.
var Kinds = []string{KindEvent, KindCall, KindCallers, KindTxFail, KindSLO, KindState, KindBalance, KindNoData, KindQuery,
	KindFeedStale, KindFeedJump, KindFeedDeviation, KindFeedNonPositive, KindFeedBounds, KindFeedStaleRead, KindSequencerDown}

// Severities, as PagerDuty names them.
var Severities = []string{"critical", "error", "warning", "info"}

// Duration is a time.Duration written as "5m", "30s", "1h30m".
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5m" (or a number of seconds).
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("a duration is a string like \"5m\"")
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := parseDuration(s)
	*d = Duration(v)
	return err
}

func parseDuration(s string) (time.Duration, error) {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like 30s, 5m or 1h", s)
	}
	if v < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return v, nil
}

// Spec defines one monitor. Which fields apply depends on Kind; Validate
// refuses fields that do not.
type Spec struct {
	ID          string            `json:"id" yaml:"id"`
	Name        string            `json:"name,omitempty" yaml:"name,omitempty"`
	Kind        string            `json:"kind" yaml:"kind"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Severity    string            `json:"severity,omitempty" yaml:"severity,omitempty"`
	Disabled    bool              `json:"disabled,omitempty" yaml:"disabled,omitempty"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	// Channels are the names of the channels notified.
	Channels []string `json:"channels,omitempty" yaml:"channels,omitempty"`

	// For is how long the condition must hold before the alert fires.
	For Duration `json:"for,omitempty" yaml:"for,omitempty"`
	// Cooldown: an alert firing again within this long of its previous
	// notification fires silently.
	Cooldown Duration `json:"cooldown,omitempty" yaml:"cooldown,omitempty"`
	// Renotify repeats the notification of a still-firing alert this often.
	Renotify Duration `json:"renotify,omitempty" yaml:"renotify,omitempty"`
	// ResolveAfter: a match monitor's alert resolves after this long
	// without a match (default 5m).
	ResolveAfter Duration `json:"resolveAfter,omitempty" yaml:"resolveAfter,omitempty"`
	// GroupBy names the labels of a match that make separate alerts
	// (contract, address, event, method, from, to, reason, tx); by default
	// a monitor has one alert.
	GroupBy []string `json:"groupBy,omitempty" yaml:"groupBy,omitempty"`
	// Confirmations delays evaluation until a block is that deep.
	Confirmations uint64 `json:"confirmations,omitempty" yaml:"confirmations,omitempty"`
	// Respond names a response scenario (the server's --scenarios file)
	// run each time an alert of the monitor starts firing; the scenario's
	// cooldown and dry run and the automation switch apply.
	Respond string `json:"respond,omitempty" yaml:"respond,omitempty"`

	// Contracts watched: names of known contracts or addresses; "*" is
	// every contract. Contract is a shorthand for one.
	Contract  string   `json:"contract,omitempty" yaml:"contract,omitempty"`
	Contracts []string `json:"contracts,omitempty" yaml:"contracts,omitempty"`
	// Event is an event name (Transfer) or signature (Transfer(address,address,uint256)).
	Event string `json:"event,omitempty" yaml:"event,omitempty"`
	// Events matches any of several events.
	Events []string `json:"events,omitempty" yaml:"events,omitempty"`
	// Method is a method name, signature or 4-byte selector (0xa9059cbb).
	Method string `json:"method,omitempty" yaml:"method,omitempty"`
	// Where are conditions on decoded arguments and transaction fields,
	// all of which must hold: "value > 1e24", "to != 0x…", "tx.from in [0x…, 0x…]".
	Where []string `json:"where,omitempty" yaml:"where,omitempty"`
	// Status filters calls: success, failed or any (default any; txfail:
	// failed).
	Status string `json:"status,omitempty" yaml:"status,omitempty"`
	// Internal includes internal calls found in call traces.
	Internal bool `json:"internal,omitempty" yaml:"internal,omitempty"`
	// Allow and Deny are the callers lists (addresses).
	Allow []string `json:"allow,omitempty" yaml:"allow,omitempty"`
	Deny  []string `json:"deny,omitempty" yaml:"deny,omitempty"`
	// Reason filters failures by revert reason or custom error name; "*"
	// patterns allowed (*Unauthorized*).
	Reason string `json:"reason,omitempty" yaml:"reason,omitempty"`

	// Threshold is the number of matches within Window that fire a match
	// monitor (default 1, Window one block).
	Threshold int      `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	Window    Duration `json:"window,omitempty" yaml:"window,omitempty"`

	// Objective is the SLO's success objective (0.99); the alert fires
	// when the window's error budget is spent (failure ratio above
	// 1 - objective) over at least MinCount transactions.
	Objective float64 `json:"objective,omitempty" yaml:"objective,omitempty"`
	MinCount  int     `json:"minCount,omitempty" yaml:"minCount,omitempty"`

	// Read is the state watch's view call: a method of the contract's ABI
	// (totalSupply) or a signature with its result type
	// ("paused() returns (bool)"); Args are its arguments. Slot reads a
	// storage slot instead.
	Read string   `json:"read,omitempty" yaml:"read,omitempty"`
	Args []string `json:"args,omitempty" yaml:"args,omitempty"`
	Slot string   `json:"slot,omitempty" yaml:"slot,omitempty"`
	// Condition compares the value: "> 1000", "== true", "change% > 10"
	// (against the previous block); for query monitors the first numeric
	// column of the result.
	Condition string `json:"condition,omitempty" yaml:"condition,omitempty"`

	// Address and Token: the balance watched (native when Token is empty).
	Address string `json:"address,omitempty" yaml:"address,omitempty"`
	Token   string `json:"token,omitempty" yaml:"token,omitempty"`
	// DropPct fires when the balance falls by more than this percentage
	// from its highest value within Blocks blocks.
	DropPct float64 `json:"dropPct,omitempty" yaml:"dropPct,omitempty"`
	Blocks  uint64  `json:"blocks,omitempty" yaml:"blocks,omitempty"`

	// Within is the heartbeat: nodata fires when nothing matched for this
	// long.
	Within Duration `json:"within,omitempty" yaml:"within,omitempty"`

	// Query is a search query with a stats pipe (query monitors); Every is
	// how often it runs (default 30s).
	Query string   `json:"query,omitempty" yaml:"query,omitempty"`
	Every Duration `json:"every,omitempty" yaml:"every,omitempty"`

	// Heartbeat overrides the feed's own heartbeat (feed-stale,
	// feed-stale-read); Grace is added to it before a feed counts as stale.
	// For sequencer-down, Grace is how long after the sequencer came back
	// up it still fires (default DefaultSequencerGrace).
	Heartbeat Duration `json:"heartbeat,omitempty" yaml:"heartbeat,omitempty"`
	Grace     Duration `json:"grace,omitempty" yaml:"grace,omitempty"`
	// Pct is the percentage a feed-jump or feed-deviation fires beyond.
	Pct float64 `json:"pct,omitempty" yaml:"pct,omitempty"`
	// Reference is the feed a feed-deviation compares with (name or
	// address); empty takes each feed's own reference.
	Reference string `json:"reference,omitempty" yaml:"reference,omitempty"`
}

// Chain reports whether the monitor is evaluated on blocks.
func (s *Spec) Chain() bool { return s.Kind != KindQuery }

// Title is the name shown, the ID when there is none.
func (s *Spec) Title() string {
	if s.Name != "" {
		return s.Name
	}
	return s.ID
}

// contracts lists Contract and Contracts together.
func (s *Spec) contracts() []string {
	var out []string
	if s.Contract != "" {
		out = append(out, s.Contract)
	}
	return append(out, s.Contracts...)
}

func (s *Spec) events() []string {
	var out []string
	if s.Event != "" {
		out = append(out, s.Event)
	}
	return append(out, s.Events...)
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,79}$`)

// groupLabels are the match labels GroupBy may name.
var groupLabels = []string{"contract", "address", "event", "method", "from", "to", "reason", "tx"}

// FieldError is a problem with one field of a spec; Field is its JSON
// name, so that YAML and API errors can point at it.
type FieldError struct {
	Field string
	// Index is the element of a list field, or -1.
	Index int
	Msg   string
	// Offset is a byte offset within the field's text (a query), or -1.
	Offset int
}

func (e *FieldError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("%s[%d]: %s", e.Field, e.Index, e.Msg)
	}
	return e.Field + ": " + e.Msg
}

// FieldErrors are the problems of one spec, in the order of its fields.
type FieldErrors []*FieldError

func (e FieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, fe := range e {
		msgs[i] = fe.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.As find the first FieldError.
func (e FieldErrors) Unwrap() []error {
	out := make([]error, len(e))
	for i, fe := range e {
		out[i] = fe
	}
	return out
}

// orNil returns e as an error, nil when empty.
func (e FieldErrors) orNil() error {
	if len(e) == 0 {
		return nil
	}
	return e
}

func fieldErr(field string, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Index: -1, Offset: -1, Msg: fmt.Sprintf(format, args...)}
}

// allowed lists, per kind, the kind-specific fields a spec may set.
var allowed = map[string][]string{
	KindEvent:   {"contract", "contracts", "event", "events", "where", "threshold", "window"},
	KindCall:    {"contract", "contracts", "method", "where", "status", "internal", "threshold", "window"},
	KindCallers: {"contract", "contracts", "method", "allow", "deny", "where", "status", "internal", "threshold", "window"},
	KindTxFail:  {"contract", "contracts", "method", "reason", "threshold", "window"},
	KindSLO:     {"contract", "contracts", "method", "objective", "minCount", "window"},
	KindState:   {"contract", "read", "args", "slot", "condition"},
	KindBalance: {"address", "token", "dropPct", "blocks"},
	KindNoData:  {"contract", "contracts", "event", "events", "method", "within"},
	KindQuery:   {"query", "window", "every", "condition"},

	KindFeedStale:       {"contract", "contracts", "heartbeat", "grace"},
	KindFeedJump:        {"contract", "contracts", "pct"},
	KindFeedDeviation:   {"contract", "contracts", "reference", "pct"},
	KindFeedNonPositive: {"contract", "contracts"},
	KindFeedBounds:      {"contract", "contracts"},
	KindFeedStaleRead:   {"contract", "contracts", "heartbeat", "grace"},
	KindSequencerDown:   {"contract", "contracts", "grace"},
}

// setFields returns the JSON names of the kind-specific fields s sets.
func (s *Spec) setFields() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("contract", s.Contract != "")
	add("contracts", len(s.Contracts) > 0)
	add("event", s.Event != "")
	add("events", len(s.Events) > 0)
	add("method", s.Method != "")
	add("where", len(s.Where) > 0)
	add("status", s.Status != "")
	add("internal", s.Internal)
	add("allow", len(s.Allow) > 0)
	add("deny", len(s.Deny) > 0)
	add("reason", s.Reason != "")
	add("threshold", s.Threshold != 0)
	add("window", s.Window != 0)
	add("objective", s.Objective != 0)
	add("minCount", s.MinCount != 0)
	add("read", s.Read != "")
	add("args", len(s.Args) > 0)
	add("slot", s.Slot != "")
	add("condition", s.Condition != "")
	add("address", s.Address != "")
	add("token", s.Token != "")
	add("dropPct", s.DropPct != 0)
	add("blocks", s.Blocks != 0)
	add("within", s.Within != 0)
	add("query", s.Query != "")
	add("every", s.Every != 0)
	add("heartbeat", s.Heartbeat != 0)
	add("grace", s.Grace != 0)
	add("pct", s.Pct != 0)
	add("reference", s.Reference != "")
	return out
}

// check validates what needs no outside knowledge (contracts and ABIs are
// checked when the monitor is compiled) and returns every problem found,
// in the order of the fields, or nil.
func (s *Spec) check() FieldErrors {
	var errs FieldErrors
	add := func(fe *FieldError) { errs = append(errs, fe) }
	if !idPattern.MatchString(s.ID) {
		add(fieldErr("id", "%q is not an id: lowercase letters, digits, '.', '_' and '-', at most 80", s.ID))
	}
	if !slices.Contains(Kinds, s.Kind) {
		// Which fields apply, and which are needed, depend on the kind.
		add(fieldErr("kind", "unknown kind %q (want one of %s)", s.Kind, strings.Join(Kinds, ", ")))
		return errs
	}
	if s.Severity != "" && !slices.Contains(Severities, s.Severity) {
		add(fieldErr("severity", "unknown severity %q (want one of %s)", s.Severity, strings.Join(Severities, ", ")))
	}
	for _, f := range s.setFields() {
		if !slices.Contains(allowed[s.Kind], f) {
			add(fieldErr(f, "does not apply to a %s monitor (it takes %s)", s.Kind, strings.Join(allowed[s.Kind], ", ")))
		}
	}
	for i, g := range s.GroupBy {
		if !slices.Contains(groupLabels, g) {
			add(&FieldError{Field: "groupBy", Index: i, Offset: -1, Msg: fmt.Sprintf("cannot group by %q (want one of %s)", g, strings.Join(groupLabels, ", "))})
		}
	}
	keys := make([]string, 0, len(s.Labels))
	for k := range s.Labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, "=,\n") {
			add(fieldErr("labels", "label name %q is not allowed", k))
		}
	}
	if s.Threshold < 0 {
		add(fieldErr("threshold", "must not be negative"))
	}
	switch s.Kind {
	case KindEvent:
		if len(s.events()) == 0 {
			add(fieldErr("event", "an event monitor needs an event"))
		}
	case KindCall:
		if s.Method == "" {
			add(fieldErr("method", "a call monitor needs a method"))
		}
	case KindCallers:
		if len(s.Allow) == 0 && len(s.Deny) == 0 {
			add(fieldErr("allow", "a callers monitor needs an allow or a deny list"))
		}
	case KindSLO:
		if s.Objective <= 0 || s.Objective >= 1 {
			add(fieldErr("objective", "must be between 0 and 1 (0.99 for 99%%)"))
		}
		if s.Window == 0 {
			add(fieldErr("window", "an slo monitor needs a window"))
		}
	case KindState:
		if s.Contract == "" {
			add(fieldErr("contract", "a state monitor needs a contract"))
		}
		if (s.Read == "") == (s.Slot == "") {
			add(fieldErr("read", "a state monitor needs either read or slot"))
		}
		if s.Condition == "" {
			add(fieldErr("condition", "a state monitor needs a condition"))
		}
	case KindBalance:
		if s.Address == "" {
			add(fieldErr("address", "a balance monitor needs an address"))
		}
		if s.DropPct <= 0 || s.DropPct > 100 {
			add(fieldErr("dropPct", "must be in (0, 100]"))
		}
		if s.Blocks == 0 || s.Blocks > 10000 {
			add(fieldErr("blocks", "must be in 1..10000"))
		}
	case KindNoData:
		if s.Within == 0 {
			add(fieldErr("within", "a nodata monitor needs within"))
		}
		if len(s.events()) == 0 && s.Method == "" {
			add(fieldErr("event", "a nodata monitor needs an event or a method"))
		}
	case KindFeedJump:
		if s.Pct <= 0 || s.Pct > 1000 {
			add(fieldErr("pct", "a feed-jump monitor needs pct in (0, 1000]: the jump between consecutive answers, in percent"))
		}
	case KindFeedDeviation:
		if s.Pct < 0 || s.Pct > 1000 {
			add(fieldErr("pct", "must be in (0, 1000] (or unset for each feed's deviation threshold)"))
		}
	case KindQuery:
		if s.Query == "" {
			add(fieldErr("query", "a query monitor needs a query"))
		}
		if s.Condition == "" {
			add(fieldErr("condition", "a query monitor needs a condition like \"> 10\""))
		}
		if s.Window == 0 {
			add(fieldErr("window", "a query monitor needs a window"))
		}
	}
	for i, c := range s.Channels {
		if c == "" {
			add(&FieldError{Field: "channels", Index: i, Offset: -1, Msg: "empty channel name"})
		}
	}
	return errs
}

// File is a monitors file: channels, monitors and silences.
type File struct {
	Channels []notify.Spec `json:"channels,omitempty" yaml:"channels,omitempty"`
	Monitors []Spec        `json:"monitors" yaml:"monitors"`
}
