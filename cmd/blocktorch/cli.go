package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// spec describes one subcommand for its help and its argument errors;
// every subcommand parses its command line with spec.parse, so that all
// follow one convention: flags before or after the arguments, -h prints
// the command's own help, a wrong command line says what is wrong and
// what to do.
type spec struct {
	name     string // "query", "monitors apply"
	args     string // the positional arguments' synopsis: "'QUERY'"
	about    string // what the command does, one paragraph or a few lines
	short    string // one line for a list of subcommands; default: about's first line
	example  string // one example command line, shown with a missing argument
	min, max int    // how many positional arguments; max < 0: any number
	noFlags  bool   // the command has no flags but -h
}

// usageError is a wrong command line: main prints it with the command's
// synopsis and where its help is, and exits with status 2.
type usageError struct {
	cmd   string // "query"; empty: the top-level command line
	usage string // the command's synopsis
	msg   string
	group bool // the command has subcommands
}

func (e usageError) Error() string {
	if e.cmd == "" {
		return e.msg
	}
	return "blocktorch " + e.cmd + ": " + e.msg
}

// explain writes what main prints for a usage error.
func (e usageError) explain(w io.Writer) {
	if e.cmd == "" {
		fmt.Fprintf(w, "blocktorch: %s\nRun 'blocktorch help' for the commands.\n", e.msg)
		return
	}
	fmt.Fprintf(w, "blocktorch %s: %s\n", e.cmd, e.msg)
	if e.usage != "" {
		fmt.Fprintf(w, "usage: %s\n", e.usage)
	}
	what := "its flags"
	if e.group {
		what = "its subcommands"
	}
	fmt.Fprintf(w, "Run 'blocktorch %s -h' for %s.\n", e.cmd, what)
}

func (s spec) usage() string {
	u := "blocktorch " + s.name
	if !s.noFlags {
		u += " [flags]"
	}
	if s.args != "" {
		u += " " + s.args
	}
	return u
}

func (s spec) errorf(format string, args ...any) usageError {
	return usageError{cmd: s.name, usage: s.usage(), msg: fmt.Sprintf(format, args...)}
}

// newFlags returns the command's flag set, quiet: spec.parse reports its
// errors and help.
func (s spec) newFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("blocktorch "+s.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parse parses args, flags anywhere among the positional arguments ("--"
// ends the flags: what follows is positional even if it starts with "-").
// It returns the positional arguments; flag.ErrHelp after printing the
// help to stdout for -h or --help; a usageError for a wrong command line.
func (s spec) parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		s.printHelp(stdout, fs)
		return nil, flag.ErrHelp
	}
	if err != nil {
		return nil, s.errorf("%s", flagError(err))
	}
	switch {
	case len(pos) < s.min:
		msg := "missing " + s.args
		if len(pos) > 0 {
			msg = fmt.Sprintf("got %d argument(s), want %s", len(pos), s.args)
		}
		if s.example != "" {
			msg += " (for example: " + s.example + ")"
		}
		return nil, s.errorf("%s", msg)
	case s.max >= 0 && len(pos) > s.max:
		if s.max == 0 {
			return nil, s.errorf("unexpected argument %q: this command takes flags only", pos[0])
		}
		return nil, s.errorf("unexpected argument %q: want %s (quote a query that has spaces)", pos[s.max], s.args)
	}
	return pos, nil
}

// flagError rewords the flag package's errors with the flags spelt as the
// help spells them: "unknown flag --nope" for "flag provided but not
// defined: -nope".
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag -" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return "flag -" + name + " needs a value"
	}
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		return msg[:i] + " for flag --" + msg[i+len(" for flag -"):]
	}
	return msg
}

// parseInterspersed is flag.FlagSet.Parse that goes on past positional
// arguments, so that "query 'q' --limit 3" reads --limit.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at the first positional argument or after "--".
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printHelp writes the command's synopsis, what it does and its flags.
func (s spec) printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", s.usage(), strings.TrimSpace(s.about))
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintf(w, "\nFlags (before or after the arguments; -h for this help):\n")
	fs.VisitAll(func(f *flag.Flag) {
		kind, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if kind != "" {
			line += " " + kind
		}
		fmt.Fprintf(w, "%s\n      %s", line, usage)
		switch f.DefValue {
		case "", "0", "false", "[]":
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}

// group is a command with subcommands (monitors, abi): it dispatches to
// them and prints their list for -h, help or a wrong subcommand.
type group struct {
	name  string
	about string
	subs  []groupSub
}

type groupSub struct {
	spec spec
	run  func(args []string) error
}

func (g group) run(args []string, stdout io.Writer) error {
	names := make([]string, len(g.subs))
	for i, s := range g.subs {
		names[i] = strings.TrimPrefix(s.spec.name, g.name+" ")
	}
	usage := "blocktorch " + g.name + " " + strings.Join(names, "|") + " [flags] …"
	if len(args) == 0 {
		return usageError{cmd: g.name, usage: usage, msg: "missing a subcommand: " + orList(names), group: true}
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintf(stdout, "usage: %s\n\n%s\n\nSubcommands:\n", usage, strings.TrimSpace(g.about))
		for _, s := range g.subs {
			fmt.Fprintf(stdout, "  %-40s %s\n", strings.TrimPrefix(s.spec.usage(), "blocktorch "), s.spec.summary())
		}
		fmt.Fprintf(stdout, "\nRun 'blocktorch %s SUBCOMMAND -h' for a subcommand's flags.\n", g.name)
		return flag.ErrHelp
	}
	for i, s := range g.subs {
		if names[i] == args[0] {
			return s.run(args[1:])
		}
	}
	return usageError{cmd: g.name, usage: usage, msg: fmt.Sprintf("unknown subcommand %q: want %s", args[0], orList(names)), group: true}
}

func orList(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " or " + xs[len(xs)-1]
}

func (s spec) summary() string {
	if s.short != "" {
		return s.short
	}
	return firstLine(s.about)
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}
