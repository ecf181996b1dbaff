package dashboard

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Panel types.
const (
	TypeTimeseries = "timeseries" // lines over time
	TypeBar        = "bar"        // bars over time, or bars per category
	TypeStacked    = "stacked"    // stacked bars over time
	TypeStat       = "stat"       // one number
	TypeTable      = "table"      // the rows of the query's output
	TypeAlerts     = "alerts"     // the newest alerts of the monitors
)

var panelTypes = []string{TypeTimeseries, TypeBar, TypeStacked, TypeStat, TypeTable, TypeAlerts}

// Summaries a panel shows beside its title.
const (
	SummaryTotal = "total" // sum of the first series
	SummaryRate  = "rate"  // sum of the first series per minute of the range
	SummaryMax   = "max"   // largest value of the first series
	SummaryLast  = "last"  // newest value of the first series
	// SummaryRatio is "ratio:NAME": the share of series NAME in the sum of
	// all series, in percent (failure rate: ratio:failed).
	SummaryRatio = "ratio:"
)

// Grid bounds: a dashboard is 12 columns wide; a panel is 1 to 4 rows
// high.
const (
	GridColumns = 12
	MaxHeight   = 4
	MaxPanels   = 48
	maxName     = 200
)

// Panel is one chart, number or table of a dashboard.
type Panel struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Type  string `json:"type"`
	// Query is the search with a pipe (timechart, stats or top) whose
	// output the panel shows; users see and edit it.
	Query   string `json:"query"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	Summary string `json:"summary,omitempty"`
	// Unit is shown after values ("gas", "%", …).
	Unit string `json:"unit,omitempty"`
}

// Spec is what a dashboard shows: its panels in order, the default time
// range and how often it refreshes.
type Spec struct {
	// From and To are the default range: relative ("now-1h", "now") or
	// RFC 3339.
	From string `json:"from"`
	To   string `json:"to"`
	// Refresh is the auto-refresh period ("30s"), "" for none.
	Refresh string  `json:"refresh"`
	Panels  []Panel `json:"panels"`
}

// Dashboard is a named Spec.
type Dashboard struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Spec    Spec      `json:"spec"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
	// Builtin is true for the home dashboard while nobody has saved
	// changes to it.
	Builtin bool `json:"builtin,omitempty"`
}

// Validate checks a dashboard and fills defaults (range, sizes, panel
// IDs). Its errors wrap store.ErrInvalid and name the panel.
func (d *Dashboard) Validate() error {
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" || utf8.RuneCountInString(d.Name) > maxName || !utf8.ValidString(d.Name) {
		return fmt.Errorf("%w: a dashboard needs a name of 1 to %d characters", store.ErrInvalid, maxName)
	}
	s := &d.Spec
	if s.From == "" {
		s.From = "now-1h"
	}
	if s.To == "" {
		s.To = "now"
	}
	if s.Refresh != "" {
		r, err := time.ParseDuration(s.Refresh)
		if err != nil || r < 5*time.Second || r > 24*time.Hour {
			return fmt.Errorf("%w: refresh must be a duration from 5s to 24h (30s, 1m), got %q", store.ErrInvalid, s.Refresh)
		}
	}
	if len(s.Panels) > MaxPanels {
		return fmt.Errorf("%w: at most %d panels", store.ErrInvalid, MaxPanels)
	}
	seen := map[string]bool{}
	for i := range s.Panels {
		p := &s.Panels[i]
		if err := p.validate(); err != nil {
			return fmt.Errorf("%w: panel %d (%q): %v", store.ErrInvalid, i+1, p.Title, err)
		}
		if p.ID == "" || seen[p.ID] {
			p.ID = fmt.Sprintf("p%d", i+1)
			for seen[p.ID] {
				p.ID += "x"
			}
		}
		seen[p.ID] = true
	}
	return nil
}

func (p *Panel) validate() error {
	p.Title = strings.TrimSpace(p.Title)
	if utf8.RuneCountInString(p.Title) > maxName || !utf8.ValidString(p.Title) {
		return fmt.Errorf("title over %d characters", maxName)
	}
	if len(p.ID) > 64 {
		return fmt.Errorf("id over 64 bytes")
	}
	ok := false
	for _, t := range panelTypes {
		ok = ok || p.Type == t
	}
	if !ok {
		return fmt.Errorf("type must be one of %s, got %q", strings.Join(panelTypes, ", "), p.Type)
	}
	if p.Width == 0 {
		p.Width = 6
	}
	if p.Height == 0 {
		p.Height = 2
	}
	if p.Width < 1 || p.Width > GridColumns || p.Height < 1 || p.Height > MaxHeight {
		return fmt.Errorf("size %dx%d out of the grid (width 1-%d, height 1-%d)", p.Width, p.Height, GridColumns, MaxHeight)
	}
	if len(p.Unit) > 20 {
		return fmt.Errorf("unit over 20 bytes")
	}
	switch {
	case p.Summary == "", p.Summary == SummaryTotal, p.Summary == SummaryRate, p.Summary == SummaryMax, p.Summary == SummaryLast:
	case strings.HasPrefix(p.Summary, SummaryRatio) && len(p.Summary) > len(SummaryRatio) && len(p.Summary) < 100:
	default:
		return fmt.Errorf("summary must be total, rate, max, last or ratio:SERIES, got %q", p.Summary)
	}
	if p.Type == TypeAlerts {
		return nil
	}
	q, err := query.Parse(p.Query)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	if len(q.Pipes) == 0 {
		return fmt.Errorf("query %q needs a pipe (timechart, stats or top) to chart", p.Query)
	}
	return nil
}

// decodeSpec reads a stored spec.
func decodeSpec(raw json.RawMessage) (Spec, error) {
	var s Spec
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("stored dashboard spec is not valid JSON: %w", err)
	}
	return s, nil
}
