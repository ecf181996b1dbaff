package web

import (
	"net/http"
)

// access says who may reach a route.
type access int

const (
	// operator routes are the operator's: with an operator key, only a
	// logged-in browser or a client sending the key; cross-site writes and
	// foreign Host names are refused (guard.go). The default.
	operator access = iota
	// public routes are open to anyone (share links, health, metrics,
	// assets, the login); cross-site writes and foreign Host names are
	// still refused.
	public
	// ingest routes are the log ingest doors: open to anyone and to
	// writes from any site by design; they check ingest keys themselves.
	ingest
)

// route is one line of the route table.
type route struct {
	// pattern is a net/http ServeMux pattern: "METHOD /path" (GET also
	// answers HEAD), or a path alone for every method.
	pattern string
	access  access
	handler http.Handler
}

// routeTable lists every route the server answers. A route whose service
// was not given to New (no metrics, no share store, outside the demo, …)
// is left out and answers 404.
func (s *Server) routeTable() []route {
	var t []route
	add := func(acc access, pattern string, h http.HandlerFunc) {
		t = append(t, route{pattern: pattern, access: acc, handler: h})
	}
	op := func(pattern string, h http.HandlerFunc) { add(operator, pattern, h) }
	d := s.deps

	// Open to anyone: health, metrics, assets, the icon, login, share links.
	add(public, "GET /healthz", s.handleHealth)
	if d.Metrics != nil {
		add(public, "GET /metrics", d.Metrics.ServeHTTP)
	}
	add(public, "GET /static/", s.assets.handler().ServeHTTP)
	add(public, "GET /favicon.ico", favicon(s.faviconICO, "image/x-icon"))
	add(public, "GET /favicon.svg", favicon(faviconSVG, "image/svg+xml"))
	add(public, "GET /login", s.handleLoginPage)
	add(public, "POST /login", s.handleLogin)
	add(public, "POST /logout", s.handleLogout)
	if s.shares != nil {
		add(public, "GET /s/{token}", s.handleSharedPage)
		add(public, "GET /api/v1/shared/{token}", s.handleShared)
		add(public, "GET /api/v1/shared/{token}/panels/{panel}", s.handleSharedPanel)
		add(public, "GET /api/v1/shared/{token}/search", s.handleSharedSearch)
		add(public, "GET /api/v1/shared/{token}/histogram", s.handleSharedHistogram)
	}

	// Log ingest (api_ingest.go): any site may post; ingest keys guard it.
	if d.Ingest != nil {
		add(ingest, "/api/v1/logs", s.handleLogs)
		add(ingest, "GET /sdk/blocktorch.js", s.handleSDK)
		add(ingest, "POST /v1/logs", s.handleOTLP)
		add(ingest, "POST /loki/api/v1/push", s.handleLoki)
	}

	// Chain data (api_chain.go), search (search.go).
	op("GET /api/v1/status", s.handleStatus)
	op("GET /api/v1/blocks", s.handleBlocks)
	op("GET /api/v1/txs", s.handleTxs)
	op("GET /api/v1/txs/{hash}", s.handleTx)
	op("GET /api/v1/search", s.handleSearch)
	op("GET /api/v1/search/histogram", s.handleHistogram)
	op("GET /api/v1/tail", s.handleTail)
	op("GET /api/v1/chart", s.handleChart)
	if d.Incident != nil {
		op("POST /api/v1/demo/incident", s.handleIncident)
	}

	// Contracts (api_contracts.go).
	op("GET /api/v1/contracts", s.handleContracts)
	op("POST /api/v1/contracts", s.handleAddContract)
	op("GET /api/v1/contracts/{address}/events", s.handleContractEvents)
	if d.Call != nil {
		op("POST /api/v1/contracts/{address}/call", s.handleContractCall)
	}
	if d.Verify != nil {
		op("GET /api/v1/contracts/{address}", s.handleContract)
		op("POST /api/v1/contracts/{address}/verify", s.handleVerify)
	}

	// The debugger (api_debug.go).
	if d.Debug != nil {
		op("GET /api/v1/debug/{tx}", s.handleDebug)
		op("GET /api/v1/debug/{tx}/steps", s.handleDebugSteps)
		op("GET /api/v1/debug/{tx}/nav", s.handleDebugNav)
		op("POST /api/v1/simulate", s.handleSimulate)
	}
	if d.Source != nil {
		op("GET /api/v1/sources", s.handleSource)
	}

	// Monitors and alerts (api_monitors.go).
	if d.Monitors != nil {
		op("GET /api/v1/monitors", s.handleMonitors)
		op("POST /api/v1/monitors", s.handleCreateMonitor)
		op("GET /api/v1/monitors/{id}", s.handleMonitor)
		op("PUT /api/v1/monitors/{id}", s.handlePutMonitor)
		op("DELETE /api/v1/monitors/{id}", s.handleDeleteMonitor)
		op("GET /api/v1/monitors/{id}/series", s.handleMonitorSeries)
		op("POST /api/v1/monitors/apply", s.handleApplyMonitors)
		op("POST /api/v1/monitors/dry-run", s.handleDryRunMonitors)
		op("GET /api/v1/alerts", s.handleAlerts)
		op("GET /api/v1/alerts/active", s.handleActiveAlerts)
		op("GET /api/v1/silences", s.handleSilences)
		op("POST /api/v1/silences", s.handleAddSilence)
		op("DELETE /api/v1/silences/{id}", s.handleDeleteSilence)
		op("GET /api/v1/channels", s.handleChannels)
		op("GET /api/v1/deadletters", s.handleDeadLetters)
		op("POST /api/v1/deadletters/{id}/retry", s.handleRetryDeadLetter)
	}

	// Dashboards, saved searches (api_dashboards.go) and shares
	// (api_shares.go).
	if s.dash != nil {
		op("GET /api/v1/dashboards", s.handleDashboards)
		op("POST /api/v1/dashboards", s.handleCreateDashboard)
		op("GET /api/v1/dashboards/{id}", s.handleDashboard)
		op("PUT /api/v1/dashboards/{id}", s.handlePutDashboard)
		op("DELETE /api/v1/dashboards/{id}", s.handleDeleteDashboard)
		op("GET /api/v1/searches", s.handleSavedSearches)
		op("POST /api/v1/searches", s.handleCreateSavedSearch)
		op("GET /api/v1/searches/{id}", s.handleSavedSearch)
		op("PUT /api/v1/searches/{id}", s.handlePutSavedSearch)
		op("DELETE /api/v1/searches/{id}", s.handleDeleteSavedSearch)
	}
	if s.dash != nil && s.shares != nil {
		op("GET /api/v1/shares", s.handleShares)
		op("POST /api/v1/shares", s.handleCreateShare)
		op("DELETE /api/v1/shares/{id}", s.handleRevokeShare)
		op("GET /api/v1/shares/events", s.handleShareEvents)
	}
	// Incidents, kill switches, the status page's components
	// (api_incidents.go); the public status page, banner, flags and their
	// script (api_public.go).
	if d.Incidents != nil {
		add(public, "GET /status", s.handleStatusPage)
		add(public, "GET /status.json", s.handleStatusJSON)
		add(public, "GET /status.atom", s.handleStatusAtom)
		add(public, "GET /api/v1/public/banner", s.handlePublicBanner)
		add(public, "GET /api/v1/public/flags", s.handlePublicFlags)
		add(public, "GET /sdk/flags.js", s.handleFlagsSDK)
		op("GET /api/v1/incidents", s.handleIncidents)
		op("POST /api/v1/incidents", s.handleOpenIncident)
		op("GET /api/v1/incidents/audit", s.handleIncidentAudit)
		op("GET /api/v1/incidents/template", s.handlePostmortemTemplate)
		op("PUT /api/v1/incidents/template", s.handlePutPostmortemTemplate)
		op("POST /api/v1/incidents/template/preview", s.handlePreviewTemplate)
		op("GET /api/v1/incidents/{id}", s.handleGetIncident)
		op("PATCH /api/v1/incidents/{id}", s.handleEditIncident)
		op("POST /api/v1/incidents/{id}/status", s.handleIncidentStatus)
		op("POST /api/v1/incidents/{id}/notes", s.handleIncidentNote)
		op("POST /api/v1/incidents/{id}/links", s.handleIncidentLink)
		op("GET /api/v1/incidents/{id}/timeline", s.handleIncidentTimeline)
		op("GET /api/v1/incidents/{id}/scope", s.handleIncidentScope)
		op("PUT /api/v1/incidents/{id}/banner", s.handleSetBanner)
		op("DELETE /api/v1/incidents/{id}/banner", s.handleClearBanner)
		op("GET /api/v1/incidents/{id}/postmortem", s.handlePostmortem)
		op("PUT /api/v1/incidents/{id}/postmortem", s.handlePutPostmortem)
		op("GET /api/v1/incidents/{id}/postmortem.md", s.handlePostmortemMarkdown)
		op("GET /api/v1/flags", s.handleFlags)
		op("PUT /api/v1/flags/{deployment}/{name}", s.handlePutFlag)
		op("DELETE /api/v1/flags/{deployment}/{name}", s.handleDeleteFlag)
		op("GET /api/v1/status/components", s.handleComponents)
		op("PUT /api/v1/status/components/{id}", s.handlePutComponent)
		op("DELETE /api/v1/status/components/{id}", s.handleDeleteComponent)
	}

	// Response actions (api_response.go): all the operator's, sends
	// included.
	if d.Respond != nil {
		op("GET /api/v1/respond/status", s.handleRespondStatus)
		op("GET /api/v1/respond/contracts/{address}/actions", s.handleRespondActions)
		op("POST /api/v1/respond/contracts/{address}/prepare", s.handleRespondPrepare)
		op("POST /api/v1/respond/contracts/{address}/send", s.handleRespondSend)
		op("GET /api/v1/respond/runs", s.handleRespondRuns)
		op("POST /api/v1/respond/contracts/{address}/propose", s.handleRespondPropose)
		op("GET /api/v1/respond/safe/proposals", s.handleSafeProposals)
		op("POST /api/v1/respond/safe/proposals/{hash}/signatures", s.handleSafeSignature)
		op("POST /api/v1/respond/safe/proposals/{hash}/execute", s.handleSafeExecute)
		op("GET /api/v1/respond/scenarios", s.handleScenarios)
		op("POST /api/v1/respond/scenarios/{name}/run", s.handleRunScenario)
		op("PUT /api/v1/respond/automation", s.handleAutomation)
	}

	// Price feeds (api_oracles.go) and their pages (oracle_page.go).
	if d.Oracles != nil {
		op("GET /api/v1/oracles", s.handleOracles)
		op("POST /api/v1/oracles", s.handleAddOracle)
		op("GET /api/v1/oracles/{address}", s.handleOracle)
		op("POST /api/v1/oracles/{address}", s.handleSetOracle)
		op("GET /api/v1/oracles/{address}/history", s.handleOracleHistory)
		op("GET /oracles", s.handleOraclesPage)
		op("GET /oracle/{address}", s.handleOraclePage)
	}
	// Patch checks (api_patch.go) and their page.
	if d.Patch != nil {
		op("POST /api/v1/patch-check", s.handlePatchCheck)
		op("GET /api/v1/patch-check/txs", s.handlePatchTxs)
		op("GET /api/v1/patch-check/{id}", s.handlePatchRun)
		op("GET /patch", s.handlePatchPage)
	}
	// Any other /api/ path: an error envelope, not a page.
	op("/api/", s.handleNoAPI)

	// Pages.
	op("GET /{$}", s.handleHome)
	op("GET /explore", s.handleExplorePage)
	op("GET /tx/{hash}", s.handleTxPage)
	op("GET /block/{number}", s.handleBlockPage)
	op("GET /address/{address}", s.handleAddressPage)
	op("GET /contract/{address}", s.handleContractPage)
	op("GET /debug/{tx}", s.handleDebugPage)
	if d.Debug != nil {
		op("GET /simulate", s.handleSimulatePage)
	}
	op("GET /monitors", s.handleMonitorsPage)
	if s.dash != nil {
		op("GET /dashboards", s.handleDashboardsPage)
		op("GET /dashboards/{id}", s.handleDashboardPage)
		op("GET /searches", s.handleSearchesPage)
	}
	if s.dash != nil && s.shares != nil {
		op("GET /shares", s.handleSharesPage)
	}
	if d.Incidents != nil {
		op("GET /incidents", s.handleIncidentsPage)
		op("GET /incidents/{id}", s.handleIncidentPage)
	}
	return t
}

// routes registers the route table on the mux and remembers who may reach
// each pattern, for ServeHTTP.
func (s *Server) routes() {
	s.access = map[string]access{}
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.pattern, rt.handler)
		s.access[rt.pattern] = rt.access
	}
}

// accessOf is who may reach the route r is for. A method the path does
// not take has the path's access (the answer is a 405); a request that
// matches no route is the operator's (deny by default).
func (s *Server) accessOf(r *http.Request) access {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return s.access[pattern]
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		other := r.WithContext(r.Context())
		other.Method = m
		if _, pattern := s.mux.Handler(other); pattern != "" {
			return s.access[pattern]
		}
	}
	return operator
}

func (s *Server) handleNoAPI(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(kindNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
}
