package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"text/template/parse"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/auth"
	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/dashboard"
	"github.com/blocktorch/blocktorch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

type pages struct {
	tmpl map[string]*template.Template
	// assets are the names the templates pass to asset, sorted.
	assets []string
}

var funcs = template.FuncMap{
	// asset is replaced per server by parsePages.
	"asset": func(name string) (string, error) { return "", fmt.Errorf("BUG: no assets") },
	"short": func(s fmt.Stringer) string {
		v := s.String()
		if len(v) <= 14 {
			return v
		}
		return v[:8] + "…" + v[len(v)-4:]
	},
	"ago": func(t time.Time) string {
		d := time.Since(t).Round(time.Second)
		if d < 0 {
			d = 0
		}
		return d.String() + " ago"
	},
	// abbr shortens a hex string as short does.
	"abbr": func(v string) string {
		if len(v) <= 14 {
			return v
		}
		return v[:8] + "…" + v[len(v)-4:]
	},
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	// statusLabel words a status page or incident status.
	"statusLabel": statusLabel,
	"eth":         formatEther,
	"addr": func(a *common.Address) string {
		if a == nil {
			return ""
		}
		return a.Hex()
	},
	"method": func(t *chain.Tx) string {
		switch {
		case t.Call != nil:
			return t.Call.Method
		case t.To == nil:
			return "create"
		case len(t.Input) == 0:
			return "transfer"
		}
		return fmt.Sprintf("0x%x", t.Selector())
	},
	"reason": func(t *chain.Tx) string {
		if t.Revert != nil {
			return t.Revert.Message
		}
		if len(t.RevertData) > 0 {
			return fmt.Sprintf("0x%x", t.RevertData)
		}
		return "reverted (no data)"
	},
}

// pageNames are the templates of full pages, each with layout.html.
var pageNames = []string{"dashboard.html", "tx.html", "error.html", "explore.html", "block.html", "address.html",
	"dashboards.html", "searches.html", "shares.html", "login.html", "shared.html",
	"contract.html", "debugger.html", "monitors.html", "status.html",
	"incidents.html", "incident.html", "oracles.html", "oracle.html", "simulate.html", "patch.html", "settings.html", "setup.html"}

func parsePages(a *assets) (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}}
	fm := template.FuncMap{"asset": a.url}
	seen := map[string]bool{}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs).Funcs(fm).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("cannot parse template %s: %w", name, err)
		}
		p.tmpl[name] = t
		for _, tt := range t.Templates() {
			if err := assetNames(tt.Tree.Root, seen); err != nil {
				return nil, fmt.Errorf("template %s: %w", name, err)
			}
		}
	}
	p.assets = slices.Sorted(maps.Keys(seen))
	if err := a.require(p.assets); err != nil {
		return nil, err
	}
	return p, nil
}

// assetNames adds to seen the asset each {{asset "name"}} under n names.
// A name must be a literal, so that the set of files pages load is known
// at startup.
func assetNames(n parse.Node, seen map[string]bool) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := assetNames(c, seen); err != nil {
				return err
			}
		}
	case *parse.ActionNode:
		return assetNames(n.Pipe, seen)
	case *parse.TemplateNode:
		return assetNames(n.Pipe, seen)
	case *parse.IfNode:
		return assetBranch(&n.BranchNode, seen)
	case *parse.RangeNode:
		return assetBranch(&n.BranchNode, seen)
	case *parse.WithNode:
		return assetBranch(&n.BranchNode, seen)
	case *parse.PipeNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Cmds {
			if err := assetNames(c, seen); err != nil {
				return err
			}
		}
	case *parse.CommandNode:
		if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "asset" {
			var name *parse.StringNode
			if len(n.Args) == 2 {
				name, _ = n.Args[1].(*parse.StringNode)
			}
			if name == nil {
				return fmt.Errorf("%s: asset takes one quoted file name", n)
			}
			seen[name.Text] = true
			return nil
		}
		for _, c := range n.Args {
			if err := assetNames(c, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

func assetBranch(b *parse.BranchNode, seen map[string]bool) error {
	for _, n := range []parse.Node{b.Pipe, b.List, b.ElseList} {
		if err := assetNames(n, seen); err != nil {
			return err
		}
	}
	return nil
}

// render executes into a buffer first, so a failing template yields a clean
// 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	if !s.assets.built {
		writeNoUI(w)
		return
	}
	data["Status"] = s.deps.Status(r.Context())
	for k, v := range map[string]any{"Nav": true, "Page": "", "Active": ""} {
		if _, ok := data[k]; !ok {
			data[k] = v
		}
	}
	// Who is signed in: a user or the operator sees a Log out button,
	// an admin the settings link; on an open server, the page says so.
	me := principalOf(r)
	data["Me"] = me
	data["Operator"] = me.Kind == "user" || me.Kind == "operator"
	data["Admin"] = me.Can(auth.Admin)
	data["IncidentsOn"] = s.deps.Incidents != nil
	data["SimulateOn"] = s.deps.Debug != nil
	data["PatchOn"] = s.deps.Patch != nil
	var buf bytes.Buffer
	if err := s.pages.tmpl[name].Execute(&buf, data); err != nil {
		s.log.Error("cannot render page", "page", name, "err", err)
		http.Error(w, "internal error; see the server log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	kind := errorKind(err)
	code := kindStatus(kind)
	msg := err.Error()
	if code >= 500 {
		s.log.Error("page failed", "path", r.URL.Path, "err", err)
		if !isAPIError(err) {
			msg = "internal error; see the server log"
		}
	}
	s.render(w, r, code, "error.html", map[string]any{"Title": kind, "Message": msg})
}

// handleHome shows the home dashboard, and under it the newest failures,
// blocks and transactions.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.dashboardPage(w, r, dashboard.HomeID)
}

// chainTables adds the latest activity tables to a page's data.
func (s *Server) chainTables(ctx context.Context, data map[string]any) error {
	blocks, err := s.deps.Chain.Blocks(ctx, store.BlockQuery{Limit: 10})
	if err != nil {
		return err
	}
	txs, err := s.deps.Chain.Txs(ctx, store.TxQuery{Limit: 15})
	if err != nil {
		return err
	}
	failed, err := s.deps.Chain.Txs(ctx, store.TxQuery{Limit: 10, Status: "failed"})
	if err != nil {
		return err
	}
	counts, err := s.deps.Chain.Counts(ctx)
	if err != nil {
		return err
	}
	data["Blocks"], data["Txs"], data["Failed"], data["Counts"] = blocks, txs, failed, counts
	return nil
}

func (s *Server) handleTxPage(w http.ResponseWriter, r *http.Request) {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	tx, err := s.deps.Chain.Tx(r.Context(), h)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "tx.html", map[string]any{"Title": "Transaction " + h.Hex(), "Tx": &tx})
}

// formatEther renders wei as ether with up to 6 decimals.
func formatEther(wei *big.Int) string {
	if wei == nil || wei.Sign() == 0 {
		return "0"
	}
	f := new(big.Float).Quo(new(big.Float).SetInt(wei), big.NewFloat(1e18))
	s := f.Text('f', 6)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "0" {
		return "<0.000001"
	}
	return s
}
