package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// tailPoll is how often a live tail looks for new records.
const tailPoll = 500 * time.Millisecond

// searchRequest parses the parameters every search endpoint shares: q,
// from, to, limit, cursor, order.
func (s *Server) searchRequest(r *http.Request, now time.Time) (store.SearchRequest, string, error) {
	v := r.URL.Query()
	q := v.Get("q")
	var req store.SearchRequest
	parsed, err := query.Parse(q)
	if err != nil {
		return req, q, err
	}
	req.Query = parsed
	if req.From, err = parseTime(v.Get("from"), now); err != nil {
		return req, q, errorf(kindBadRequest, "from: %v", err)
	}
	if req.To, err = parseTime(v.Get("to"), now); err != nil {
		return req, q, errorf(kindBadRequest, "to: %v", err)
	}
	if !req.From.IsZero() && !req.To.IsZero() && !req.From.Before(req.To) {
		return req, q, errorf(kindBadRequest, "from (%s) must be before to (%s)", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > query.MaxLimit {
			return req, q, errorf(kindBadRequest, "limit must be a number from 1 to %d, got %q", query.MaxLimit, l)
		}
		req.Limit = n
	}
	req.Cursor = v.Get("cursor")
	switch o := v.Get("order"); o {
	case "", "desc", "newest":
		req.Order = store.NewestFirst
	case "asc", "oldest":
		req.Order = store.OldestFirst
	default:
		return req, q, errorf(kindBadRequest, "order must be desc or asc, got %q", o)
	}
	return req, q, nil
}

// Searchable times: records carry times from 1970 to 2199, and a range
// outside would overflow the nanosecond arithmetic of histograms
// (int64 nanoseconds span ~292 years).
var (
	minRangeTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxRangeTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// parseTime reads RFC 3339, unix seconds or milliseconds, "now", or a
// relative "now-15m" / "-15m" / "15m" (that long ago), between 1970 and
// 2200.
func parseTime(s string, now time.Time) (time.Time, error) {
	t, err := parseTimeAny(s, now)
	if err != nil || t.IsZero() {
		return t, err
	}
	if t.Before(minRangeTime) || t.After(maxRangeTime) {
		return time.Time{}, fmt.Errorf("%s is outside the searchable times, 1970-01-01T00:00:00Z to 2200-01-01T00:00:00Z", t.UTC().Format(time.RFC3339))
	}
	return t, nil
}

func parseTimeAny(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case s == "now":
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > 1e12 || n < -1e12 {
			return time.UnixMilli(n), nil
		}
		return time.Unix(n, 0), nil
	}
	rel := strings.TrimPrefix(strings.TrimPrefix(s, "now"), "-")
	if d, err := query.ParseDuration(rel); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: use RFC 3339 (2026-01-02T15:04:05Z), unix seconds, now, or now-DURATION (now-15m, now-24h, now-3650d)", s)
}

// searchError answers a failed search; a query error carries its position
// and a caret line for the UI and the CLI.
func (s *Server) searchError(w http.ResponseWriter, r *http.Request, q string, err error) {
	var qe *query.Error
	if errors.As(err, &qe) {
		writeJSON(w, http.StatusBadRequest, map[string]any{
			"status": "error", "errorKind": kindBadQuery, "error": qe.Error(),
			"position": qe.Pos, "line": qe.Line, "column": qe.Col, "caret": qe.Caret(q),
		})
		return
	}
	writeError(w, r, s.log, err)
}

type searchAnswer struct {
	Records    []record.Record `json:"records"` // empty, not absent, when nothing matches; null for a table
	NextCursor string          `json:"nextCursor,omitempty"`
	Table      *store.Table    `json:"table,omitempty"`
	Query      string          `json:"query"` // canonical form
	Took       float64         `json:"tookMs"`
}

// hasPipes reports whether the query has pipes that make a table.
func hasPipes(q *query.Query) bool { return q != nil && len(q.Pipes) > 0 }

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	req, q, err := s.searchRequest(r, start)
	if err != nil {
		s.searchError(w, r, q, err)
		return
	}
	ans := searchAnswer{Query: req.Query.String()}
	if hasPipes(req.Query) {
		t, err := s.deps.Search.Table(r.Context(), req)
		if err != nil {
			s.searchError(w, r, q, err)
			return
		}
		ans.Table = &t
	} else {
		ans.Records = []record.Record{}
		ans.NextCursor, err = s.deps.Search.Search(r.Context(), req, func(rec record.Record) error {
			ans.Records = append(ans.Records, rec)
			return nil
		})
		if err != nil {
			s.searchError(w, r, q, err)
			return
		}
	}
	ans.Took = float64(time.Since(start).Microseconds()) / 1000
	writeData(w, ans)
}

func (s *Server) handleHistogram(w http.ResponseWriter, r *http.Request) {
	req, q, err := s.searchRequest(r, time.Now())
	if err != nil {
		s.searchError(w, r, q, err)
		return
	}
	buckets := 60
	if b := r.URL.Query().Get("buckets"); b != "" {
		if buckets, err = strconv.Atoi(b); err != nil || buckets < 1 || buckets > 1000 {
			writeError(w, r, s.log, errorf(kindBadRequest, "buckets must be a number from 1 to 1000, got %q", b))
			return
		}
	}
	hist, err := s.deps.Search.Histogram(r.Context(), req, buckets)
	if err != nil {
		s.searchError(w, r, q, err)
		return
	}
	if hist == nil {
		hist = []store.Bucket{}
	}
	writeData(w, map[string]any{"buckets": hist, "query": req.Query.String()})
}

// handleTail streams matching records as Server-Sent Events as they are
// stored: one "record" event each, and a comment every 15 s to keep
// proxies from closing the connection. It follows record time, so a record
// stored late with an older time is not sent.
func (s *Server) handleTail(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	req, q, err := s.searchRequest(r, now)
	if err != nil {
		s.searchError(w, r, q, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, r, s.log, errors.New("the response writer cannot stream"))
		return
	}
	if req.From.IsZero() {
		req.From = now
	}
	req.To = time.Time{}
	req.Order = store.OldestFirst
	req.Cursor = ""
	if req.Limit == 0 {
		req.Limit = 1000
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, ": tailing %s\n\n", strings.ReplaceAll(req.Query.String(), "\n", " "))
	flusher.Flush()

	sent := map[int64]bool{} // IDs sent at the newest time seen
	last := req.From
	tick := time.NewTicker(tailPoll)
	defer tick.Stop()
	keepalive := time.NewTicker(15 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
			continue
		case <-tick.C:
		}
		req.From = last
		n := 0
		_, err := s.deps.Search.Search(r.Context(), req, func(rec record.Record) error {
			if sent[rec.ID] && rec.Time.Equal(last) {
				return nil
			}
			if rec.Time.After(last) {
				last = rec.Time
				clear(sent)
			}
			sent[rec.ID] = true
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "event: record\nid: %d\ndata: %s\n\n", rec.ID, b)
			n++
			return nil
		})
		if err != nil {
			if r.Context().Err() == nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("tail search failed", "err", err)
				fmt.Fprintf(w, "event: error\ndata: %q\n\n", "search failed; see the server log")
				flusher.Flush()
			}
			return
		}
		if n > 0 {
			flusher.Flush()
		}
	}
}
