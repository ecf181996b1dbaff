package web

import (
	"net/http"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/blocktorch/blocktorch/internal/response"
	"github.com/blocktorch/blocktorch/internal/store"
)

// The response API (routes.go lists it; every route is the operator's):
//
//	GET  /api/v1/respond/status                        who signs: the signer and its balance
//	GET  /api/v1/respond/contracts/{address}/actions   a watched contract's emergency actions
//	POST /api/v1/respond/contracts/{address}/prepare   {"action":"pause","args":[]}: the four forms and the simulation
//	POST /api/v1/respond/contracts/{address}/send      {"action":"pause","args":[],"force":false}: simulate, then send
//	GET  /api/v1/respond/runs                          the run history, newest first (?contract=&scenario=&limit=)
//	POST /api/v1/respond/contracts/{address}/propose   {"action":"pause","args":[]}: a Safe transaction for owners to sign
//	GET  /api/v1/respond/safe/proposals                the proposed Safe transactions, newest first
//	POST /api/v1/respond/safe/proposals/{hash}/signatures  {"signature":"0x…"}: an owner's signature of the SafeTx hash
//	POST /api/v1/respond/safe/proposals/{hash}/execute     {"force":false}: execTransaction from the signer, at threshold
//	GET  /api/v1/respond/scenarios                     the scenarios and whether automation is on
//	POST /api/v1/respond/scenarios/{name}/run          {"dryRun":false}: run one by hand (409 when skipped or failed, with the run)
//	PUT  /api/v1/respond/automation                    {"enabled":false}: the kill switch of scenarios run by monitors
//
// An action is named by its id, its id without the address, its
// function's signature or name, or its kind (response.Service.Resolve).
// A send whose simulation reverts is refused (409) with the simulation in
// the error's data, unless "force" is set.

// actionRequest is the body of prepare and send.
type actionRequest struct {
	Action string   `json:"action"`
	Args   []string `json:"args"`
	Force  bool     `json:"force"`
}

func (s *Server) handleRespondStatus(w http.ResponseWriter, r *http.Request) {
	writeData(w, s.deps.Respond.Status(r.Context()))
}

func (s *Server) handleRespondActions(w http.ResponseWriter, r *http.Request) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	actions, err := s.deps.Respond.Actions(r.Context(), addr)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if actions == nil {
		actions = []response.Action{}
	}
	writeData(w, actions)
}

// resolveAction reads the body of prepare or send and the action it names.
func (s *Server) resolveAction(w http.ResponseWriter, r *http.Request) (response.Action, actionRequest, error) {
	addr, err := parseAddress(r.PathValue("address"))
	if err != nil {
		return response.Action{}, actionRequest{}, err
	}
	var req actionRequest
	if err := readJSON(w, r, &req); err != nil {
		return response.Action{}, req, err
	}
	a, err := s.deps.Respond.Resolve(r.Context(), addr, req.Action)
	return a, req, err
}

func (s *Server) handleRespondPrepare(w http.ResponseWriter, r *http.Request) {
	a, req, err := s.resolveAction(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.deps.Respond.Prepare(r.Context(), a.ID, req.Args)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, p)
}

func (s *Server) handleRespondSend(w http.ResponseWriter, r *http.Request) {
	a, req, err := s.resolveAction(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	sent, err := s.deps.Respond.Send(r.Context(), a.ID, req.Args, response.SendOptions{Force: req.Force, Trigger: response.TriggerHand})
	s.writeSent(w, r, sent, err)
}

// writeSent answers a send. On failure the client reads what happened:
// the simulation that refused the send, or the transaction that was sent
// and then refused, dropped or mined as failed (the chain's answer, not a
// server fault).
func (s *Server) writeSent(w http.ResponseWriter, r *http.Request, sent *response.Sent, err error) {
	if err == nil {
		writeData(w, sent)
		return
	}
	kind := errorKind(err)
	if kind == kindInternal {
		if sent == nil || sent.Hash == (common.Hash{}) {
			writeError(w, r, s.log, err)
			return
		}
		kind = kindConflict
	}
	writeError(w, r, s.log, &apiError{kind: kind, msg: err.Error(), data: sent})
}

func (s *Server) handleRespondPropose(w http.ResponseWriter, r *http.Request) {
	a, req, err := s.resolveAction(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.deps.Respond.ProposeSafe(r.Context(), a.ID, req.Args)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, p)
}

func (s *Server) handleSafeProposals(w http.ResponseWriter, r *http.Request) {
	ps, err := s.deps.Respond.SafeProposals(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, ps)
}

func (s *Server) handleSafeSignature(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req struct {
		Signature hexutil.Bytes `json:"signature"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p, err := s.deps.Respond.AddSafeSignature(r.Context(), h, req.Signature)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, p)
}

func (s *Server) handleSafeExecute(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req struct {
		Force bool `json:"force"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	sent, err := s.deps.Respond.ExecuteSafe(r.Context(), h, response.SendOptions{Force: req.Force, Trigger: response.TriggerHand})
	s.writeSent(w, r, sent, err)
}

func (s *Server) handleRespondRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq := store.ResponseRunQuery{Scenario: q.Get("scenario"), Trigger: q.Get("trigger"), Limit: 100}
	if c := q.Get("contract"); c != "" {
		addr, err := parseAddress(c)
		if err != nil {
			writeError(w, r, s.log, err)
			return
		}
		rq.Contract = addr.Hex()
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, r, s.log, errorf(kindBadRequest, "limit must be a number from 1 to 1000, got %q", v))
			return
		}
		rq.Limit = n
	}
	runs, err := s.deps.Respond.Runs(r.Context(), rq)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, runs)
}

func (s *Server) handleScenarios(w http.ResponseWriter, r *http.Request) {
	writeData(w, map[string]any{"automation": s.deps.Respond.Automation(), "scenarios": s.deps.Respond.Scenarios()})
}

func (s *Server) handleRunScenario(w http.ResponseWriter, r *http.Request) {
	var req struct {
		DryRun bool `json:"dryRun"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	run, err := s.deps.Respond.RunScenario(r.Context(), r.PathValue("name"), response.TriggerHand, req.DryRun)
	if err != nil {
		if run == nil {
			writeError(w, r, s.log, err)
			return
		}
		// The run happened and is recorded: the client reads it whole.
		kind := errorKind(err)
		if kind == kindInternal {
			kind = kindConflict
		}
		writeError(w, r, s.log, &apiError{kind: kind, msg: err.Error(), data: run})
		return
	}
	writeData(w, run)
}

func (s *Server) handleAutomation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Enabled *bool `json:"enabled"`
	}
	if err := readJSON(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.Enabled == nil {
		writeError(w, r, s.log, errorf(kindBadRequest, `the body must be {"enabled":true} or {"enabled":false}`))
		return
	}
	s.deps.Respond.SetAutomation(*req.Enabled)
	s.log.Info("response automation switched", "enabled", *req.Enabled)
	writeData(w, map[string]bool{"automation": s.deps.Respond.Automation()})
}
