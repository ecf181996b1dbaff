package vlhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// Options tune a Client. The zero value is usable.
type Options struct {
	// CursorKey signs search cursors; every blocktorch node sharing the
	// server must use the same key.
	CursorKey []byte
	// Flush makes every append searchable before it returns, with the
	// server's /internal/force_flush (the server otherwise makes rows
	// searchable within a second). Tests set it; it costs the server
	// small parts to merge.
	Flush bool
	// FutureLimit is how far past now the server stores records (its
	// -futureRetention, 2 days by default); later records are refused
	// here, before anything is sent, since the server drops them
	// silently. 0 means 48 hours.
	FutureLimit time.Duration
	// HTTP is the client; nil means one with a 30 s timeout per request.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client is a records backend on a VictoriaLogs server, single node or
// the insert/select node of a cluster: it writes records with
// /insert/jsonline and searches them through logsql.Searcher over
// /select/logsql/query. Safe for concurrent use.
type Client struct {
	base *url.URL
	opts Options
	http *http.Client
	ids  logsql.IDs
	*logsql.Searcher
}

var (
	_ store.RecordWriter   = (*Client)(nil)
	_ store.RecordRetainer = (*Client)(nil)
	_ store.Searcher       = (*Client)(nil)
	_ logsql.Runner        = (*Client)(nil)
)

// Open returns a client of the server at base (http://HOST:9428) after
// checking that it answers.
func Open(ctx context.Context, base string, opts Options) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("cannot use VictoriaLogs at %q: want http://HOST:PORT", base)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, opts: opts, http: opts.HTTP}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.opts.FutureLimit == 0 {
		c.opts.FutureLimit = 48 * time.Hour
	}
	if c.opts.Now == nil {
		c.opts.Now = time.Now
	}
	c.Searcher = &logsql.Searcher{Runner: c, CursorKey: opts.CursorKey}
	resp, err := c.do(ctx, http.MethodGet, "/health", nil, "")
	if err != nil {
		return nil, fmt.Errorf("cannot reach VictoriaLogs at %s: %w", u.Redacted(), err)
	}
	resp.Body.Close()
	return c, nil
}

// Close releases nothing: the server holds the records.
func (c *Client) Close() error { return nil }

func (c *Client) do(ctx context.Context, method, path string, form url.Values, body string) (*http.Response, error) {
	u := *c.base
	u.Path += path
	var rd io.Reader
	ctype := ""
	switch {
	case body != "":
		rd = strings.NewReader(body)
		ctype = "application/stream+json"
		if form != nil {
			u.RawQuery = form.Encode()
		}
	case form != nil:
		rd = strings.NewReader(form.Encode())
		ctype = "application/x-www-form-urlencoded"
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, &serverError{status: resp.StatusCode, msg: strings.TrimSpace(string(msg))}
	}
	return resp, nil
}

// serverError is a non-2xx answer.
type serverError struct {
	status int
	msg    string
}

func (e *serverError) Error() string {
	return fmt.Sprintf("VictoriaLogs answered %d: %s", e.status, e.msg)
}

// translate maps a server error to the store's: a refused query to
// store.ErrInvalid, a cluster node that did not answer to
// logsql.ErrPartial.
func translate(err error) error {
	var se *serverError
	if !errors.As(err, &se) {
		return err
	}
	low := strings.ToLower(se.msg)
	switch {
	case strings.Contains(low, "storage node") || strings.Contains(low, "vlstorage") || strings.Contains(low, "storagenode"):
		return fmt.Errorf("%w: %v", logsql.ErrPartial, err)
	case se.status == http.StatusBadRequest:
		return fmt.Errorf("%w: the records server refuses the query: %s", store.ErrInvalid, se.msg)
	}
	return err
}

// RunQuery runs a LogsQL query with /select/logsql/query and streams its
// rows to fn.
func (c *Client) RunQuery(ctx context.Context, q string, fn func(row []logsql.Field) error) error {
	resp, err := c.do(ctx, http.MethodPost, "/select/logsql/query", url.Values{"query": {q}}, "")
	if err != nil {
		return translate(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	var row []logsql.Field
	for {
		var m map[string]string
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("cannot read the records server's answer: %w", err)
		}
		row = row[:0]
		for k, v := range m {
			row = append(row, logsql.Field{Name: k, Value: v})
		}
		if err := fn(row); err != nil {
			return err
		}
	}
}

// minTime is the oldest time the server stores.
var minTime = time.Unix(0, 0)

// AppendRecords sends every record, or none when one is refused here;
// it assigns their IDs.
func (c *Client) AppendRecords(ctx context.Context, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := c.append(ctx, recs); err != nil {
		return fmt.Errorf("cannot append %d records: %w", len(recs), err)
	}
	return nil
}

func (c *Client) append(ctx context.Context, recs []record.Record) error {
	maxTime := c.opts.Now().Add(c.opts.FutureLimit)
	for i := range recs {
		t := recs[i].Time
		if t.Before(minTime) || t.After(maxTime) {
			return fmt.Errorf("%w: record %d has time %s, outside what the records server stores (1970 to now+%s)",
				store.ErrInvalid, i, t.UTC().Format(time.RFC3339Nano), c.opts.FutureLimit)
		}
	}
	// IDs in time order, so that records of equal time keep the order
	// they came in.
	order := make([]int, len(recs))
	for i := range order {
		order[i] = i
	}
	sortStableByTime(order, recs)
	ids := make([]int64, len(recs))
	for _, i := range order {
		var err error
		if ids[i], err = c.ids.For(recs[i].Time); err != nil {
			return err
		}
	}
	var body bytes.Buffer
	var fields []logsql.Field
	for i := range recs {
		r := recs[i]
		r.ID = ids[i]
		var err error
		if fields, _, err = logsql.Encode(fields[:0], &r); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		body.WriteString(`{"_time":`)
		writeJSONString(&body, logsql.FormatTime(r.Time))
		for _, f := range fields {
			body.WriteByte(',')
			writeJSONString(&body, f.Name)
			body.WriteByte(':')
			writeJSONString(&body, f.Value)
		}
		body.WriteString("}\n")
	}
	form := url.Values{"_stream_fields": {strings.Join(logsql.StreamFields, ",")}, "_time_field": {"_time"},
		"_msg_field": {"_msg"}}
	resp, err := c.do(ctx, http.MethodPost, "/insert/jsonline", form, body.String())
	if err != nil {
		return translate(err)
	}
	resp.Body.Close()
	if c.opts.Flush {
		if err := c.flush(ctx); err != nil {
			return err
		}
	}
	for i := range recs {
		recs[i].ID = ids[i]
	}
	return nil
}

// flush makes what was sent searchable.
func (c *Client) flush(ctx context.Context) error {
	resp, err := c.do(ctx, http.MethodGet, "/internal/force_flush", nil, "")
	if err != nil {
		return fmt.Errorf("cannot flush the records server: %w", translate(err))
	}
	resp.Body.Close()
	return nil
}

func sortStableByTime(order []int, recs []record.Record) {
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && recs[order[j]].Time.Before(recs[order[j-1]].Time); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	j, _ := json.Marshal(s)
	b.Write(j)
}

// Retain deletes the records of source older than olderThan with the
// server's delete task, and waits until they are gone.
func (c *Client) Retain(ctx context.Context, source string, olderThan time.Time) (int64, error) {
	f := "{" + logsql.FieldSource + "=" + strconv.Quote(source) + "} AND _time:<" + logsql.FormatTime(olderThan)
	n, err := c.deleteWhere(ctx, f)
	if err != nil {
		return n, fmt.Errorf("cannot delete %s records older than %s: %w", source, olderThan.UTC().Format(time.RFC3339), err)
	}
	return n, nil
}

// deleteWhere deletes the records a LogsQL filter selects and returns how
// many there were.
func (c *Client) deleteWhere(ctx context.Context, filter string) (int64, error) {
	count := func() (int64, error) {
		var n int64
		err := c.RunQuery(ctx, "("+filter+") AND "+logsql.Live+" | stats count() as n", func(row []logsql.Field) error {
			for _, f := range row {
				if f.Name == "n" {
					var err error
					n, err = strconv.ParseInt(f.Value, 10, 64)
					return err
				}
			}
			return nil
		})
		return n, err
	}
	n, err := count()
	if err != nil || n == 0 {
		return 0, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/delete/run_task", url.Values{"filter": {filter}}, "")
	if err != nil {
		return 0, translate(err)
	}
	resp.Body.Close()
	// The task runs in the background: wait until the rows are gone.
	deadline := time.Now().Add(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		left, err := count()
		if err != nil {
			return 0, err
		}
		if left == 0 {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("the records server still holds %d of the %d records to delete after 2 minutes", left, n)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
	}
}
