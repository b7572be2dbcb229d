package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Exit codes.
const (
	exitOK      = 0
	exitProblem = 1
	exitUsage   = 2
)

// command is one subcommand: its help (with an example) and its run function.
type command struct {
	summary string
	usage   string // full help text, with an example
	run     func(ctx context.Context, env *cmdEnv, args []string) int
}

// cmdEnv carries the streams of one invocation.
type cmdEnv struct {
	ctx            context.Context // set by runEnv
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// context is the invocation's context.
func (e *cmdEnv) context() context.Context {
	if e.ctx == nil {
		return context.Background()
	}
	return e.ctx
}

func (e *cmdEnv) errorf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "trailwarden: "+format+"\n", a...)
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"policy":    policyCommand,
		"explain":   explainCommand,
		"plan":      planCommand,
		"enable":    enableCommand,
		"backfill":  backfillCommand,
		"invoke":    invokeCommand,
		"status":    statusCommand,
		"doctor":    doctorCommand,
		"integrity": integrityCommand,
		"report":    reportCommand,
		"use":       useCommand,
		"version":   versionCommand,
	}
}

// run is the whole CLI, testable: it never calls os.Exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr, getenv: osGetenv})
}

func runEnv(ctx context.Context, args []string, env *cmdEnv) int {
	env.ctx = ctx
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		if len(args) > 1 {
			c, ok := commands[args[1]]
			if !ok {
				env.errorf("no command %q", args[1])
				usage(env.stderr)
				return exitUsage
			}
			fmt.Fprint(env.stdout, c.usage)
			return exitOK
		}
		usage(env.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" {
		args = []string{"version"}
	}
	c, ok := commands[args[0]]
	if !ok {
		env.errorf("unknown command %q", args[0])
		usage(env.stderr)
		return exitUsage
	}
	return c.run(ctx, env, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "trailwarden keeps CloudTrail on in every account of an AWS organization, and proves logs arrive.")
	fmt.Fprintln(w, "\nUsage: trailwarden <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'trailwarden help <command>' for a command's flags and an example.")
}

// newFlags builds a flag set that prints the command's help on -h and
// reports errors on stderr.
func newFlags(env *cmdEnv, name, help string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprint(env.stderr, help)
		fmt.Fprintln(env.stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags anywhere among the arguments (flag stops at the first
// positional one otherwise) and returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// usageErr reports a usage problem and returns exitUsage.
func usageErr(env *cmdEnv, format string, a ...any) int {
	env.errorf(format, a...)
	return exitUsage
}

// flagErr maps a flag parse error to an exit code (help is not an error).
func flagErr(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }
