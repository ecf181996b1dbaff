package web

import (
	"fmt"
	"net/http"

	"github.com/blocktorch/blocktorch/internal/auth"
)

// need is what a request must hold to reach a route. Every route of the
// table declares one; the zero value is no declaration, and a table
// holding one fails to build (routes), so that a new route cannot slip
// in unguarded.
type need uint8

const (
	needUndeclared need = iota
	// needPublic routes are open to anyone (share links, health, metrics,
	// assets, the login and setup pages); cross-site writes and foreign
	// Host names are still refused (guard.go).
	needPublic
	// needIngest routes are the log ingest doors: open to writes from any
	// site by design; they check ingest keys (configured ones and API
	// keys with the ingest scope) themselves.
	needIngest
	// The others need a principal holding the permission of the same
	// name (auth.Read …): a viewer reads, an editor writes, a responder
	// also responds (response actions, kill switches), an admin manages
	// users and keys.
	needRead
	needWrite
	needRespond
	needAdmin
)

// perm is the permission a need asks of a principal; 0 for public and
// ingest routes.
func (n need) perm() auth.Permission {
	switch n {
	case needRead:
		return auth.Read
	case needWrite:
		return auth.Write
	case needRespond:
		return auth.Respond
	case needAdmin:
		return auth.Admin
	}
	return 0
}

func (n need) String() string {
	switch n {
	case needPublic:
		return "public"
	case needIngest:
		return "ingest"
	case needUndeclared:
		return "undeclared"
	}
	return n.perm().String()
}

// route is one line of the route table.
type route struct {
	// pattern is a net/http ServeMux pattern: "METHOD /path" (GET also
	// answers HEAD), or a path alone for every method.
	pattern string
	need    need
	handler http.Handler
}

// routeTable lists every route the server answers. A route whose service
// was not given to New (no metrics, no share store, outside the demo, …)
// is left out and answers 404.
func (s *Server) routeTable() []route {
	var t []route
	add := func(n need, pattern string, h http.HandlerFunc) {
		t = append(t, route{pattern: pattern, need: n, handler: h})
	}
	read := func(pattern string, h http.HandlerFunc) { add(needRead, pattern, h) }
	write := func(pattern string, h http.HandlerFunc) { add(needWrite, pattern, h) }
	respond := func(pattern string, h http.HandlerFunc) { add(needRespond, pattern, h) }
	d := s.deps

	// Open to anyone: health, metrics, assets, the icon, login, share links.
	add(needPublic, "GET /healthz", s.handleHealth)
	if d.Metrics != nil {
		add(needPublic, "GET /metrics", d.Metrics.ServeHTTP)
	}
	add(needPublic, "GET /static/", s.assets.handler().ServeHTTP)
	add(needPublic, "GET /favicon.ico", favicon(s.faviconICO, "image/x-icon"))
	add(needPublic, "GET /favicon.svg", favicon(faviconSVG, "image/svg+xml"))
	add(needPublic, "GET /login", s.handleLoginPage)
	add(needPublic, "POST /login", s.handleLogin)
	add(needPublic, "POST /logout", s.handleLogout)
	if s.shares != nil {
		add(needPublic, "GET /s/{token}", s.handleSharedPage)
		add(needPublic, "GET /api/v1/shared/{token}", s.handleShared)
		add(needPublic, "GET /api/v1/shared/{token}/panels/{panel}", s.handleSharedPanel)
		add(needPublic, "GET /api/v1/shared/{token}/search", s.handleSharedSearch)
		add(needPublic, "GET /api/v1/shared/{token}/histogram", s.handleSharedHistogram)
	}

	// Log ingest (api_ingest.go): any site may post; ingest keys guard it.
	if d.Ingest != nil {
		add(needIngest, "/api/v1/logs", s.handleLogs)
		add(needIngest, "GET /sdk/blocktorch.js", s.handleSDK)
		add(needIngest, "POST /v1/logs", s.handleOTLP)
		add(needIngest, "POST /loki/api/v1/push", s.handleLoki)
	}

	// Chain data (api_chain.go), search (search.go).
	read("GET /api/v1/status", s.handleStatus)
	read("GET /api/v1/blocks", s.handleBlocks)
	read("GET /api/v1/txs", s.handleTxs)
	read("GET /api/v1/txs/{hash}", s.handleTx)
	read("GET /api/v1/search", s.handleSearch)
	read("GET /api/v1/search/histogram", s.handleHistogram)
	read("GET /api/v1/tail", s.handleTail)
	read("GET /api/v1/chart", s.handleChart)
	if d.Incident != nil {
		write("POST /api/v1/demo/incident", s.handleIncident)
	}

	// Contracts (api_contracts.go).
	read("GET /api/v1/contracts", s.handleContracts)
	write("POST /api/v1/contracts", s.handleAddContract)
	read("GET /api/v1/contracts/{address}/events", s.handleContractEvents)
	if d.Call != nil {
		read("POST /api/v1/contracts/{address}/call", s.handleContractCall)
	}
	if d.Verify != nil {
		read("GET /api/v1/contracts/{address}", s.handleContract)
		write("POST /api/v1/contracts/{address}/verify", s.handleVerify)
	}

	// The debugger (api_debug.go).
	if d.Debug != nil {
		read("GET /api/v1/debug/{tx}", s.handleDebug)
		read("GET /api/v1/debug/{tx}/steps", s.handleDebugSteps)
		read("GET /api/v1/debug/{tx}/nav", s.handleDebugNav)
		read("POST /api/v1/simulate", s.handleSimulate)
	}
	if d.Source != nil {
		read("GET /api/v1/sources", s.handleSource)
	}

	// Monitors and alerts (api_monitors.go).
	if d.Monitors != nil {
		read("GET /api/v1/monitors", s.handleMonitors)
		write("POST /api/v1/monitors", s.handleCreateMonitor)
		read("GET /api/v1/monitors/{id}", s.handleMonitor)
		write("PUT /api/v1/monitors/{id}", s.handlePutMonitor)
		write("DELETE /api/v1/monitors/{id}", s.handleDeleteMonitor)
		read("GET /api/v1/monitors/{id}/series", s.handleMonitorSeries)
		write("POST /api/v1/monitors/apply", s.handleApplyMonitors)
		read("POST /api/v1/monitors/dry-run", s.handleDryRunMonitors)
		read("GET /api/v1/alerts", s.handleAlerts)
		read("GET /api/v1/alerts/active", s.handleActiveAlerts)
		read("GET /api/v1/silences", s.handleSilences)
		write("POST /api/v1/silences", s.handleAddSilence)
		write("DELETE /api/v1/silences/{id}", s.handleDeleteSilence)
		read("GET /api/v1/channels", s.handleChannels)
		read("GET /api/v1/deadletters", s.handleDeadLetters)
		write("POST /api/v1/deadletters/{id}/retry", s.handleRetryDeadLetter)
	}

	// Dashboards, saved searches (api_dashboards.go) and shares
	// (api_shares.go).
	if s.dash != nil {
		read("GET /api/v1/dashboards", s.handleDashboards)
		write("POST /api/v1/dashboards", s.handleCreateDashboard)
		read("GET /api/v1/dashboards/{id}", s.handleDashboard)
		write("PUT /api/v1/dashboards/{id}", s.handlePutDashboard)
		write("DELETE /api/v1/dashboards/{id}", s.handleDeleteDashboard)
		read("GET /api/v1/searches", s.handleSavedSearches)
		write("POST /api/v1/searches", s.handleCreateSavedSearch)
		read("GET /api/v1/searches/{id}", s.handleSavedSearch)
		write("PUT /api/v1/searches/{id}", s.handlePutSavedSearch)
		write("DELETE /api/v1/searches/{id}", s.handleDeleteSavedSearch)
	}
	if s.dash != nil && s.shares != nil {
		read("GET /api/v1/shares", s.handleShares)
		write("POST /api/v1/shares", s.handleCreateShare)
		write("DELETE /api/v1/shares/{id}", s.handleRevokeShare)
		read("GET /api/v1/shares/events", s.handleShareEvents)
	}
	// Incidents, kill switches, the status page's components
	// (api_incidents.go); the public status page, banner, flags and their
	// script (api_public.go).
	if d.Incidents != nil {
		add(needPublic, "GET /status", s.handleStatusPage)
		add(needPublic, "GET /status.json", s.handleStatusJSON)
		add(needPublic, "GET /status.atom", s.handleStatusAtom)
		add(needPublic, "GET /api/v1/public/banner", s.handlePublicBanner)
		add(needPublic, "GET /api/v1/public/flags", s.handlePublicFlags)
		add(needPublic, "GET /sdk/flags.js", s.handleFlagsSDK)
		read("GET /api/v1/incidents", s.handleIncidents)
		write("POST /api/v1/incidents", s.handleOpenIncident)
		read("GET /api/v1/incidents/audit", s.handleIncidentAudit)
		read("GET /api/v1/incidents/template", s.handlePostmortemTemplate)
		write("PUT /api/v1/incidents/template", s.handlePutPostmortemTemplate)
		read("POST /api/v1/incidents/template/preview", s.handlePreviewTemplate)
		read("GET /api/v1/incidents/{id}", s.handleGetIncident)
		write("PATCH /api/v1/incidents/{id}", s.handleEditIncident)
		write("POST /api/v1/incidents/{id}/status", s.handleIncidentStatus)
		write("POST /api/v1/incidents/{id}/notes", s.handleIncidentNote)
		write("POST /api/v1/incidents/{id}/links", s.handleIncidentLink)
		read("GET /api/v1/incidents/{id}/timeline", s.handleIncidentTimeline)
		read("GET /api/v1/incidents/{id}/scope", s.handleIncidentScope)
		write("PUT /api/v1/incidents/{id}/banner", s.handleSetBanner)
		write("DELETE /api/v1/incidents/{id}/banner", s.handleClearBanner)
		read("GET /api/v1/incidents/{id}/postmortem", s.handlePostmortem)
		write("PUT /api/v1/incidents/{id}/postmortem", s.handlePutPostmortem)
		read("GET /api/v1/incidents/{id}/postmortem.md", s.handlePostmortemMarkdown)
		read("GET /api/v1/flags", s.handleFlags)
		respond("PUT /api/v1/flags/{deployment}/{name}", s.handlePutFlag)
		respond("DELETE /api/v1/flags/{deployment}/{name}", s.handleDeleteFlag)
		read("GET /api/v1/status/components", s.handleComponents)
		write("PUT /api/v1/status/components/{id}", s.handlePutComponent)
		write("DELETE /api/v1/status/components/{id}", s.handleDeleteComponent)
	}

	// Response actions (api_response.go): all the operator's, sends
	// included.
	if d.Respond != nil {
		read("GET /api/v1/respond/status", s.handleRespondStatus)
		read("GET /api/v1/respond/contracts/{address}/actions", s.handleRespondActions)
		respond("POST /api/v1/respond/contracts/{address}/prepare", s.handleRespondPrepare)
		respond("POST /api/v1/respond/contracts/{address}/send", s.handleRespondSend)
		read("GET /api/v1/respond/runs", s.handleRespondRuns)
		respond("POST /api/v1/respond/contracts/{address}/propose", s.handleRespondPropose)
		read("GET /api/v1/respond/safe/proposals", s.handleSafeProposals)
		respond("POST /api/v1/respond/safe/proposals/{hash}/signatures", s.handleSafeSignature)
		respond("POST /api/v1/respond/safe/proposals/{hash}/execute", s.handleSafeExecute)
		read("GET /api/v1/respond/scenarios", s.handleScenarios)
		respond("POST /api/v1/respond/scenarios/{name}/run", s.handleRunScenario)
		respond("PUT /api/v1/respond/automation", s.handleAutomation)
	}

	// Price feeds (api_oracles.go) and their pages (oracle_page.go).
	if d.Oracles != nil {
		read("GET /api/v1/oracles", s.handleOracles)
		write("POST /api/v1/oracles", s.handleAddOracle)
		read("GET /api/v1/oracles/{address}", s.handleOracle)
		write("POST /api/v1/oracles/{address}", s.handleSetOracle)
		read("GET /api/v1/oracles/{address}/history", s.handleOracleHistory)
		read("GET /oracles", s.handleOraclesPage)
		read("GET /oracle/{address}", s.handleOraclePage)
	}
	// Patch checks (api_patch.go) and their page.
	if d.Patch != nil {
		write("POST /api/v1/patch-check", s.handlePatchCheck)
		read("GET /api/v1/patch-check/txs", s.handlePatchTxs)
		read("GET /api/v1/patch-check/{id}", s.handlePatchRun)
		read("GET /patch", s.handlePatchPage)
	}
	// Users, API keys and their audit log (api_accounts.go), the
	// settings page that manages them (settings_page.go), and the setup
	// link's page (guard.go). The identity of the caller is any
	// principal's.
	add(needPublic, "GET /setup/{token}", s.handleSetupPage)
	add(needPublic, "POST /setup", s.handleSetup)
	read("GET /api/v1/me", s.handleMe)
	add(needAdmin, "GET /api/v1/users", s.handleUsers)
	add(needAdmin, "POST /api/v1/users", s.handleCreateUser)
	add(needAdmin, "PATCH /api/v1/users/{name}", s.handleEditUser)
	add(needAdmin, "POST /api/v1/users/{name}/setup-link", s.handleSetupLink)
	add(needAdmin, "GET /api/v1/keys", s.handleKeys)
	add(needAdmin, "POST /api/v1/keys", s.handleCreateKey)
	add(needAdmin, "DELETE /api/v1/keys/{id}", s.handleRevokeKey)
	add(needAdmin, "GET /api/v1/audit/accounts", s.handleAccountsAudit)
	add(needAdmin, "GET /settings/users", s.handleSettingsPage)
	add(needAdmin, "POST /settings/users", s.handleSettingsUser)
	add(needAdmin, "POST /settings/keys", s.handleSettingsKey)

	// Any other /api/ path: an error envelope, not a page.
	read("/api/", s.handleNoAPI)

	// Pages.
	read("GET /{$}", s.handleHome)
	read("GET /explore", s.handleExplorePage)
	read("GET /tx/{hash}", s.handleTxPage)
	read("GET /block/{number}", s.handleBlockPage)
	read("GET /address/{address}", s.handleAddressPage)
	read("GET /contract/{address}", s.handleContractPage)
	read("GET /debug/{tx}", s.handleDebugPage)
	if d.Debug != nil {
		read("GET /simulate", s.handleSimulatePage)
	}
	read("GET /monitors", s.handleMonitorsPage)
	if s.dash != nil {
		read("GET /dashboards", s.handleDashboardsPage)
		read("GET /dashboards/{id}", s.handleDashboardPage)
		read("GET /searches", s.handleSearchesPage)
	}
	if s.dash != nil && s.shares != nil {
		read("GET /shares", s.handleSharesPage)
	}
	if d.Incidents != nil {
		read("GET /incidents", s.handleIncidentsPage)
		read("GET /incidents/{id}", s.handleIncidentPage)
	}
	return t
}

// routes registers the route table on the mux and remembers what each
// pattern needs, for ServeHTTP. A route that declares no need is a bug the
// server refuses to start with.
func (s *Server) routes() error {
	table := s.routeTable()
	if err := checkRoutes(table); err != nil {
		return err
	}
	s.needs = map[string]need{}
	for _, rt := range table {
		s.mux.Handle(rt.pattern, rt.handler)
		s.needs[rt.pattern] = rt.need
	}
	return nil
}

// checkRoutes refuses a table with a route that declares no need.
func checkRoutes(table []route) error {
	for _, rt := range table {
		if rt.need == needUndeclared || rt.need > needAdmin {
			return fmt.Errorf("BUG: route %q declares no permission", rt.pattern)
		}
	}
	return nil
}

// needOf is what the route r is for needs. A method the path does not
// take has the path's need (the answer is a 405); a request that matches
// no route needs Read (deny by default: the answer is a 404 only to those
// who may read).
func (s *Server) needOf(r *http.Request) need {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		return s.needs[pattern]
	}
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		other := r.WithContext(r.Context())
		other.Method = m
		if _, pattern := s.mux.Handler(other); pattern != "" {
			return s.needs[pattern]
		}
	}
	return needRead
}

func (s *Server) handleNoAPI(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, s.log, errorf(kindNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
}
