package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/shared/version"
)

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

// warnf prints one diagnostic line on stderr (errors are returned, and
// printed once by runEnv).
func (e *cmdEnv) warnf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "trailwarden: "+format+"\n", a...)
}

// run is the whole CLI, testable: it never calls os.Exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, args, &cmdEnv{stdin: stdin, stdout: stdout, stderr: stderr, getenv: osGetenv})
}

// runEnv executes one command line and returns its exit code, printing the
// error, if any, once.
func runEnv(ctx context.Context, args []string, env *cmdEnv) int {
	env.ctx = ctx
	root := newRoot(env)
	if args == nil {
		args = []string{} // nil makes cobra read os.Args
	}
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	return reportError(env, cmd, err)
}

const rootLong = `trailwarden keeps CloudTrail on in every account of an AWS organization, and
proves logs arrive.

Against AWS it uses the default credential chain; against the emulator,
AWS_ENDPOINT_URL. 'trailwarden use' points it at a deployment. Data goes to
stdout, diagnostics to stderr.

` + exitCodeTable

// newRoot builds the command tree for one invocation.
func newRoot(env *cmdEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "trailwarden",
		Short: "keep CloudTrail on in every account of an organization, and prove logs arrive",
		Long:  rootLong,
		// A bare 'trailwarden' prints the help and is a usage error.
		Args: unknownCommand,
		RunE: func(c *cobra.Command, _ []string) error {
			c.SetOut(env.stdout)
			if err := c.Help(); err != nil {
				return err
			}
			return exitUsageSilent
		},
		Version:           version.Get().String(),
		SilenceErrors:     true, // runEnv prints each error once
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetVersionTemplate("trailwarden {{.Version}}\n")
	root.Flags().Bool("version", false, "print the version, commit and build date")
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newPolicyCmd(env), newExplainCmd(env), newPlanCmd(env), newEnableCmd(env), newBackfillCmd(env),
		newInvokeCmd(env), newStatusCmd(env), newDoctorCmd(env), newIntegrityCmd(env), newReportCmd(env),
		newUseCmd(env), newVersionCmd(env), newCompletionCmd(), exitCodesTopic())
	root.SetHelpCommand(newHelpCmd(root))
	return root
}

// unknownCommand refuses a word that names no command, with suggestions.
func unknownCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	return usageErrorf("unknown command %q for %q%s", args[0], c.CommandPath(), didYouMean(c.SuggestionsFor(args[0])))
}

// groupCmd is a command that only holds subcommands (policy, integrity,
// invoke): without one, or with an unknown one, it is a usage error.
func groupCmd(use, short, long string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long, Args: unknownCommand,
		RunE: func(c *cobra.Command, _ []string) error {
			var names []string
			for _, s := range c.Commands() {
				names = append(names, s.Name())
			}
			return usageErrorf("%s needs a subcommand: %s", c.Name(), strings.Join(names, ", "))
		}}
	c.AddCommand(subs...)
	return c
}

// newHelpCmd is 'help [command]': an unknown command or topic is a usage
// error, with suggestions.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "help about any command, or a topic (exit-codes)",
		ValidArgsFunction: func(c *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, _, err := root.Find(args)
			if err != nil || target == nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, s := range target.Commands() {
				if s.IsAvailableCommand() || s.IsAdditionalHelpTopicCommand() {
					out = append(out, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				word := strings.Join(args, " ")
				if len(rest) > 0 {
					word = rest[0]
				}
				if target == nil {
					target = root
				}
				target.SuggestionsMinimumDistance = 2
				suggest := target.SuggestionsFor(word)
				for _, s := range target.Commands() {
					if s.IsAdditionalHelpTopicCommand() && levenshtein(word, s.Name()) <= 2 {
						suggest = append(suggest, s.Name())
					}
				}
				return usageErrorf("no command or help topic %q%s", strings.Join(args, " "), didYouMean(suggest))
			}
			target.InitDefaultHelpFlag()
			return target.Help()
		},
	}
}

// flagError makes a flag parsing error a usage error, suggesting the
// nearest flag names for an unknown one.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		msg += didYouMean(suggestFlags(c.Flags(), name))
	}
	return &exitError{code: exitUsage, err: fmt.Errorf("%s", msg), usage: true}
}

// suggestFlags are the flags within two edits of name, or that it
// prefixes.
func suggestFlags(fs *pflag.FlagSet, name string) []string {
	var out []string
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (levenshtein(name, f.Name) <= 2 || strings.HasPrefix(f.Name, name)) {
			out = append(out, "--"+f.Name)
		}
	})
	return out
}

func didYouMean(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
}

// levenshtein is the edit distance of a and b, case-insensitively.
func levenshtein(a, b string) int {
	s, t := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev := make([]int, len(t)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(s); i++ {
		cur := make([]int, len(t)+1)
		cur[0] = i
		for j := 1; j <= len(t); j++ {
			cost := 1
			if s[i-1] == t[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(t)]
}

// outputFlag is -o/--output: table or json, checked when parsed (another
// value is a usage error).
type outputFlag string

func (o *outputFlag) String() string { return string(*o) }
func (o *outputFlag) Type() string   { return "table|json" }
func (o *outputFlag) Set(v string) error {
	if v != "table" && v != "json" {
		return fmt.Errorf("want table or json")
	}
	*o = outputFlag(v)
	return nil
}

// addOutput registers -o/--output on c, defaulting to table, and completes
// its values.
func addOutput(c *cobra.Command, o *outputFlag) {
	*o = "table"
	c.Flags().VarP(o, "output", "o", "output format")
	completeValues(c, "output", "table", "json")
}

// completeValues completes a flag's fixed values.
func completeValues(c *cobra.Command, flag string, values ...string) {
	_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// noArgs refuses positional arguments as a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q", c.CommandPath(), args[0])
	}
	return nil
}
