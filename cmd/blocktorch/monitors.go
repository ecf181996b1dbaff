package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// runMonitors is "blocktorch monitors apply|test|list".
func runMonitors(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"monitors needs a subcommand: apply FILE, test FILE or list"}
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("monitors "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", envOr("BLOCKTORCH_SERVER", "http://127.0.0.1:8080"), "URL of the running blocktorch server")
	hours := fs.Float64("hours", 24, "test: how many hours of stored data to replay")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	switch sub {
	case "apply", "test":
		if fs.NArg() != 1 {
			return usageError{"monitors " + sub + " needs one FILE"}
		}
		file := fs.Arg(0)
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", file, err)
		}
		v := url.Values{"file": {filepath.Base(file)}}
		path := "/api/v1/monitors/apply"
		if sub == "test" {
			path = "/api/v1/monitors/dry-run"
			v.Set("hours", fmt.Sprint(*hours))
		}
		var out json.RawMessage
		if err := apiPost(ctx, *server, path+"?"+v.Encode(), "application/yaml", data, &out); err != nil {
			return err
		}
		if sub == "apply" {
			return printApply(stdout, file, out)
		}
		return printDryRun(stdout, out)
	case "list":
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
		if err := apiGet(ctx, *server, "/api/v1/monitors", &ms); err != nil {
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
			fmt.Fprintf(stdout, "%-32s %-8s %-8s %-8s %s\n", m.Spec.ID, m.Spec.Kind, m.Origin, m.Spec.Severity, state)
		}
		return nil
	}
	return usageError{fmt.Sprintf("unknown monitors subcommand %q (want apply, test or list)", sub)}
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
			fmt.Fprintf(w, "  %s %s\n", x.verb, id)
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
		fmt.Fprintf(w, "\n%s (%s): would have fired %d times\n", m.ID, m.Kind, fires)
		if m.Skipped != "" {
			fmt.Fprintf(w, "  note: %s\n", m.Skipped)
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
