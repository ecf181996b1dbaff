package store

import (
	"context"
	"time"
)

// Incident is one incident: what happened, how bad, where it stands and
// what it touches. Fields named Public… (and Banner) are the only ones the
// public status page shows; the others stay behind the operator key.
type Incident struct {
	ID       int64  `json:"id"`
	Title    string `json:"title"`
	Severity string `json:"severity"`
	Status   string `json:"status"`
	Owner    string `json:"owner,omitempty"`
	// Summary is the team's own description.
	Summary string `json:"summary,omitempty"`
	// Contracts and Services are what it affects: watched contract
	// addresses (0x… hex) and log service names.
	Contracts []string `json:"contracts"`
	Services  []string `json:"services"`
	// Channels are the notification channels stakeholder updates go to;
	// empty sends to every channel.
	Channels []string `json:"channels"`
	// Public puts the incident on the status page under PublicTitle.
	Public      bool   `json:"public"`
	PublicTitle string `json:"publicTitle,omitempty"`
	// Banner is the warning dApp front ends show while the incident is
	// open ("do not sign transactions to 0x…"); empty shows none.
	Banner string `json:"banner,omitempty"`
	// Source says where it was opened from: "alert", "search" or "hand",
	// and SourceRef what (the alert key, the query).
	Source    string `json:"source"`
	SourceRef string `json:"sourceRef,omitempty"`
	// Started is the start of its window (the alert's start when opened
	// from an alert); Resolved is zero while it is not resolved.
	Started  time.Time `json:"started"`
	Resolved time.Time `json:"resolved,omitzero"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
	// Postmortem holds the incident package's postmortem JSON (root
	// cause, action items, review); the store keeps it opaque.
	Postmortem []byte `json:"-"`
}

// IncidentEntry is one line of an incident's timeline: a status change, a
// note, an update, a linked search, an action…
type IncidentEntry struct {
	ID         int64     `json:"id"`
	IncidentID int64     `json:"incidentId"`
	Time       time.Time `json:"time"`
	Kind       string    `json:"kind"`
	Text       string    `json:"text"`
	// Link is where the entry came from (a search, a debugger page).
	Link   string `json:"link,omitempty"`
	Author string `json:"author,omitempty"`
	// Public shows the entry on the status page as an update; Notify sent
	// it to the incident's channels.
	Public bool `json:"public"`
	Notify bool `json:"notify"`
	// Ref, when set, makes the entry unique in its incident (the same
	// alert or transaction is entered once).
	Ref string `json:"ref,omitempty"`
}

// IncidentQuery selects incidents, newest first. Zero fields do not
// filter; Limit 0 means 100, capped at 1000.
type IncidentQuery struct {
	// Open selects only the incidents not resolved.
	Open bool
	// Public selects only the incidents shown on the status page.
	Public bool
	Limit  int
}

// Flag is one kill switch of a dApp front end: a named feature of a
// deployment, on or off, and when on, for Percent of the users (100:
// everyone).
type Flag struct {
	Deployment  string    `json:"deployment"`
	Name        string    `json:"name"`
	Enabled     bool      `json:"enabled"`
	Percent     int       `json:"percent"`
	Description string    `json:"description,omitempty"`
	Updated     time.Time `json:"updated"`
	UpdatedBy   string    `json:"updatedBy,omitempty"`
}

// StatusComponent is one line of the public status page: a contract or a
// service under the name written for the public.
type StatusComponent struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Kind is "contract" or "service"; Ref the contract address or the
	// service name that incidents name.
	Kind     string `json:"kind"`
	Ref      string `json:"ref"`
	Position int    `json:"position"`
	// Status is the state set by hand (operational, degraded,
	// partial_outage, major_outage); empty, the open public incidents
	// that name the component decide alone.
	Status string `json:"status,omitempty"`
}

// IncidentAudit is one line of the audit log of incident, flag, banner and
// status page changes: who did what, when.
type IncidentAudit struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Detail string    `json:"detail,omitempty"`
}

// IncidentStore keeps incidents, their timelines, the postmortem template
// and the audit log. Every method takes the caller's ctx. Safe for
// concurrent use.
type IncidentStore interface {
	// CreateIncident stores a new incident and returns it with its ID.
	CreateIncident(ctx context.Context, inc Incident) (Incident, error)
	// UpdateIncident replaces the stored incident with inc.ID; an
	// unknown ID returns ErrNotFound.
	UpdateIncident(ctx context.Context, inc Incident) error
	// Incident returns one incident, or ErrNotFound.
	Incident(ctx context.Context, id int64) (Incident, error)
	// Incidents returns the incidents q selects, newest first.
	Incidents(ctx context.Context, q IncidentQuery) ([]Incident, error)
	// AddIncidentEntry appends an entry to an incident's timeline and
	// returns it with its ID. An entry whose Ref is already in that
	// timeline returns the stored one and ErrConflict; an unknown incident
	// returns ErrNotFound.
	AddIncidentEntry(ctx context.Context, e IncidentEntry) (IncidentEntry, error)
	// IncidentEntries returns an incident's timeline, oldest first.
	IncidentEntries(ctx context.Context, incidentID int64) ([]IncidentEntry, error)
	// IncidentTemplate returns the stored template with that name, or
	// ErrNotFound.
	IncidentTemplate(ctx context.Context, name string) (string, error)
	// PutIncidentTemplate stores a template; an empty body deletes it.
	PutIncidentTemplate(ctx context.Context, name, body string) error
	// LogIncidentAudit appends to the audit log.
	LogIncidentAudit(ctx context.Context, a IncidentAudit) error
	// IncidentAuditLog returns the newest limit lines (0: 100), newest
	// first.
	IncidentAuditLog(ctx context.Context, limit int) ([]IncidentAudit, error)
}

// FlagStore keeps the kill switches of dApp front ends. Every method takes
// the caller's ctx. Safe for concurrent use.
type FlagStore interface {
	// PutFlag inserts or replaces the flag (Deployment, Name).
	PutFlag(ctx context.Context, f Flag) error
	// DeleteFlag deletes a flag; an unknown one returns ErrNotFound.
	DeleteFlag(ctx context.Context, deployment, name string) error
	// Flags returns a deployment's flags ("" every deployment's), ordered
	// by deployment and name.
	Flags(ctx context.Context, deployment string) ([]Flag, error)
}

// StatusComponentStore keeps the components of the public status page.
// Every method takes the caller's ctx. Safe for concurrent use.
type StatusComponentStore interface {
	// PutStatusComponent inserts or replaces the component with c.ID.
	PutStatusComponent(ctx context.Context, c StatusComponent) error
	// DeleteStatusComponent deletes one; an unknown ID returns
	// ErrNotFound.
	DeleteStatusComponent(ctx context.Context, id string) error
	// StatusComponents returns every component by position, then ID.
	StatusComponents(ctx context.Context) ([]StatusComponent, error)
}
