package main

import (
	"strings"

	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// explainDelivery explains CloudTrail delivery notifications with the
// verifier's own checks.
func explainDelivery(env *cmdEnv, payload []byte, policyFile, members string) int {
	var opts verifier.ExplainOptions
	if policyFile != "" {
		pol, err := policy.Load(policyFile)
		if err != nil {
			printProblems(env, policyFile, err)
			return exitProblem
		}
		opts.Policy = pol
	}
	if members != "" {
		for _, m := range strings.Split(members, ",") {
			if m = strings.TrimSpace(m); m != "" {
				opts.Members = append(opts.Members, m)
			}
		}
	}
	ex, err := verifier.Explain(payload, opts)
	if err != nil {
		env.errorf("explain: %v", err)
	}
	return writeJSON(env, ex)
}
