package patch

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
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
// while it runs and its report after. With a Store, checks are saved when
// they start and when they end, and a permalink shows its report after a
// restart too. It is safe for concurrent use; Close stops the running
// checks.
type Service struct {
	Checker *Checker
	// Keep is how many checks are kept in memory (DefaultKeep when zero);
	// the oldest finished one goes first.
	Keep int
	// Store, when set, keeps the checks across restarts: the StoreKeep
	// newest finished ones (DefaultStoreKeep when zero).
	Store     store.PatchCheckStore
	StoreKeep int
	// OnError, when set, is told of a finished check that could not be
	// saved (the check itself stands, in memory).
	OnError func(error)

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

// DefaultKeep is how many checks a Service keeps in memory by default,
// and DefaultStoreKeep how many finished ones in its Store.
const (
	DefaultKeep      = 50
	DefaultStoreKeep = 500
)

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
// the chosen transactions' description, for the page. With a Store, the
// check is saved before it starts.
func (s *Service) Start(ctx context.Context, req Request, set string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cannot name the check: %w", err)
	}
	id := hex.EncodeToString(b)
	r := &Run{ID: id, Target: req.Target, Contract: req.Contract, Set: set, Sample: req.Sample, Started: s.Checker.now().UTC()}
	if err := s.save(ctx, *r); err != nil {
		return "", err
	}
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
	runCtx := s.ctx
	s.wg.Add(1)
	s.mu.Unlock()
	req.Progress = func(p Progress) {
		s.mu.Lock()
		r.Progress = p
		s.mu.Unlock()
	}
	go func() {
		defer s.wg.Done()
		rep, err := s.Checker.Check(runCtx, req)
		s.mu.Lock()
		r.Done, r.Report = true, rep
		if err != nil {
			r.Error, r.ErrorKind = err.Error(), kindOf(err)
		}
		done := *r
		s.mu.Unlock()
		// Saved even when the server is stopping (runCtx ended): the
		// check ended, cut short, and its page says so.
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.save(sctx, done); err != nil {
			s.onError(err)
			return
		}
		if s.Store != nil {
			keep := s.StoreKeep
			if keep <= 0 {
				keep = DefaultStoreKeep
			}
			if err := s.Store.PrunePatchChecks(sctx, keep); err != nil {
				s.onError(err)
			}
		}
	}()
	return id, nil
}

// save writes a run to the Store, if there is one.
func (s *Service) save(ctx context.Context, r Run) error {
	if s.Store == nil {
		return nil
	}
	r.Progress = Progress{}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("cannot save patch check %s: %w", r.ID, err)
	}
	if err := s.Store.PutPatchCheck(ctx, store.PatchCheck{ID: r.ID, Target: r.Target.Hex(), Started: r.Started, Done: r.Done, Run: b}); err != nil {
		return fmt.Errorf("cannot save patch check %s: %w", r.ID, err)
	}
	return nil
}

func (s *Service) onError(err error) {
	if s.OnError != nil {
		s.OnError(err)
	}
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

// Get returns a copy of a run: from memory, or from the Store for a check
// this process did not run or no longer keeps. A stored check that never
// ended was cut short by a restart; it is answered as ended, with an
// error saying so.
func (s *Service) Get(ctx context.Context, id string) (Run, error) {
	s.mu.Lock()
	r, ok := s.runs[id]
	var run Run
	if ok {
		run = *r
	}
	s.mu.Unlock()
	if ok {
		return run, nil
	}
	if s.Store == nil {
		return Run{}, fmt.Errorf("%w: %s (this server keeps checks in memory: a restart forgets them; run it again)", ErrNotFound, id)
	}
	c, err := s.Store.PatchCheck(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Run{}, fmt.Errorf("%w: %s (the oldest checks are not kept; run it again)", ErrNotFound, id)
	}
	if err != nil {
		return Run{}, fmt.Errorf("cannot read patch check %s: %w", id, err)
	}
	if err := json.Unmarshal(c.Run, &run); err != nil {
		return Run{}, fmt.Errorf("cannot read patch check %s: its saved run does not decode: %w", id, err)
	}
	if !run.Done {
		run.Done, run.Error, run.ErrorKind = true, "the server stopped before this check ended: run it again", "internal"
	}
	return run, nil
}

// Wait blocks until the run is done or ctx ends, and returns it.
func (s *Service) Wait(ctx context.Context, id string) (Run, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := s.Get(ctx, id)
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
