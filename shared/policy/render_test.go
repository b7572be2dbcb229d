package policy

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

const memberAccount = "333333333333"

// renderVariant loads a variant, validates it, resolves the trail of a member
// account (the management account for organization trails) and renders it.
func renderVariant(t *testing.T, path string) *Requests {
	t.Helper()
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	account := memberAccount
	if p.Mode == ModeOrganizationTrail {
		account = p.Organization.ManagementAccount
	}
	tr, err := p.Effective(account, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(tr, RenderContext{Account: account, HomeRegion: p.Organization.HomeRegion})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGolden(t *testing.T) {
	variants, err := filepath.Glob("testdata/variants/*.yaml")
	if err != nil || len(variants) == 0 {
		t.Fatalf("no variants: %v", err)
	}
	for _, v := range variants {
		name := strings.TrimSuffix(filepath.Base(v), ".yaml")
		t.Run(name, func(t *testing.T) {
			r := renderVariant(t, v)
			got, err := json.MarshalIndent(r, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering (run go test -update and review the diff):\n%s", golden, got)
			}
		})
	}
}

func TestRenderSelectors(t *testing.T) {
	tests := []struct {
		variant string
		want    []string // selector names in order
		check   func(t *testing.T, r *Requests)
	}{
		{"management-all", []string{"Management events"}, func(t *testing.T, r *Requests) {
			fs := r.PutEventSelectors.AdvancedEventSelectors[0].FieldSelectors
			if len(fs) != 1 || fs[0].Field != "eventCategory" || fs[0].Equals[0] != "Management" {
				t.Errorf("read+write must have no readOnly: %+v", fs)
			}
		}},
		{"management-read", []string{"Management events"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 0, "readOnly", "Equals", "true")
		}},
		{"management-write", []string{"Management events"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 0, "readOnly", "Equals", "false")
		}},
		{"management-none", []string{"S3 data events: all buckets"}, nil},
		{"exclude-kms-rds", []string{"Management events"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 0, "eventSource", "NotEquals", "kms.amazonaws.com", "rdsdata.amazonaws.com")
		}},
		{"s3-chosen-buckets", []string{"Management events", "S3 data events: chosen buckets (read and write)", "S3 data events: chosen buckets (read)", "S3 data events: chosen buckets (write)"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 2, "resources.ARN", "StartsWith", "arn:aws:s3:::archive/", "arn:aws:s3:::reports/quarterly/")
			wantField(t, r, 1, "resources.type", "Equals", "AWS::S3::Object")
		}},
		{"s3-all-plus-chosen", []string{"Management events", "S3 data events: all buckets", "S3 data events: chosen buckets (read)"}, func(t *testing.T, r *Requests) {
			// payroll (all) adds read; hrdata (read) adds read.
			wantField(t, r, 2, "resources.ARN", "StartsWith", "arn:aws:s3:::hrdata/", "arn:aws:s3:::payroll/")
		}},
		{"lambda", []string{"Management events", "Lambda data events: all functions", "Lambda data events: chosen functions (read)"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 2, "resources.ARN", "Equals", "arn:aws:lambda:us-east-1:333333333333:function:payroll-export")
			wantField(t, r, 1, "resources.type", "Equals", "AWS::Lambda::Function")
		}},
		{"dynamodb", []string{"Management events", "DynamoDB data events: chosen tables (read and write)", "DynamoDB data events: chosen tables (write)"}, func(t *testing.T, r *Requests) {
			wantField(t, r, 1, "resources.type", "Equals", "AWS::DynamoDB::Table")
		}},
		{"insights", []string{"Management events"}, func(t *testing.T, r *Requests) {
			got := r.PutInsightSelectors.InsightSelectors
			if len(got) != 2 || got[0].InsightType != "ApiCallRateInsight" || got[1].InsightType != "ApiErrorRateInsight" {
				t.Errorf("insights: %+v", got)
			}
		}},
		{"cloudwatch-logs", []string{"Management events"}, func(t *testing.T, r *Requests) {
			c := r.CreateTrail
			if c.CloudWatchLogsLogGroupArn != "arn:aws:logs:us-east-1:333333333333:log-group:/trailwarden/cloudtrail:*" ||
				c.CloudWatchLogsRoleArn != "arn:aws:iam::333333333333:role/TrailwardenCloudTrailLogs" {
				t.Errorf("ARNs: %s %s", c.CloudWatchLogsLogGroupArn, c.CloudWatchLogsRoleArn)
			}
			if r.Logs == nil || r.Logs.RetentionDays != 90 || r.Logs.LogGroupName != "/trailwarden/cloudtrail" || r.Logs.RoleArn != c.CloudWatchLogsRoleArn {
				t.Errorf("logs: %+v", r.Logs)
			}
		}},
		{"organization-trail", []string{"Management events"}, func(t *testing.T, r *Requests) {
			if !r.CreateTrail.IsOrganizationTrail || !strings.Contains(r.CreateTrail.CloudWatchLogsLogGroupArn, ":111111111111:") {
				t.Errorf("org trail: %+v", r.CreateTrail)
			}
		}},
		{"sse-s3-single-region", []string{"Management events"}, func(t *testing.T, r *Requests) {
			c := r.CreateTrail
			if c.KmsKeyId != "" || c.SnsTopicName != "" || c.S3KeyPrefix != "" || c.IsMultiRegionTrail || c.EnableLogFileValidation {
				t.Errorf("create: %+v", c)
			}
			b, _ := json.Marshal(c)
			for _, k := range []string{"KmsKeyId", "SnsTopicName", "S3KeyPrefix", "CloudWatchLogs"} {
				if strings.Contains(string(b), k) {
					t.Errorf("unset optional %s marshalled: %s", k, b)
				}
			}
			// With no policy tags, only trailwarden's own tag, never empty.
			if len(c.TagsList) != 1 || c.TagsList[0].Key != ManagedTagsKey || c.TagsList[0].Value == "" {
				t.Errorf("tags: %+v", c.TagsList)
			}
			if r.PutInsightSelectors.InsightSelectors == nil {
				t.Error("InsightSelectors must be an empty list, not null")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.variant, func(t *testing.T) {
			r := renderVariant(t, "testdata/variants/"+tc.variant+".yaml")
			var names []string
			for _, s := range r.PutEventSelectors.AdvancedEventSelectors {
				names = append(names, s.Name)
			}
			if strings.Join(names, "|") != strings.Join(tc.want, "|") {
				t.Errorf("selectors = %q, want %q", names, tc.want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func wantField(t *testing.T, r *Requests, sel int, field, op string, values ...string) {
	t.Helper()
	for _, f := range r.PutEventSelectors.AdvancedEventSelectors[sel].FieldSelectors {
		if f.Field != field {
			continue
		}
		var got []string
		switch op {
		case "Equals":
			got = f.Equals
		case "NotEquals":
			got = f.NotEquals
		case "StartsWith":
			got = f.StartsWith
		}
		if strings.Join(got, ",") != strings.Join(values, ",") {
			t.Errorf("selector %d %s %s = %v, want %v", sel, field, op, got, values)
		}
		return
	}
	t.Errorf("selector %d has no %s", sel, field)
}

func TestSDKInputs(t *testing.T) {
	r := renderVariant(t, "testdata/variants/cloudwatch-logs.yaml")
	c := r.CreateTrailInput()
	if aws.ToString(c.Name) != "org-audit" || aws.ToString(c.S3BucketName) != "acme-org-cloudtrail" ||
		aws.ToString(c.KmsKeyId) != r.CreateTrail.KmsKeyId || !aws.ToBool(c.IsMultiRegionTrail) ||
		aws.ToString(c.CloudWatchLogsRoleArn) != r.CreateTrail.CloudWatchLogsRoleArn || len(c.TagsList) != 3 ||
		aws.ToString(c.TagsList[0].Key) != "cost-center" {
		t.Errorf("CreateTrailInput: %+v", c)
	}
	u := r.UpdateTrailInput()
	if aws.ToString(u.SnsTopicName) != r.CreateTrail.SnsTopicName || u.IsOrganizationTrail == nil || aws.ToBool(u.IsOrganizationTrail) {
		t.Errorf("UpdateTrailInput: %+v", u)
	}
	e := r.PutEventSelectorsInput()
	if aws.ToString(e.TrailName) != "org-audit" || len(e.AdvancedEventSelectors) != 1 ||
		aws.ToString(e.AdvancedEventSelectors[0].FieldSelectors[0].Field) != "eventCategory" || e.EventSelectors != nil {
		t.Errorf("PutEventSelectorsInput: %+v", e)
	}
	in := r.PutInsightSelectorsInput()
	if in.InsightSelectors == nil || len(in.InsightSelectors) != 0 {
		t.Errorf("insights off must be an empty list: %+v", in.InsightSelectors)
	}
	r = renderVariant(t, "testdata/variants/insights.yaml")
	in = r.PutInsightSelectorsInput()
	if len(in.InsightSelectors) != 2 || in.InsightSelectors[0].InsightType != cttypes.InsightTypeApiCallRateInsight {
		t.Errorf("insights: %+v", in.InsightSelectors)
	}
	// Unset optionals stay nil in CreateTrail and become "" (remove) in UpdateTrail.
	r = renderVariant(t, "testdata/variants/sse-s3-single-region.yaml")
	if r.CreateTrailInput().KmsKeyId != nil || r.CreateTrailInput().SnsTopicName != nil {
		t.Error("CreateTrailInput sets unset optionals")
	}
	if u := r.UpdateTrailInput(); u.KmsKeyId == nil || *u.KmsKeyId != "" || u.CloudWatchLogsLogGroupArn == nil {
		t.Error("UpdateTrailInput must send empty strings to remove settings")
	}
}

func TestRenderContext(t *testing.T) {
	p := mustParse(t, patched(t, `trail: {cloudWatchLogs: {enabled: true}}`))
	tr, err := p.Effective(memberAccount, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ctx     RenderContext
		wantErr string
	}{
		{"ok", RenderContext{Account: memberAccount, HomeRegion: "us-east-1"}, ""},
		{"bad account", RenderContext{Account: "3", HomeRegion: "us-east-1"}, "account"},
		{"bad region", RenderContext{Account: memberAccount, HomeRegion: "moon-1"}, "home Region"},
		{"partition mismatch", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", Partition: "aws-cn"}, "partition"},
		{"log group in another account", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", LogGroupArn: "arn:aws:logs:us-east-1:222222222222:log-group:x:*"}, "trail's own account"},
		{"log group in another region", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", LogGroupArn: "arn:aws:logs:us-west-2:333333333333:log-group:x:*"}, "home Region"},
		{"log group given", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", LogGroupArn: "arn:aws:logs:us-east-1:333333333333:log-group:custom"}, ""},
		{"role in another account", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", RoleArn: "arn:aws:iam::222222222222:role/x"}, "trail's own account"},
		{"role given", RenderContext{Account: memberAccount, HomeRegion: "us-east-1", RoleArn: "arn:aws:iam::333333333333:role/ops/ct-logs"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Render(tr, tc.ctx)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("want error with %q, got %v (%+v)", tc.wantErr, err, r)
			}
		})
	}
	r, _ := Render(tr, RenderContext{Account: memberAccount, HomeRegion: "us-east-1", LogGroupArn: "arn:aws:logs:us-east-1:333333333333:log-group:custom", RoleArn: "arn:aws:iam::333333333333:role/ops/ct-logs"})
	if r.Logs.LogGroupName != "custom" || r.CreateTrail.CloudWatchLogsLogGroupArn != "arn:aws:logs:us-east-1:333333333333:log-group:custom:*" ||
		r.Logs.RoleArn != "arn:aws:iam::333333333333:role/ops/ct-logs" {
		t.Errorf("given ARNs: %+v", r.Logs)
	}
	r, _ = Render(tr, RenderContext{Account: memberAccount, HomeRegion: "us-gov-west-1"})
	if !strings.HasPrefix(r.CreateTrail.CloudWatchLogsRoleArn, "arn:aws-us-gov:iam::") {
		t.Errorf("partition from Region: %s", r.CreateTrail.CloudWatchLogsRoleArn)
	}
}

func TestLogsRoleARN(t *testing.T) {
	if got := LogsRoleARN("aws", memberAccount); got != "arn:aws:iam::333333333333:role/TrailwardenCloudTrailLogs" || checkIAMRoleName(LogsRoleName) != nil {
		t.Errorf("LogsRoleARN: %s", got)
	}
}
