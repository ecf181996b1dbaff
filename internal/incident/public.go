package incident

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/store"
)

// nameRE is what deployment, flag and component names look like: they
// appear in URLs and in dApp code.
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// DefaultDeployment is the deployment of flags set without one.
const DefaultDeployment = "default"

// FlagChange sets a kill switch.
type FlagChange struct {
	Deployment string `json:"deployment"`
	Name       string `json:"name"`
	Enabled    bool   `json:"enabled"`
	// Percent of the users who get the feature while it is enabled (a
	// gradual restore); 0 means 100.
	Percent     int    `json:"percent"`
	Description string `json:"description"`
}

func checkName(what, s string) (string, error) {
	if !nameRE.MatchString(s) {
		return "", invalidf("the %s %q must be 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", what, s)
	}
	return s, nil
}

// SetFlag sets a kill switch, writes it to the audit log and on the open
// incident's timeline.
func (s *Service) SetFlag(ctx context.Context, actor string, c FlagChange) (store.Flag, error) {
	if c.Deployment == "" {
		c.Deployment = DefaultDeployment
	}
	var err error
	if c.Deployment, err = checkName("deployment", c.Deployment); err != nil {
		return store.Flag{}, err
	}
	if c.Name, err = checkName("flag", c.Name); err != nil {
		return store.Flag{}, err
	}
	if c.Percent < 0 || c.Percent > 100 {
		return store.Flag{}, invalidf("the percent %d is not in 0..100", c.Percent)
	}
	if c.Description, err = checkOneLine("description", c.Description, 500, false); err != nil {
		return store.Flag{}, err
	}
	if c.Percent == 0 {
		c.Percent = 100
	}
	if !c.Enabled {
		c.Percent = 0
	}
	f := store.Flag{Deployment: c.Deployment, Name: c.Name, Enabled: c.Enabled, Percent: c.Percent,
		Description: c.Description, Updated: s.opts.Now().UTC(), UpdatedBy: actor}
	if f.Description == "" {
		// Keep the description a flag already has.
		if old, err := s.d.Store.Flags(ctx, c.Deployment); err == nil {
			for _, o := range old {
				if o.Name == c.Name {
					f.Description = o.Description
				}
			}
		}
	}
	if err := s.d.Store.PutFlag(ctx, f); err != nil {
		return store.Flag{}, err
	}
	state := flagState(f)
	s.auditTarget(ctx, actor, "flag", "flag "+f.Deployment+"/"+f.Name, state)
	text := fmt.Sprintf("Kill switch %s/%s: %s (by %s)", f.Deployment, f.Name, state, orAnonymous(actor))
	if err := s.AddTimelineEntry(ctx, KindFlag, text, "/incidents#flags"); err != nil && !errors.Is(err, store.ErrNotFound) {
		return f, err
	}
	return f, nil
}

func orAnonymous(a string) string {
	if a == "" {
		return "anonymous"
	}
	return a
}

func flagState(f store.Flag) string {
	switch {
	case !f.Enabled:
		return "off"
	case f.Percent < 100:
		return fmt.Sprintf("on for %d%% of users", f.Percent)
	}
	return "on"
}

// DeleteFlag deletes a kill switch.
func (s *Service) DeleteFlag(ctx context.Context, actor, deployment, name string) error {
	if err := s.d.Store.DeleteFlag(ctx, deployment, name); err != nil {
		return err
	}
	s.auditTarget(ctx, actor, "flag-delete", "flag "+deployment+"/"+name, "")
	return nil
}

// Flags returns the kill switches of a deployment ("" every deployment).
func (s *Service) Flags(ctx context.Context, deployment string) ([]store.Flag, error) {
	return s.d.Store.Flags(ctx, deployment)
}

// PublicFlag is a kill switch as dApp front ends read it.
type PublicFlag struct {
	Enabled bool `json:"enabled"`
	Percent int  `json:"percent"`
}

// PublicFlags is a deployment's kill switches as GET
// /api/v1/public/flags answers them.
type PublicFlags struct {
	Deployment string                `json:"deployment"`
	Flags      map[string]PublicFlag `json:"flags"`
}

// etag is a strong ETag over v's JSON.
func etag(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("BUG: public answer does not encode: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// PublicFlags returns a deployment's kill switches and their ETag, which
// changes with any of them.
func (s *Service) PublicFlags(ctx context.Context, deployment string) (PublicFlags, string, error) {
	if deployment == "" {
		deployment = DefaultDeployment
	}
	if _, err := checkName("deployment", deployment); err != nil {
		return PublicFlags{}, "", err
	}
	fs, err := s.d.Store.Flags(ctx, deployment)
	if err != nil {
		return PublicFlags{}, "", err
	}
	out := PublicFlags{Deployment: deployment, Flags: map[string]PublicFlag{}}
	for _, f := range fs {
		out.Flags[f.Name] = PublicFlag{Enabled: f.Enabled, Percent: f.Percent}
	}
	return out, etag(out), nil
}

// Banner is a user warning dApp front ends show.
type Banner struct {
	Text     string `json:"text"`
	Severity string `json:"severity"`
	// Incident is the public incident it belongs to (its status page
	// entry); 0 when the incident is not public.
	Incident int64     `json:"incident,omitempty"`
	Since    time.Time `json:"since"`
}

// PublicBanners are the banners GET /api/v1/public/banner answers.
type PublicBanners struct {
	Banners []Banner `json:"banners"`
}

// PublicBanner returns the banners of the open incidents that have one,
// worst first, and their ETag.
func (s *Service) PublicBanner(ctx context.Context) (PublicBanners, string, error) {
	open, err := s.d.Store.Incidents(ctx, store.IncidentQuery{Open: true, Limit: 1000})
	if err != nil {
		return PublicBanners{}, "", err
	}
	out := PublicBanners{Banners: []Banner{}}
	for _, inc := range open {
		if inc.Banner == "" {
			continue
		}
		b := Banner{Text: inc.Banner, Severity: inc.Severity, Since: inc.Started}
		if inc.Public {
			b.Incident = inc.ID
		}
		out.Banners = append(out.Banners, b)
	}
	sortBySeverity(out.Banners, func(b Banner) string { return b.Severity })
	return out, etag(out), nil
}

func severityRank(s string) int {
	for i, x := range Severities {
		if x == s {
			return i
		}
	}
	return len(Severities)
}

func sortBySeverity[T any](l []T, sev func(T) string) {
	// Insertion sort: stable, and the lists are short.
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && severityRank(sev(l[j])) < severityRank(sev(l[j-1])); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// Component statuses on the status page, best first.
const (
	Operational   = "operational"
	Degraded      = "degraded"
	PartialOutage = "partial_outage"
	MajorOutage   = "major_outage"
)

var componentRank = map[string]int{Operational: 0, Degraded: 1, PartialOutage: 2, MajorOutage: 3}

// impact is what an open public incident of a severity does to the
// components it names.
func impact(severity string) string {
	switch severity {
	case "critical":
		return MajorOutage
	case "major":
		return PartialOutage
	}
	return Degraded
}

// StatusPage is the public status page: only what was written for the
// public.
type StatusPage struct {
	Status     string            `json:"status"`
	Components []ComponentStatus `json:"components"`
	Active     []PublicIncident  `json:"active"`
	Past       []PublicIncident  `json:"past"`
	// Updated is the newest public change; zero, and left out of the
	// JSON, while nothing was ever published.
	Updated time.Time `json:"updated,omitzero"`
}

// ComponentStatus is one component on the status page.
type ComponentStatus struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`
}

// PublicIncident is a public incident on the status page.
type PublicIncident struct {
	ID       int64          `json:"id"`
	Title    string         `json:"title"`
	Status   string         `json:"status"`
	Impact   string         `json:"impact"`
	Started  time.Time      `json:"started"`
	Resolved time.Time      `json:"resolved,omitzero"`
	Updated  time.Time      `json:"updated"`
	Updates  []PublicUpdate `json:"updates"`
}

// PublicUpdate is an update written for the public.
type PublicUpdate struct {
	Time time.Time `json:"time"`
	Text string    `json:"text"`
}

// pastDays is how far back the status page lists resolved incidents.
const pastDays = 90

// Status builds the public status page.
func (s *Service) Status(ctx context.Context) (StatusPage, error) {
	incs, err := s.d.Store.Incidents(ctx, store.IncidentQuery{Public: true, Limit: 200})
	if err != nil {
		return StatusPage{}, err
	}
	comps, err := s.d.Store.StatusComponents(ctx)
	if err != nil {
		return StatusPage{}, err
	}
	now := s.opts.Now().UTC()
	page := StatusPage{Status: Operational, Components: []ComponentStatus{}, Active: []PublicIncident{}, Past: []PublicIncident{}}
	for _, c := range comps {
		// The state set by hand, made worse by the open public
		// incidents that name the component.
		cs := ComponentStatus{ID: c.ID, Name: c.Name, Status: Operational}
		if _, ok := componentRank[c.Status]; ok {
			cs.Status = c.Status
		}
		for _, inc := range incs {
			if !inc.Resolved.IsZero() || !names(inc, c) {
				continue
			}
			if st := impact(inc.Severity); componentRank[st] > componentRank[cs.Status] {
				cs.Status = st
			}
		}
		if componentRank[cs.Status] > componentRank[page.Status] {
			page.Status = cs.Status
		}
		page.Components = append(page.Components, cs)
	}
	for _, inc := range incs {
		if !inc.Resolved.IsZero() && now.Sub(inc.Resolved) > pastDays*24*time.Hour {
			continue
		}
		pi, err := s.publicIncident(ctx, inc)
		if err != nil {
			return StatusPage{}, err
		}
		if inc.Resolved.IsZero() {
			page.Active = append(page.Active, pi)
			if st := impact(inc.Severity); componentRank[st] > componentRank[page.Status] {
				page.Status = st
			}
		} else {
			page.Past = append(page.Past, pi)
		}
		if pi.Updated.After(page.Updated) {
			page.Updated = pi.Updated
		}
	}
	return page, nil
}

// names reports whether an incident affects a component.
func names(inc store.Incident, c store.StatusComponent) bool {
	switch c.Kind {
	case "contract":
		for _, a := range inc.Contracts {
			if strings.EqualFold(a, c.Ref) {
				return true
			}
		}
	case "service":
		for _, sv := range inc.Services {
			if sv == c.Ref {
				return true
			}
		}
	}
	return false
}

func (s *Service) publicIncident(ctx context.Context, inc store.Incident) (PublicIncident, error) {
	title := inc.PublicTitle
	if title == "" {
		title = fmt.Sprintf("Incident %d", inc.ID)
	}
	pi := PublicIncident{ID: inc.ID, Title: title, Status: inc.Status, Impact: impact(inc.Severity),
		Started: inc.Started, Resolved: inc.Resolved, Updated: inc.Started, Updates: []PublicUpdate{}}
	es, err := s.d.Store.IncidentEntries(ctx, inc.ID)
	if err != nil {
		return PublicIncident{}, err
	}
	for i := len(es) - 1; i >= 0; i-- { // newest first
		if e := es[i]; e.Public {
			pi.Updates = append(pi.Updates, PublicUpdate{Time: e.Time, Text: e.Text})
			if e.Time.After(pi.Updated) {
				pi.Updated = e.Time
			}
		}
	}
	if inc.Resolved.After(pi.Updated) {
		pi.Updated = inc.Resolved
	}
	return pi, nil
}

// PublicIncident returns one public incident, or ErrNotFound for one that
// is not public.
func (s *Service) PublicIncident(ctx context.Context, id int64) (PublicIncident, error) {
	inc, err := s.d.Store.Incident(ctx, id)
	if err != nil {
		return PublicIncident{}, err
	}
	if !inc.Public {
		return PublicIncident{}, fmt.Errorf("incident %d is not public: %w", id, store.ErrNotFound)
	}
	return s.publicIncident(ctx, inc)
}

// PutComponent adds or replaces a component of the status page. Its
// Status, when set, is the state the page shows at least (an open public
// incident naming it may show worse); empty, the incidents decide alone.
func (s *Service) PutComponent(ctx context.Context, actor string, c store.StatusComponent) error {
	var err error
	if c.ID, err = checkName("component", c.ID); err != nil {
		return err
	}
	if c.Name, err = checkOneLine("component name", c.Name, maxName, true); err != nil {
		return err
	}
	switch c.Kind {
	case "contract":
		l, err := normContracts([]string{c.Ref})
		if err != nil {
			return err
		}
		c.Ref = l[0]
	case "service":
		if c.Ref, err = checkOneLine("service", c.Ref, maxName, true); err != nil {
			return err
		}
	default:
		return invalidf("unknown component kind %q (want contract or service)", c.Kind)
	}
	if _, ok := componentRank[c.Status]; !ok && c.Status != "" {
		return invalidf("unknown component status %q (want operational, degraded, partial_outage, major_outage, or none to follow the incidents)", c.Status)
	}
	if err := s.d.Store.PutStatusComponent(ctx, c); err != nil {
		return err
	}
	s.auditTarget(ctx, actor, "component", "component "+c.ID, c.Name)
	return nil
}

// DeleteComponent deletes a component of the status page.
func (s *Service) DeleteComponent(ctx context.Context, actor, id string) error {
	if err := s.d.Store.DeleteStatusComponent(ctx, id); err != nil {
		return err
	}
	s.auditTarget(ctx, actor, "component-delete", "component "+id, "")
	return nil
}

// Components lists the status page's components with their references
// (for the operator).
func (s *Service) Components(ctx context.Context) ([]store.StatusComponent, error) {
	return s.d.Store.StatusComponents(ctx)
}
