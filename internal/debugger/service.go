package debugger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Service replays transactions on demand and keeps their traces under
// Dir, for the web layer's debugger API. It is safe for concurrent use;
// one transaction is replayed once at a time however many ask for it.
type Service struct {
	Local *Local
	// Node, when set, is preferred: the node has the debug API.
	Node    *Node
	Options Options
	Log     *slog.Logger
	// Knowledge, when set, counts the changes to what Options.Sources,
	// Names and Registry know (a contract verified, an ABI added). A stored
	// trace is recorded with what was known then (call names, decoded
	// reasons, the failing line), so it is replayed again when the count
	// moved since it was recorded in this process, or was recorded by an
	// earlier one.
	Knowledge func() uint64

	mu      sync.Mutex
	pending map[common.Hash]*sync.Mutex
	// recorded is the Knowledge count each trace was recorded under.
	recorded map[common.Hash]uint64
}

// ErrInvalid marks a request the debugger refuses (a bad range, a bad
// simulation).
var ErrInvalid = store.Sentinel("invalid request", store.ErrInvalid)

func (s *Service) lock(tx common.Hash) func() {
	s.mu.Lock()
	if s.pending == nil {
		s.pending = make(map[common.Hash]*sync.Mutex)
	}
	m := s.pending[tx]
	if m == nil {
		m = new(sync.Mutex)
		s.pending[tx] = m
	}
	s.mu.Unlock()
	m.Lock()
	return m.Unlock
}

// Open returns the stored trace of tx, replaying it first when none is
// stored. The caller closes the trace.
func (s *Service) Open(ctx context.Context, tx common.Hash) (*Trace, error) {
	unlock := s.lock(tx)
	defer unlock()
	var known uint64
	if s.Knowledge != nil {
		known = s.Knowledge()
	}
	t, err := OpenStoredTrace(ctx, s.Options.traces(), tx, s.Options.Sources)
	// A simulation cannot be replayed from the chain: its trace stays as
	// it was recorded.
	if err == nil && (s.current(tx, known) || t.Result.Mode == ModeSimulation) {
		return t, nil
	}
	if t != nil {
		t.Close()
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		s.logf("stored trace of %s is unreadable, replaying it: %v", tx, err)
	}
	if _, err := s.Replay(ctx, tx); err != nil {
		return nil, err
	}
	if s.Knowledge != nil {
		s.mu.Lock()
		if s.recorded == nil {
			s.recorded = make(map[common.Hash]uint64)
		}
		s.recorded[tx] = known
		s.mu.Unlock()
	}
	return OpenStoredTrace(ctx, s.Options.traces(), tx, s.Options.Sources)
}

// current reports whether the stored trace of tx was recorded with what
// is known now.
func (s *Service) current(tx common.Hash, known uint64) bool {
	if s.Knowledge == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.recorded[tx]
	return ok && at == known
}

// Replay traces tx through the node's debug API when there is one, else
// locally.
func (s *Service) Replay(ctx context.Context, tx common.Hash) (*Result, error) {
	if s.Node != nil {
		return s.Node.Replay(ctx, tx, s.Options)
	}
	if s.Local == nil {
		return nil, errors.New("the debugger has no node to replay on")
	}
	return s.Local.Replay(ctx, tx, s.Options)
}

func (s *Service) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Warn(fmt.Sprintf(format, args...))
	}
}

// StepsPage is a page of steps.
type StepsPage struct {
	From  int     `json:"from"`
	Total int     `json:"total"`
	Steps []*Step `json:"steps"`
}

// MaxStepsPage is the most steps one page holds.
const MaxStepsPage = 1000

// StepsPage reads count steps of tx from step from: from ≥ 0, count from
// 1 to MaxStepsPage (ErrInvalid otherwise).
func (s *Service) StepsPage(ctx context.Context, tx common.Hash, from, count int) (*StepsPage, error) {
	if from < 0 {
		return nil, fmt.Errorf("%w: from must be a step number", ErrInvalid)
	}
	if count < 1 || count > MaxStepsPage {
		return nil, fmt.Errorf("%w: count must be 1-%d", ErrInvalid, MaxStepsPage)
	}
	t, err := s.Open(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	steps, err := t.Steps(from, count)
	if err != nil {
		return nil, err
	}
	return &StepsPage{From: from, Total: t.Result.Steps, Steps: steps}, nil
}

// Debug returns the result of tx (call tree, events, state, failure).
func (s *Service) Debug(ctx context.Context, tx common.Hash) (*Result, error) {
	t, err := s.Open(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Result, nil
}

// Simulate runs req (a call that is not sent) on the local replayer.
func (s *Service) Simulate(ctx context.Context, req SimRequest) (*Result, error) {
	if err := req.Validate(); err != nil {
		return nil, err // an ErrBadRequest, itself a store.ErrInvalid
	}
	if s.Local == nil {
		return nil, errors.New("the debugger has no node to simulate on")
	}
	return s.Local.Simulate(ctx, req, s.Options)
}
