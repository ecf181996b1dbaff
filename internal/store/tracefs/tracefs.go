package tracefs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/blocktorch/blocktorch/internal/store"
)

var _ store.TraceStore = (*Dir)(nil)

// Dir is a trace store in a directory, created on the first write. Safe for
// concurrent use: a part is written to a temporary file and renamed into
// place, so readers see a whole part or the one it replaced.
type Dir struct {
	path string
}

// New returns the trace store in the directory path.
func New(path string) *Dir { return &Dir{path: path} }

// Path is the directory the traces are in.
func (d *Dir) Path() string { return d.path }

// file returns the file of one part. Part names are checked so that none
// can leave the directory.
func (d *Dir) file(tx common.Hash, part string) (string, error) {
	if part == "" || strings.IndexFunc(part, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return "", fmt.Errorf("trace part %q: %w", part, store.ErrInvalid)
	}
	return filepath.Join(d.path, strings.ToLower(tx.Hex())+"."+part), nil
}

// CreateTracePart writes a part to a temporary file in the directory; Close
// renames it into place.
func (d *Dir) CreateTracePart(ctx context.Context, tx common.Hash, part string) (store.TraceWriter, error) {
	name, err := d.file(tx, part)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(d.path, 0o755); err != nil {
		return nil, fmt.Errorf("cannot create trace directory: %w", err)
	}
	f, err := os.CreateTemp(d.path, filepath.Base(name)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("cannot create trace file: %w", err)
	}
	return &writer{f: f, name: name}, nil
}

type writer struct {
	f    *os.File
	name string
	err  error
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("cannot write trace: %w", err)
		err = w.err
	}
	return n, err
}

// Close publishes the part unless a write failed; a second Close is a no-op.
func (w *writer) Close() error {
	if w.f == nil {
		return w.err
	}
	f := w.f
	w.f = nil
	err := errors.Join(w.err, f.Close())
	if err == nil {
		if err = os.Rename(f.Name(), w.name); err != nil {
			err = fmt.Errorf("cannot write trace: %w", err)
		}
	}
	if err != nil {
		os.Remove(f.Name())
		w.err = err
	}
	return err
}

// Abort discards what was written.
func (w *writer) Abort() {
	if w.f == nil {
		return
	}
	w.f.Close()
	os.Remove(w.f.Name())
	w.f = nil
	w.err = errors.New("trace part discarded")
}

// OpenTracePart opens the file of a part.
func (d *Dir) OpenTracePart(ctx context.Context, tx common.Hash, part string) (store.TracePart, error) {
	name, err := d.file(tx, part)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cannot open trace %s of %s: %w", part, tx, store.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("cannot open trace %s of %s: %w", part, tx, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("cannot open trace %s of %s: %w", part, tx, err)
	}
	return &reader{File: f, size: fi.Size()}, nil
}

type reader struct {
	*os.File
	size int64
}

func (r *reader) Size() int64 { return r.size }
