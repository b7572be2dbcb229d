package main

import (
	"strings"

	"github.com/trailwarden/trailwarden/shared/notification"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// explainDelivery explains CloudTrail delivery notifications with the
// verifier's own checks; a malformed message or a rejected object is a
// refused input (exit 1).
func explainDelivery(env *cmdEnv, payload []byte, policyFile, members string) error {
	var opts verifier.ExplainOptions
	if policyFile != "" {
		pol, err := policy.Load(policyFile)
		if err != nil {
			printProblems(env, policyFile, err)
			return exitUsageSilent
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
	ex, explainErr := verifier.Explain(payload, opts)
	if err := writeJSON(env, ex); err != nil {
		return err
	}
	refused := explainErr != nil
	for _, m := range ex.Messages {
		refused = refused || m.Outcome == notification.OutcomeMalformed.String()
	}
	for _, o := range ex.Objects {
		refused = refused || o.Verdict == verifier.Rejected.String()
	}
	switch {
	case explainErr != nil:
		return problemf("explain: %v", explainErr)
	case refused:
		return errProblemSilent
	}
	return nil
}
