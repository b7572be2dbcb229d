package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// Load reads the configuration file (the policy file with its deployment
// section) and validates it with policy validate's one validation
// (policy.Check: both sections and the rules that tie them together, every
// problem at once with its position), then the app's own needs (the
// functions' builds). Warnings are returned for the app to print, each a
// whole line ("FILE:LINE:COLUMN: warning: PATH: MESSAGE", policy validate's
// words).
func Load(path, buildDir string) (*Config, []string, error) {
	pol, warnings, err := policy.LoadWith(path, policy.ValidateOptions{RequireDeployment: true})
	var warns []string
	for _, w := range warnings {
		warns = append(warns, w.WarningAt(path))
	}
	if err != nil {
		return nil, warns, fmt.Errorf("configuration %w", err)
	}
	cfg := FromPolicy(pol, pol.Deployment)
	cfg.PolicyFile = path
	cfg.BuildDir = buildDir
	if cfg.KMSKeyARN == "" || cfg.KMSKeyARN == policy.KMSNone {
		warns = append(warns, path+": warning: trail.kms.keyArn: trails will use SSE-S3 until it names the key TrailwardenCentral creates (its output LogKeyArn); see docs/deploy.md")
	}
	if err := cfg.Validate(); err != nil {
		return nil, warns, fmt.Errorf("configuration %s: %w", path, err)
	}
	return cfg, warns, nil
}

// FromPolicy takes the facts the stacks need from a parsed policy.
func FromPolicy(pol *policy.Policy, dep *deployment.Deployment) *Config {
	o := pol.Organization
	t := pol.Trail
	c := &Config{
		Facts: Facts{
			OrgID:             o.ID,
			ManagementAccount: o.ManagementAccount,
			LoggingAccount:    o.LoggingAccount,
			MemberRole:        o.MemberRole,
			HomeRegion:        o.HomeRegion,
			TrailName:         t.Name,
			Bucket:            t.S3.Bucket,
			Prefix:            t.S3.KeyPrefix,
			TopicARN:          t.SNS.TopicArn,
			KMSKeyARN:         t.KMS.KeyArn,
			OrganizationTrail: pol.Mode == policy.ModeOrganizationTrail,
		},
		Deployment: dep,
	}
	if a, err := policy.ParseARN(t.SNS.TopicArn); err == nil {
		c.TopicName = a.Resource
		c.topicAccount, c.topicRegion = a.Account, a.Region
	}
	if a, err := policy.ParseARN(t.KMS.KeyArn); err == nil {
		c.keyAccount = a.Account
	}
	c.LogGroupNames = logGroups(pol)
	return c
}

// logGroups lists every CloudWatch Logs group a trail may deliver to: the
// base trail's and each override's, where delivery is enabled.
func logGroups(pol *policy.Policy) []string {
	var out []string
	add := func(t *policy.Trail) {
		if t != nil && t.CloudWatchLogs.Enabled && t.CloudWatchLogs.LogGroup != "" && !slices.Contains(out, t.CloudWatchLogs.LogGroup) {
			out = append(out, t.CloudWatchLogs.LogGroup)
		}
	}
	add(&pol.Trail)
	for _, o := range pol.Overrides {
		var t *policy.Trail
		var err error
		switch {
		case o.Match.Account != "":
			t, err = pol.Effective(o.Match.Account, nil)
		case o.Match.OU != "":
			t, err = pol.Effective(strings.Repeat("0", 12), []string{o.Match.OU})
		}
		if err == nil {
			add(t)
		}
	}
	slices.Sort(out)
	return out
}
