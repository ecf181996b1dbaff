package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
)

var (
	respondActionsSpec = spec{
		name: "respond actions", args: "ADDRESS", min: 1, max: 1,
		short:   "a watched contract's emergency actions, who may run them and who does",
		example: "blocktorch respond actions 0xVault",
		about: `List the emergency actions of a contract the server watches (pause, unpause, role
revocations, block-list functions, functions marked as emergency) with the role each needs
and the accounts that hold it now, read from the chain.`,
	}
	respondPrepareSpec = spec{
		name: "respond prepare", args: "ADDRESS ACTION [ARG…]", min: 2, max: -1,
		short:   "an action as calldata, a cast line, a Safe batch and a signed tx, simulated first",
		example: "blocktorch respond prepare 0xVault pause",
		about: `Prepare an emergency action and simulate it on the head state: print its calldata, a
cast send command line, the signed transaction (when the server has a signer) and what the
simulation did (events, storage written, or why it reverts). ACTION is the function's name
or signature, the action's kind (pause, unpause) or its id as 'respond actions' prints it.
Nothing is sent.`,
	}
	respondSendSpec = spec{
		name: "respond send", args: "ADDRESS ACTION [ARG…]", min: 2, max: -1,
		short:   "simulate an action, then send it from the server's signer and wait for it",
		example: "blocktorch respond send 0xVault pause",
		about: `Simulate an emergency action from the server's signer and, if the simulation does not
revert, send it and wait for its receipt. A send whose simulation reverts is refused (exit 1)
unless --force is given. Each send is recorded in the run history ('respond runs').`,
	}
	respondRunsSpec = spec{
		name: "respond runs", min: 0, max: 0,
		short: "the history of sent actions and scenario runs, newest first",
		about: "List the recorded runs of emergency actions, newest first.",
	}
	respondProposeSpec = spec{
		name: "respond propose", args: "ADDRESS ACTION [ARG…]", min: 2, max: -1,
		short:   "propose an action as a transaction of the server's Safe, for its owners to sign",
		example: "blocktorch respond propose 0xVault pause",
		about: `Propose an emergency action as a transaction of the server's Safe (--safe; the demo's own
Safe in the demo), simulated from the Safe. Print the SafeTx hash its owners sign, each with
their own key (for example: cast wallet sign --no-hash HASH), and hand to 'respond sign'.`,
	}
	respondSignSpec = spec{
		name: "respond sign", args: "SAFETXHASH SIGNATURE", min: 2, max: 2,
		short:   "add an owner's signature to a proposed Safe transaction",
		example: "blocktorch respond sign 0xSafeTxHash 0xSignature",
		about: `Add a Safe owner's signature (65 bytes r, s, v with v 27 or 28, over the SafeTx hash itself:
cast wallet sign --no-hash HASH) to a proposed Safe transaction. A signature that is not an
owner's is refused.`,
	}
	respondExecuteSpec = spec{
		name: "respond execute", args: "SAFETXHASH", min: 1, max: 1,
		short:   "execute a proposed Safe transaction once enough owners signed",
		example: "blocktorch respond execute 0xSafeTxHash",
		about: `Send a proposed Safe transaction's execTransaction from the server's signer once the Safe's
threshold of owners signed it; below the threshold nothing is sent and the error says how many
signatures are missing. The execution is simulated first and refused if it reverts, unless
--force.`,
	}
	respondRunSpec = spec{
		name: "respond run", args: "SCENARIO", min: 1, max: 1,
		short:   "run a scenario's actions in order (--dry-run: simulate only)",
		example: "blocktorch respond run pause-vault --dry-run",
		about: `Run a scenario of the server's scenarios file (--scenarios) by hand: its actions in order,
each simulated, then sent from the server's signer; the first that fails stops the run. With
--dry-run every action is simulated and none is sent. A run within the scenario's cooldown is
skipped. Every run is recorded ('respond runs') and written on the open incident's timeline.`,
	}
	respondGroup = group{
		name:  "respond",
		about: "Emergency actions on the contracts a running server watches. Each subcommand takes --server and --key.",
	}
)

// runRespond is "blocktorch respond actions|prepare|send|runs".
func runRespond(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := respondGroup
	g.subs = []groupSub{
		{respondActionsSpec, func(args []string) error { return runRespondActions(ctx, args, stdout) }},
		{respondPrepareSpec, func(args []string) error { return runRespondAction(ctx, respondPrepareSpec, args, stdout) }},
		{respondSendSpec, func(args []string) error { return runRespondAction(ctx, respondSendSpec, args, stdout) }},
		{respondRunsSpec, func(args []string) error { return runRespondRuns(ctx, args, stdout) }},
		{respondRunSpec, func(args []string) error { return runRespondScenario(ctx, args, stdout) }},
		{respondProposeSpec, func(args []string) error { return runRespondPropose(ctx, args, stdout) }},
		{respondSignSpec, func(args []string) error { return runRespondSafe(ctx, respondSignSpec, args, stdout) }},
		{respondExecuteSpec, func(args []string) error { return runRespondSafe(ctx, respondExecuteSpec, args, stdout) }},
	}
	return g.run(args, stdout)
}

// respondAddress checks a contract address argument.
func respondAddress(sp spec, s string) (string, error) {
	if !common.IsHexAddress(s) {
		return "", sp.errorf("%q is not an address (want 0x followed by 40 hex digits)", s)
	}
	return common.HexToAddress(s).Hex(), nil
}

// cliAction is an action as the API answers it.
type cliAction struct {
	ID, Kind, Function, Summary, State string
	Args                               []string
	Contract                           common.Address
	Role                               struct {
		Kind, Name, Reason string
		Holders            []common.Address
	}
}

func (a cliAction) shortID() string { return strings.TrimPrefix(a.ID, a.Contract.Hex()+":") }

func runRespondActions(ctx context.Context, args []string, stdout io.Writer) error {
	fs := respondActionsSpec.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	pos, err := respondActionsSpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	addr, err := respondAddress(respondActionsSpec, pos[0])
	if err != nil {
		return err
	}
	var actions []cliAction
	if err := sf.client(defaultServer).get(ctx, "/api/v1/respond/contracts/"+addr+"/actions", &actions); err != nil {
		return err
	}
	if len(actions) == 0 {
		fmt.Fprintf(stdout, "%s has no emergency action\n", addr)
		return nil
	}
	for _, a := range actions {
		holders := make([]string, len(a.Role.Holders))
		for i, h := range a.Role.Holders {
			holders[i] = h.Hex()
		}
		who := a.Role.Name
		if len(holders) > 0 {
			who += " (held by " + strings.Join(holders, ", ") + ")"
		} else if a.Role.Kind != "anyone" {
			who += " (held by nobody known)"
		}
		fmt.Fprintf(stdout, "%s\n  %s needs %s", oneLine(a.shortID()), oneLine(a.Summary), oneLine(who))
		if a.State != "" {
			fmt.Fprintf(stdout, "; %s", oneLine(a.State))
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

// cliSimulation is a simulation as the API answers it.
type cliSimulation struct {
	Reverted bool
	Reason   string
	GasUsed  uint64
	Block    uint64
	Events   []struct {
		Address  common.Address
		Name     string
		Reverted bool
	}
	Changes []struct {
		Address       common.Address
		Label         string
		Slot          common.Hash
		Before, After common.Hash
	}
	TraceID common.Hash
}

func printSimulation(w io.Writer, from common.Address, sim *cliSimulation) {
	if sim == nil {
		return
	}
	if sim.Reverted {
		fmt.Fprintf(w, "simulation from %s at block %d: REVERTS: %s\n", from.Hex(), sim.Block, oneLine(sim.Reason))
	} else {
		fmt.Fprintf(w, "simulation from %s at block %d: ok, %d gas\n", from.Hex(), sim.Block, sim.GasUsed)
	}
	for _, e := range sim.Events {
		if !e.Reverted {
			fmt.Fprintf(w, "  event %s from %s\n", oneLine(e.Name), e.Address.Hex())
		}
	}
	for _, c := range sim.Changes {
		label := c.Label
		if label == "" {
			label = c.Slot.Hex()
		}
		fmt.Fprintf(w, "  %s %s: %s → %s\n", c.Address.Hex(), oneLine(label), c.Before.Hex(), c.After.Hex())
	}
	fmt.Fprintf(w, "  trace: /debug/%s\n", sim.TraceID.Hex())
}

func runRespondAction(ctx context.Context, sp spec, args []string, stdout io.Writer) error {
	fs := sp.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	send := sp.name == respondSendSpec.name
	var force, asJSON bool
	var safeFile string
	if send {
		fs.BoolVar(&force, "force", false, "send even when the simulation reverts")
	} else {
		fs.BoolVar(&asJSON, "json", false, "print the whole answer as JSON")
		fs.StringVar(&safeFile, "safe-json", "", "write the Safe Transaction Builder batch to `FILE`")
	}
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	addr, err := respondAddress(sp, pos[0])
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"action": pos[1], "args": append([]string{}, pos[2:]...), "force": force})
	if err != nil {
		return err
	}
	c := sf.client(defaultServer)
	if !send {
		var raw json.RawMessage
		if err := c.post(ctx, "/api/v1/respond/contracts/"+addr+"/prepare", "application/json", body, &raw); err != nil {
			return err
		}
		if asJSON {
			_, err := fmt.Fprintf(stdout, "%s\n", raw)
			return err
		}
		var p struct {
			Action        cliAction
			To            common.Address
			Calldata      string
			Cast          string
			SafeBatch     json.RawMessage
			SimulatedFrom common.Address
			Simulation    *cliSimulation
			Signed        *struct {
				From  common.Address
				Nonce uint64
				Hash  common.Hash
				Raw   string
			}
		}
		if err := json.Unmarshal(raw, &p); err != nil {
			return fmt.Errorf("unexpected answer: %w", err)
		}
		fmt.Fprintf(stdout, "%s on %s\n", oneLine(p.Action.shortID()), p.To.Hex())
		fmt.Fprintf(stdout, "calldata: %s\n", oneLine(p.Calldata))
		fmt.Fprintf(stdout, "cast:     %s\n", oneLine(p.Cast))
		if p.Signed != nil {
			fmt.Fprintf(stdout, "signed by %s, nonce %d, tx %s (cast publish):\n  %s\n", p.Signed.From.Hex(), p.Signed.Nonce, p.Signed.Hash.Hex(), oneLine(p.Signed.Raw))
		}
		printSimulation(stdout, p.SimulatedFrom, p.Simulation)
		if safeFile != "" {
			if err := os.WriteFile(safeFile, append(p.SafeBatch, '\n'), 0o644); err != nil {
				return fmt.Errorf("cannot write the Safe batch: %w", err)
			}
			fmt.Fprintf(stdout, "Safe Transaction Builder batch: %s\n", safeFile)
		}
		return nil
	}
	var sent cliSent
	err = c.post(ctx, "/api/v1/respond/contracts/"+addr+"/send", "application/json", body, &sent)
	if err != nil {
		return err
	}
	printSent(stdout, sent)
	return nil
}

// cliSent is a send as the API answers it.
type cliSent struct {
	Hash       common.Hash
	From       common.Address
	Nonce      uint64
	Mined      bool
	Status     uint64
	Block      uint64
	Run        int64
	Simulation *cliSimulation
}

func printSent(stdout io.Writer, sent cliSent) {
	printSimulation(stdout, sent.From, sent.Simulation)
	fmt.Fprintf(stdout, "sent %s from %s (nonce %d): mined in block %d, status %d (run %d)\n", sent.Hash.Hex(), sent.From.Hex(), sent.Nonce, sent.Block, sent.Status, sent.Run)
}

// cliProposal is a proposed Safe transaction as the API answers it.
type cliProposal struct {
	Hash       common.Hash
	Safe       common.Address
	Action     cliAction
	Nonce      uint64
	Threshold  uint64
	Owners     []common.Address
	Signatures []struct{ Owner common.Address }
	Simulation *cliSimulation
}

func printProposal(w io.Writer, p cliProposal) {
	fmt.Fprintf(w, "Safe %s transaction %s (nonce %d): %s\n", p.Safe.Hex(), p.Hash.Hex(), p.Nonce, oneLine(p.Action.shortID()))
	signed := make([]string, len(p.Signatures))
	for i, s := range p.Signatures {
		signed[i] = s.Owner.Hex()
	}
	fmt.Fprintf(w, "signatures: %d of %d needed", len(signed), p.Threshold)
	if len(signed) > 0 {
		fmt.Fprintf(w, " (%s)", strings.Join(signed, ", "))
	}
	fmt.Fprintln(w)
}

func runRespondPropose(ctx context.Context, args []string, stdout io.Writer) error {
	sp := respondProposeSpec
	fs := sp.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	addr, err := respondAddress(sp, pos[0])
	if err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{"action": pos[1], "args": append([]string{}, pos[2:]...)})
	if err != nil {
		return err
	}
	var p cliProposal
	if err := sf.client(defaultServer).post(ctx, "/api/v1/respond/contracts/"+addr+"/propose", "application/json", body, &p); err != nil {
		return err
	}
	printSimulation(stdout, p.Safe, p.Simulation)
	printProposal(stdout, p)
	fmt.Fprintf(stdout, "owners sign it with: cast wallet sign --no-hash %s, then: blocktorch respond sign %s SIGNATURE\n", p.Hash.Hex(), p.Hash.Hex())
	return nil
}

// runRespondSafe is "respond sign HASH SIGNATURE" and "respond execute HASH".
func runRespondSafe(ctx context.Context, sp spec, args []string, stdout io.Writer) error {
	fs := sp.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	execute := sp.name == respondExecuteSpec.name
	var force bool
	if execute {
		fs.BoolVar(&force, "force", false, "send even when the simulation reverts")
	}
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	h, err := hexutil.Decode(pos[0])
	if err != nil || len(h) != common.HashLength {
		return sp.errorf("%q is not a SafeTx hash (want 0x followed by 64 hex digits)", pos[0])
	}
	path := "/api/v1/respond/safe/proposals/" + common.BytesToHash(h).Hex()
	c := sf.client(defaultServer)
	if execute {
		body, _ := json.Marshal(map[string]bool{"force": force})
		var sent cliSent
		if err := c.post(ctx, path+"/execute", "application/json", body, &sent); err != nil {
			return err
		}
		printSent(stdout, sent)
		return nil
	}
	sig, err := hexutil.Decode(pos[1])
	if err != nil {
		return sp.errorf("the signature %q is not 0x-prefixed hex", pos[1])
	}
	body, _ := json.Marshal(map[string]string{"signature": hexutil.Encode(sig)})
	var p cliProposal
	if err := c.post(ctx, path+"/signatures", "application/json", body, &p); err != nil {
		return err
	}
	printProposal(stdout, p)
	return nil
}

func runRespondRuns(ctx context.Context, args []string, stdout io.Writer) error {
	fs := respondRunsSpec.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	contract := fs.String("contract", "", "only the runs that call this contract `ADDRESS`")
	scenario := fs.String("scenario", "", "only the runs of this scenario")
	limit := fs.Int("limit", 20, "at most this many runs")
	if _, err := respondRunsSpec.parse(fs, args, stdout); err != nil {
		return err
	}
	if *limit < 1 || *limit > 1000 {
		return respondRunsSpec.errorf("--limit %d: want 1 to 1000", *limit)
	}
	v := url.Values{"limit": {fmt.Sprint(*limit)}}
	if *contract != "" {
		addr, err := respondAddress(respondRunsSpec, *contract)
		if err != nil {
			return err
		}
		v.Set("contract", addr)
	}
	if *scenario != "" {
		v.Set("scenario", *scenario)
	}
	var runs []struct {
		ID                               int64
		Scenario, Trigger, Status, Error string
		DryRun                           bool
		Started                          string
		Steps                            []struct {
			Function string
			Contract common.Address
			Hash     common.Hash
			Error    string
		}
	}
	if err := sf.client(defaultServer).get(ctx, "/api/v1/respond/runs?"+v.Encode(), &runs); err != nil {
		return err
	}
	for _, r := range runs {
		what := r.Scenario
		if what == "" {
			what = "action"
		}
		dry := ""
		if r.DryRun {
			dry = " (dry run)"
		}
		fmt.Fprintf(stdout, "#%d %s %s by %s: %s%s\n", r.ID, oneLine(r.Started), oneLine(what), oneLine(r.Trigger), oneLine(r.Status), dry)
		for _, s := range r.Steps {
			line := "  " + oneLine(s.Function) + " on " + s.Contract.Hex()
			if s.Hash != (common.Hash{}) {
				line += " tx " + s.Hash.Hex()
			}
			if s.Error != "" {
				line += ": " + oneLine(s.Error)
			}
			fmt.Fprintln(stdout, line)
		}
	}
	return nil
}

func runRespondScenario(ctx context.Context, args []string, stdout io.Writer) error {
	sp := respondRunSpec
	fs := sp.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	dry := fs.Bool("dry-run", false, "simulate every action, send none")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]bool{"dryRun": *dry})
	var run struct {
		ID              int64
		Status, Trigger string
		Steps           []struct {
			Function string
			Contract common.Address
			Hash     common.Hash
			From     common.Address
			Status   uint64
		}
	}
	if err := sf.client(defaultServer).post(ctx, "/api/v1/respond/scenarios/"+url.PathEscape(pos[0])+"/run", "application/json", body, &run); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scenario %s: %s (run %d)\n", oneLine(pos[0]), oneLine(run.Status), run.ID)
	for _, s := range run.Steps {
		line := "  " + oneLine(s.Function) + " on " + s.Contract.Hex()
		if s.Hash != (common.Hash{}) {
			line += fmt.Sprintf(" tx %s status %d", s.Hash.Hex(), s.Status)
		} else {
			line += " simulated from " + s.From.Hex()
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}
