package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

// handleOraclesPage lists the followed price feeds with their health;
// oracle.js fills the table from GET /api/v1/oracles.
func (s *Server) handleOraclesPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "oracles.html", map[string]any{"Title": "Price feeds", "Page": "oracles", "Active": "oracles"})
}

// handleOraclePage shows one feed: details, live age, the chart of its
// answers, readers; oracle.js reads them from the oracles API.
func (s *Server) handleOraclePage(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if _, err := s.deps.Oracles.Store.OracleFeed(r.Context(), addr); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = errorf(kindNotFound, "%s is not a followed price feed; follow it with: blocktorch oracle add %s", addr.Hex(), addr.Hex())
		}
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "oracle.html", map[string]any{"Title": "Price feed " + addr.Hex(), "Page": "oracle",
		"Active": "oracles", "Address": addr.Hex()})
}

// feedReads lists the reads of followed feeds by reader, for its contract
// page; the contract itself, when it is a followed feed, comes back as
// isFeed.
func (s *Server) feedReads(ctx context.Context, reader common.Address) (reads []store.OracleRead, isFeed bool, err error) {
	if s.deps.Oracles == nil {
		return nil, false, nil
	}
	feeds, err := s.deps.Oracles.Store.OracleFeeds(ctx)
	if err != nil {
		return nil, false, err
	}
	for _, f := range feeds {
		isFeed = isFeed || f.Address == reader
		rs, err := s.deps.Oracles.Store.OracleReads(ctx, f.Address)
		if err != nil {
			return nil, false, err
		}
		for _, rd := range rs {
			if rd.Reader == reader {
				reads = append(reads, rd)
			}
		}
	}
	return reads, isFeed, nil
}
