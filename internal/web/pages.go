package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/chain"
	"github.com/blocktorch/blocktorch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// assetVersions holds a content hash per static file, so pages link to
// /static/NAME?v=HASH and browsers may cache forever.
var assetVersions = func() map[string]string {
	m := map[string]string{}
	fs.WalkDir(staticFS, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		m[strings.TrimPrefix(path, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	return m
}()

func staticHandler() http.Handler {
	sub, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}

type pages struct {
	tmpl map[string]*template.Template
}

var funcs = template.FuncMap{
	"asset": func(name string) (string, error) {
		v, ok := assetVersions[name]
		if !ok {
			return "", fmt.Errorf("no static asset %q", name)
		}
		return "/static/" + name + "?v=" + v, nil
	},
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
	"utc": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"eth": formatEther,
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

func parsePages() (*pages, error) {
	p := &pages{tmpl: map[string]*template.Template{}}
	for _, name := range []string{"home.html", "tx.html", "error.html"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name)
		if err != nil {
			return nil, fmt.Errorf("cannot parse template %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	return p, nil
}

// render executes into a buffer first, so a failing template yields a clean
// 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	data["Status"] = s.deps.Status(r.Context())
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
	kind, code := errorKind(err)
	msg := err.Error()
	if code >= 500 {
		s.log.Error("page failed", "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log"
	}
	s.render(w, r, code, "error.html", map[string]any{"Title": kind, "Message": msg})
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	blocks, err := s.deps.Chain.Blocks(ctx, store.BlockQuery{Limit: 15})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	txs, err := s.deps.Chain.Txs(ctx, store.TxQuery{Limit: 25})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	failed, err := s.deps.Chain.Txs(ctx, store.TxQuery{Limit: 10, Status: "failed"})
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	counts, err := s.deps.Chain.Counts(ctx)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "home.html", map[string]any{
		"Title": "Latest activity", "Blocks": blocks, "Txs": txs, "Failed": failed, "Counts": counts, "Refresh": true,
	})
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
