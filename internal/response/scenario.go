package response

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"gopkg.in/yaml.v3"

	"github.com/blocktorch/blocktorch/internal/store"
)

// Timeline is where a run is written while an incident is open:
// (*incident.Service).AddTimelineEntry satisfies it. It returns an error
// that is a store.ErrNotFound when no incident is open.
type Timeline interface {
	AddTimelineEntry(ctx context.Context, kind, text, link string) error
}

// timelineKind is the kind of the entries a run writes on the timeline.
const timelineKind = "action"

// Scenario is a named list of actions run in order, by hand or by the
// firing of one of its monitors.
type Scenario struct {
	Name        string `yaml:"name" json:"name"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// Actions run in order; the first that fails stops the run.
	Actions []ScenarioAction `yaml:"actions" json:"actions"`
	// Monitors are the ids of the monitors whose firing runs it.
	Monitors []string `yaml:"monitors,omitempty" json:"monitors,omitempty"`
	// Cooldown is the least time between two real runs (not dry runs);
	// a run asked for sooner is skipped and recorded so.
	Cooldown Duration `yaml:"cooldown,omitempty" json:"cooldown,omitempty"`
	// DryRun makes every run of it a dry run: simulated, never sent.
	DryRun bool `yaml:"dryRun,omitempty" json:"dryRun,omitempty"`
}

// ScenarioAction is one action of a scenario: a watched contract (by
// address or name) and an action of it as Resolve names them.
type ScenarioAction struct {
	Contract string   `yaml:"contract" json:"contract"`
	Action   string   `yaml:"action" json:"action"`
	Args     []string `yaml:"args,omitempty" json:"args,omitempty"`
}

// Duration is a time.Duration written as "10m" in YAML and JSON.
type Duration time.Duration

// UnmarshalYAML reads "90s", "10m", "1h".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return fmt.Errorf("line %d: cooldown %q: want a duration such as 10m", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as time.Duration prints it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// scenarioName is what a scenario may be called: it appears in URLs and
// on the command line.
var scenarioName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// ParseScenarios reads a scenarios file:
//
//	scenarios:
//	  - name: pause-vault
//	    description: Pause the vault when funds drain
//	    monitors: [vault-drain]      # run when one of these fires
//	    cooldown: 10m
//	    actions:
//	      - contract: LendingVault   # a name or an address
//	        action: pause
//
// Unknown fields, duplicate names and empty action lists are errors that
// name the file's line.
func ParseScenarios(data []byte) ([]Scenario, error) {
	var f struct {
		Scenarios []Scenario `yaml:"scenarios"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, errEOF) {
		return nil, fmt.Errorf("%w: scenarios: %v", ErrInvalid, err)
	}
	seen := map[string]bool{}
	for i, sc := range f.Scenarios {
		switch {
		case !scenarioName.MatchString(sc.Name):
			return nil, fmt.Errorf("%w: scenario %d: name %q: want lower-case letters, digits, '.', '_' or '-'", ErrInvalid, i+1, sc.Name)
		case seen[sc.Name]:
			return nil, fmt.Errorf("%w: scenario %s is defined twice", ErrInvalid, sc.Name)
		case len(sc.Actions) == 0:
			return nil, fmt.Errorf("%w: scenario %s has no actions", ErrInvalid, sc.Name)
		}
		seen[sc.Name] = true
		for j, a := range sc.Actions {
			if strings.TrimSpace(a.Contract) == "" || strings.TrimSpace(a.Action) == "" {
				return nil, fmt.Errorf("%w: scenario %s, action %d: needs a contract and an action", ErrInvalid, sc.Name, j+1)
			}
		}
	}
	return f.Scenarios, nil
}

// errEOF is what an empty YAML document decodes to.
var errEOF = func() error {
	var v any
	return yaml.NewDecoder(strings.NewReader("")).Decode(&v)
}()

// scenarios holds the service's scenarios and the automation switch.
type scenarios struct {
	mu   sync.Mutex
	list []Scenario
	// automationOff is the kill switch of automation: monitors' firings
	// run no scenario while it is set.
	automationOff atomic.Bool
	// running serializes runs of one scenario, so that the cooldown holds
	// between two asked for at once.
	running sync.Map // name → *sync.Mutex
	// resolved keeps the actions steps resolved to, for runs that must
	// not wait for discovery (SendOptions.Urgent).
	resolved sync.Map // contract address|action → resolvedStep
	// ranFor remembers, per scenario, monitor and transaction, the run
	// that sent a transaction for them (see ranFor).
	ranFor sync.Map // scenario|monitor id|tx hash → what ran
	// calls keeps the calldata of the steps run (stepCall).
	calls sync.Map // contract address|action id|its fixed args|args → stepCallData
}

// stepCall is callOf's arguments and calldata, kept per action and
// arguments: encoding parses the contract's ABI, which an urgent run
// should not wait for.
func (s *Service) stepCall(a Action, c Contract, args []string) ([]string, []byte, error) {
	key := a.Contract.Hex() + "|" + a.ID + "|" + strings.Join(a.Args, "\x00") + "|" + strings.Join(args, "\x00")
	if v, ok := s.sc.calls.Load(key); ok {
		sc := v.(stepCallData)
		return sc.args, sc.data, nil
	}
	_, resolved, data, err := callOf(a, c, args)
	if err != nil {
		return resolved, nil, err
	}
	s.sc.calls.Store(key, stepCallData{args: resolved, data: data})
	return resolved, data, nil
}

type stepCallData struct {
	args []string
	data []byte
}

// resolvedStep is a scenario step's action with its contract.
type resolvedStep struct {
	a Action
	c Contract
}

// PrimeScenarios resolves every action of every scenario now, so that
// urgent runs (the mempool guard's) find them resolved; the errors of the
// actions that cannot be resolved are joined.
func (s *Service) PrimeScenarios(ctx context.Context) error {
	var errs []error
	for _, sc := range s.Scenarios() {
		for _, sa := range sc.Actions {
			if _, _, err := s.resolveStep(ctx, sa, false); err != nil {
				errs = append(errs, fmt.Errorf("scenario %s, %s on %s: %w", sc.Name, sa.Action, sa.Contract, err))
			}
		}
	}
	return errors.Join(errs...)
}

// resolveStep finds a step's contract and action: from the last
// resolution when cached is set and there is one, else by discovery (role
// holders read from the chain).
func (s *Service) resolveStep(ctx context.Context, sa ScenarioAction, cached bool) (Action, Contract, error) {
	addr, err := s.contractAddress(ctx, sa.Contract)
	if err != nil {
		return Action{}, Contract{}, err
	}
	key := addr.Hex() + "|" + sa.Action
	if cached {
		if v, ok := s.sc.resolved.Load(key); ok {
			r := v.(resolvedStep)
			return r.a, r.c, nil
		}
	}
	a, err := s.Resolve(ctx, addr, sa.Action)
	if err != nil {
		return Action{Contract: addr}, Contract{}, err
	}
	c, err := s.contract(ctx, addr)
	if err != nil {
		return Action{Contract: addr}, Contract{}, err
	}
	s.sc.resolved.Store(key, resolvedStep{a: a, c: c})
	return a, c, nil
}

// SetScenarios replaces the service's scenarios.
func (s *Service) SetScenarios(list []Scenario) {
	s.sc.mu.Lock()
	defer s.sc.mu.Unlock()
	s.sc.list = append([]Scenario(nil), list...)
}

// Scenarios returns the service's scenarios.
func (s *Service) Scenarios() []Scenario {
	s.sc.mu.Lock()
	defer s.sc.mu.Unlock()
	return append([]Scenario{}, s.sc.list...)
}

// SetAutomation turns automation (scenarios run by monitors) on or off.
func (s *Service) SetAutomation(on bool) { s.sc.automationOff.Store(!on) }

// Automation reports whether monitors' firings run scenarios.
func (s *Service) Automation() bool { return !s.sc.automationOff.Load() }

func (s *Service) scenario(name string) (Scenario, error) {
	for _, sc := range s.Scenarios() {
		if sc.Name == name {
			return sc, nil
		}
	}
	return Scenario{}, fmt.Errorf("%w: no scenario %q", ErrNotFound, name)
}

// CheckScenario returns nil when a scenario of that name exists, else an
// ErrNotFound naming the ones that do; a monitor naming a scenario
// (respond:) is checked with it when applied.
func (s *Service) CheckScenario(name string) error {
	scs := s.Scenarios()
	names := make([]string, 0, len(scs))
	for _, sc := range scs {
		if sc.Name == name {
			return nil
		}
		names = append(names, sc.Name)
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: no scenario %q: the server has no scenarios (start it with --scenarios FILE)", ErrNotFound, name)
	}
	return fmt.Errorf("%w: no scenario %q; the scenarios are: %s", ErrNotFound, name, strings.Join(names, ", "))
}

// OnMonitorFiring runs the scenario the monitor names (respond:, "" for
// none) and every scenario that names the monitor (monitors:), each once,
// unless automation is off (then each is recorded as skipped). The
// trigger is "monitor:<id>", or "monitor:<id>:tx:<hash>" when the firing
// names the transaction that made it fire (tx not zero): a scenario
// already run for that monitor and transaction, on the mined firing or by
// the mempool guard while it was pending, is not run again (see
// runScenario). It returns the runs.
func (s *Service) OnMonitorFiring(ctx context.Context, monitorID, scenario string, tx common.Hash) []*Run {
	trigger := "monitor:" + monitorID
	if tx != (common.Hash{}) {
		trigger += ":tx:" + tx.Hex()
	}
	var runs []*Run
	for _, name := range s.scenariosOf(monitorID, scenario) {
		run, err := s.RunScenario(ctx, name, trigger, false)
		if err != nil && run == nil {
			s.log().Error("response: scenario failed to start", "scenario", name, "monitor", monitorID, "err", err)
		}
		if run != nil {
			runs = append(runs, run)
		}
	}
	return runs
}

// RunScenario runs a scenario's actions in order as trigger, recording
// the run and writing it on the open incident's timeline. A dry run (or a
// scenario marked dryRun) simulates every action and sends nothing. A
// real run within the scenario's cooldown of the last one, or one a
// monitor started while automation is off, is skipped. The first action
// that cannot be sent, or reverts, stops the run; the run is returned with
// its error.
func (s *Service) RunScenario(ctx context.Context, name, trigger string, dryRun bool) (*Run, error) {
	return s.runScenario(ctx, name, trigger, dryRun, SendOptions{})
}

// OnMonitorPending is OnMonitorFiring for a monitor fired by a
// transaction still in the pool (the mempool guard), as trigger
// "monitor:<id>:pending:<tx hash>": each send of the runs pays at least
// ahead's Tip and FeeCap, so that it is ordered before that transaction,
// and the runs are urgent (SendOptions.Urgent).
func (s *Service) OnMonitorPending(ctx context.Context, monitorID, scenario string, pendingTx common.Hash, ahead SendOptions) []*Run {
	// The trigger names the pending transaction; it starts as a monitor's
	// does, so that the automation switch holds it too.
	trigger := "monitor:" + monitorID + ":pending:" + pendingTx.Hex()
	var runs []*Run
	for _, name := range s.scenariosOf(monitorID, scenario) {
		run, err := s.runScenario(ctx, name, trigger, false, SendOptions{Tip: ahead.Tip, FeeCap: ahead.FeeCap, Urgent: true})
		if err != nil && run == nil {
			s.log().Error("response: scenario failed to start", "scenario", name, "monitor", monitorID, "err", err)
		}
		if run != nil {
			runs = append(runs, run)
		}
	}
	return runs
}

// scenariosOf names the scenarios a monitor's firing runs: the one it
// names (respond:) and those that name it (monitors:), each once.
func (s *Service) scenariosOf(monitorID, scenario string) []string {
	var names []string
	if scenario != "" {
		names = append(names, scenario)
	}
	for _, sc := range s.Scenarios() {
		if slices.Contains(sc.Monitors, monitorID) && !slices.Contains(names, sc.Name) {
			names = append(names, sc.Name)
		}
	}
	return names
}

func (s *Service) runScenario(ctx context.Context, name, trigger string, dryRun bool, opts SendOptions) (*Run, error) {
	sc, err := s.scenario(name)
	if err != nil {
		return nil, err
	}
	if trigger == "" {
		trigger = TriggerHand
	}
	mu, _ := s.sc.running.LoadOrStore(name, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()

	run := &Run{Scenario: name, Trigger: trigger, DryRun: dryRun || sc.DryRun, Started: s.now(), Steps: []Step{}}
	finish := func(status string, err error) (*Run, error) {
		run.Status, run.Finished = status, s.now()
		if err != nil {
			run.Error = err.Error()
		}
		s.record(ctx, run)
		s.noteRan(run)
		s.writeTimeline(ctx, run)
		return run, err
	}
	if strings.HasPrefix(trigger, "monitor:") && !s.Automation() {
		return finish(RunSkipped, fmt.Errorf("%w: automation is off; scenario %s was not run", ErrSkipped, name))
	}
	if !run.DryRun && sc.Cooldown > 0 && s.History != nil {
		last, err := s.History.ResponseRuns(ctx, store.ResponseRunQuery{Scenario: name, RealOnly: true, Limit: 10})
		if err != nil {
			return nil, fmt.Errorf("cannot read the runs of scenario %s: %w", name, err)
		}
		for _, l := range last {
			if l.Status == RunSkipped {
				continue
			}
			if since := run.Started.Sub(l.Started); since < time.Duration(sc.Cooldown) {
				return finish(RunSkipped, fmt.Errorf("%w: scenario %s ran %s ago (run %d); its cooldown is %s", ErrSkipped, name,
					since.Round(time.Second), l.ID, time.Duration(sc.Cooldown)))
			}
			break
		}
	}
	if !run.DryRun {
		if prior, err := s.ranFor(ctx, name, trigger); err != nil {
			return nil, err
		} else if prior != "" {
			return finish(RunSkipped, fmt.Errorf("%w: %s", ErrSkipped, prior))
		}
	}
	if !run.DryRun && s.Signer == nil {
		return finish(RunFailed, ErrNoSigner)
	}
	for _, sa := range sc.Actions {
		opts.Trigger = trigger
		step, err := s.runStep(ctx, sa, run.DryRun, opts)
		run.Steps = append(run.Steps, step)
		if err != nil {
			return finish(RunFailed, fmt.Errorf("scenario %s, %s on %s: %w", name, sa.Action, sa.Contract, err))
		}
	}
	if run.DryRun {
		return finish(RunSimulated, nil)
	}
	return finish(RunDone, nil)
}

// incidentKey is what makes two runs of a scenario the same response: the
// monitor and the transaction that fired it, pending ("monitor:<id>:
// pending:<hash>", the mempool guard) or mined ("monitor:<id>:tx:<hash>");
// ok is false for a trigger that names no transaction.
func incidentKey(trigger string) (monitorID string, tx common.Hash, ok bool) {
	rest, found := strings.CutPrefix(trigger, "monitor:")
	if !found || len(rest) < 66 {
		return "", common.Hash{}, false
	}
	head, h := rest[:len(rest)-66], rest[len(rest)-66:]
	b, err := hexutil.Decode(h)
	if err != nil {
		return "", common.Hash{}, false
	}
	for _, sep := range []string{":pending:", ":tx:"} {
		if id, found := strings.CutSuffix(head, sep); found && id != "" {
			return id, common.BytesToHash(b), true
		}
	}
	return "", common.Hash{}, false
}

// ranFor says, when the scenario already ran for the monitor and
// transaction trigger names (its pending form or its mined one), which
// run: "" when it did not, or when the trigger names no transaction. Only
// runs that sent a transaction count: one that failed before sending
// anything may be run again by the next firing, and nothing is sent
// twice. Runs of one scenario are serialized, so a run in flight is
// remembered before the next one asks. A mined firing also looks in the
// history (runs before a restart); a pending one only in memory: the
// guard's pause must not wait for the store, and a pending transaction
// it answered before a restart finds the contract already paused (the
// pause's simulation reverts and nothing is sent).
func (s *Service) ranFor(ctx context.Context, scenario, trigger string) (string, error) {
	monitorID, tx, ok := incidentKey(trigger)
	if !ok {
		return "", nil
	}
	mem := scenario + "|" + monitorID + "|" + tx.Hex()
	if v, ok := s.sc.ranFor.Load(mem); ok {
		return v.(string), nil
	}
	if s.History == nil || strings.Contains(trigger, ":pending:") {
		return "", nil
	}
	for _, t := range []string{"monitor:" + monitorID + ":pending:" + tx.Hex(), "monitor:" + monitorID + ":tx:" + tx.Hex()} {
		runs, err := s.Runs(ctx, store.ResponseRunQuery{Scenario: scenario, Trigger: t, RealOnly: true, Limit: 10})
		if err != nil {
			return "", fmt.Errorf("cannot read the runs of scenario %s for %s: %w", scenario, tx, err)
		}
		for _, r := range runs {
			if r.sentAny() {
				return ranText(scenario, tx, r), nil
			}
		}
	}
	return "", nil
}

// noteRan remembers a run that sent a transaction for ranFor.
func (s *Service) noteRan(r *Run) {
	if r.DryRun || !r.sentAny() {
		return
	}
	monitorID, tx, ok := incidentKey(r.Trigger)
	if !ok {
		return
	}
	s.sc.ranFor.Store(r.Scenario+"|"+monitorID+"|"+tx.Hex(), ranText(r.Scenario, tx, *r))
}

func ranText(scenario string, tx common.Hash, r Run) string {
	return fmt.Sprintf("scenario %s already ran for transaction %s (run %d, %s, by %s); it is not run twice for one transaction", scenario, tx.Hex(), r.ID, r.Status, r.Trigger)
}

// sentAny reports whether a run sent a transaction.
func (r Run) sentAny() bool {
	for _, st := range r.Steps {
		if st.Hash != (common.Hash{}) {
			return true
		}
	}
	return false
}

// ErrSkipped is a scenario run that did not start (cooldown, automation
// off).
var ErrSkipped = store.Sentinel("the scenario was skipped", store.ErrConflict)

// runStep simulates one action of a scenario and, unless dry, sends it.
func (s *Service) runStep(ctx context.Context, sa ScenarioAction, dry bool, opts SendOptions) (Step, error) {
	step := Step{Action: sa.Action, Args: sa.Args}
	a, c, err := s.resolveStep(ctx, sa, opts.Urgent)
	step.Contract = a.Contract
	if err != nil {
		step.Error = err.Error()
		return step, err
	}
	args, data, err := s.stepCall(a, c, sa.Args)
	step = stepOf(a, args)
	if err != nil {
		step.Error = err.Error()
		return step, err
	}
	if dry {
		from := probeAddress
		switch {
		case s.Signer != nil:
			from = s.Signer.Address()
		case len(a.Role.Holders) > 0:
			from = a.Role.Holders[0]
		}
		sim, err := s.simulate(ctx, Call{From: from, To: a.Contract, Data: data})
		if err != nil {
			step.Error = err.Error()
			return step, err
		}
		step.Simulation, step.From = sim, from
		if sim.Reverted {
			err := fmt.Errorf("%w from %s: %s", ErrWouldRevert, from, sim.Reason)
			step.Error = err.Error()
			return step, err
		}
		return step, nil
	}
	sent, err := s.sendCall(ctx, a.Contract, data, opts)
	if sent != nil {
		step.Simulation, step.Hash, step.From, step.Nonce = sent.Simulation, sent.Hash, sent.From, sent.Nonce
		step.Mined, step.Status, step.Block = sent.Mined, sent.Status, sent.Block
	}
	if err != nil {
		step.Error = err.Error()
	}
	return step, err
}

// contractAddress reads a scenario's contract: an address, or the name of
// a watched contract (any case).
func (s *Service) contractAddress(ctx context.Context, ref string) (common.Address, error) {
	if common.IsHexAddress(ref) {
		return common.HexToAddress(ref), nil
	}
	if s.Contracts == nil {
		return common.Address{}, fmt.Errorf("%w: no contracts are watched", ErrNotFound)
	}
	cs, err := s.Contracts(ctx)
	if err != nil {
		return common.Address{}, fmt.Errorf("cannot list the watched contracts: %w", err)
	}
	var found []common.Address
	for _, c := range cs {
		if strings.EqualFold(c.Name, ref) {
			found = append(found, c.Address)
		}
	}
	switch len(found) {
	case 0:
		return common.Address{}, fmt.Errorf("%w: no watched contract is named %q", ErrNotFound, ref)
	case 1:
		return found[0], nil
	}
	return common.Address{}, fmt.Errorf("%w: %d watched contracts are named %q: give the address", ErrInvalid, len(found), ref)
}

// writeTimeline writes a finished run (a scenario's, or an action sent by
// hand) on the open incident's timeline; with no incident open there is
// nothing to write on.
func (s *Service) writeTimeline(ctx context.Context, run *Run) {
	if s.Timeline == nil {
		return
	}
	what := "Scenario " + run.Scenario
	if run.Scenario == "" {
		// An action sent by hand (Send, ExecuteSafe).
		what = "Action"
		if len(run.Steps) == 1 && run.Steps[0].SafeTxHash != (common.Hash{}) {
			what = "Safe transaction " + run.Steps[0].SafeTxHash.Hex()
		}
	}
	if run.DryRun {
		what += " (dry run)"
	}
	text := fmt.Sprintf("%s by %s: %s", what, run.Trigger, run.Status)
	link := ""
	for _, st := range run.Steps {
		text += fmt.Sprintf("; %s on %s", st.Function, st.Contract.Hex())
		if st.Hash != (common.Hash{}) {
			text += " tx " + st.Hash.Hex()
			link = "/tx/" + st.Hash.Hex()
		}
	}
	if run.Error != "" {
		text += ": " + run.Error
	}
	if err := s.Timeline.AddTimelineEntry(context.WithoutCancel(ctx), timelineKind, text, link); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log().Warn("response: cannot write a run on the incident's timeline", "scenario", run.Scenario, "err", err)
	}
}
