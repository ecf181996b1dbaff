package monitor

import (
	"context"
	"embed"
	"fmt"

	"github.com/blocktorch/blocktorch/internal/notify"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Builtin returns the built-in monitors: failure-rate spike, paused or
// unpaused, ownership or role change, unauthorized privileged calls,
// large token outflow and oracle staleness for every watched contract,
// the health of every followed price feed (stale, jump, not positive,
// pinned at its bounds, off its reference, read stale by a contract);
// with demo, also the demo vault's collateral outflow.
func Builtin(demo bool) (File, error) {
	names := []string{"builtin/builtin.yaml"}
	if demo {
		names = append(names, "builtin/demo.yaml")
	}
	var out File
	for _, name := range names {
		data, err := builtinFS.ReadFile(name)
		if err != nil {
			return File{}, fmt.Errorf("BUG: %s is not embedded: %w", name, err)
		}
		f, _, err := ParseYAML(name, data)
		if err != nil {
			return File{}, fmt.Errorf("BUG: built-in monitors do not parse: %w", err)
		}
		out.Monitors = append(out.Monitors, f.Monitors...)
	}
	return out, nil
}

// LoadBuiltin applies the built-in monitors (see Builtin), notifying the
// given channels, as the "builtin" set.
func (e *Engine) LoadBuiltin(ctx context.Context, demo bool, channels []notify.Spec) (ApplyResult, error) {
	f, err := Builtin(demo)
	if err != nil {
		return ApplyResult{}, err
	}
	f.Channels = channels
	var names []string
	for _, c := range channels {
		names = append(names, c.Name)
	}
	for i := range f.Monitors {
		f.Monitors[i].Channels = names
	}
	return e.Apply(ctx, OriginBuiltin, f)
}
