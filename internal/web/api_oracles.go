package web

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The price feeds API (routes.go lists it):
//
//	GET  /api/v1/oracles                      followed feeds with details and health (?reader=0x… : only those it read)
//	POST /api/v1/oracles                      follow a feed: {"address":"0x…", thresholds as below}
//	GET  /api/v1/oracles/{address}            one feed: details, health (each check's verdict with an
//	                                          Explore permalink to the records behind it), readers
//	POST /api/v1/oracles/{address}            set thresholds: {"heartbeat":"1h","deviationPct":0.5,"reference":"0x…"},
//	                                          or the kind: {"sequencer":true} (an L2 sequencer-uptime feed)
//	                                          ("0s", 0 and "" return each to the default or none)
//	GET  /api/v1/oracles/{address}/history    answers with their update transactions and the cadence (?from=&to=)

// oracleRequest is the body of the POSTs.
type oracleRequest struct {
	Address      string   `json:"address,omitempty"`
	Heartbeat    *string  `json:"heartbeat,omitempty"`
	DeviationPct *float64 `json:"deviationPct,omitempty"`
	Reference    *string  `json:"reference,omitempty"`
	// Sequencer follows the feed as an L2 sequencer-uptime feed (true)
	// or as a price feed (false).
	Sequencer *bool `json:"sequencer,omitempty"`
}

// thresholds turns the request into oracle.Thresholds.
func (q oracleRequest) thresholds() (oracle.Thresholds, error) {
	var t oracle.Thresholds
	if q.Heartbeat != nil {
		var d time.Duration
		if s := strings.TrimSpace(*q.Heartbeat); s != "" && s != "0" {
			var err error
			if d, err = query.ParseDuration(s); err != nil || d < 0 {
				return t, errorf(kindBadRequest, "heartbeat %q is not a duration like 30s, 1h or 1d", *q.Heartbeat)
			}
		}
		t.Heartbeat = &d
	}
	t.DeviationPct = q.DeviationPct
	if q.Reference != nil {
		var ref common.Address
		if s := strings.TrimSpace(*q.Reference); s != "" {
			var err error
			if ref, err = parseAddress(s); err != nil {
				return t, err
			}
		}
		t.Reference = &ref
	}
	t.Sequencer = q.Sequencer
	return t, nil
}

func (s *Server) handleOracles(w http.ResponseWriter, r *http.Request) {
	feeds, err := s.deps.Oracles.List(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if v := r.URL.Query().Get("reader"); v != "" {
		reader, err := parseAddress(v)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if feeds, err = s.feedsReadBy(r.Context(), feeds, reader); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	writeData(w, feeds)
}

// feedsReadBy keeps the feeds reader was seen reading, each with its read.
func (s *Server) feedsReadBy(ctx context.Context, feeds []oracle.Feed, reader common.Address) ([]oracle.Feed, error) {
	out := []oracle.Feed{}
	for _, f := range feeds {
		reads, err := s.deps.Oracles.Store.OracleReads(ctx, f.Address)
		if err != nil {
			return nil, err
		}
		for _, rd := range reads {
			if rd.Reader == reader {
				f.Readers = []store.OracleRead{rd}
				out = append(out, f)
				break
			}
		}
	}
	return out, nil
}

// feedAddress reads the {address} path value.
func feedAddress(r *http.Request) (common.Address, error) {
	return parseAddress(r.PathValue("address"))
}

func (s *Server) handleAddOracle(w http.ResponseWriter, r *http.Request) {
	var req oracleRequest
	err := readJSON(w, r, &req)
	var addr common.Address
	if err == nil {
		addr, err = parseAddress(req.Address)
	}
	s.applyOracle(w, r, addr, req, true, err)
}

func (s *Server) handleSetOracle(w http.ResponseWriter, r *http.Request) {
	addr, err := feedAddress(r)
	var req oracleRequest
	if err == nil {
		err = readJSON(w, r, &req)
	}
	if err == nil && req.Address != "" && !strings.EqualFold(req.Address, addr.Hex()) {
		err = errorf(kindBadRequest, "the body names %s, the path %s", req.Address, addr.Hex())
	}
	s.applyOracle(w, r, addr, req, false, err)
}

// applyOracle follows the feed (when add) and sets the thresholds the
// request gives, checked before anything is stored, then answers the feed
// as it now is; err is what reading the request failed with.
func (s *Server) applyOracle(w http.ResponseWriter, r *http.Request, addr common.Address, req oracleRequest, add bool, err error) {
	var t oracle.Thresholds
	if err == nil {
		t, err = req.thresholds()
	}
	if err == nil && add {
		_, err = s.deps.Oracles.Add(r.Context(), addr, store.FeedSourceManual)
	}
	if err == nil && (t.Heartbeat != nil || t.DeviationPct != nil || t.Reference != nil || t.Sequencer != nil) {
		_, err = s.deps.Oracles.SetThresholds(r.Context(), addr, t)
	}
	var f oracle.Feed
	if err == nil {
		f, err = s.deps.Oracles.Get(r.Context(), addr)
	}
	switch {
	case err != nil:
		writeError(w, r, s.log, err)
	case add:
		writeCreated(w, f)
	default:
		writeData(w, f)
	}
}

func (s *Server) handleOracle(w http.ResponseWriter, r *http.Request) {
	addr, err := feedAddress(r)
	var f oracle.Feed
	if err == nil {
		f, err = s.deps.Oracles.Get(r.Context(), addr)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, f)
}

func (s *Server) handleOracleHistory(w http.ResponseWriter, r *http.Request) {
	addr, err := feedAddress(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if _, err := s.deps.Oracles.Store.OracleFeed(r.Context(), addr); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	now := s.deps.Now()
	from, err := parseTime(r.URL.Query().Get("from"), now)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "from: %v", err))
		return
	}
	to, err := parseTime(r.URL.Query().Get("to"), now)
	if err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "to: %v", err))
		return
	}
	h, err := s.deps.Oracles.History(r.Context(), addr, from, to)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, h)
}
