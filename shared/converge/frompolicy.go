package converge

import (
	"github.com/trailwarden/trailwarden/shared/policy"
)

// FromRequests turns the policy's rendered requests into the engine's
// desired trail: the same values, so `trailwarden policy render` shows
// exactly what the engine applies.
func FromRequests(r *policy.Requests) *Desired {
	ct := r.CreateTrail
	d := &Desired{
		Name:                       ct.Name,
		S3BucketName:               ct.S3BucketName,
		S3KeyPrefix:                ct.S3KeyPrefix,
		SnsTopicARN:                ct.SnsTopicName,
		IsMultiRegionTrail:         ct.IsMultiRegionTrail,
		IncludeGlobalServiceEvents: ct.IncludeGlobalServiceEvents,
		EnableLogFileValidation:    ct.EnableLogFileValidation,
		KmsKeyID:                   ct.KmsKeyId,
		IsOrganizationTrail:        ct.IsOrganizationTrail,
		CloudWatchLogsLogGroupArn:  ct.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn:      ct.CloudWatchLogsRoleArn,
		Tags:                       map[string]string{},
		AdvancedEventSelectors:     r.SDKAdvancedEventSelectors(),
		InsightTypes:               r.InsightTypes(),
	}
	for _, t := range ct.TagsList {
		if t.Key != ManagedTagsKey {
			d.Tags[t.Key] = t.Value
		}
	}
	if l := r.Logs; l != nil {
		d.Logs = &LogsSetup{
			LogGroupName: l.LogGroupName, RetentionDays: l.RetentionDays,
			RoleName: l.RoleName, RolePath: l.RolePath, TrustPolicy: l.TrustPolicy,
			RolePolicyName: l.RolePolicyName, RolePolicy: l.RolePolicy,
			RoleDescription: "Lets CloudTrail deliver trail " + ct.Name + " to CloudWatch Logs (managed by trailwarden)",
		}
	}
	return d
}
