package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Service keeps dashboards and saved searches in a store.
type Service struct {
	store store.DashboardStore
	now   func() time.Time
}

// New returns a Service over st; now is the clock (nil for time.Now).
func New(st store.DashboardStore, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: st, now: now}
}

// NewID returns a random ID for a new dashboard or saved search.
func NewID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("BUG: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// Dashboards returns every dashboard, the home dashboard first (the
// built-in one unless it was saved over).
func (s *Service) Dashboards(ctx context.Context) ([]Dashboard, error) {
	stored, err := s.store.Dashboards(ctx)
	if err != nil {
		return nil, err
	}
	out := []Dashboard{Home()}
	for _, sd := range stored {
		d, err := fromStore(sd)
		if err != nil {
			return nil, err
		}
		if d.ID == HomeID {
			out[0] = d
			continue
		}
		out = append(out, d)
	}
	return out, nil
}

// Dashboard returns one dashboard, or an error wrapping store.ErrNotFound.
func (s *Service) Dashboard(ctx context.Context, id string) (Dashboard, error) {
	sd, err := s.store.Dashboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) && id == HomeID {
		return Home(), nil
	}
	if err != nil {
		return Dashboard{}, err
	}
	return fromStore(sd)
}

func fromStore(sd store.Dashboard) (Dashboard, error) {
	spec, err := decodeSpec(sd.Spec)
	if err != nil {
		return Dashboard{}, fmt.Errorf("cannot load dashboard %s: %w", sd.ID, err)
	}
	return Dashboard{ID: sd.ID, Name: sd.Name, Spec: spec, Created: sd.Created, Updated: sd.Updated}, nil
}

// Save validates and stores d, giving it an ID when it has none, and
// returns it as stored.
func (s *Service) Save(ctx context.Context, d Dashboard) (Dashboard, error) {
	if d.ID == "" {
		d.ID = NewID()
	}
	if len(d.ID) > 64 || strings.ContainsAny(d.ID, "/?#%") {
		return d, fmt.Errorf("%w: dashboard id must be at most 64 bytes without / ? # %%", store.ErrInvalid)
	}
	if err := d.Validate(); err != nil {
		return d, err
	}
	now := s.now().UTC()
	if old, err := s.store.Dashboard(ctx, d.ID); err == nil {
		d.Created = old.Created
	} else if errors.Is(err, store.ErrNotFound) {
		d.Created = now
	} else {
		return d, err
	}
	d.Updated, d.Builtin = now, false
	spec, err := json.Marshal(d.Spec)
	if err != nil {
		return d, fmt.Errorf("cannot encode dashboard: %w", err)
	}
	if err := s.store.PutDashboard(ctx, store.Dashboard{ID: d.ID, Name: d.Name, Spec: spec, Created: d.Created, Updated: d.Updated}); err != nil {
		return d, err
	}
	return d, nil
}

// Delete deletes a dashboard. Deleting the home dashboard restores the
// built-in one.
func (s *Service) Delete(ctx context.Context, id string) error {
	err := s.store.DeleteDashboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) && id == HomeID {
		return fmt.Errorf("%w: the built-in home dashboard cannot be deleted", store.ErrInvalid)
	}
	return err
}

// SavedSearches returns every saved search.
func (s *Service) SavedSearches(ctx context.Context) ([]store.SavedSearch, error) {
	return s.store.SavedSearches(ctx)
}

// SavedSearch returns one saved search.
func (s *Service) SavedSearch(ctx context.Context, id string) (store.SavedSearch, error) {
	return s.store.SavedSearch(ctx, id)
}

// SaveSearch validates (the query must parse) and stores a saved search.
func (s *Service) SaveSearch(ctx context.Context, ss store.SavedSearch) (store.SavedSearch, error) {
	if ss.ID == "" {
		ss.ID = NewID()
	}
	ss.Name = strings.TrimSpace(ss.Name)
	if ss.Name == "" || utf8.RuneCountInString(ss.Name) > maxName || !utf8.ValidString(ss.Name) {
		return ss, fmt.Errorf("%w: a saved search needs a name of 1 to %d characters", store.ErrInvalid, maxName)
	}
	if len(ss.ID) > 64 || strings.ContainsAny(ss.ID, "/?#%") {
		return ss, fmt.Errorf("%w: saved search id must be at most 64 bytes without / ? # %%", store.ErrInvalid)
	}
	if _, err := query.Parse(ss.Query); err != nil {
		return ss, err
	}
	if len(ss.From) > 64 || len(ss.To) > 64 {
		return ss, fmt.Errorf("%w: from and to must be at most 64 bytes", store.ErrInvalid)
	}
	now := s.now().UTC()
	if old, err := s.store.SavedSearch(ctx, ss.ID); err == nil {
		ss.Created = old.Created
	} else if errors.Is(err, store.ErrNotFound) {
		ss.Created = now
	} else {
		return ss, err
	}
	ss.Updated = now
	return ss, s.store.PutSavedSearch(ctx, ss)
}

// DeleteSearch deletes a saved search.
func (s *Service) DeleteSearch(ctx context.Context, id string) error {
	return s.store.DeleteSavedSearch(ctx, id)
}
