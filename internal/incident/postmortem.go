package incident

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/store"
)

// TemplateName is the name of the postmortem template in the store.
const TemplateName = "postmortem"

// DefaultTemplate is the postmortem template used until one is stored.
//
//go:embed postmortem.md.tmpl
var DefaultTemplate string

// maxTemplate bounds a stored template and its output.
const (
	maxTemplate = 64 << 10
	maxOutput   = 4 << 20
)

// Postmortem is what people write for an incident's postmortem.
type Postmortem struct {
	RootCause   string       `json:"rootCause"`
	Lessons     string       `json:"lessons"`
	ActionItems []ActionItem `json:"actionItems"`
	// Review is the playbook's last steps, ticked by people; the
	// checklist adds what it can see itself (monitors added since).
	Review []CheckItem `json:"review"`
}

// ActionItem is a follow-up with an owner.
type ActionItem struct {
	Text  string `json:"text"`
	Owner string `json:"owner"`
	Done  bool   `json:"done"`
}

// CheckItem is one line of the review checklist.
type CheckItem struct {
	Text string `json:"text"`
	Done bool   `json:"done"`
}

// DefaultReview is the review checklist of a new postmortem.
var DefaultReview = []CheckItem{
	{Text: "Monitors added for what was missed"},
	{Text: "Audit of the affected contracts scheduled"},
	{Text: "Every action item has an owner"},
	{Text: "Postmortem reviewed with the team"},
}

func decodePostmortem(b []byte) (Postmortem, error) {
	var p Postmortem
	if len(b) > 0 {
		if err := json.Unmarshal(b, &p); err != nil {
			return Postmortem{}, fmt.Errorf("the stored postmortem does not decode: %w", err)
		}
	}
	if p.ActionItems == nil {
		p.ActionItems = []ActionItem{}
	}
	if p.Review == nil {
		p.Review = append([]CheckItem(nil), DefaultReview...)
	}
	return p, nil
}

func (p Postmortem) check() (Postmortem, error) {
	var err error
	if p.RootCause, err = checkText("root cause", p.RootCause, maxText, false); err != nil {
		return p, err
	}
	if p.Lessons, err = checkText("lessons", p.Lessons, maxText, false); err != nil {
		return p, err
	}
	if len(p.ActionItems) > 100 || len(p.Review) > 100 {
		return p, invalidf("more than 100 action items or review steps")
	}
	items := []ActionItem{}
	for _, a := range p.ActionItems {
		if a.Text, err = checkOneLine("action item", a.Text, 1000, false); err != nil {
			return p, err
		}
		if a.Owner, err = checkOneLine("owner", a.Owner, maxName, false); err != nil {
			return p, err
		}
		if a.Text != "" {
			items = append(items, a)
		}
	}
	p.ActionItems = items
	review := []CheckItem{}
	for _, c := range p.Review {
		if c.Text, err = checkOneLine("review step", c.Text, 1000, false); err != nil {
			return p, err
		}
		if c.Text != "" {
			review = append(review, c)
		}
	}
	p.Review = review
	return p, nil
}

// SetPostmortem stores an incident's postmortem.
func (s *Service) SetPostmortem(ctx context.Context, actor string, id int64, p Postmortem) (Postmortem, error) {
	p, err := p.check()
	if err != nil {
		return Postmortem{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return Postmortem{}, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return Postmortem{}, err
	}
	inc.Postmortem, inc.Updated = b, s.opts.Now().UTC()
	if err := s.d.Store.UpdateIncident(ctx, inc); err != nil {
		return Postmortem{}, err
	}
	s.audit(ctx, actor, "postmortem", id, fmt.Sprintf("%d action items", len(p.ActionItems)))
	return p, nil
}

// Report is everything an incident's page and postmortem show.
type Report struct {
	Incident   store.Incident        `json:"incident"`
	Scope      Scope                 `json:"scope"`
	Timeline   []store.IncidentEntry `json:"timeline"`
	Postmortem Postmortem            `json:"postmortem"`
	// FailingLines are the debugged transactions of the timeline, with
	// their failing source line: the root cause's evidence.
	FailingLines []store.IncidentEntry `json:"failingLines"`
	// MonitorsSince are the monitors created or changed since the
	// incident started (the review's "monitors added").
	MonitorsSince []string `json:"monitorsSince"`
}

// Report gathers an incident with its scope, timeline and postmortem.
func (s *Service) Report(ctx context.Context, id int64) (Report, error) {
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return Report{}, err
	}
	r := Report{Incident: inc, FailingLines: []store.IncidentEntry{}, MonitorsSince: []string{}}
	if r.Scope, err = s.scope(ctx, inc); err != nil {
		return Report{}, err
	}
	if r.Timeline, err = s.timeline(ctx, inc); err != nil {
		return Report{}, err
	}
	if r.Postmortem, err = decodePostmortem(inc.Postmortem); err != nil {
		return Report{}, err
	}
	for _, e := range r.Timeline {
		if e.Kind == KindDebug {
			r.FailingLines = append(r.FailingLines, e)
		}
	}
	if s.d.Monitors != nil {
		defs, err := s.d.Monitors.MonitorDefs(ctx)
		if err != nil {
			return Report{}, err
		}
		for _, d := range defs {
			if !d.Updated.Before(inc.Started) {
				r.MonitorsSince = append(r.MonitorsSince, d.ID)
			}
		}
	}
	return r, nil
}

// MD is Markdown text whose person-typed parts are escaped: templates print
// it as is.
type MD string

// mdData is what the postmortem template sees: every string a person or
// the chain wrote is already escaped Markdown.
type mdData struct {
	ID                             int64
	Title, Severity, Status, Owner MD
	Summary, RootCause, Lessons    MD
	Contracts, Services            []MD
	Started, Resolved, Duration    MD
	Link                           MD
	Impact                         mdImpact
	Timeline                       []mdEntry
	FailingLines                   []mdEntry
	ActionItems                    []mdAction
	Review                         []mdCheck
	MonitorsSince                  []MD
	Generated                      MD
}

type mdImpact struct {
	FailedTxs, FailedTxsDayBefore int64
	Addresses, AddressesDayBefore int64
	ErrorLogs, ErrorLogsDayBefore int64
	ValueOut                      []mdAmount
	ErrorLogsByService            []mdCount
}

type mdAmount struct{ Token, Amount MD }
type mdCount struct {
	Service MD
	Count   int64
}
type mdEntry struct {
	Time, Kind, Text, Author MD
	// Link is a Markdown link to where it came from, or empty.
	Link MD
}
type mdAction struct {
	Text, Owner MD
	Done        bool
}
type mdCheck struct {
	Text MD
	Done bool
}

// EscapeMarkdown escapes s so that Markdown renders it as the same text:
// every ASCII punctuation character gets a backslash (CommonMark renders a
// backslash-escaped punctuation character literally), so no emphasis,
// link, heading, list, HTML tag or entity can start from it.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); i++ {
		if isPunct(s[i]) {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// UnescapeMarkdown reverses EscapeMarkdown.
func UnescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isPunct(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// inline escapes one-line text: line breaks become spaces, so that text
// stays in its list item or table cell.
func inline(s string) MD {
	return MD(EscapeMarkdown(strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")))
}

// block escapes text that may span lines: each line is escaped; blank
// lines stay paragraph breaks.
func block(s string) MD {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	for i, l := range lines {
		// Leading spaces would make an indented code block.
		lines[i] = EscapeMarkdown(strings.TrimLeft(l, " \t"))
	}
	return MD(strings.Join(lines, "  \n"))
}

// mdLink renders a link to href (a checked path or http(s) URL) with
// escaped text; a path gets base in front.
func mdLink(text, href, base string) MD {
	if href == "" {
		return ""
	}
	if strings.HasPrefix(href, "/") {
		href = base + href
	}
	// In a link destination between < and >, only < > and line breaks
	// would end it; checkLink refused those, escape them anyway.
	r := strings.NewReplacer("<", "%3C", ">", "%3E", "\n", "%0A", "\r", "%0D", " ", "%20")
	return MD("[" + string(inline(text)) + "](<" + r.Replace(href) + ">)")
}

func mdTime(t time.Time) MD {
	if t.IsZero() {
		return ""
	}
	return MD(EscapeMarkdown(t.UTC().Format("2006-01-02 15:04:05 UTC")))
}

func (s *Service) mdData(r Report) mdData {
	inc := r.Incident
	d := mdData{ID: inc.ID, Title: inline(inc.Title), Severity: inline(inc.Severity), Status: inline(inc.Status),
		Owner: inline(inc.Owner), Summary: block(inc.Summary), RootCause: block(r.Postmortem.RootCause),
		Lessons: block(r.Postmortem.Lessons), Started: mdTime(inc.Started), Resolved: mdTime(inc.Resolved),
		Link:      mdLink("incident "+strconv.FormatInt(inc.ID, 10), "/incidents/"+strconv.FormatInt(inc.ID, 10), s.opts.BaseURL),
		Generated: mdTime(s.opts.Now())}
	end := inc.Resolved
	if end.IsZero() {
		end = s.opts.Now()
	}
	d.Duration = inline(end.Sub(inc.Started).Round(time.Second).String())
	for _, c := range inc.Contracts {
		d.Contracts = append(d.Contracts, inline(c))
	}
	for _, sv := range inc.Services {
		d.Services = append(d.Services, inline(sv))
	}
	now, before := r.Scope.Now, r.Scope.DayBefore
	d.Impact = mdImpact{FailedTxs: now.FailedTxs, FailedTxsDayBefore: before.FailedTxs, Addresses: now.Addresses,
		AddressesDayBefore: before.Addresses, ErrorLogs: now.ErrorLogTotal(), ErrorLogsDayBefore: before.ErrorLogTotal()}
	for _, v := range now.ValueOut {
		d.Impact.ValueOut = append(d.Impact.ValueOut, mdAmount{inline(v.Token), inline(v.Amount)})
	}
	for _, c := range now.ErrorLogs {
		d.Impact.ErrorLogsByService = append(d.Impact.ErrorLogsByService, mdCount{inline(c.Service), c.Count})
	}
	entry := func(e store.IncidentEntry) mdEntry {
		return mdEntry{Time: mdTime(e.Time), Kind: inline(e.Kind), Text: inline(e.Text), Author: inline(e.Author),
			Link: mdLink("link", e.Link, s.opts.BaseURL)}
	}
	for _, e := range r.Timeline {
		d.Timeline = append(d.Timeline, entry(e))
	}
	for _, e := range r.FailingLines {
		d.FailingLines = append(d.FailingLines, entry(e))
	}
	for _, a := range r.Postmortem.ActionItems {
		d.ActionItems = append(d.ActionItems, mdAction{inline(a.Text), inline(a.Owner), a.Done})
	}
	for _, c := range r.Postmortem.Review {
		d.Review = append(d.Review, mdCheck{inline(c.Text), c.Done})
	}
	for _, m := range r.MonitorsSince {
		d.MonitorsSince = append(d.MonitorsSince, inline(m))
	}
	return d
}

// parseTemplate parses a postmortem template. Templates see only escaped
// text (MD), so they need no functions but these.
func parseTemplate(body string) (*template.Template, error) {
	if len(body) > maxTemplate {
		return nil, invalidf("the template is larger than %d bytes", maxTemplate)
	}
	t, err := template.New(TemplateName).Option("missingkey=error").Funcs(template.FuncMap{
		"check": func(done bool) string {
			if done {
				return "[x]"
			}
			return "[ ]"
		},
	}).Parse(body)
	if err != nil {
		return nil, invalidf("the template does not parse: %v", err)
	}
	return t, nil
}

// limitWriter fails once more than n bytes are written.
type limitWriter struct {
	buf bytes.Buffer
	n   int
}

var errTooLong = errors.New("the postmortem is longer than 4 MiB")

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.buf.Len()+len(p) > w.n {
		return 0, errTooLong
	}
	return w.buf.Write(p)
}

func render(t *template.Template, d mdData) (string, error) {
	w := &limitWriter{n: maxOutput}
	if err := t.Execute(w, d); err != nil {
		return "", invalidf("the postmortem template fails: %v", err)
	}
	return w.buf.String(), nil
}

// Template returns the postmortem template in force (the stored one or
// DefaultTemplate) and whether it is the default.
func (s *Service) Template(ctx context.Context) (string, bool, error) {
	body, err := s.d.Store.IncidentTemplate(ctx, TemplateName)
	if errors.Is(err, store.ErrNotFound) {
		return DefaultTemplate, true, nil
	}
	return body, false, err
}

// SetTemplate stores the postmortem template after checking that it
// parses and renders a sample incident; an empty body restores the
// default.
func (s *Service) SetTemplate(ctx context.Context, actor, body string) error {
	if body != "" {
		if !utf8.ValidString(body) {
			return invalidf("the template is not valid UTF-8")
		}
		t, err := parseTemplate(body)
		if err != nil {
			return err
		}
		if _, err := render(t, s.mdData(sampleReport(s.opts.Now()))); err != nil {
			return err
		}
	}
	if err := s.d.Store.PutIncidentTemplate(ctx, TemplateName, body); err != nil {
		return err
	}
	s.auditTarget(ctx, actor, "template", "template "+TemplateName, fmt.Sprintf("%d bytes", len(body)))
	return nil
}

// PreviewTemplate renders a template that is not stored (body; "" is the
// default) for the incident id, or for a sample incident with every field
// set when id is 0, so that an editor shows what the template gives, or
// why it fails, before anything is saved.
func (s *Service) PreviewTemplate(ctx context.Context, body string, id int64) (string, error) {
	if body == "" {
		body = DefaultTemplate
	}
	if !utf8.ValidString(body) {
		return "", invalidf("the template is not valid UTF-8")
	}
	t, err := parseTemplate(body)
	if err != nil {
		return "", err
	}
	r := sampleReport(s.opts.Now())
	if id != 0 {
		if r, err = s.Report(ctx, id); err != nil {
			return "", err
		}
	}
	return render(t, s.mdData(r))
}

// Markdown renders an incident's postmortem with the template in force.
func (s *Service) Markdown(ctx context.Context, id int64) (string, error) {
	r, err := s.Report(ctx, id)
	if err != nil {
		return "", err
	}
	body, _, err := s.Template(ctx)
	if err != nil {
		return "", err
	}
	t, err := parseTemplate(body)
	if err != nil {
		return "", err
	}
	return render(t, s.mdData(r))
}

// sampleReport is the incident a new template is tried on: every field
// set, so that a template that fails on one fails when it is saved.
func sampleReport(now time.Time) Report {
	inc := store.Incident{ID: 1, Title: "Sample", Severity: "major", Status: StatusResolved, Owner: "owner",
		Summary: "summary", Contracts: []string{"0x0000000000000000000000000000000000000001"}, Services: []string{"api"},
		Started: now.Add(-time.Hour), Resolved: now, Created: now, Updated: now}
	e := store.IncidentEntry{ID: 1, IncidentID: 1, Time: now, Kind: KindDebug, Text: "failed at Vault.sol:1", Link: "/debug/0x1", Author: "a"}
	return Report{Incident: inc, Timeline: []store.IncidentEntry{e}, FailingLines: []store.IncidentEntry{e},
		Scope: Scope{Now: Figures{FailedTxs: 1, ValueOut: []TokenAmount{{"0x1", "1"}}, ErrorLogs: []ServiceCount{{"api", 1}}}},
		Postmortem: Postmortem{RootCause: "cause", Lessons: "lessons", ActionItems: []ActionItem{{"item", "owner", false}},
			Review: DefaultReview}, MonitorsSince: []string{"m"}}
}
