package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/ethereum/go-ethereum/common"
)

var (
	oracleListSpec = spec{
		name: "oracle list", min: 0, max: 0,
		short: "the price feeds the server follows, with their health",
		about: "List the price feeds a running server follows: latest answer, its age, heartbeat and health.",
	}
	oracleShowSpec = spec{
		name: "oracle show", args: "ADDRESS", min: 1, max: 1,
		short:   "one feed: latest round, details, health, the contracts that read it",
		example: "blocktorch oracle show 0xFeed",
		about: `Show one followed price feed: its latest round (roundId, answer, startedAt, updatedAt,
answeredInRound), description, decimals, version, the aggregator behind its proxy, its bounds,
thresholds, health, the contracts seen reading it with the answer they got, and its update
cadence over --since.`,
	}
	oracleAddSpec = spec{
		name: "oracle add", args: "ADDRESS", min: 1, max: 1,
		short:   "follow a price feed (or set a followed feed's thresholds)",
		example: "blocktorch oracle add 0xFeed --heartbeat 1h --deviation 0.5",
		about: `Follow a Chainlink-style price feed (an aggregator or its proxy) on a running server, after
reading it: an address that is no feed is refused with the reason. --heartbeat, --deviation and
--reference set its thresholds; for a feed already followed, only them. --sequencer follows it
as an L2 sequencer-uptime feed (found by its description otherwise): judged up, down, or back up
within the grace period, by the sequencer-down monitor.`,
	}
	oracleGroup = group{
		name:  "oracle",
		about: "Price feeds on a running server. Each subcommand takes --server and --key.",
	}
)

// runOracle is "blocktorch oracle list|show|add".
func runOracle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := oracleGroup
	g.subs = []groupSub{
		{oracleListSpec, func(args []string) error { return runOracleList(ctx, args, stdout) }},
		{oracleShowSpec, func(args []string) error { return runOracleShow(ctx, args, stdout) }},
		{oracleAddSpec, func(args []string) error { return runOracleAdd(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

// feedView is the part of the API's feed the CLI prints.
type feedView struct {
	Address          string  `json:"address"`
	Source           string  `json:"source"`
	Kind             string  `json:"kind"`
	HeartbeatSeconds int64   `json:"heartbeatSeconds"`
	HeartbeatDefault bool    `json:"heartbeatDefault"`
	DeviationPct     float64 `json:"deviationPct"`
	DeviationDefault bool    `json:"deviationDefault"`
	Reference        string  `json:"reference"`
	Details          *struct {
		Description string `json:"description"`
		Decimals    uint8  `json:"decimals"`
		Version     string `json:"version"`
		Proxy       bool   `json:"proxy"`
		Aggregator  string `json:"aggregator"`
		Block       uint64 `json:"block"`
	} `json:"details"`
	Latest *struct {
		RoundID, Answer, Value, AnsweredInRound, MinAnswer, MaxAnswer string
		StartedAt, UpdatedAt                                          time.Time
	} `json:"latest"`
	Error  string `json:"error"`
	Health struct {
		Status     string   `json:"status"`
		Problems   []string `json:"problems"`
		AgeSeconds int64    `json:"ageSeconds"`
	} `json:"health"`
	PrevAggregator    string     `json:"prevAggregator"`
	AggregatorChanged *time.Time `json:"aggregatorChanged"`
	Readers           []struct {
		Reader, Tx, Method, Answer, LastStaleTx string
		Block, LastStaleBlock                   uint64
		Time, UpdatedAt                         time.Time
		Stale                                   bool
		Reads, StaleReads                       int64
	} `json:"readers"`
}

func defaultMark(d bool) string {
	if d {
		return " (default)"
	}
	return ""
}

// feedArg reads a feed's ADDRESS argument, checksummed.
func feedArg(sp spec, s string) (string, error) {
	if !common.IsHexAddress(s) {
		return "", sp.errorf("%q is not an address (0x and 40 hex digits)", s)
	}
	return common.HexToAddress(s).Hex(), nil
}

func runOracleList(ctx context.Context, args []string, stdout io.Writer) error {
	sp := oracleListSpec
	fs, cf := serverCommand(sp, false)
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	var feeds []feedView
	if err := cf.client().get(ctx, "/api/v1/oracles", &feeds); err != nil {
		return err
	}
	if len(feeds) == 0 {
		fmt.Fprintln(stdout, "no price feed followed yet (follow one with: blocktorch oracle add ADDRESS)")
		return nil
	}
	fmt.Fprintf(stdout, "%-42s %-24s %-16s %-8s %-14s %s\n", "FEED", "DESCRIPTION", "ANSWER", "AGE", "HEARTBEAT", "HEALTH")
	for _, f := range feeds {
		desc, answer, age := "", "", ""
		if f.Details != nil {
			desc = f.Details.Description
		}
		if f.Kind == "sequencer" {
			desc = "[sequencer] " + desc
		}
		if f.Latest != nil {
			answer, age = f.Latest.Value, (time.Duration(f.Health.AgeSeconds) * time.Second).String()
		}
		fmt.Fprintf(stdout, "%-42s %-24s %-16s %-8s %-14s %s\n", oneLine(f.Address), oneLine(desc), oneLine(answer), age,
			(time.Duration(f.HeartbeatSeconds)*time.Second).String()+defaultMark(f.HeartbeatDefault), oneLine(f.Health.Status))
	}
	return nil
}

func runOracleShow(ctx context.Context, args []string, stdout io.Writer) error {
	sp := oracleShowSpec
	fs, cf := serverCommand(sp, false)
	since := fs.Duration("since", 24*time.Hour, "how far back the update cadence looks")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	addr, err := feedArg(sp, pos[0])
	if err != nil {
		return err
	}
	c := cf.client()
	var f feedView
	if err := c.get(ctx, "/api/v1/oracles/"+addr, &f); err != nil {
		return err
	}
	var hist struct {
		Points  []json.RawMessage `json:"points"`
		Cadence struct {
			Updates                   int
			MedianSeconds, MaxSeconds int64
		} `json:"cadence"`
	}
	histErr := c.get(ctx, "/api/v1/oracles/"+addr+"/history?from="+url.QueryEscape(fmt.Sprintf("now-%ds", int64(since.Seconds()))), &hist)
	printFeed(stdout, f)
	if histErr != nil {
		fmt.Fprintf(stdout, "updates          cannot read: %s\n", oneLine(histErr.Error()))
	} else {
		fmt.Fprintf(stdout, "updates          %d in the last %s", hist.Cadence.Updates, since)
		if hist.Cadence.Updates > 1 {
			fmt.Fprintf(stdout, ", every %s (median), longest gap %s", time.Duration(hist.Cadence.MedianSeconds)*time.Second, time.Duration(hist.Cadence.MaxSeconds)*time.Second)
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

func printFeed(w io.Writer, f feedView) {
	line := func(k, v string) { fmt.Fprintf(w, "%-16s %s\n", k, oneLine(v)) }
	line("feed", f.Address)
	if f.Kind == "sequencer" {
		line("kind", "L2 sequencer uptime (answer 0 up, 1 down)")
	}
	line("health", f.Health.Status)
	for _, p := range f.Health.Problems {
		line("", p)
	}
	if d := f.Details; d != nil {
		line("description", d.Description)
		line("decimals", fmt.Sprint(d.Decimals))
		line("version", d.Version)
		if d.Proxy {
			line("aggregator", d.Aggregator)
		}
	}
	if f.PrevAggregator != "" && f.AggregatorChanged != nil {
		line("previous aggr.", f.PrevAggregator+" (changed "+f.AggregatorChanged.Format(time.RFC3339)+")")
	}
	if l := f.Latest; l != nil {
		line("answer", l.Value+" (raw "+l.Answer+")")
		line("roundId", l.RoundID)
		line("answeredInRound", l.AnsweredInRound)
		line("startedAt", l.StartedAt.Format(time.RFC3339))
		line("updatedAt", l.UpdatedAt.Format(time.RFC3339)+" ("+(time.Duration(f.Health.AgeSeconds)*time.Second).String()+" ago)")
		if l.MinAnswer != "" || l.MaxAnswer != "" {
			line("bounds", l.MinAnswer+" … "+l.MaxAnswer)
		}
	}
	line("heartbeat", (time.Duration(f.HeartbeatSeconds)*time.Second).String()+defaultMark(f.HeartbeatDefault))
	line("deviation", fmt.Sprintf("%g%%%s", f.DeviationPct, defaultMark(f.DeviationDefault)))
	if f.Reference != "" {
		line("reference", f.Reference)
	}
	line("found", f.Source)
	for _, r := range f.Readers {
		stale := ""
		if r.StaleReads > 0 {
			stale = fmt.Sprintf(", %d stale (last in %s)", r.StaleReads, r.LastStaleTx)
		}
		line("read by", fmt.Sprintf("%s: %s got %s in %s at block %d; %d reads%s", r.Reader, r.Method, r.Answer, r.Tx, r.Block, r.Reads, stale))
	}
}

func runOracleAdd(ctx context.Context, args []string, stdout io.Writer) error {
	sp := oracleAddSpec
	fs, cf := serverCommand(sp, false)
	heartbeat := fs.String("heartbeat", "", "the longest the feed may go without an update (30s, 1h, 1d; 0: the default)")
	deviation := fs.Float64("deviation", -1, "the deviation threshold in `PERCENT` (0: the default)")
	reference := fs.String("reference", "", "`ADDRESS` of a feed of the same pair to compare with")
	sequencer := fs.Bool("sequencer", false, "it is an L2 sequencer-uptime feed (answer 0 up, 1 down), judged up, down or in its grace period (--sequencer=false: a price feed)")
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	addr, err := feedArg(sp, pos[0])
	if err != nil {
		return err
	}
	req := map[string]any{"address": addr}
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "heartbeat":
			req["heartbeat"] = *heartbeat
		case "deviation":
			req["deviationPct"] = *deviation
		case "reference":
			req["reference"] = *reference
		case "sequencer":
			req["sequencer"] = *sequencer
		}
	})
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("cannot encode the request: %w", err)
	}
	// Following a feed already followed keeps its thresholds but those given.
	var f feedView
	if err := cf.client().post(ctx, "/api/v1/oracles", "application/json", body, &f); err != nil {
		return fmt.Errorf("cannot follow %s: %w", addr, err)
	}
	printFeed(stdout, f)
	return nil
}
