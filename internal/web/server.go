package web

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/contracts"
	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/debugger"
	"github.com/blocktorch/blocktorch/internal/store"
)

// Status is the live state of the chain follower, shown on pages and in
// /healthz.
type Status struct {
	Mode        string    `json:"mode"` // "demo" or "serve"
	ChainID     string    `json:"chainId"`
	NodeHead    uint64    `json:"nodeHead"`
	IndexedHead uint64    `json:"indexedHead"`
	Lag         uint64    `json:"lag"`
	RPC         string    `json:"rpc,omitempty"` // node URL without credentials
	Started     time.Time `json:"started"`
}

// ContractAdder registers a contract's ABI so that its calls, events and
// reverts are decoded from then on. It returns an error wrapping
// store.ErrInvalid, whose message names the position, for a malformed ABI.
type ContractAdder func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error

// Deps is what the web layer needs. Chain and Contracts are required.
type Deps struct {
	Chain     store.ChainReader
	Contracts store.ContractStore
	Search    store.Searcher
	// Mount, when set, adds more routes (log ingest, debugger, …) that
	// other capabilities serve.
	Mount       func(mux *http.ServeMux)
	AddContract ContractAdder
	Status      func(ctx context.Context) Status
	// Metrics serves /metrics; nil leaves it out.
	Metrics http.Handler
	// Incident starts the demo's scripted incident; nil outside the demo.
	Incident func() error
	Logger   *slog.Logger
	// Dashboards keeps dashboards and saved searches; Shares the share
	// links. Both are required for the dashboard and sharing pages; when
	// nil, the home page shows the built-in dashboard and those pages
	// answer 404.
	Dashboards store.DashboardStore
	Shares     store.ShareStore
	// OperatorKey, when set, guards every page and API other than share
	// links, health, metrics and log ingest behind a login with this key.
	// Empty: every request that is not a share link is the operator's.
	OperatorKey string
	// AllowedHosts are Host names (without port) this server answers to
	// besides localhost, 127.0.0.1 and [::1]: the public name of a server
	// behind a reverse proxy. Empty: a request that arrives over loopback
	// must name a loopback host, others are not checked. Set: every
	// request must name one of them or a loopback host.
	AllowedHosts []string
	// Now is the clock; nil for time.Now.
	Now func() time.Time
	// Trace opens the stored trace of a transaction, replaying it first
	// when none is stored; the caller closes it. Nil leaves out the
	// debugger's navigation API.
	Trace func(ctx context.Context, tx common.Hash) (*debugger.Trace, error)
	// Source returns a verified source file's text by its source unit
	// name, for the debugger's source pane.
	Source func(file string) (string, bool)
	// Call runs eth_call on the node (block nil: latest), for the contract
	// page's read functions. Nil leaves out /api/v1/contracts/{a}/call.
	Call func(ctx context.Context, msg ethereum.CallMsg, block *big.Int) ([]byte, error)
	// Verification returns a contract's verification in brief, for the
	// list of contracts; nil lists none.
	Verification func(addr common.Address) (contracts.Summary, bool)
	// Code returns the code at an address at the latest block, which tells
	// contracts from wallets on the address page. Nil: the page tells them
	// apart from the index alone.
	Code func(ctx context.Context, addr common.Address) ([]byte, error)
}

// UIBuilt reports whether the pages can be served: false in a binary built
// without `make ui`, whose pages say how to build the UI.
func (s *Server) UIBuilt() bool { return s.assets.built }

// Server is the HTTP handler of blocktorch.
type Server struct {
	deps   Deps
	mux    *http.ServeMux
	pages  *pages
	assets *assets
	log    *slog.Logger
	dash   *dashboard.Service // nil without Deps.Dashboards
	shares *auth.Shares       // nil without Deps.Shares
	op     *auth.Operator
	csrf   *http.CrossOriginProtection
	// throttle slows down key guessing at /login.
	throttle *auth.Throttle
	// allowedHosts are Deps.AllowedHosts as hostName returns them.
	allowedHosts []string
	// faviconICO is the mark drawn at startup (favicon.go).
	faviconICO []byte
}

// New builds the handler; it parses and checks every template, so a broken
// template fails at startup rather than on first view.
func New(deps Deps) (*Server, error) {
	return newServer(deps, uiFS)
}

// newServer is New with the tree that holds the UI assets (ui/dist).
func newServer(deps Deps, ui fs.FS) (*Server, error) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if deps.Status == nil {
		deps.Status = func(context.Context) Status { return Status{} }
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	a, err := loadAssets(ui)
	if err != nil {
		return nil, err
	}
	if !a.built {
		deps.Logger.Warn("this binary was built without the web UI: pages say how to build it (make build); the API, ingest and metrics work")
	}
	p, err := parsePages(a)
	if err != nil {
		return nil, err
	}
	ico, err := buildFaviconICO()
	if err != nil {
		return nil, err
	}
	s := &Server{deps: deps, mux: http.NewServeMux(), pages: p, assets: a, log: deps.Logger, op: auth.NewOperator(deps.OperatorKey), faviconICO: ico}
	if deps.Dashboards != nil {
		s.dash = dashboard.New(deps.Dashboards, deps.Now)
	}
	if deps.Shares != nil {
		s.shares = auth.NewShares(deps.Shares, deps.Now)
	}
	s.csrf = http.NewCrossOriginProtection()
	s.op.Now = deps.Now
	s.throttle = auth.NewThrottle(deps.Now)
	for _, h := range deps.AllowedHosts {
		if h = hostName(strings.TrimSpace(h)); h != "" {
			s.allowedHosts = append(s.allowedHosts, h)
		}
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	// Open to anyone: health, metrics, assets, the icon, login, share links.
	s.mux.HandleFunc("GET /healthz", s.handleHealth)
	if s.deps.Metrics != nil {
		s.mux.Handle("GET /metrics", s.deps.Metrics)
	}
	s.mux.Handle("GET /static/", s.assets.handler())
	s.mux.HandleFunc("GET /favicon.ico", favicon(s.faviconICO, "image/x-icon"))
	s.mux.HandleFunc("GET /favicon.svg", favicon(faviconSVG, "image/svg+xml"))
	s.mux.HandleFunc("GET /login", s.handleLoginPage)
	s.mux.HandleFunc("POST /login", s.handleLogin)
	s.mux.HandleFunc("POST /logout", s.handleLogout)
	if s.shares != nil {
		s.mux.HandleFunc("GET /s/{token}", s.handleSharedPage)
		s.mux.HandleFunc("GET /api/v1/shared/{token}", s.handleShared)
		s.mux.HandleFunc("GET /api/v1/shared/{token}/panels/{panel}", s.handleSharedPanel)
		s.mux.HandleFunc("GET /api/v1/shared/{token}/search", s.handleSharedSearch)
		s.mux.HandleFunc("GET /api/v1/shared/{token}/histogram", s.handleSharedHistogram)
	}
	// Mounted capabilities (log ingest, debugger, …) are the operator's,
	// except the ingest paths in openPaths, which check ingest keys.
	if s.deps.Mount != nil {
		s.deps.Mount(s.mux)
	}

	// The operator's: ServeHTTP lets only the operator past openPaths.
	op := func(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }
	op("GET /api/v1/status", s.handleStatus)
	op("GET /api/v1/blocks", s.handleBlocks)
	op("GET /api/v1/txs", s.handleTxs)
	op("GET /api/v1/txs/{hash}", s.handleTx)
	op("GET /api/v1/contracts", s.handleContracts)
	op("POST /api/v1/contracts", s.handleAddContract)
	op("GET /api/v1/contracts/{address}/events", s.handleContractEvents)
	op("GET /api/v1/search", s.handleSearch)
	op("GET /api/v1/search/histogram", s.handleHistogram)
	op("GET /api/v1/tail", s.handleTail)
	op("GET /api/v1/chart", s.handleChart)
	if s.deps.Incident != nil {
		op("POST /api/v1/demo/incident", s.handleIncident)
	}
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
		op("GET /dashboards", s.handleDashboardsPage)
		op("GET /dashboards/{id}", s.handleDashboardPage)
		op("GET /searches", s.handleSearchesPage)
	}
	if s.dash != nil && s.shares != nil {
		op("GET /api/v1/shares", s.handleShares)
		op("POST /api/v1/shares", s.handleCreateShare)
		op("DELETE /api/v1/shares/{id}", s.handleRevokeShare)
		op("GET /api/v1/shares/events", s.handleShareEvents)
		op("GET /shares", s.handleSharesPage)
	}
	op("GET /contract/{address}", s.handleContractPage)
	op("GET /debug/{tx}", s.handleDebugPage)
	op("GET /monitors", s.handleMonitorsPage)
	if s.deps.Call != nil {
		op("POST /api/v1/contracts/{address}/call", s.handleContractCall)
	}
	if s.deps.Trace != nil {
		op("GET /api/v1/debug/{tx}/nav", s.handleDebugNav)
	}
	if s.deps.Source != nil {
		op("GET /api/v1/sources", s.handleSource)
	}
	op("GET /{$}", s.handleHome)
	op("GET /explore", s.handleExplorePage)
	op("GET /tx/{hash}", s.handleTxPage)
	op("GET /block/{number}", s.handleBlockPage)
	op("GET /address/{address}", s.handleAddressPage)
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, s.log, errorf(kindNotFound, "no API endpoint %s %s", r.Method, r.URL.Path))
	})
}

// ServeHTTP adds the security headers every answer carries, refuses
// unknown Host names and cross-site writes (guard.go), lets only the
// operator past the open paths, and turns a panic in a handler into a
// logged 500 rather than a dropped connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("BUG: handler panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeError(w, r, s.log, errorf(kindInternal, "internal error"))
		}
	}()
	if !s.hostAllowed(r) {
		s.deny(w, r, "unknown host: this server answers to localhost, 127.0.0.1 and [::1]; behind a reverse proxy, add its public name with --allowed-hosts")
		return
	}
	if why := s.crossSite(r); why != "" {
		s.deny(w, r, why)
		return
	}
	if !s.op.Allowed(r) && !openPath(r.URL.Path) {
		s.refuse(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.deps.Status(r.Context())
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "indexedHead": st.IndexedHead, "nodeHead": st.NodeHead, "lag": st.Lag})
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.deps.Status(r.Context())
	counts, err := s.deps.Chain.Counts(r.Context())
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeData(w, map[string]any{"status": st, "counts": counts})
}

func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Incident(); err != nil {
		writeError(w, r, s.log, errorf(kindConflict, "%v", err))
		return
	}
	writeData(w, map[string]string{"incident": "started"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// envelope is the answer of every /api/v1 endpoint.
type envelope struct {
	Status    string `json:"status"` // "success" or "error"
	Data      any    `json:"data,omitempty"`
	ErrorKind string `json:"errorKind,omitempty"`
	Error     string `json:"error,omitempty"`
}

func writeData(w http.ResponseWriter, v any) {
	writeJSON(w, http.StatusOK, envelope{Status: "success", Data: v})
}

// Error kinds of the API, each with one HTTP status.
const (
	kindBadRequest = "bad_request"
	kindNotFound   = "not_found"
	kindConflict   = "conflict"
	kindInternal   = "internal"
	kindTooLarge   = "too_large"
	kindBadQuery   = "bad_query"
	kindForbidden  = "forbidden"
	kindGone       = "gone"
	kindRefused    = "refused"
)

type apiError struct {
	kind string
	msg  string
}

func (e *apiError) Error() string { return e.msg }

func errorf(kind, format string, args ...any) error {
	return &apiError{kind: kind, msg: sprintf(format, args...)}
}

// errorKind maps any error to its API kind and HTTP status: the one place
// where domain errors become HTTP.
func errorKind(err error) (string, int) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae.kind, kindStatus(ae.kind)
	case errors.Is(err, auth.ErrRefused):
		return kindGone, http.StatusGone
	case errors.Is(err, store.ErrNotFound):
		return kindNotFound, http.StatusNotFound
	case errors.Is(err, store.ErrInvalid):
		return kindBadRequest, http.StatusBadRequest
	case errors.Is(err, store.ErrConflict):
		return kindConflict, http.StatusConflict
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return kindInternal, http.StatusServiceUnavailable
	}
	return kindInternal, http.StatusInternalServerError
}

func kindStatus(kind string) int {
	switch kind {
	case kindBadRequest, kindBadQuery:
		return http.StatusBadRequest
	case kindNotFound:
		return http.StatusNotFound
	case kindConflict:
		return http.StatusConflict
	case kindTooLarge:
		return http.StatusRequestEntityTooLarge
	case kindForbidden:
		return http.StatusUnauthorized
	case kindGone:
		return http.StatusGone
	case kindRefused:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	kind, code := errorKind(err)
	msg := err.Error()
	if code >= 500 {
		// Internal details stay in the log.
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log"
	}
	writeJSON(w, code, envelope{Status: "error", ErrorKind: kind, Error: msg})
}
