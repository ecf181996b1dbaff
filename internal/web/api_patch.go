package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/query"
	"github.com/blocktorch/blocktorch/internal/record"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The patch check's API (routes.go lists it): start a check of a new
// implementation's build against chosen transactions, follow it, and read
// which transactions a set names; the page is /patch (patch.js).

// maxPatchBody bounds a check's request: the build's JSON is in it.
const maxPatchBody = 64 << 20

// patchRequest is the body of POST /api/v1/patch-check.
type patchRequest struct {
	Target   common.Address  `json:"target"`
	Contract string          `json:"contract"`
	Txs      string          `json:"txs"`
	Sample   int             `json:"sample"`
	Deployed *common.Address `json:"deployed,omitempty"`
	// Build names a build the server offers (patch.Service.Builds) instead
	// of an uploaded one; its target and deployment fill those left empty.
	Build string `json:"build,omitempty"`
	// BuildInfo is a Hardhat or Foundry build-info file; Input and Output
	// a solc standard-JSON pair. One of them holds the new implementation.
	BuildInfo json.RawMessage `json:"buildInfo,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
}

// handlePatchCheck serves POST /api/v1/patch-check: the check starts in
// the background and the answer is its run, which GET
// /api/v1/patch-check/{id} follows.
func (s *Server) handlePatchCheck(w http.ResponseWriter, r *http.Request) {
	var req patchRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, maxPatchBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, r, s.log, errorf(kindBadRequest, "cannot decode the patch check: %v", err))
		return
	}
	var arts []contracts.Artifact
	var err error
	if req.Build != "" {
		arts, err = s.offeredBuild(&req)
	} else {
		arts, err = loadUploadedBuild(req)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	pr := patch.Request{Artifacts: arts, Contract: req.Contract, Target: req.Target, Sample: req.Sample, Deployed: req.Deployed}
	set := ""
	if strings.TrimSpace(req.Txs) != "" {
		st, err := patch.ParseSet(req.Txs)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		if pr.Txs, err = s.patchTxs(r.Context(), st, req.Target); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		set = st.String()
	}
	id, err := s.deps.Patch.Start(r.Context(), pr, set)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	run, err := s.deps.Patch.Get(r.Context(), id)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, run)
}

// offeredBuild returns the artifacts of the build the request names and
// fills the request's empty target, contract and deployment from it.
func (s *Server) offeredBuild(req *patchRequest) ([]contracts.Artifact, error) {
	if len(req.BuildInfo) > 0 && string(req.BuildInfo) != "null" || len(req.Input) > 0 || len(req.Output) > 0 {
		return nil, errorf(kindBadRequest, "give either an offered build or an uploaded one, not both")
	}
	b, err := s.deps.Patch.Build(req.Build)
	if err != nil {
		return nil, err
	}
	if req.Target == (common.Address{}) {
		req.Target = b.Target
	}
	if req.Contract == "" {
		req.Contract = b.Contract
	}
	if req.Deployed == nil && req.Target == b.Target {
		req.Deployed = b.Deployed
	}
	return b.Artifacts, nil
}

// loadUploadedBuild reads the build of a request through the loaders
// `blocktorch verify` uses, from files in a temporary directory.
func loadUploadedBuild(req patchRequest) ([]contracts.Artifact, error) {
	hasBI := len(req.BuildInfo) > 0 && string(req.BuildInfo) != "null"
	hasStd := len(req.Input) > 0 || len(req.Output) > 0
	switch {
	case hasBI && hasStd:
		return nil, errorf(kindBadRequest, "give either buildInfo or input and output, not both")
	case !hasBI && !hasStd:
		return nil, errorf(kindBadRequest, "no build given: upload the new implementation's build-info file (Hardhat artifacts/build-info, Foundry out/build-info) or its solc standard-JSON input and output")
	case hasStd && (len(req.Input) == 0 || len(req.Output) == 0):
		return nil, errorf(kindBadRequest, "a solc standard-JSON build needs both its input and its output")
	}
	dir, err := os.MkdirTemp("", "blocktorch-patch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	write := func(name string, b []byte) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, b, 0o600)
	}
	var arts []contracts.Artifact
	if hasBI {
		p, werr := write("build-info.json", req.BuildInfo)
		if werr != nil {
			return nil, werr
		}
		arts, err = contracts.LoadHardhatBuildInfo(p)
	} else {
		in, werr := write("input.json", req.Input)
		if werr != nil {
			return nil, werr
		}
		out, werr := write("output.json", req.Output)
		if werr != nil {
			return nil, werr
		}
		arts, err = contracts.LoadStandardJSON(in, out)
	}
	if err != nil {
		return nil, errorf(kindBadRequest, "cannot read the build: %v", err)
	}
	return arts, nil
}

// handlePatchRun serves GET /api/v1/patch-check/{id}: the run, with its
// progress while it runs and its report when done.
func (s *Server) handlePatchRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.deps.Patch.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, run)
}

// handlePatchTxs serves GET /api/v1/patch-check/txs?set=…[&target=0x…]:
// the transactions a set names, as the check would take them (the CLI
// reads incident:ID and query:QUERY here).
func (s *Server) handlePatchTxs(w http.ResponseWriter, r *http.Request) {
	st, err := patch.ParseSet(r.URL.Query().Get("set"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var target common.Address
	if t := r.URL.Query().Get("target"); t != "" {
		if target, err = parseAddress(t); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	txs, err := s.patchTxs(r.Context(), st, target)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if txs == nil {
		txs = []common.Hash{}
	}
	writeData(w, map[string]any{"set": st.String(), "txs": txs})
}

var txHashRE = regexp.MustCompile(`0x[0-9a-fA-F]{64}`)

// patchTxs resolves a set. An incident's transactions are the failed
// transactions of its affected contracts (and of target) in its window,
// and every transaction its timeline links to (debugged transactions,
// alerts' transactions); a query's are the transactions of its records.
func (s *Server) patchTxs(ctx context.Context, st patch.Set, target common.Address) ([]common.Hash, error) {
	const max = patch.DefaultMaxTxs
	switch st.Kind {
	case patch.SetHashes:
		return patch.ParseHashes(strings.NewReader(strings.ReplaceAll(st.Value, ",", "\n")), max)
	case patch.SetFile:
		return nil, errorf(kindBadRequest, "file: is read by the command line; here, give the hashes themselves")
	case patch.SetQuery:
		if s.deps.Search == nil {
			return nil, errorf(kindNotFound, "this server has no search")
		}
		q, err := query.Parse(st.Value)
		if err != nil {
			return nil, err
		}
		var out []common.Hash
		seen := map[common.Hash]bool{}
		_, err = s.deps.Search.Search(ctx, store.SearchRequest{Query: q, Limit: query.MaxLimit, Order: store.NewestFirst}, func(rec record.Record) error {
			for _, h := range rec.TxHashes {
				if !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
			if len(out) > max {
				return fmt.Errorf("%w: the search names more than %d transactions: narrow it", patch.ErrTooMany, max)
			}
			return nil
		})
		return out, err
	}
	// An incident.
	if s.deps.Incidents == nil {
		return nil, errorf(kindNotFound, "this server has no incidents")
	}
	id, _ := strconv.ParseInt(st.Value, 10, 64)
	inc, err := s.deps.Incidents.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	// An open incident's window has no end: block times are the chain's
	// clock, which can run ahead of this server's (a chain that sealed
	// blocks faster than one a second), and a bound at "now" would leave
	// out its latest failures.
	to := inc.Resolved
	addrs := map[common.Address]bool{}
	if target != (common.Address{}) {
		addrs[target] = true
	}
	for _, c := range inc.Contracts {
		if common.IsHexAddress(c) {
			addrs[common.HexToAddress(c)] = true
		}
	}
	var out []common.Hash
	seen := map[common.Hash]bool{}
	add := func(h common.Hash) {
		if !seen[h] {
			seen[h] = true
			out = append(out, h)
		}
	}
	for a := range addrs {
		txs, err := s.deps.Chain.Txs(ctx, store.TxQuery{Status: "failed", Address: &a, Limit: max})
		if err != nil {
			return nil, err
		}
		for _, t := range txs {
			if !t.Time.Before(inc.Started) && (to.IsZero() || !t.Time.After(to)) {
				add(t.Hash)
			}
		}
	}
	entries, err := s.deps.Incidents.Timeline(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		for _, m := range txHashRE.FindAllString(e.Link+" "+e.Ref, -1) {
			add(common.HexToHash(m))
		}
	}
	// Links may name blocks or searches whose hashes are not
	// transactions: keep those the chain index knows.
	known := out[:0]
	for _, h := range out {
		if _, err := s.deps.Chain.Tx(ctx, h); err == nil {
			known = append(known, h)
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if len(known) > max {
		return nil, fmt.Errorf("%w: incident %d names %d transactions, more than %d", patch.ErrTooMany, id, len(known), max)
	}
	return known, nil
}

// handlePatchPage serves /patch: the form of a check and, with ?run=ID,
// that check's progress and report (patch.js).
func (s *Server) handlePatchPage(w http.ResponseWriter, r *http.Request) {
	var builds []patch.Build
	if s.deps.Patch != nil {
		builds = s.deps.Patch.Builds
	}
	s.render(w, r, http.StatusOK, "patch.html", map[string]any{"Title": "Patch check", "Page": "patch", "Builds": builds})
}
