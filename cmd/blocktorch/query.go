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
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
)

var querySpec = spec{
	name: "query", args: "'QUERY'", min: 1, max: 1,
	example: "blocktorch query 'level:error'",
	about: `Search chain data and logs on a running server and print the matching records, newest first,
or the table of a query with pipes (stats, timechart, top…). The language is described in the
README and in the UI's Explore help. Put the query in single quotes; "--" before it if it
starts with "-".`,
}

var tailSpec = spec{
	name: "tail", args: "['QUERY']", min: 0, max: 1,
	about: "Follow the records that match QUERY (every record without one) live, until Ctrl-C.",
}

// timeSyntax is the one syntax --since and --until take, as the help and
// the errors say it.
const timeSyntax = "a duration ago (30s, 15m, 24h, 7d), an RFC 3339 time (2026-01-02T15:04:05Z) or unix seconds"

// queryFlags are the flags query and tail share.
type queryFlags struct {
	serverFlags
	since, until string
	limit        int
	json         bool
}

func (f *queryFlags) register(fs *flag.FlagSet, withRange bool) {
	f.serverFlags.register(fs, "")
	fs.BoolVar(&f.json, "json", false, "print JSON (one record per line) instead of a table")
	if withRange {
		fs.StringVar(&f.since, "since", "1h", "start of the range, a `TIME`: "+timeSyntax+"; empty: all")
		fs.StringVar(&f.until, "until", "", "end of the range, a `TIME` as for --since (default now)")
		fs.IntVar(&f.limit, "limit", 50, "`N` records to print")
	}
}

func runQuery(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := querySpec.newFlags()
	var f queryFlags
	f.register(fs, true)
	pos, err := querySpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	if f.limit <= 0 {
		return querySpec.errorf("--limit %d: want a positive number of records", f.limit)
	}
	v := url.Values{"q": {pos[0]}, "limit": {fmt.Sprint(f.limit)}}
	for _, t := range []struct{ flag, value, param string }{{"since", f.since, "from"}, {"until", f.until, "to"}} {
		if t.value == "" {
			continue
		}
		at, err := timeArg(t.value)
		if err != nil {
			return querySpec.errorf("--%s %q is not a time: use %s", t.flag, t.value, timeSyntax)
		}
		v.Set(t.param, at)
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
	if err := f.client(defaultServer).get(ctx, "/api/v1/search?"+v.Encode(), &ans); err != nil {
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
				cells[i] = oneLine(cell(c))
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

// timeArg checks a --since or --until value and returns it as the API
// takes it: a duration d as "now-d", other forms as they are.
func timeArg(s string) (string, error) {
	if _, err := query.ParseDuration(s); err == nil {
		return "now-" + s, nil
	}
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return s, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		return s, nil
	}
	return "", fmt.Errorf("%q is not a time", s)
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
		fmt.Fprintf(tw, "%s\t%s\t%s/%s\t%s\t%s\n", oneLine(t), oneLine(cell(r["level"])), oneLine(cell(r["source"])), oneLine(cell(r["kind"])), oneLine(cell(r["service"])), oneLine(cell(r["message"])))
		if attrs, ok := r["attrs"].(map[string]any); ok && len(attrs) > 0 {
			keys := make([]string, 0, len(attrs))
			for k := range attrs {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			var parts []string
			for _, k := range keys {
				parts = append(parts, oneLine(k)+"="+oneLine(cell(attrs[k])))
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
	fs := tailSpec.newFlags()
	var f queryFlags
	f.register(fs, false)
	pos, err := tailSpec.parse(fs, args, stdout)
	if err != nil {
		return err
	}
	q := ""
	if len(pos) == 1 {
		q = pos[0]
	}
	c := f.client(defaultServer)
	resp, err := c.do(ctx, http.MethodGet, "/api/v1/tail?"+url.Values{"q": {q}}.Encode(), "", nil)
	if err != nil {
		return err
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
