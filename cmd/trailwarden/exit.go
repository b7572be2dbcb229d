package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// The exit codes of every command: one table, documented in
// 'trailwarden help exit-codes' and the README.
const (
	exitOK      = 0 // success, or healthy
	exitProblem = 1 // a finding, a change, an unhealthy state, or a refused input
	exitUsage   = 2 // a usage, access or runtime error: nothing could be judged
)

const exitCodeTable = `Exit codes (every command):
  0  success, or healthy
  1  a finding, a change, an unhealthy state, or a refused input: 'status'
     needs attention, 'plan' or 'backfill --dry-run' would change a trail,
     'doctor' has a failed check, 'integrity verify' an invalid or missing
     object, 'policy validate' a problem, 'explain' a malformed message or a
     rejected delivery, 'invoke' batch item failures or open incidents
  2  a usage, access or runtime error: a bad flag or argument, an unknown
     -o format, no credentials, access denied, a table or stack not found;
     nothing could be judged`

// exitCodesTopic is 'trailwarden help exit-codes'.
func exitCodesTopic() *cobra.Command {
	return &cobra.Command{Use: "exit-codes", Short: "the exit codes every command follows", Long: exitCodeTable}
}

// exitError carries an exit code. A nil err prints nothing: the output
// already says why (a status table, a plan, a report of findings).
type exitError struct {
	code  int
	err   error
	usage bool // a usage error: the message ends with where help is
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

var (
	// errProblemSilent is exit 1 when the output already shows the finding,
	// change or unhealthy state.
	errProblemSilent = &exitError{code: exitProblem}
	// exitUsageSilent is exit 2 when the help was printed.
	exitUsageSilent = &exitError{code: exitUsage}
)

// usageErrorf is a usage error (exit 2).
func usageErrorf(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...), usage: true}
}

// problemf is a refused input or a finding, with its message (exit 1).
func problemf(format string, a ...any) error {
	return &exitError{code: exitProblem, err: fmt.Errorf(format, a...)}
}

// exitCode maps a command's error to the table: nil 0, an exitError its
// code, anything else (an access or runtime error) 2.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return exitUsage
}

// reportError prints err once, on stderr, saying what to do next, and
// returns its exit code.
func reportError(env *cmdEnv, cmd *cobra.Command, err error) int {
	code := exitCode(err)
	var e *exitError
	if err == nil || (errors.As(err, &e) && e.err == nil) {
		return code
	}
	env.warnf("%s", explainError(err))
	if errors.As(err, &e) && e.usage && cmd != nil {
		fmt.Fprintf(env.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return code
}
