package notify

import (
	"fmt"
	"strings"
	"time"
)

// Alert statuses a message reports.
const (
	StatusFiring    = "firing"
	StatusResolved  = "resolved"
	StatusRetracted = "retracted" // the block that fired it was orphaned by a reorg
)

// Message is one alert transition, as every channel receives it.
type Message struct {
	// Key is the idempotency key of this transition: the outbox enqueues a
	// key once, and webhooks carry it in the Idempotency-Key header.
	Key string `json:"key"`
	// Status is StatusFiring, StatusResolved or StatusRetracted.
	Status string `json:"status"`
	// Renotify is set when a still-firing alert is announced again.
	Renotify  bool   `json:"renotify,omitempty"`
	MonitorID string `json:"monitorId"`
	Monitor   string `json:"monitor"`
	// Severity is critical, error, warning or info.
	Severity string `json:"severity"`
	// AlertKey identifies the alert instance (monitor and group): it is
	// PagerDuty's dedup_key and stays the same from firing to resolved.
	AlertKey string            `json:"alertKey"`
	Summary  string            `json:"summary"`
	Details  string            `json:"details,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Value is the measured value that crossed the threshold, if any.
	Value string `json:"value,omitempty"`
	// Count is the number of matches the alert covers.
	Count    int       `json:"count,omitempty"`
	Block    uint64    `json:"block,omitempty"`
	Tx       string    `json:"tx,omitempty"`
	StartsAt time.Time `json:"startsAt"`
	// EndsAt is when a resolved alert stopped (the time of the observation
	// that resolved it; Block is that observation's block).
	EndsAt time.Time `json:"endsAt,omitzero"`
	Time   time.Time `json:"time"`
	Links  []Link    `json:"links,omitempty"`
}

// Link is a link the alert carries: the search behind it, the debugger of
// the transaction that triggered it.
type Link struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

// Title is the message's one-line headline.
func (m Message) Title() string {
	state := strings.ToUpper(m.Status)
	if m.Renotify {
		state += " (still)"
	}
	sev := ""
	if m.Severity != "" {
		sev = " [" + m.Severity + "]"
	}
	return fmt.Sprintf("%s%s %s", state, sev, m.Monitor)
}

// facts are the message's name/value pairs for channels with fields.
func (m Message) facts() [][2]string {
	var out [][2]string
	if m.Value != "" {
		out = append(out, [2]string{"Value", m.Value})
	}
	if m.Count > 0 {
		out = append(out, [2]string{"Matches", fmt.Sprint(m.Count)})
	}
	if m.Block > 0 {
		out = append(out, [2]string{"Block", fmt.Sprint(m.Block)})
	}
	if m.Tx != "" {
		out = append(out, [2]string{"Transaction", m.Tx})
	}
	for _, k := range sortedKeys(m.Labels) {
		out = append(out, [2]string{k, m.Labels[k]})
	}
	return out
}

// truncate cuts s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}
