package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// queryFlags are the flags query and tail share.
type queryFlags struct {
	server, since, until string
	limit                int
	json                 bool
}

func (f *queryFlags) register(fs *flag.FlagSet, withRange bool) {
	fs.StringVar(&f.server, "server", envOr("BLOCKTORCH_SERVER", "http://127.0.0.1:8080"), "URL of the running blocktorch server")
	fs.BoolVar(&f.json, "json", false, "print JSON (one record per line) instead of a table")
	if withRange {
		fs.StringVar(&f.since, "since", "1h", "start of the range: a duration ago (15m, 24h), RFC 3339, or unix seconds; empty: all")
		fs.StringVar(&f.until, "until", "", "end of the range (default: now)")
		fs.IntVar(&f.limit, "limit", 50, "records to print")
	}
}

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("blocktorch query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f queryFlags
	f.register(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError{"usage: blocktorch query [--since 1h] [--until T] [--limit N] [--json] 'QUERY'"}
	}
	v := url.Values{"q": {fs.Arg(0)}, "limit": {fmt.Sprint(f.limit)}}
	if f.since != "" {
		v.Set("from", relative(f.since))
	}
	if f.until != "" {
		v.Set("to", relative(f.until))
	}
	var ans struct {
		Records []map[string]any `json:"records"`
		Table   *struct {
			Columns []string `json:"columns"`
			Rows    [][]any  `json:"rows"`
		} `json:"table"`
		NextCursor string  `json:"nextCursor"`
		Took       float64 `json:"tookMs"`
	}
	if err := apiGet(ctx, f.server, "/api/v1/search?"+v.Encode(), &ans); err != nil {
		return err
	}
	if ans.Table != nil {
		if f.json {
			return json.NewEncoder(stdout).Encode(ans.Table)
		}
		w := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, strings.Join(ans.Table.Columns, "\t"))
		for _, row := range ans.Table.Rows {
			cells := make([]string, len(row))
			for i, c := range row {
				cells[i] = cell(c)
			}
			fmt.Fprintln(w, strings.Join(cells, "\t"))
		}
		return w.Flush()
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		for _, r := range ans.Records {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	printRecords(stdout, ans.Records)
	more := ""
	if ans.NextCursor != "" {
		more = " (more: raise --limit or narrow the query)"
	}
	fmt.Fprintf(stdout, "%d records in %.1f ms%s\n", len(ans.Records), ans.Took, more)
	return nil
}

// relative turns "15m" into the API's "now-15m"; other forms pass as they are.
func relative(s string) string {
	if _, err := time.ParseDuration(s); err == nil || strings.HasSuffix(s, "d") {
		return "now-" + s
	}
	return s
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case float64:
		if x == float64(int64(x)) {
			return fmt.Sprintf("%d", int64(x))
		}
		return fmt.Sprintf("%.4g", x)
	case string:
		return x
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func printRecords(w io.Writer, recs []map[string]any) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, r := range recs {
		t, _ := r["time"].(string)
		if pt, err := time.Parse(time.RFC3339Nano, t); err == nil {
			t = pt.Local().Format("2006-01-02 15:04:05.000")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\n", t, cell(r["level"]), cell(r["source"]), cell(r["kind"]), cell(r["service"]), oneLine(cell(r["message"])))
		if attrs, ok := r["attrs"].(map[string]any); ok && len(attrs) > 0 {
			keys := make([]string, 0, len(attrs))
			for k := range attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, k+"="+oneLine(cell(attrs[k])))
			}
			fmt.Fprintf(tw, "\t\t\t\t  %s\n", strings.Join(parts, " "))
		}
	}
	tw.Flush()
}

// oneLine keeps a record on its line: log text is attacker-controlled and
// may carry newlines or terminal escapes.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("blocktorch tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f queryFlags
	f.register(fs, false)
	if err := fs.Parse(args); err != nil {
		return err
	}
	q := ""
	if fs.NArg() > 1 {
		return usageError{"usage: blocktorch tail [--json] ['QUERY']"}
	}
	if fs.NArg() == 1 {
		q = fs.Arg(0)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(f.server, "/")+"/api/v1/tail?"+url.Values{"q": {q}}.Encode(), nil)
	if err != nil {
		return fmt.Errorf("bad --server URL: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the blocktorch server at %s: %w (is it running? set --server)", f.server, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var env apiEnvelope
		json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&env)
		if env.Caret != "" {
			return fmt.Errorf("%s\n%s", env.Error, env.Caret)
		}
		return fmt.Errorf("the server refused the tail (HTTP %d): %s", resp.StatusCode, env.Error)
	}
	fmt.Fprintln(stderr, "tailing; Ctrl-C to stop")
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		if f.json {
			fmt.Fprintln(stdout, data)
			continue
		}
		var rec map[string]any
		if json.Unmarshal([]byte(data), &rec) == nil {
			printRecords(stdout, []map[string]any{rec})
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return sc.Err()
}
