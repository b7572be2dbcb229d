package central

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/shared/policy"
)

// PolicyOptions shape the policy file PolicyYAML writes.
type PolicyOptions struct {
	OrganizationID    string
	ManagementAccount string
	LoggingAccount    string
	MemberRole        string // default policy.DefaultMemberRole
	ExcludeAccounts   []string
	ExcludeOUs        []string
	// Overrides is YAML for the overrides list's items, already indented
	// by two spaces (e.g. "  - match: {ou: ou-…}\n    trail: {…}\n").
	Overrides string
	// Extra trail fields, YAML indented by two spaces.
	TrailExtra string
	// Mode is account-trails (default) or organization-trail.
	Mode string
}

// PolicyYAML writes a policy file that points trails at these resources:
// the central bucket and prefix, the KMS key, the deliveries topic.
func (r *Resources) PolicyYAML(o PolicyOptions) string {
	mode := o.Mode
	if mode == "" {
		mode = "account-trails"
	}
	role := o.MemberRole
	if role == "" {
		role = policy.DefaultMemberRole
	}
	q := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = fmt.Sprintf("%q", s)
		}
		return "[" + strings.Join(out, ", ") + "]"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
organization:
  id: %s
  managementAccount: "%s"
  loggingAccount: "%s"
  memberRole: %s
  homeRegion: %s
  exclude: {accounts: %s, ous: %s}
mode: %s
trail:
  name: org-audit
  s3: {bucket: %s, keyPrefix: %s}
  kms: {keyArn: "%s"}
  logFileValidation: true
  sns: {topicArn: "%s"}
  multiRegion: true
  globalServiceEvents: true
  tags: {owner: security}
  managementEvents: {readWrite: all, excludeKms: true, excludeRdsData: false}
`, o.OrganizationID, o.ManagementAccount, o.LoggingAccount, role, r.Region, q(o.ExcludeAccounts), q(o.ExcludeOUs), mode,
		r.Bucket, r.KeyPrefix, r.KMSKeyARN, r.DeliveriesTopicARN)
	b.WriteString(o.TrailExtra)
	if o.Overrides != "" {
		b.WriteString("overrides:\n")
		b.WriteString(o.Overrides)
	}
	return b.String()
}
