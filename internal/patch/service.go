package patch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Service runs checks in the background for the web layer and keeps the
// latest ones, so that a check's page (its permalink) shows its progress
// while it runs and its report after. It is safe for concurrent use;
// Close stops the running checks.
type Service struct {
	Checker *Checker
	// Keep is how many checks are kept (DefaultKeep when zero); the
	// oldest finished one goes first. Kept checks live in memory: a
	// restart forgets them.
	Keep int

	// Builds are new implementations the server offers beside uploads
	// (the demo's fix of its incident); a request names one by ID.
	Builds []Build

	mu     sync.Mutex
	runs   map[string]*Run
	order  []string
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Build is a new implementation a server offers for checks: a build its
// operator ships, with the proxy it is meant for and where it is deployed.
type Build struct {
	// ID names it in a request; Label in the page's list.
	ID       string          `json:"id"`
	Label    string          `json:"label"`
	Contract string          `json:"contract"`
	Target   common.Address  `json:"target"`
	Deployed *common.Address `json:"deployed,omitempty"`
	// Artifacts are its compiled contracts (contracts.ParseStandardJSON).
	Artifacts []contracts.Artifact `json:"-"`
}

// ErrNoBuild is a build the server does not offer.
var ErrNoBuild = store.Sentinel("no such build", store.ErrNotFound)

// Build returns the offered build named id.
func (s *Service) Build(id string) (Build, error) {
	for _, b := range s.Builds {
		if b.ID == id {
			return b, nil
		}
	}
	return Build{}, fmt.Errorf("%w: this server offers no build %q", ErrNoBuild, id)
}

// DefaultKeep is how many checks a Service keeps by default.
const DefaultKeep = 50

// ErrNotFound is a check the service does not know (any more).
var ErrNotFound = store.Sentinel("no such patch check", store.ErrNotFound)

// Run is a check, running or done.
type Run struct {
	ID       string         `json:"id"`
	Target   common.Address `json:"target"`
	Contract string         `json:"contract"`
	Set      string         `json:"set"`
	Sample   int            `json:"sample"`
	Started  time.Time      `json:"started"`
	// Done is set when the check ended, with Report or Error.
	Done     bool     `json:"done"`
	Progress Progress `json:"progress"`
	Report   *Report  `json:"report,omitempty"`
	Error    string   `json:"error,omitempty"`
	// Kind is the error's kind ("invalid", "conflict"), for the page.
	ErrorKind string `json:"errorKind,omitempty"`
}

// Start checks req in the background and returns its run's id. set is
// the chosen transactions' description, for the page.
func (s *Service) Start(req Request, set string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot name the check: %w", err)
	}
	id := hex.EncodeToString(b)
	r := &Run{ID: id, Target: req.Target, Contract: req.Contract, Set: set, Sample: req.Sample, Started: s.Checker.now().UTC()}
	s.mu.Lock()
	if s.runs == nil {
		s.runs = make(map[string]*Run)
		s.ctx, s.cancel = context.WithCancel(context.Background())
	}
	if s.ctx.Err() != nil {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: the server is stopping", ErrInvalid)
	}
	s.runs[id] = r
	s.order = append(s.order, id)
	s.trim()
	ctx := s.ctx
	s.wg.Add(1)
	s.mu.Unlock()
	req.Progress = func(p Progress) {
		s.mu.Lock()
		r.Progress = p
		s.mu.Unlock()
	}
	go func() {
		defer s.wg.Done()
		rep, err := s.Checker.Check(ctx, req)
		s.mu.Lock()
		defer s.mu.Unlock()
		r.Done, r.Report = true, rep
		if err != nil {
			r.Error, r.ErrorKind = err.Error(), kindOf(err)
		}
	}()
	return id, nil
}

func kindOf(err error) string {
	for _, k := range []struct {
		err  error
		kind string
	}{{store.ErrInvalid, "invalid"}, {store.ErrConflict, "conflict"}, {store.ErrNotFound, "not_found"}} {
		if errors.Is(err, k.err) {
			return k.kind
		}
	}
	return "internal"
}

// trim drops the oldest finished runs over Keep; s.mu is held.
func (s *Service) trim() {
	keep := s.Keep
	if keep <= 0 {
		keep = DefaultKeep
	}
	for i := 0; len(s.order) > keep && i < len(s.order); {
		id := s.order[i]
		if !s.runs[id].Done {
			i++
			continue
		}
		delete(s.runs, id)
		s.order = append(s.order[:i], s.order[i+1:]...)
	}
}

// Get returns a copy of a run.
func (s *Service) Get(id string) (Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return Run{}, fmt.Errorf("%w: %s (checks are kept in memory: a restart forgets them; run it again)", ErrNotFound, id)
	}
	return *r, nil
}

// Wait blocks until the run is done or ctx ends, and returns it.
func (s *Service) Wait(ctx context.Context, id string) (Run, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := s.Get(id)
		if err != nil || r.Done {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-t.C:
		}
	}
}

// Close stops the running checks and waits for them.
func (s *Service) Close() {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	} else {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
}
