package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/policy"
)

const policyUsage = `Usage:
  trailwarden policy validate FILE
  trailwarden policy render FILE --account ID [--ou OU_ID]...

validate checks the whole configuration file, the deployment section
included, with the same validation as the CDK app's synth: structure (unknown
keys, with the nearest known one), types, and every rule (naming, ARNs,
Insights needs write management events, log groups in the member account,
...). It prints every problem at once on stderr as FILE:LINE:COLUMN: PATH:
MESSAGE, and exits 0 when the file is valid (warnings are printed too).

render prints {"effectivePolicy": ..., "requests": ...}: the account's
effective trail after overrides and the exact API inputs (CreateTrail,
PutEventSelectors, PutInsightSelectors) in the AWS API's field names. List
the account's OUs from the root down with repeated --ou.

Example:
  trailwarden policy validate examples/policy.yaml
  trailwarden policy render examples/policy.yaml --account 444444444444 --ou ou-ab12-cdef3456
`

var policyCommand = command{
	summary: "validate a policy file, or render one account's CloudTrail API requests",
	usage:   policyUsage,
	run:     runPolicy,
}

func runPolicy(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 {
		return usageErr(env, "policy: want 'validate' or 'render'\n%s", policyUsage)
	}
	switch args[0] {
	case "validate":
		return policyValidate(env, args[1:])
	case "render":
		return policyRender(env, args[1:])
	default:
		return usageErr(env, "policy: unknown subcommand %q (validate, render)", args[0])
	}
}

func policyValidate(env *cmdEnv, args []string) int {
	fs := newFlags(env, "policy validate", policyUsage)
	pos, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) != 1 {
		return usageErr(env, "policy validate: want exactly one FILE")
	}
	_, warnings, err := policy.LoadWarn(pos[0])
	for _, w := range warnings {
		fmt.Fprintln(env.stderr, w.WarningAt(pos[0]))
	}
	if err != nil {
		printProblems(env, pos[0], err)
		return exitProblem
	}
	fmt.Fprintf(env.stdout, "%s: valid\n", pos[0])
	return exitOK
}

func printProblems(env *cmdEnv, file string, err error) {
	var ps policy.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintln(env.stderr, p.At(file))
		}
		fmt.Fprintf(env.stderr, "%s: %d problem(s)\n", file, len(ps))
		return
	}
	fmt.Fprintf(env.stderr, "%s: %v\n", file, err)
}

func policyRender(env *cmdEnv, args []string) int {
	fs := newFlags(env, "policy render", policyUsage)
	account := fs.String("account", "", "the member account id (required)")
	var ous listFlag
	fs.Var(&ous, "ou", "an OU id on the account's path, from the root down (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) != 1 || *account == "" {
		return usageErr(env, "policy render: want FILE and --account")
	}
	pol, err := loadValidPolicy(env, pos[0])
	if err != nil {
		return exitProblem
	}
	trail, err := pol.Effective(*account, ous)
	if err != nil {
		printProblems(env, pos[0], err)
		return exitProblem
	}
	home := pol.Organization.HomeRegion
	req, err := policy.Render(trail, policy.RenderContext{Account: *account, HomeRegion: home, Partition: awsenv.Partition(home)})
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	return writeJSON(env, map[string]any{"effectivePolicy": trail, "requests": req})
}

// loadValidPolicy loads and validates (policy.Load), printing problems.
func loadValidPolicy(env *cmdEnv, path string) (*policy.Policy, error) {
	pol, err := policy.Load(path)
	if err != nil {
		printProblems(env, path, err)
		return nil, err
	}
	return pol, nil
}

func writeJSON(env *cmdEnv, v any) int {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		env.errorf("write output: %v", err)
		return exitProblem
	}
	return exitOK
}

func osGetenv(k string) string { return os.Getenv(k) }
