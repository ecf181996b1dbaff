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
  blocktorch demo  [flags]                 embedded chain + demo app + server, zero configuration
  blocktorch serve --rpc URL [flags]       follow a real node (geth, Hardhat, a hosted RPC)
  blocktorch query 'QUERY'                 search chain data and logs (level:error tx:0x… | stats count() by kind)
  blocktorch tail ['QUERY']                follow matching records live
  blocktorch abi add ADDRESS FILE          register a contract ABI with a running server
  blocktorch monitors apply FILE           apply monitors.yaml to a running server
  blocktorch monitors test FILE            replay monitors.yaml over the last 24 h: when would they have fired?
  blocktorch monitors list                 the server's monitors and their state
  blocktorch respond actions ADDRESS       a watched contract's emergency actions and who holds their roles
  blocktorch respond prepare ADDRESS ACTION [ARG…]  calldata, cast line, Safe batch, signed tx; simulated
  blocktorch respond send ADDRESS ACTION [ARG…]  simulate, then send from the server's signer
  blocktorch respond runs                  the history of sent actions and scenario runs
  blocktorch respond run SCENARIO         run a scenario's actions in order (--dry-run: simulate only)
  blocktorch respond propose|sign|execute …  an action through the server's Safe: proposed, signed by owners, executed
  blocktorch incident open 'TITLE'        open an incident (--alert MONITOR/KEY, --search QUERY, --severity …)
  blocktorch incident update ID 'TEXT'     a note, a public update (--public, --notify) or a status change (--status)
  blocktorch incident close ID ['MESSAGE'] resolve an incident
  blocktorch incident list                 the server's incidents
  blocktorch incident export ID            the postmortem as Markdown (-o FILE)
  blocktorch incident template get|set     the postmortem template (set FILE, --default)
  blocktorch flags set NAME on|off|PERCENT switch a dApp feature off, on, or on for a share of users
  blocktorch flags list                    the kill switches and their state
  blocktorch status components|set|remove  the public status page's components
  blocktorch users add|list|passwd|disable|enable|role  people who log in to the UI, and their roles
  blocktorch keys create|list|revoke       API keys with scopes (ingest, read, write, respond, admin)
  blocktorch oracle list|show|add [ADDRESS]  price feeds: health, latest round, readers; follow one
  blocktorch verify --rpc URL ADDRESS PATH…  check artifacts against the deployed code
  blocktorch trace 0xTX [--rpc URL] [--artifacts PATH]…  replay a transaction; show its calls and failing line
  blocktorch simulate --rpc URL --from A --to B --data 0x…  run a call on the chain's state, with overrides
  blocktorch patch-check --impl out/ --proxy 0x… --txs incident:ID  replay an incident against a new implementation
  blocktorch migrate records --from sqlite:PATH --to http://HOST:9428  copy records to VictoriaLogs
  blocktorch migrate schema --db postgres://…  apply the relational store's schema migrations
  blocktorch export --to postgres://… [--data DIR]  copy an embedded SQLite store into PostgreSQL
  blocktorch version

Flags go before or after the arguments. Run 'blocktorch COMMAND -h' for a command's help and flags.
Commands that talk to a server take --server (default $BLOCKTORCH_SERVER, else http://127.0.0.1:8080)
and --key (default $BLOCKTORCH_KEY): an API key (blocktorch keys create) or the server's operator key.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// runMain runs a command line and returns the exit status: 0, 1 for a
// failure, 2 for a wrong command line.
func runMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := run(ctx, args, stdout, stderr)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		ue.explain(stderr)
		return 2
	default:
		fmt.Fprintf(stderr, "blocktorch: %v\n", err)
		return 1
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageError{msg: "no command given"}
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
	case "respond":
		return runRespond(ctx, rest, stdout, stderr)
	case "incident":
		return runIncident(ctx, rest, stdout, stderr)
	case "flags":
		return runFlags(ctx, rest, stdout, stderr)
	case "users":
		return runUsers(ctx, rest, stdout, stderr)
	case "keys":
		return runKeys(ctx, rest, stdout, stderr)
	case "status":
		return runStatus(ctx, rest, stdout, stderr)
	case "oracle":
		return runOracle(ctx, rest, stdout, stderr)
	case "verify":
		return runVerify(ctx, rest, stdout, stderr)
	case "trace":
		return runTrace(ctx, rest, stdout, stderr)
	case "simulate":
		return runSimulate(ctx, rest, stdout, stderr)
	case "patch-check":
		return runPatchCheck(ctx, rest, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, rest, stdout, stderr)
	case "export":
		return runExport(ctx, rest, stdout, stderr)
	case "version":
		if _, err := versionSpec.parse(versionSpec.newFlags(), rest, stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "blocktorch", version())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError{msg: fmt.Sprintf("unknown command %q", cmd)}
	}
}

var versionSpec = spec{name: "version", noFlags: true, about: "Print the version of this binary."}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
