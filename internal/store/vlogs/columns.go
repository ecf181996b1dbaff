package vlogs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/blocktorch/blocktorch/internal/store/logsql"
)

// columns tracks the names of the attribute columns (logsql.AttrPrefix,
// logsql.LowerPrefix) of the engine's rows, for the Searcher's Columns:
// free text then names them instead of a wildcard, which made the engine
// unmarshal every column header of every block it read. The names of the
// rows stored before Open are read once; every add adds its rows' names
// before the rows become searchable; deletes leave names behind, which
// only costs a lookup.
type columns struct {
	mu    sync.Mutex
	names map[string]struct{}
	// sorted is the names in order, nil when it must be rebuilt; callers
	// share it and do not modify it.
	sorted []string
	known  bool
}

// isAttrColumn reports whether a field is an attribute column.
func isAttrColumn(name string) bool {
	return strings.HasPrefix(name, logsql.AttrPrefix) || strings.HasPrefix(name, logsql.LowerPrefix)
}

// add records the attribute columns of rows.
func (c *columns) add(rows []walRow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = map[string]struct{}{}
	}
	for _, r := range rows {
		for _, f := range r.Fields {
			if !isAttrColumn(f.Name) {
				continue
			}
			if _, ok := c.names[f.Name]; !ok {
				c.names[strings.Clone(f.Name)] = struct{}{}
				c.sorted = nil
			}
		}
	}
}

// get is the Searcher's Columns.
func (c *columns) get() ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.known {
		return nil, false
	}
	if c.sorted == nil {
		c.sorted = make([]string, 0, len(c.names))
		for n := range c.names {
			c.sorted = append(c.sorted, n)
		}
		slices.Sort(c.sorted)
	}
	return c.sorted, true
}

// readStored adds the attribute columns of the rows the engine holds,
// once, at Open; until then the names are not known.
func (c *columns) readStored(ctx context.Context, run func(ctx context.Context, q string, fn func(row []logsql.Field) error) error) error {
	var stored []string
	err := run(ctx, "* | field_names", func(row []logsql.Field) error {
		for _, f := range row {
			if f.Name == "name" && isAttrColumn(f.Value) {
				stored = append(stored, strings.Clone(f.Value))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cannot read the names of the stored columns: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.names == nil {
		c.names = map[string]struct{}{}
	}
	for _, n := range stored {
		c.names[n] = struct{}{}
	}
	c.sorted, c.known = nil, true
	return nil
}
