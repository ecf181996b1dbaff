package web

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/blocktorch/blocktorch/internal/incident"
	"github.com/blocktorch/blocktorch/internal/logingest"
	"github.com/blocktorch/blocktorch/internal/monitor"
	"github.com/blocktorch/blocktorch/internal/oracle"
	"github.com/blocktorch/blocktorch/internal/patch"
	"github.com/blocktorch/blocktorch/internal/response"
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
	// Node names the node that answers; Role says whether it leads
	// (follows the chain, evaluates monitors, delivers alerts) or
	// follows; Nodes lists the nodes sharing its store that are alive.
	Node  string       `json:"node,omitempty"`
	Role  string       `json:"role,omitempty"`
	Nodes []store.Node `json:"nodes,omitempty"`
	// Database is empty while the relational store answers, and says why
	// not when it does not (IndexedHead is then the last head read, and
	// Nodes this node alone).
	Database string `json:"database,omitempty"`
}

// ContractAdder registers a contract's ABI so that its calls, events and
// reverts are decoded from then on. It returns an error wrapping
// store.ErrInvalid, whose message names the position, for a malformed ABI.
type ContractAdder func(ctx context.Context, addr common.Address, name string, abiJSON []byte) error

// Deps is what the web layer needs. Chain and Contracts are required.
type Deps struct {
	Chain       store.ChainReader
	Contracts   store.ContractStore
	Search      store.Searcher
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
	// OperatorKey, when set, is an admin's key (sent as a Bearer token, or
	// typed at /login), and closes every route that is not public or an
	// ingest door to callers without a login or a key. Empty with no
	// users: every request is the local operator's (auth.Local).
	OperatorKey string
	// Sessions keeps the operator's login sessions when Accounts is nil;
	// nil keeps them in memory (one node; a restart logs everyone out).
	Sessions store.SessionStore
	// Accounts keeps users, their sessions, API keys and the accounts
	// audit log. Nil: no users; the operator key alone guards. With it,
	// the server is open (every request the local operator's) only while
	// there is no operator key and no user.
	Accounts auth.AccountBackend
	// AllowedHosts are Host names (without port) this server answers to
	// besides localhost, 127.0.0.1 and [::1]: the public name of a server
	// behind a reverse proxy. Empty: a request that arrives over loopback
	// must name a loopback host, others are not checked. Set: every
	// request must name one of them or a loopback host.
	AllowedHosts []string
	// Now is the clock; nil for time.Now.
	Now func() time.Time
	// Debug replays transactions for the debugger's API; nil leaves it
	// out.
	Debug *debugger.Service
	// Monitors is the monitor engine behind the monitors, alerts,
	// silences, channels and dead-letters API; nil leaves it out.
	Monitors *monitor.Engine
	// Ingest receives logs at the ingest doors; nil leaves them out.
	Ingest *logingest.Ingester
	// Verify verifies contracts and gives the contract page its data; nil
	// leaves out GET /api/v1/contracts/{a} and its /verify.
	Verify *contracts.Registry
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
	// Incidents runs incidents, kill switches and the status page behind
	// the incidents API and pages and the public status, banner and flags
	// routes; nil leaves them all out.
	Incidents *incident.Service
	// Respond prepares, simulates and sends emergency actions and runs
	// scenarios; nil leaves out /api/v1/respond.
	Respond *response.Service
	// Oracles follows price feeds behind the oracles API and pages, and
	// lists on a contract's page the feeds it reads; nil leaves them out.
	Oracles *oracle.Service
	// Patch runs patch checks (a new implementation replayed against an
	// incident's transactions) behind /api/v1/patch-check and /patch; nil
	// leaves them out.
	Patch *patch.Service
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
	acct   *auth.Accounts
	csrf   *http.CrossOriginProtection
	// throttle slows down key guessing at /login.
	throttle *auth.Throttle
	// needs is what each route pattern needs (routes.go).
	needs map[string]need
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
	s := &Server{deps: deps, mux: http.NewServeMux(), pages: p, assets: a, log: deps.Logger, faviconICO: ico}
	s.acct = auth.NewAccounts(deps.Accounts, deps.Sessions, deps.OperatorKey, deps.Logger.Warn)
	s.acct.Now = deps.Now
	s.acct.Operator().Now = deps.Now
	if deps.Dashboards != nil {
		s.dash = dashboard.New(deps.Dashboards, deps.Now)
	}
	if deps.Shares != nil {
		s.shares = auth.NewShares(deps.Shares, deps.Now)
	}
	s.csrf = http.NewCrossOriginProtection()
	s.throttle = auth.NewThrottle(deps.Now)
	for _, h := range deps.AllowedHosts {
		if h = hostName(strings.TrimSpace(h)); h != "" {
			s.allowedHosts = append(s.allowedHosts, h)
		}
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// ServeHTTP adds the security headers every answer carries, refuses
// unknown Host names and cross-site writes (guard.go), lets past the open
// paths only a principal holding the permission the route needs
// (routes.go), and turns a panic in a handler into a
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
			writeError(w, r, s.log, fmt.Errorf("BUG: handler panicked: %v", v))
		}
	}()
	if !s.hostAllowed(r) {
		s.deny(w, r, "unknown host: this server answers to localhost, 127.0.0.1 and [::1]; behind a reverse proxy, add its public name with --allowed-hosts")
		return
	}
	n := s.needOf(r)
	if why := s.crossSite(r, n); why != "" {
		s.deny(w, r, why)
		return
	}
	if perm := n.perm(); perm != 0 {
		p, why := s.acct.Identify(r)
		if p.Anonymous() {
			s.refuse(w, r, why)
			return
		}
		if !p.Can(perm) {
			s.forbid(w, r, p, n)
			return
		}
		r = r.WithContext(withPrincipal(r.Context(), p))
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	st := s.deps.Status(r.Context())
	health := map[string]any{"status": "ok", "indexedHead": st.IndexedHead, "nodeHead": st.NodeHead, "lag": st.Lag}
	if st.Database != "" {
		health["status"], health["database"] = "degraded", st.Database
	}
	writeJSON(w, http.StatusOK, health)
}

// handleStatus answers while the database cannot be reached too: the
// status then says so (Status.Database), without counts.
func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	st := s.deps.Status(r.Context())
	counts, err := s.deps.Chain.Counts(r.Context())
	switch {
	case errors.Is(err, store.ErrUnavailable) || err != nil && st.Database != "":
		writeData(w, map[string]any{"status": st, "counts": nil})
	case err != nil:
		writeError(w, r, s.log, err)
	default:
		writeData(w, map[string]any{"status": st, "counts": counts})
	}
}

func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request) {
	if err := s.deps.Incident(); err != nil {
		writeError(w, r, s.log, errorf(kindConflict, "%v", err))
		return
	}
	writeData(w, map[string]string{"incident": "started"})
}
