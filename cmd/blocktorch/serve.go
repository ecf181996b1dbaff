package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/blocktorch/blocktorch/internal/app"
	"github.com/blocktorch/blocktorch/internal/config"
)

var (
	demoSpec = spec{name: "demo", about: `Run the embedded chain, the demo app with its traffic and the full server, with zero
configuration. Every flag can also be given as an environment variable: --addr is
BLOCKTORCH_ADDR.`}
	serveSpec = spec{name: "serve", about: `Run the server against a real node (--rpc): index its chain, serve the UI, the API and the
metrics. Every flag can also be given as an environment variable: --rpc is BLOCKTORCH_RPC.`}
)

func runServer(ctx context.Context, mode string, args []string, stdout, stderr io.Writer) error {
	cfg := config.Default(config.Mode(mode))
	sp := serveSpec
	if mode == "demo" {
		sp = demoSpec
	}
	fs := sp.newFlags()
	cfg.RegisterFlags(fs)
	verbose := fs.Bool("v", false, "verbose logs")
	if _, err := sp.parse(fs, args, stdout); err != nil {
		return err
	}
	if err := config.ApplyEnv(fs, os.Getenv); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := newLogger(stderr, level)
	tty := isTerminal(stderr)
	a, err := app.New(ctx, cfg, app.Options{Logger: log, Progress: stderr, ProgressTTY: tty})
	if err != nil {
		return err
	}
	defer a.Close()
	// The first start of serve makes the admin and prints its setup link
	// before the server answers anyone. The demo has no users: it is
	// open to this machine, and says so.
	var setup string
	if mode == "serve" {
		if setup, err = a.FirstAdmin(ctx); err != nil {
			return fmt.Errorf("cannot create the first admin: %w", err)
		}
	}
	fmt.Fprintf(stdout, "blocktorch %s is running\n", mode)
	if a.UIBuilt() {
		fmt.Fprintf(stdout, "  UI        %s/\n", a.URL())
	} else {
		fmt.Fprintf(stdout, "  UI        %s/  (not built into this binary: build with make build)\n", a.URL())
	}
	fmt.Fprintf(stdout, "  API       %s/api/v1/blocks  %s/api/v1/txs?status=failed\n", a.URL(), a.URL())
	fmt.Fprintf(stdout, "  metrics   %s/metrics\n", a.URL())
	if h, w := a.ChainRPC(); h != "" {
		fmt.Fprintf(stdout, "  chain RPC %s  (WebSocket %s)\n", h, w)
		if cfg.Incident {
			fmt.Fprintf(stdout, "  incident  starts in %s\n", cfg.IncidentDelay)
		} else {
			fmt.Fprintf(stdout, "  incident  curl -X POST %s/api/v1/demo/incident\n", a.URL())
		}
	}
	switch {
	case setup != "":
		fmt.Fprintf(stdout, "  setup     %s\n", setup)
		fmt.Fprintln(stdout, "            one-time link, valid 24 h: it sets the password of the user admin; the UI and API need a login from now on")
	case mode == "demo" && cfg.OperatorKey == "":
		fmt.Fprintln(stdout, "  login     none: the demo has no users, so every browser on this machine is signed in as the local admin")
	}
	fmt.Fprintln(stdout, "Press Ctrl-C to stop.")
	return a.Run(ctx)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
