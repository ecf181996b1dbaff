package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Statuses, in the order an incident normally moves through them.
const (
	StatusInvestigating = "investigating"
	StatusIdentified    = "identified"
	StatusMitigated     = "mitigated"
	StatusResolved      = "resolved"
)

// Statuses lists the statuses in order.
var Statuses = []string{StatusInvestigating, StatusIdentified, StatusMitigated, StatusResolved}

// Severities, worst first.
var Severities = []string{"critical", "major", "minor"}

// Sources of an incident.
const (
	SourceAlert  = "alert"
	SourceSearch = "search"
	SourceHand   = "hand"
)

// Timeline entry kinds.
const (
	KindOpen      = "open"
	KindStatus    = "status"
	KindNote      = "note"
	KindUpdate    = "update"
	KindAlert     = "alert"
	KindSearch    = "search"
	KindDashboard = "dashboard"
	KindDebug     = "debug"
	KindAction    = "action"
	KindFlag      = "flag"
	KindContract  = "contract" // pause/unpause, role and ownership events, from the data
	KindEdit      = "edit"
)

// Limits on what a person types.
const (
	maxTitle = 200
	maxText  = 10000
	maxName  = 100
	maxList  = 50
)

// ErrNoOpenIncident is returned by AddTimelineEntry when no incident is
// open. It wraps store.ErrNotFound.
var ErrNoOpenIncident = fmt.Errorf("no open incident: %w", store.ErrNotFound)

// Store is what the service keeps its state in.
type Store interface {
	store.IncidentStore
	store.FlagStore
	store.StatusComponentStore
}

// AlertHistory reads alert transitions (store.AlertStore's history).
type AlertHistory interface {
	AlertEvents(ctx context.Context, q store.AlertQuery) ([]store.AlertEvent, error)
}

// MonitorLister lists monitor definitions, for the review checklist's
// "monitors added since".
type MonitorLister interface {
	MonitorDefs(ctx context.Context) ([]store.MonitorDef, error)
}

// Update is a stakeholder update: a status change or an update marked
// "notify", to send to Channels (empty: every channel).
type Update struct {
	// Key is unique per update (its idempotency key).
	Key      string
	Incident store.Incident
	Entry    store.IncidentEntry
	// Link is the incident's page.
	Link     string
	Channels []string
}

// Notifier sends stakeholder updates. It is called on the goroutine of the
// change, after the change is stored; an error is logged and returned to
// the caller, the change stays.
type Notifier func(ctx context.Context, u Update) error

// Deps are what the service uses; Store is required.
type Deps struct {
	Store Store
	// Search computes the scope of impact and finds contract events for the
	// timeline; nil leaves both empty.
	Search store.Searcher
	// Alerts adds alert transitions to the timeline and opens incidents
	// from alerts; nil leaves them out.
	Alerts AlertHistory
	// Monitors feeds the review checklist; nil leaves it out.
	Monitors MonitorLister
	// Notify sends stakeholder updates; nil sends none.
	Notify Notifier
}

// Options tune the service.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// BaseURL prefixes links in stakeholder updates
	// (http://127.0.0.1:8080).
	BaseURL string
	Logger  *slog.Logger
}

// Service is the incident capability. Safe for concurrent use.
type Service struct {
	d    Deps
	opts Options
	log  *slog.Logger
	// mu serializes read-modify-write changes of incidents.
	mu sync.Mutex
}

// New returns the service.
func New(d Deps, opts Options) *Service {
	if d.Store == nil {
		panic("BUG: incident.New without a store")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	return &Service{d: d, opts: opts, log: opts.Logger}
}

// invalid is a refused input, wrapping store.ErrInvalid.
type invalid struct{ msg string }

func (e *invalid) Error() string { return e.msg }
func (e *invalid) Unwrap() error { return store.ErrInvalid }

func invalidf(format string, args ...any) error { return &invalid{fmt.Sprintf(format, args...)} }

// Draft is what a person sets when opening an incident.
type Draft struct {
	Title       string    `json:"title"`
	Severity    string    `json:"severity"`
	Owner       string    `json:"owner"`
	Summary     string    `json:"summary"`
	Contracts   []string  `json:"contracts"`
	Services    []string  `json:"services"`
	Channels    []string  `json:"channels"`
	Public      bool      `json:"public"`
	PublicTitle string    `json:"publicTitle"`
	Banner      string    `json:"banner"`
	Started     time.Time `json:"started,omitzero"`
}

func checkText(what, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case required && s == "":
		return "", invalidf("the %s is required", what)
	case !utf8.ValidString(s):
		return "", invalidf("the %s is not valid UTF-8", what)
	case utf8.RuneCountInString(s) > max:
		return "", invalidf("the %s is longer than %d characters", what, max)
	case strings.ContainsRune(s, 0):
		return "", invalidf("the %s holds a NUL character", what)
	}
	return s, nil
}

// checkOneLine is checkText for names and titles: no line breaks.
func checkOneLine(what, s string, max int, required bool) (string, error) {
	s, err := checkText(what, s, max, required)
	if err == nil && strings.ContainsAny(s, "\r\n") {
		err = invalidf("the %s must be one line", what)
	}
	return s, err
}

func checkSeverity(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "major", nil
	}
	if !slices.Contains(Severities, s) {
		return "", invalidf("unknown severity %q (want %s)", s, strings.Join(Severities, ", "))
	}
	return s, nil
}

// normContracts checks and checksums contract addresses, dropping
// repeats.
func normContracts(in []string) ([]string, error) {
	if len(in) > maxList {
		return nil, invalidf("more than %d contracts", maxList)
	}
	out := []string{}
	for _, a := range in {
		a = strings.TrimSpace(a)
		if !common.IsHexAddress(a) || !strings.HasPrefix(strings.ToLower(a), "0x") {
			return nil, invalidf("%q is not a contract address (0x and 40 hex digits)", a)
		}
		a = common.HexToAddress(a).Hex()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

func normNames(what string, in []string) ([]string, error) {
	if len(in) > maxList {
		return nil, invalidf("more than %d %ss", maxList, what)
	}
	out := []string{}
	for _, s := range in {
		s, err := checkOneLine(what, s, maxName, true)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (d Draft) check() (Draft, error) {
	var err error
	if d.Title, err = checkOneLine("title", d.Title, maxTitle, true); err != nil {
		return d, err
	}
	if d.Severity, err = checkSeverity(d.Severity); err != nil {
		return d, err
	}
	if d.Owner, err = checkOneLine("owner", d.Owner, maxName, false); err != nil {
		return d, err
	}
	if d.Summary, err = checkText("summary", d.Summary, maxText, false); err != nil {
		return d, err
	}
	if d.Contracts, err = normContracts(d.Contracts); err != nil {
		return d, err
	}
	if d.Services, err = normNames("service", d.Services); err != nil {
		return d, err
	}
	if d.Channels, err = normNames("channel", d.Channels); err != nil {
		return d, err
	}
	if d.PublicTitle, err = checkOneLine("public title", d.PublicTitle, maxTitle, false); err != nil {
		return d, err
	}
	if d.Banner, err = checkOneLine("banner", d.Banner, 500, false); err != nil {
		return d, err
	}
	return d, nil
}

// Open opens an incident by hand.
func (s *Service) Open(ctx context.Context, actor string, d Draft) (store.Incident, error) {
	return s.open(ctx, actor, d, SourceHand, "", nil)
}

// SearchRef is the search an incident is opened from.
type SearchRef struct {
	Query string    `json:"query"`
	From  time.Time `json:"from,omitzero"`
	To    time.Time `json:"to,omitzero"`
}

// OpenFromSearch opens an incident from a search: the search's start
// (the draft's, or an hour ago) starts the window, and the search is the
// first entry of the timeline.
func (s *Service) OpenFromSearch(ctx context.Context, actor string, d Draft, q SearchRef) (store.Incident, error) {
	qs, err := checkOneLine("query", q.Query, 64<<10, true)
	if err != nil {
		return store.Incident{}, err
	}
	if d.Started.IsZero() {
		d.Started = q.From
	}
	if d.Started.IsZero() {
		d.Started = s.opts.Now().Add(-time.Hour)
	}
	e := store.IncidentEntry{Kind: KindSearch, Text: "Opened from the search " + qs, Link: searchLink(qs, q.From, q.To), Ref: "search:" + qs}
	return s.open(ctx, actor, d, SourceSearch, qs, &e)
}

func searchLink(q string, from, to time.Time) string {
	v := url.Values{"q": {q}}
	if !from.IsZero() {
		v.Set("from", from.UTC().Format(time.RFC3339))
	}
	if !to.IsZero() {
		v.Set("to", to.UTC().Format(time.RFC3339))
	}
	return "/explore?" + v.Encode()
}

// alertDetail is the part of the monitor package's alert JSON the
// timeline shows.
type alertDetail struct {
	Summary string            `json:"summary"`
	Tx      string            `json:"tx"`
	Value   string            `json:"value"`
	Labels  map[string]string `json:"labels"`
	Since   time.Time         `json:"since"`
}

// OpenFromAlert opens an incident from an alert instance (a monitor and
// its alert key, as notifications carry them): its newest firing starts
// the window and is the first entry of the timeline; the draft's empty
// title takes the alert's summary and its contracts the alert's address.
func (s *Service) OpenFromAlert(ctx context.Context, actor string, d Draft, monitorID, key string) (store.Incident, error) {
	if s.d.Alerts == nil {
		return store.Incident{}, invalidf("alerts are not available")
	}
	evs, err := s.d.Alerts.AlertEvents(ctx, store.AlertQuery{MonitorID: monitorID, Limit: 1000})
	if err != nil {
		return store.Incident{}, fmt.Errorf("cannot read the alerts of monitor %s: %w", monitorID, err)
	}
	var ev *store.AlertEvent
	for i := range evs {
		if evs[i].Key == key && (evs[i].Status == "firing" || evs[i].Status == "renotify" || evs[i].Status == "silenced" || evs[i].Status == "cooldown") {
			ev = &evs[i]
			break
		}
	}
	if ev == nil {
		return store.Incident{}, fmt.Errorf("no firing alert %q of monitor %q: %w", key, monitorID, store.ErrNotFound)
	}
	var det alertDetail
	_ = json.Unmarshal(ev.Detail, &det) // a detail that does not decode leaves the entry plain
	if strings.TrimSpace(d.Title) == "" {
		d.Title = monitorID
		if det.Summary != "" {
			d.Title = monitorID + ": " + det.Summary
		}
		if r := []rune(d.Title); len(r) > maxTitle {
			d.Title = string(r[:maxTitle-1]) + "…"
		}
	}
	if d.Started.IsZero() {
		d.Started = ev.Time
		if !det.Since.IsZero() && det.Since.Before(d.Started) {
			d.Started = det.Since
		}
	}
	if len(d.Contracts) == 0 {
		if a := det.Labels["address"]; common.IsHexAddress(a) {
			d.Contracts = []string{a}
		}
	}
	e := alertEntry(*ev, det)
	return s.open(ctx, actor, d, SourceAlert, monitorID+"/"+key, &e)
}

func alertEntry(ev store.AlertEvent, det alertDetail) store.IncidentEntry {
	text := fmt.Sprintf("Alert %s %s", ev.MonitorID, ev.Status)
	if ev.Key != "" {
		text += " (" + ev.Key + ")"
	}
	if det.Summary != "" {
		text += ": " + det.Summary
	}
	link := "/monitors?monitor=" + url.QueryEscape(ev.MonitorID)
	if det.Tx != "" {
		link = "/debug/" + det.Tx
	}
	return store.IncidentEntry{Time: ev.Time, Kind: KindAlert, Text: text, Link: link, Author: "monitor",
		Ref: "alert:" + ev.MonitorID + "/" + ev.Key + "@" + ev.Status + "@" + strconv.FormatInt(ev.Time.UnixNano(), 10)}
}

func (s *Service) open(ctx context.Context, actor string, d Draft, source, ref string, first *store.IncidentEntry) (store.Incident, error) {
	d, err := d.check()
	if err != nil {
		return store.Incident{}, err
	}
	now := s.opts.Now().UTC()
	if d.Started.IsZero() || d.Started.After(now) {
		d.Started = now
	}
	inc := store.Incident{Title: d.Title, Severity: d.Severity, Status: StatusInvestigating, Owner: d.Owner,
		Summary: d.Summary, Contracts: d.Contracts, Services: d.Services, Channels: d.Channels,
		Public: d.Public, PublicTitle: d.PublicTitle, Banner: d.Banner, Source: source, SourceRef: ref,
		Started: d.Started.UTC(), Created: now, Updated: now}
	inc, err = s.d.Store.CreateIncident(ctx, inc)
	if err != nil {
		return store.Incident{}, err
	}
	s.audit(ctx, actor, "open", inc.ID, inc.Title)
	if first != nil {
		first.IncidentID = inc.ID
		if first.Time.IsZero() {
			first.Time = now
		}
		if first.Author == "" {
			first.Author = actor
		}
		if _, err := s.d.Store.AddIncidentEntry(ctx, *first); err != nil {
			return inc, err
		}
	}
	open, err := s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: inc.ID, Time: now, Kind: KindOpen,
		Text: "Opened (" + inc.Severity + ", " + StatusInvestigating + ")", Author: actor, Notify: true})
	if err != nil {
		return inc, err
	}
	return inc, s.notify(ctx, inc, open)
}

// Get returns one incident.
func (s *Service) Get(ctx context.Context, id int64) (store.Incident, error) {
	return s.d.Store.Incident(ctx, id)
}

// List returns incidents, newest first.
func (s *Service) List(ctx context.Context, q store.IncidentQuery) ([]store.Incident, error) {
	return s.d.Store.Incidents(ctx, q)
}

// Current returns the open incident that timeline entries from other
// capabilities go to: the newest one not resolved, or ErrNoOpenIncident.
func (s *Service) Current(ctx context.Context) (store.Incident, error) {
	l, err := s.d.Store.Incidents(ctx, store.IncidentQuery{Open: true, Limit: 1})
	if err != nil {
		return store.Incident{}, err
	}
	if len(l) == 0 {
		return store.Incident{}, ErrNoOpenIncident
	}
	return l[0], nil
}

// Patch changes an incident's fields; nil fields stay.
type Patch struct {
	Title       *string   `json:"title,omitempty"`
	Severity    *string   `json:"severity,omitempty"`
	Owner       *string   `json:"owner,omitempty"`
	Summary     *string   `json:"summary,omitempty"`
	Contracts   *[]string `json:"contracts,omitempty"`
	Services    *[]string `json:"services,omitempty"`
	Channels    *[]string `json:"channels,omitempty"`
	Public      *bool     `json:"public,omitempty"`
	PublicTitle *string   `json:"publicTitle,omitempty"`
	Banner      *string   `json:"banner,omitempty"`
}

// Edit changes an incident's fields and notes what changed on the
// timeline.
func (s *Service) Edit(ctx context.Context, actor string, id int64, p Patch) (store.Incident, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return store.Incident{}, err
	}
	d := Draft{Title: inc.Title, Severity: inc.Severity, Owner: inc.Owner, Summary: inc.Summary,
		Contracts: inc.Contracts, Services: inc.Services, Channels: inc.Channels, Public: inc.Public,
		PublicTitle: inc.PublicTitle, Banner: inc.Banner}
	var changed []string
	set := func(name string, dst *string, v *string) {
		if v != nil && *v != *dst {
			*dst = *v
			changed = append(changed, name)
		}
	}
	setList := func(name string, dst *[]string, v *[]string) {
		if v != nil && !slices.Equal(*dst, *v) {
			*dst = *v
			changed = append(changed, name)
		}
	}
	set("title", &d.Title, p.Title)
	set("severity", &d.Severity, p.Severity)
	set("owner", &d.Owner, p.Owner)
	set("summary", &d.Summary, p.Summary)
	setList("contracts", &d.Contracts, p.Contracts)
	setList("services", &d.Services, p.Services)
	setList("channels", &d.Channels, p.Channels)
	if p.Public != nil && *p.Public != d.Public {
		d.Public = *p.Public
		changed = append(changed, "public")
	}
	set("public title", &d.PublicTitle, p.PublicTitle)
	set("banner", &d.Banner, p.Banner)
	if len(changed) == 0 {
		return inc, nil
	}
	if d, err = d.check(); err != nil {
		return store.Incident{}, err
	}
	now := s.opts.Now().UTC()
	inc.Title, inc.Severity, inc.Owner, inc.Summary = d.Title, d.Severity, d.Owner, d.Summary
	inc.Contracts, inc.Services, inc.Channels = d.Contracts, d.Services, d.Channels
	inc.Public, inc.PublicTitle, inc.Banner, inc.Updated = d.Public, d.PublicTitle, d.Banner, now
	if err := s.d.Store.UpdateIncident(ctx, inc); err != nil {
		return store.Incident{}, err
	}
	what := strings.Join(changed, ", ")
	s.audit(ctx, actor, "edit", id, what)
	_, err = s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: id, Time: now, Kind: KindEdit,
		Text: "Changed " + what, Author: actor})
	return inc, err
}

// allowed lists the statuses each status may move to: forward, skipping
// steps, or back while not resolved; a resolved incident reopens as
// investigating.
var allowed = map[string][]string{
	StatusInvestigating: {StatusIdentified, StatusMitigated, StatusResolved},
	StatusIdentified:    {StatusInvestigating, StatusMitigated, StatusResolved},
	StatusMitigated:     {StatusInvestigating, StatusIdentified, StatusResolved},
	StatusResolved:      {StatusInvestigating},
}

// Change is a status change with the message that goes with it.
type Change struct {
	Status  string `json:"status"`
	Message string `json:"message"`
	// Public shows the message on the status page.
	Public bool `json:"public"`
}

// SetStatus moves an incident to another status. The change is a
// timeline entry and a stakeholder update.
func (s *Service) SetStatus(ctx context.Context, actor string, id int64, c Change) (store.Incident, error) {
	c.Status = strings.ToLower(strings.TrimSpace(c.Status))
	msg, err := checkText("message", c.Message, maxText, false)
	if err != nil {
		return store.Incident{}, err
	}
	s.mu.Lock()
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		s.mu.Unlock()
		return store.Incident{}, err
	}
	if !slices.Contains(Statuses, c.Status) {
		s.mu.Unlock()
		return store.Incident{}, invalidf("unknown status %q (want %s)", c.Status, strings.Join(Statuses, ", "))
	}
	if !slices.Contains(allowed[inc.Status], c.Status) {
		s.mu.Unlock()
		return store.Incident{}, invalidf("incident %d cannot move from %s to %s", id, inc.Status, c.Status)
	}
	now := s.opts.Now().UTC()
	from := inc.Status
	inc.Status, inc.Updated = c.Status, now
	if c.Status == StatusResolved {
		inc.Resolved = now
	} else {
		inc.Resolved = time.Time{}
	}
	err = s.d.Store.UpdateIncident(ctx, inc)
	s.mu.Unlock()
	if err != nil {
		return store.Incident{}, err
	}
	s.audit(ctx, actor, "status", id, from+" → "+c.Status)
	text := strings.ToUpper(c.Status[:1]) + c.Status[1:]
	if msg != "" {
		text += ": " + msg
	}
	e, err := s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: id, Time: now, Kind: KindStatus,
		Text: text, Author: actor, Public: c.Public, Notify: true})
	if err != nil {
		return inc, err
	}
	return inc, s.notify(ctx, inc, e)
}

// Note is something a person adds to a timeline.
type Note struct {
	Text string `json:"text"`
	// Public shows it on the status page; Notify sends it to the
	// incident's channels.
	Public bool `json:"public"`
	Notify bool `json:"notify"`
}

// AddNote adds a note (or, when public or notified, an update) to an
// incident's timeline.
func (s *Service) AddNote(ctx context.Context, actor string, id int64, n Note) (store.IncidentEntry, error) {
	text, err := checkText("note", n.Text, maxText, true)
	if err != nil {
		return store.IncidentEntry{}, err
	}
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return store.IncidentEntry{}, err
	}
	kind := KindNote
	if n.Public || n.Notify {
		kind = KindUpdate
	}
	e, err := s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: id, Time: s.opts.Now().UTC(),
		Kind: kind, Text: text, Author: actor, Public: n.Public, Notify: n.Notify})
	if err != nil {
		return store.IncidentEntry{}, err
	}
	s.audit(ctx, actor, kind, id, text)
	if n.Notify {
		return e, s.notify(ctx, inc, e)
	}
	return e, nil
}

// Link is a search, dashboard or debugged transaction linked to an
// incident.
type Link struct {
	// Kind is KindSearch, KindDashboard or KindDebug.
	Kind string `json:"kind"`
	Text string `json:"text"`
	// URL is a path on this server (/explore?…, /dashboards/…, /debug/…)
	// or an http(s) URL.
	URL string `json:"url"`
}

// checkLink refuses links that are neither a path on this server nor an
// http(s) URL (javascript:, data:, protocol-relative //host).
func checkLink(l string) (string, error) {
	l = strings.TrimSpace(l)
	if l == "" {
		return "", nil
	}
	if len(l) > 4096 || strings.ContainsAny(l, " \t\r\n\x00<>\"") {
		return "", invalidf("the link %q is not a URL", l)
	}
	if strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") && !strings.HasPrefix(l, "/\\") {
		return l, nil
	}
	u, err := url.Parse(l)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", invalidf("the link %q is neither a path on this server nor an http(s) URL", l)
	}
	return l, nil
}

// AddLink links a search, a dashboard or a debugged transaction to an
// incident. The same URL is linked once.
func (s *Service) AddLink(ctx context.Context, actor string, id int64, l Link) (store.IncidentEntry, error) {
	if l.Kind != KindSearch && l.Kind != KindDashboard && l.Kind != KindDebug {
		return store.IncidentEntry{}, invalidf("unknown link kind %q (want search, dashboard or debug)", l.Kind)
	}
	text, err := checkText("text", l.Text, maxText, true)
	if err != nil {
		return store.IncidentEntry{}, err
	}
	link, err := checkLink(l.URL)
	if err != nil {
		return store.IncidentEntry{}, err
	}
	if link == "" {
		return store.IncidentEntry{}, invalidf("the link is required")
	}
	e, err := s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: id, Time: s.opts.Now().UTC(),
		Kind: l.Kind, Text: text, Link: link, Author: actor, Ref: l.Kind + ":" + link})
	if errors.Is(err, store.ErrConflict) {
		return e, nil
	}
	if err == nil {
		s.audit(ctx, actor, "link", id, link)
	}
	return e, err
}

// AddTimelineEntry writes an entry on the open incident's timeline (see
// Current) for another capability: kind says what it is (KindAction for
// an emergency action run, KindDebug for a debugged transaction…), text
// what happened, link where it came from (a path on this server or an
// http(s) URL; may be empty). With no open incident it returns
// ErrNoOpenIncident (a store.ErrNotFound) and writes nothing.
func (s *Service) AddTimelineEntry(ctx context.Context, kind, text, link string) error {
	kind, err := checkOneLine("kind", kind, 40, true)
	if err != nil {
		return err
	}
	if text, err = checkText("text", text, maxText, true); err != nil {
		return err
	}
	if link, err = checkLink(link); err != nil {
		return err
	}
	inc, err := s.Current(ctx)
	if err != nil {
		return err
	}
	ref := ""
	if kind == KindDebug && link != "" {
		ref = kind + ":" + link
	}
	_, err = s.d.Store.AddIncidentEntry(ctx, store.IncidentEntry{IncidentID: inc.ID, Time: s.opts.Now().UTC(),
		Kind: kind, Text: text, Link: link, Author: kind, Ref: ref})
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// Audit returns the newest lines of the audit log.
func (s *Service) Audit(ctx context.Context, limit int) ([]store.IncidentAudit, error) {
	return s.d.Store.IncidentAuditLog(ctx, limit)
}

func (s *Service) audit(ctx context.Context, actor, action string, id int64, detail string) {
	s.auditTarget(ctx, actor, action, "incident "+strconv.FormatInt(id, 10), detail)
}

func (s *Service) auditTarget(ctx context.Context, actor, action, target, detail string) {
	if actor == "" {
		actor = "anonymous"
	}
	if r := []rune(detail); len(r) > 500 {
		detail = string(r[:499]) + "…"
	}
	if err := s.d.Store.LogIncidentAudit(ctx, store.IncidentAudit{Time: s.opts.Now().UTC(), Actor: actor,
		Action: action, Target: target, Detail: detail}); err != nil {
		s.log.Error("cannot write the incident audit log", "action", action, "target", target, "err", err)
	}
}

// notify hands a stakeholder update to the Notifier.
func (s *Service) notify(ctx context.Context, inc store.Incident, e store.IncidentEntry) error {
	if s.d.Notify == nil || !e.Notify {
		return nil
	}
	u := Update{Key: fmt.Sprintf("incident/%d/entry/%d", inc.ID, e.ID), Incident: inc, Entry: e,
		Link: s.opts.BaseURL + "/incidents/" + strconv.FormatInt(inc.ID, 10), Channels: inc.Channels}
	if err := s.d.Notify(ctx, u); err != nil {
		s.log.Error("cannot send a stakeholder update", "incident", inc.ID, "err", err)
		return fmt.Errorf("incident %d changed, but its stakeholder update was not sent: %w", inc.ID, err)
	}
	return nil
}
