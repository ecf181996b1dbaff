package store

import (
	"context"
	"encoding/json"
	"time"
)

// Dashboard is a saved dashboard. Spec is its layout and panels as JSON,
// which the dashboard package defines and validates; the store keeps it
// as it is.
type Dashboard struct {
	ID      string          `json:"id"`
	Name    string          `json:"name"`
	Spec    json.RawMessage `json:"spec"`
	Created time.Time       `json:"created"`
	Updated time.Time       `json:"updated"`
}

// SavedSearch is a named query with its time range (relative, such as
// "now-1h", or absolute RFC 3339; empty leaves that side open).
type SavedSearch struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Query   string    `json:"query"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// DashboardStore keeps dashboards and saved searches. Safe for concurrent
// use. Lookups and deletes of an unknown ID return ErrNotFound.
type DashboardStore interface {
	// PutDashboard inserts the dashboard, or replaces the one with its ID.
	PutDashboard(ctx context.Context, d Dashboard) error
	Dashboard(ctx context.Context, id string) (Dashboard, error)
	// Dashboards returns every dashboard ordered by name, then ID.
	Dashboards(ctx context.Context) ([]Dashboard, error)
	DeleteDashboard(ctx context.Context, id string) error

	// PutSavedSearch inserts the saved search, or replaces the one with
	// its ID.
	PutSavedSearch(ctx context.Context, s SavedSearch) error
	SavedSearch(ctx context.Context, id string) (SavedSearch, error)
	// SavedSearches returns every saved search ordered by name, then ID.
	SavedSearches(ctx context.Context) ([]SavedSearch, error)
	DeleteSavedSearch(ctx context.Context, id string) error
}
