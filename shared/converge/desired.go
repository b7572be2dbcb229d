// Package converge makes one account's trail match a rendered policy: it reads
// the live trail, computes the difference, applies only that difference, and
// returns a change report listing what changed and which calls were made.
//
// The engine is shared by the enabler, the watchdog's repairs and the CLI
// (plan / enable). It is idempotent: a second run makes no write call.
package converge

import (
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// ManagedTagsKey is the trail tag that lists, comma-separated and sorted, the
// tag keys trailwarden manages on that trail. It lets a later converge remove
// a tag the policy no longer sets without ever touching tags someone else put
// on the trail.
const ManagedTagsKey = "trailwarden:managed-tags"

// Desired is the trail an account must have: the rendered policy, in the
// terms of the CloudTrail API.
type Desired struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string // "" for none
	SnsTopicARN                string // "" for none
	IsMultiRegionTrail         bool
	IncludeGlobalServiceEvents bool
	EnableLogFileValidation    bool
	KmsKeyID                   string // key ARN; "" for SSE-S3
	IsOrganizationTrail        bool
	CloudWatchLogsLogGroupArn  string // "" for none
	CloudWatchLogsRoleArn      string // "" for none
	Tags                       map[string]string
	AdvancedEventSelectors     []types.AdvancedEventSelector
	InsightTypes               []types.InsightType // empty: Insights off
	// Logs, when set, is created in the member account before the trail
	// points at it. Its ARNs must equal CloudWatchLogs*Arn above.
	Logs *LogsSetup
}

// LogsSetup is the CloudWatch Logs group and the role CloudTrail assumes to
// write to it, both in the trail's own account.
type LogsSetup struct {
	LogGroupName     string
	RetentionDays    int32
	RoleName         string
	TrustPolicy      string // JSON
	RolePolicyName   string
	RolePolicy       string // JSON: logs:CreateLogStream, logs:PutLogEvents on the group only
	RolePath         string // "" for "/"
	RoleDescription  string
	PermissionsBound string // optional permissions boundary ARN
}

// tagsWithManaged returns the desired tags plus the managed-keys tag.
func (d *Desired) tagsWithManaged() map[string]string {
	out := make(map[string]string, len(d.Tags)+1)
	keys := make([]string, 0, len(d.Tags))
	for k, v := range d.Tags {
		out[k] = v
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out[ManagedTagsKey] = strings.Join(keys, ",")
	return out
}
