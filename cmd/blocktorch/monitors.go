package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

var (
	monitorsApplySpec = spec{
		name: "monitors apply", args: "FILE", min: 1, max: 1,
		short:   "apply a monitors file to the server (nothing is applied if any line is wrong)",
		example: "blocktorch monitors apply monitors.yaml",
		about: `Apply a monitors file (schemas/monitors.schema.json) to a running server: its monitors and
channels replace those applied from a file before. Nothing is applied if any line is wrong;
the errors name file:line:column.`,
	}
	monitorsTestSpec = spec{
		name: "monitors test", args: "FILE", min: 1, max: 1,
		short:   "replay a monitors file over the last 24 h: when would they have fired?",
		example: "blocktorch monitors test monitors.yaml",
		about: `Replay a monitors file over the server's stored data (the last 24 h by default) and print
when each monitor would have fired. Nothing is applied.`,
	}
	monitorsListSpec = spec{
		name: "monitors list", min: 0, max: 0,
		short: "the server's monitors and their state",
		about: "List the server's monitors with their kind, origin, severity and state.",
	}
	monitorsGroup = group{
		name:  "monitors",
		about: "Monitors as code on a running server. Each subcommand takes --server and --key.",
	}
)

// runMonitors is "blocktorch monitors apply|test|list".
func runMonitors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	g := monitorsGroup
	g.subs = []groupSub{
		{monitorsApplySpec, func(args []string) error { return runMonitorsFile(ctx, monitorsApplySpec, args, stdout) }},
		{monitorsTestSpec, func(args []string) error { return runMonitorsFile(ctx, monitorsTestSpec, args, stdout) }},
		{monitorsListSpec, func(args []string) error { return runMonitorsList(ctx, args, stdout) }},
	}
	return g.run(args, stdout)
}

// runMonitorsFile is "monitors apply FILE" and "monitors test FILE".
func runMonitorsFile(ctx context.Context, sp spec, args []string, stdout io.Writer) error {
	fs := sp.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	test := sp.name == monitorsTestSpec.name
	var hours float64
	if test {
		fs.Float64Var(&hours, "hours", 24, "how many hours of stored data to replay")
	}
	pos, err := sp.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if test && (hours <= 0 || hours > 24*366) {
		return sp.errorf("--hours %v: want a number of hours above 0, at most a year", hours)
	}
	file := pos[0]
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", file, err)
	}
	v := url.Values{"file": {filepath.Base(file)}}
	path := "/api/v1/monitors/apply"
	if test {
		path = "/api/v1/monitors/dry-run"
		v.Set("hours", fmt.Sprint(hours))
	}
	var out json.RawMessage
	if err := sf.client(defaultServer).post(ctx, path+"?"+v.Encode(), "application/yaml", data, &out); err != nil {
		return err
	}
	if test {
		return printDryRun(stdout, out)
	}
	return printApply(stdout, file, out)
}

func runMonitorsList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := monitorsListSpec.newFlags()
	var sf serverFlags
	sf.register(fs, "")
	if _, err := monitorsListSpec.parse(fs, args, stdout); err != nil {
		return err
	}
	var ms []struct {
		Spec struct {
			ID, Name, Kind, Severity string
		} `json:"spec"`
		Origin string `json:"origin"`
		Error  string `json:"error"`
		Alerts []struct {
			State, Key, Summary string
		} `json:"alerts"`
	}
	if err := sf.client(defaultServer).get(ctx, "/api/v1/monitors", &ms); err != nil {
		return err
	}
	for _, m := range ms {
		state := "ok"
		for _, a := range m.Alerts {
			if a.State == "firing" {
				state = "FIRING"
			} else if a.State == "pending" && state == "ok" {
				state = "pending"
			}
		}
		if m.Error != "" {
			state = "idle: " + m.Error
		}
		fmt.Fprintf(stdout, "%-32s %-8s %-8s %-8s %s\n", oneLine(m.Spec.ID), oneLine(m.Spec.Kind), oneLine(m.Origin), oneLine(m.Spec.Severity), oneLine(state))
	}
	return nil
}

func printApply(w io.Writer, file string, data json.RawMessage) error {
	var r struct {
		Created, Updated, Deleted, Unchanged []string
		Channels                             int
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	fmt.Fprintf(w, "applied %s: %d created, %d updated, %d deleted, %d unchanged, %d channels\n",
		file, len(r.Created), len(r.Updated), len(r.Deleted), len(r.Unchanged), r.Channels)
	for _, x := range []struct {
		verb string
		ids  []string
	}{{"created", r.Created}, {"updated", r.Updated}, {"deleted", r.Deleted}} {
		for _, id := range x.ids {
			fmt.Fprintf(w, "  %s %s\n", x.verb, oneLine(id))
		}
	}
	return nil
}

func printDryRun(w io.Writer, data json.RawMessage) error {
	var r struct {
		From, To time.Time
		Blocks   int
		Monitors []struct {
			ID, Kind, Skipped string
			Partial           string
			Value             string
			Block             uint64
			Firings           []struct {
				Status  string
				Time    time.Time
				Block   uint64
				Tx      string
				Summary string
			}
		}
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	fmt.Fprintf(w, "replayed %s to %s (%d blocks)\n", r.From.Local().Format(time.DateTime), r.To.Local().Format(time.DateTime), r.Blocks)
	for _, m := range r.Monitors {
		fires := 0
		for _, f := range m.Firings {
			if f.Status == "firing" {
				fires++
			}
		}
		fmt.Fprintf(w, "\n%s (%s): would have fired %d times\n", oneLine(m.ID), oneLine(m.Kind), fires)
		if m.Skipped != "" {
			fmt.Fprintf(w, "  note: %s\n", oneLine(m.Skipped))
		}
		if m.Partial != "" {
			fmt.Fprintf(w, "  note: %s\n", oneLine(m.Partial))
		}
		if m.Value != "" {
			fmt.Fprintf(w, "  last value %s at block %d\n", oneLine(m.Value), m.Block)
		}
		for _, f := range m.Firings {
			where := ""
			if f.Block > 0 {
				where = fmt.Sprintf(" block %d", f.Block)
			}
			fmt.Fprintf(w, "  %s %-8s%s  %s\n", f.Time.Local().Format(time.DateTime), f.Status, where, oneLine(f.Summary))
		}
	}
	return nil
}
