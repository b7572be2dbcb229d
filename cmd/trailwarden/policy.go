package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/policy"
)

const policyLong = `validate checks the whole configuration file, the deployment section
included, with the same validation as the CDK app's synth: structure (unknown
keys, with the nearest known one), types, and every rule (naming, ARNs,
Insights needs write management events, log groups in the member account,
...). It prints every problem at once on stderr as FILE:LINE:COLUMN: PATH:
MESSAGE, and exits 0 when the file is valid (warnings are printed too).

render prints {"effectivePolicy": ..., "requests": ...}: the account's
effective trail after overrides and the exact API inputs (CreateTrail,
PutEventSelectors, PutInsightSelectors) in the AWS API's field names. List
the account's OUs from the root down with repeated --ou.`

const policyExample = `  trailwarden policy validate examples/policy.yaml
  trailwarden policy render examples/policy.yaml --account 444444444444 --ou ou-ab12-cdef3456`

func newPolicyCmd(env *cmdEnv) *cobra.Command {
	validate := &cobra.Command{Use: "validate FILE", Short: "validate a policy file, reporting every problem",
		Long: policyLong, Example: policyExample, Args: exactFile,
		RunE: func(_ *cobra.Command, args []string) error { return policyValidate(env, args[0]) }}
	var o policyRenderOptions
	render := &cobra.Command{Use: "render FILE --account ID", Short: "render one account's CloudTrail API requests",
		Long: policyLong, Example: policyExample, Args: exactFile,
		RunE: func(_ *cobra.Command, args []string) error { return policyRender(env, args[0], o) }}
	render.Flags().StringVar(&o.account, "account", "", "the member account id (required)")
	render.Flags().StringArrayVar(&o.ous, "ou", nil, "an OU id on the account's path, from the root down (repeatable)")
	c := groupCmd("policy", "validate a policy file, or render one account's CloudTrail API requests", policyLong, validate, render)
	c.Example = policyExample
	return c
}

// exactFile wants one FILE argument.
func exactFile(c *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErrorf("%s: want exactly one FILE, got %d argument(s)", c.CommandPath(), len(args))
	}
	return nil
}

func policyValidate(env *cmdEnv, file string) error {
	_, warnings, err := policy.LoadWarn(file)
	for _, w := range warnings {
		fmt.Fprintln(env.stderr, w.WarningAt(file))
	}
	if err != nil {
		printProblems(env, file, err)
		return errProblemSilent
	}
	fmt.Fprintf(env.stdout, "%s: valid\n", file)
	return nil
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

type policyRenderOptions struct {
	account string
	ous     []string
}

func policyRender(env *cmdEnv, file string, o policyRenderOptions) error {
	if o.account == "" {
		return usageErrorf("policy render: --account is required")
	}
	pol, err := policy.Load(file)
	if err != nil {
		printProblems(env, file, err)
		return errProblemSilent
	}
	trail, err := pol.Effective(o.account, o.ous)
	if err != nil {
		printProblems(env, file, err)
		return errProblemSilent
	}
	home := pol.Organization.HomeRegion
	req, err := policy.Render(trail, policy.RenderContext{Account: o.account, HomeRegion: home, Partition: awsenv.Partition(home)})
	if err != nil {
		return problemf("%v", err)
	}
	return writeJSON(env, map[string]any{"effectivePolicy": trail, "requests": req})
}

// loadValidPolicy loads and validates (policy.Load), printing problems: a
// command that needs the policy cannot judge anything without it (exit 2).
func loadValidPolicy(env *cmdEnv, path string) (*policy.Policy, error) {
	pol, err := policy.Load(path)
	if err != nil {
		printProblems(env, path, err)
		return nil, exitUsageSilent
	}
	return pol, nil
}

// writeJSON prints v as indented JSON on stdout.
func writeJSON(env *cmdEnv, v any) error {
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

func osGetenv(k string) string { return os.Getenv(k) }
