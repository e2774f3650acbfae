package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/scenario"
)

// Exit statuses.
const (
	exitOK    = 0 // success
	exitFail  = 1 // a scenario failed, or a decision was denied
	exitUsage = 2 // bad usage or unreadable input
)

const usage = `tollgate — an embeddable policy engine for data access

Usage:
  tollgate <command> [flags] [arguments]

Commands:
  demo                          evaluate the built-in demo organisation
  eval BUNDLE                   evaluate a bundle file or directory
  check FILE|DIR...             run conformance scenarios
  serve BUNDLE                  serve the REST API over a bundle
  impact POLICY --bundle BUNDLE dry-run a policy against a bundle
  decide BUNDLE --user ID --data-source ID
                                one decision with its reasons

Run 'tollgate <command> --help' for the flags of a command.
Exit status: 0 ok, 1 a scenario failed or access is denied, 2 usage or input error.
`

// cli carries the outputs of one run, and hooks for tests.
type cli struct {
	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	// ready is called with the listening address once serve accepts connections.
	ready func(addr string)
}

// run runs the tollgate command line and returns the exit status. serve stops on
// SIGINT or SIGTERM.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr}
	return c.run(args)
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "demo":
		return c.demo(rest)
	case "eval":
		return c.eval(rest)
	case "check":
		return c.check(rest)
	case "serve":
		return c.serve(rest)
	case "impact":
		return c.impact(rest)
	case "decide":
		return c.decide(rest)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	}
	fmt.Fprintf(c.stderr, "tollgate: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// errHelp is returned by parse when --help was asked for (usage already printed).
var errHelp = errors.New("help")

// newFlags returns a quiet flag set: parse prints usage and errors itself.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parse parses args with flags allowed before, between and after the positional
// arguments. On --help it prints the command's usage to stdout and returns errHelp.
func (c *cli) parse(fs *flag.FlagSet, synopsis, text string, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.commandUsage(c.stdout, fs, synopsis, text)
				return nil, errHelp
			}
			fmt.Fprintf(c.stderr, "tollgate %s: %v\n", fs.Name(), err)
			c.commandUsage(c.stderr, fs, synopsis, text)
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *cli) commandUsage(w io.Writer, fs *flag.FlagSet, synopsis, text string) {
	fmt.Fprintf(w, "Usage: tollgate %s\n\n%s\n", synopsis, strings.TrimSpace(text))
	var flags strings.Builder
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nFlags:\n%s", flags.String())
	}
}

// exitParse maps a parse error to an exit status.
func exitParse(err error) int {
	if errors.Is(err, errHelp) {
		return exitOK
	}
	return exitUsage
}

func outputFlag(fs *flag.FlagSet) *string {
	return fs.String("o", "text", "output format: text or json")
}

func checkOutput(o string) error {
	if o != "text" && o != "json" {
		return fmt.Errorf("-o must be text or json, got %q", o)
	}
	return nil
}

// usageError prints an error about the arguments and returns exitUsage.
func (c *cli) usageError(cmd, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "tollgate %s: %s\n(run 'tollgate %s --help')\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// inputError prints an error about the input and returns exitUsage.
func (c *cli) inputError(cmd string, err error) int {
	fmt.Fprintf(c.stderr, "tollgate %s: %v\n", cmd, err)
	return exitUsage
}

// loaded is a bundle loaded into a fresh engine, its steps run.
type loaded struct {
	s *scenario.Scenario
	e *engine.Engine
}

// load reads a bundle (file or directory) into a fresh engine on the bundle's clock
// and runs its steps, if any. A step whose answer does not meet its expectation is
// an input error.
func load(path string, opts ...engine.Option) (*loaded, error) {
	s, err := scenario.LoadBundle(path)
	if err != nil {
		return nil, err
	}
	return setup(s, opts...)
}

func setup(s *scenario.Scenario, opts ...engine.Option) (*loaded, error) {
	e, h, err := s.Setup(opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: setup: %w", s.Name, err)
	}
	if fails := s.RunSteps(h); len(fails) > 0 {
		return nil, fmt.Errorf("%s: steps failed:\n  %s", s.Name, strings.Join(fails, "\n  "))
	}
	return &loaded{s: s, e: e}, nil
}

func (c *cli) check(args []string) int {
	const synopsis = "check FILE|DIR... [--store sqlite|memory]"
	const text = `Runs conformance scenarios (see docs/scenarios.md), each on a fresh engine on a fresh
SQLite file store in a temporary directory, removed afterwards (--store memory: no
store; a restart step then fails). Directories are searched recursively for *.yaml,
*.yml and *.json files, run in name order. Prints PASS name or FAIL name followed by
every mismatch, then "N passed, M failed". Exit status 0 only when every scenario
passed.`
	fs := newFlags("check")
	storeFlag := fs.String("store", "sqlite", "sqlite: each scenario on a temporary file store; memory: without a store")
	paths, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	if len(paths) == 0 {
		return c.usageError("check", "name at least one scenario file or directory")
	}
	var stores scenario.Stores
	switch *storeFlag {
	case "sqlite":
		stores = tempSQLite(c.ctx)
	case "memory":
	default:
		return c.usageError("check", "--store must be sqlite or memory, got %q", *storeFlag)
	}
	results := scenario.RunDirOn(stores, paths...)
	if len(results) == 0 {
		fmt.Fprintf(c.stderr, "tollgate check: no scenarios found in %s\n", strings.Join(paths, " "))
		return exitUsage
	}
	passed, failed := 0, 0
	for _, r := range results {
		if r.Passed {
			passed++
			fmt.Fprintf(c.stdout, "PASS %s\n", r.Name)
			continue
		}
		failed++
		fmt.Fprintf(c.stdout, "FAIL %s\n", r.Name)
		for _, f := range r.Failures {
			fmt.Fprintf(c.stdout, "    %s\n", strings.ReplaceAll(f, "\n", "\n      "))
		}
	}
	fmt.Fprintf(c.stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitFail
	}
	return exitOK
}
