// Command blocktorch watches EVM apps on-chain and off-chain and serves the
// UI and API an on-call engineer uses during an incident.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

const usage = `blocktorch — web3 observability and incident troubleshooting

Usage:
  blocktorch demo  [flags]           embedded chain + demo app + server, zero configuration
  blocktorch serve --rpc URL [flags] follow a real node (geth, Hardhat, a hosted RPC)
  blocktorch abi add ADDRESS FILE    register a contract ABI with a running server
  blocktorch query 'QUERY'           search chain data and logs (level:error tx:0x… | stats count() by kind)
  blocktorch tail ['QUERY']          follow matching records live
  blocktorch monitors apply|test FILE  apply monitors.yaml to a running server, or replay it over the last 24 h
  blocktorch verify --rpc URL ADDRESS PATH…  check artifacts against the deployed code
  blocktorch trace 0xTX --rpc URL [--artifacts PATH]…  replay a transaction; show its calls and failing line
  blocktorch simulate --rpc URL --from A --to B --data 0x…  run a call on the chain's state, with overrides
  blocktorch version

Run 'blocktorch COMMAND -h' for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintf(os.Stderr, "blocktorch: %v\n\n%s", err, usage)
		os.Exit(2)
	default:
		fmt.Fprintf(os.Stderr, "blocktorch: %v\n", err)
		os.Exit(1)
	}
}

// usageError is a wrong command line; main prints the usage after it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"no command given"}
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "demo":
		return runServer(ctx, "demo", rest, stdout, stderr)
	case "serve":
		return runServer(ctx, "serve", rest, stdout, stderr)
	case "abi":
		return runABI(ctx, rest, stdout, stderr)
	case "query":
		return runQuery(ctx, rest, stdout, stderr)
	case "tail":
		return runTail(ctx, rest, stdout, stderr)
	case "monitors":
		return runMonitors(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "trace":
		return runTrace(ctx, rest, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "blocktorch", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
