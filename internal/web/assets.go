package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
)

// uiFS holds ui/dist, built by `make ui` from web/ui: the chart library,
// our scripts and our styles. ui/README.md is committed so the pattern
// matches before the first build: a plain `go build` or `go install` (no
// npm) compiles, and its server runs without the UI (see assets.built).
//
//go:embed ui
var uiFS embed.FS

// assets serves the built UI files at /static/NAME?v=HASH, so that
// browsers may cache them forever.
type assets struct {
	fs       fs.FS
	versions map[string]string
	// built is false in a binary built without `make ui`: the chart
	// library comes from npm and is not committed, so `go install` cannot
	// have it. Pages then say how to build the UI; the API, ingest,
	// metrics and /healthz work as usual.
	built bool
}

// loadAssets reads the UI files of ui, a tree holding ui/dist, as `make ui`
// (web/ui/build.js) wrote them: every file of web/ui/src and the chart
// library. No UI file at all is a binary built without the UI. Which files
// the pages need is not listed here: the templates name them, and
// parsePages checks them with require.
func loadAssets(ui fs.FS) (*assets, error) {
	sub, err := fs.Sub(ui, "ui/dist")
	if err != nil {
		return nil, fmt.Errorf("BUG: %w", err)
	}
	a := &assets{fs: sub, versions: map[string]string{}}
	err = fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.versions[path] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot read the UI assets: %w", err)
	}
	a.built = len(a.versions) > 0
	return a, nil
}

// require checks that the binary holds every asset of names, the files the
// templates load. A binary with some UI files but not these is a broken
// build, refused at startup rather than serving pages without their scripts.
func (a *assets) require(names []string) error {
	if !a.built {
		return nil
	}
	for _, name := range names {
		if _, ok := a.versions[name]; !ok {
			return fmt.Errorf("the UI asset %s is missing from the binary: build it with `make build` (npm ci, node web/ui/build.js, go build)", name)
		}
	}
	return nil
}

func (a *assets) url(name string) (string, error) {
	v, ok := a.versions[name]
	if !ok {
		return "", fmt.Errorf("no static asset %q", name)
	}
	return "/static/" + name + "?v=" + v, nil
}

func (a *assets) handler() http.Handler {
	files := http.StripPrefix("/static/", http.FileServerFS(a.fs))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") != "" {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	})
}
