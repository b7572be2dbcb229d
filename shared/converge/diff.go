package converge

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// diffTrail compares the trail's own settings (UpdateTrail's fields).
func diffTrail(r *Desired, live *types.Trail) []Change {
	d := r.CreateTrail
	var out []Change
	str := func(field, got, want string) {
		if got != want {
			out = append(out, Change{Field: field, From: got, To: want})
		}
	}
	boolean := func(field string, got *bool, want bool) {
		if aws.ToBool(got) != want {
			out = append(out, Change{Field: field, From: fmt.Sprint(aws.ToBool(got)), To: fmt.Sprint(want)})
		}
	}
	str("S3BucketName", aws.ToString(live.S3BucketName), d.S3BucketName)
	str("S3KeyPrefix", aws.ToString(live.S3KeyPrefix), d.S3KeyPrefix)
	str("SnsTopicARN", aws.ToString(live.SnsTopicARN), d.SnsTopicName)
	boolean("IsMultiRegionTrail", live.IsMultiRegionTrail, d.IsMultiRegionTrail)
	boolean("IncludeGlobalServiceEvents", live.IncludeGlobalServiceEvents, d.IncludeGlobalServiceEvents)
	boolean("LogFileValidationEnabled", live.LogFileValidationEnabled, d.EnableLogFileValidation)
	str("KmsKeyId", aws.ToString(live.KmsKeyId), d.KmsKeyId)
	boolean("IsOrganizationTrail", live.IsOrganizationTrail, d.IsOrganizationTrail)
	str("CloudWatchLogsLogGroupArn", aws.ToString(live.CloudWatchLogsLogGroupArn), d.CloudWatchLogsLogGroupArn)
	str("CloudWatchLogsRoleArn", aws.ToString(live.CloudWatchLogsRoleArn), d.CloudWatchLogsRoleArn)
	return out
}

// canonicalSelectors renders advanced selectors order-insensitively: the
// selectors sorted by name, each selector's fields sorted, each field's
// values sorted. Two lists with the same canonical form select the same
// events.
func canonicalSelectors(sels []types.AdvancedEventSelector) []string {
	out := make([]string, 0, len(sels))
	for _, s := range sels {
		fields := make([]string, 0, len(s.FieldSelectors))
		for _, f := range s.FieldSelectors {
			var parts []string
			add := func(op string, vals []string) {
				if len(vals) == 0 {
					return
				}
				v := append([]string(nil), vals...)
				sort.Strings(v)
				parts = append(parts, op+"["+strings.Join(v, "|")+"]")
			}
			add("Equals", f.Equals)
			add("NotEquals", f.NotEquals)
			add("StartsWith", f.StartsWith)
			add("NotStartsWith", f.NotStartsWith)
			add("EndsWith", f.EndsWith)
			add("NotEndsWith", f.NotEndsWith)
			fields = append(fields, aws.ToString(f.Field)+":"+strings.Join(parts, ","))
		}
		sort.Strings(fields)
		out = append(out, aws.ToString(s.Name)+"{"+strings.Join(fields, ";")+"}")
	}
	sort.Strings(out)
	return out
}

func selectorsEqual(want, got []types.AdvancedEventSelector) bool {
	a, b := canonicalSelectors(want), canonicalSelectors(got)
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func describeSelectors(basic []types.EventSelector, adv []types.AdvancedEventSelector) string {
	if len(basic) > 0 {
		var parts []string
		for _, s := range basic {
			parts = append(parts, fmt.Sprintf("basic{readWrite=%s,management=%v,dataResources=%d}",
				s.ReadWriteType, aws.ToBool(s.IncludeManagementEvents), len(s.DataResources)))
		}
		return strings.Join(parts, " ")
	}
	if len(adv) == 0 {
		return "none"
	}
	return strings.Join(canonicalSelectors(adv), " ")
}

func insightsEqual(want, got []types.InsightType) bool {
	return joinInsights(want) == joinInsights(got)
}

func joinInsights(ts []types.InsightType) string {
	s := make([]string, 0, len(ts))
	seen := map[types.InsightType]bool{}
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			s = append(s, string(t))
		}
	}
	sort.Strings(s)
	if len(s) == 0 {
		return "off"
	}
	return strings.Join(s, ",")
}
