// Package stacks is trailwarden's CDK app: the central (logging account),
// automation, management and member stacks, built from one validated
// configuration (the policy file with its `deployment:` section).
package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// Facts are the values the stacks need from the policy file's organization
// and trail sections: where things live and what the trails look like.
type Facts struct {
	OrgID             string
	ManagementAccount string
	LoggingAccount    string
	// MemberRole is the role the enabler and watchdog assume in each member.
	MemberRole string
	// HomeRegion holds the central bucket, topic, key and the automation.
	HomeRegion string

	TrailName string
	Bucket    string
	// Prefix is the S3 key prefix ("" for none).
	Prefix string
	// TopicARN is the deliveries topic (logging account, home Region), which
	// the central stack creates under TopicName.
	TopicARN  string
	TopicName string
	// KMSKeyARN is the policy's trail.kms.keyArn: the key the central stack
	// creates ("none" or "" until the first deploy has created it).
	KMSKeyARN string
	// OrganizationTrail: the policy's mode is organization-trail.
	OrganizationTrail bool
	// LogGroupNames are the CloudWatch Logs groups trails may deliver to in
	// their own accounts (empty when no trail delivers to CloudWatch Logs).
	LogGroupNames []string

	topicAccount, topicRegion, keyAccount string
}

// Config is everything the app is built from.
type Config struct {
	Facts
	Deployment *deployment.Deployment
	// PolicyFile is the configuration file; it is bundled with every function.
	PolicyFile string
	// BuildDir holds <function>/bootstrap (make build).
	BuildDir string
}

// Functions are the Lambda functions every deployment has, in
// build/<name>/bootstrap.
var Functions = []string{FnEnabler, FnReconciler, FnVerifier, FnWatchdog, FnAlarmRelay}

// FnRefresher is the Security Hub refresher (functions/refresher),
// deployed only with deployment.securityHub.enabled.
const FnRefresher = "refresher"

// DeployedFunctions are the functions c deploys: Functions, and the
// refresher when Security Hub import is on.
func (c *Config) DeployedFunctions() []string {
	fns := append([]string{}, Functions...)
	if c.Deployment != nil && c.Deployment.SecurityHub.Enabled {
		fns = append(fns, FnRefresher)
	}
	return fns
}

// Function names: the folder under functions/ and build/, the construct id,
// and the Service dimension of their metrics.
const (
	FnEnabler    = "enabler"
	FnReconciler = "reconciler"
	FnVerifier   = "verifier"
	FnWatchdog   = "watchdog"
	// FnAlarmRelay relays the CloudWatch alarms' notifications to the
	// alerts topic (shared/alarmrelay).
	FnAlarmRelay = "alarmrelay"
)

// Validate checks what the app needs beyond the configuration file's own
// rules (policy.Check, which Load runs): the deployment section, a member
// role name that cannot collide with AWS's (the same rule, for a Config
// built without Load), the functions' builds and the file to bundle.
func (c *Config) Validate() error {
	var p deployment.Problems
	if c.Deployment == nil {
		p.Addf("deployment", "missing")
		return p.Err()
	}
	if err := policy.CheckMemberRoleName(c.MemberRole); err != nil {
		p.Addf("organization.memberRole", "%v", err)
	}
	if c.BuildDir == "" {
		p.Addf("buildDir", "missing")
	} else {
		for _, fn := range c.DeployedFunctions() {
			if _, err := os.Stat(filepath.Join(c.BuildDir, fn, "bootstrap")); err != nil {
				p.Addf("buildDir", "%s/%s/bootstrap is missing: run `make build` first (%v)", c.BuildDir, fn, err)
			}
		}
	}
	if _, err := os.Stat(c.PolicyFile); err != nil {
		p.Addf("config", "policy file: %v", err)
	}
	return p.Err()
}

// errorf keeps the error style of the package.
func errorf(format string, args ...any) error { return fmt.Errorf("stacks: "+format, args...) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
