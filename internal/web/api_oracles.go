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
//	GET  /api/v1/oracles/{address}            one feed: details, health, readers
//	POST /api/v1/oracles/{address}            set thresholds: {"heartbeat":"1h","deviationPct":0.5,"reference":"0x…"}
//	                                          ("0s", 0 and "" return each to the default or none)
//	GET  /api/v1/oracles/{address}/history    answers with their update transactions and the cadence (?from=&to=)

// oracleRequest is the body of the POSTs.
type oracleRequest struct {
	Address      string   `json:"address,omitempty"`
	Heartbeat    *string  `json:"heartbeat,omitempty"`
	DeviationPct *float64 `json:"deviationPct,omitempty"`
	Reference    *string  `json:"reference,omitempty"`
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

func (s *Server) handleAddOracle(w http.ResponseWriter, r *http.Request) {
	var req oracleRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	addr, err := parseAddress(req.Address)
	if err == nil {
		err = s.setOracle(r.Context(), addr, req, true)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.deps.Oracles.Get(r.Context(), addr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeCreated(w, f)
}

// setOracle follows the feed (when add) and sets the thresholds the
// request gives; thresholds are checked before anything is stored.
func (s *Server) setOracle(ctx context.Context, addr common.Address, req oracleRequest, add bool) error {
	t, err := req.thresholds()
	if err != nil {
		return err
	}
	if add {
		if _, err := s.deps.Oracles.Add(ctx, addr, store.FeedSourceManual); err != nil {
			return err
		}
	}
	if t.Heartbeat != nil || t.DeviationPct != nil || t.Reference != nil {
		if _, err := s.deps.Oracles.SetThresholds(ctx, addr, t); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) handleSetOracle(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req oracleRequest
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Address != "" && !strings.EqualFold(req.Address, addr.Hex()) {
		writeError(w, r, s.log, errorf(kindBadRequest, "the body names %s, the path %s", req.Address, addr.Hex()))
		return
	}
	if err := s.setOracle(r.Context(), addr, req, false); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.deps.Oracles.Get(r.Context(), addr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, f)
}

func (s *Server) handleOracle(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	f, err := s.deps.Oracles.Get(r.Context(), addr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, f)
}

func (s *Server) handleOracleHistory(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
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
