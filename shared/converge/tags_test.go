package converge_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// cloudTrailTagRule is CloudTrail's rule for a tag, written from AWS's model
// rather than from the code under test: botocore's cloudtrail service-2.json
// gives TagKey length 1..128 and TagValue 1..256, and the API Reference
// (AddTags, CreateTrail: InvalidTagParameterException) requires both to
// match ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; a trail holds at most 50 tags.
var tagPattern = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)

func cloudTrailTagRule(tags []types.Tag) error {
	if len(tags) > 50 {
		return fmt.Errorf("%d tags; CloudTrail allows 50 per trail", len(tags))
	}
	for _, tg := range tags {
		k, v := aws.ToString(tg.Key), aws.ToString(tg.Value)
		if n := utf8.RuneCountInString(k); n < 1 || n > 128 || !tagPattern.MatchString(k) {
			return fmt.Errorf("InvalidTagParameterException: key %q", k)
		}
		if n := utf8.RuneCountInString(v); n < 1 || n > 256 || !tagPattern.MatchString(v) {
			return fmt.Errorf("InvalidTagParameterException: value %q of %q", v, k)
		}
	}
	return nil
}

// tagTrail is an in-memory trail that refuses tags as CloudTrail does.
type tagTrail struct {
	converge.CloudTrailAPI
	exists bool
	trail  *types.Trail
	sels   []types.AdvancedEventSelector
	tags   map[string]string
	sent   [][]types.Tag
}

func (f *tagTrail) arn() *string {
	return aws.String("arn:aws:cloudtrail:us-east-1:333333333333:trail/org-audit")
}

func (f *tagTrail) GetTrail(context.Context, *cloudtrail.GetTrailInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	if !f.exists {
		return nil, &types.TrailNotFoundException{Message: aws.String("no trail")}
	}
	return &cloudtrail.GetTrailOutput{Trail: f.trail}, nil
}

func (f *tagTrail) CreateTrail(_ context.Context, in *cloudtrail.CreateTrailInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error) {
	f.sent = append(f.sent, in.TagsList)
	if err := cloudTrailTagRule(in.TagsList); err != nil {
		return nil, err
	}
	f.exists, f.tags = true, map[string]string{}
	f.trail = &types.Trail{Name: in.Name, TrailARN: f.arn(), HomeRegion: aws.String("us-east-1"), S3BucketName: in.S3BucketName,
		IsMultiRegionTrail: in.IsMultiRegionTrail, IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents,
		LogFileValidationEnabled: in.EnableLogFileValidation, IsOrganizationTrail: in.IsOrganizationTrail}
	for _, t := range in.TagsList {
		f.tags[*t.Key] = *t.Value
	}
	return &cloudtrail.CreateTrailOutput{Name: in.Name, TrailARN: f.arn()}, nil
}

func (f *tagTrail) AddTags(_ context.Context, in *cloudtrail.AddTagsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.AddTagsOutput, error) {
	f.sent = append(f.sent, in.TagsList)
	if err := cloudTrailTagRule(in.TagsList); err != nil {
		return nil, err
	}
	for _, t := range in.TagsList {
		f.tags[*t.Key] = *t.Value
	}
	return &cloudtrail.AddTagsOutput{}, cloudTrailTagRule(tagList(f.tags))
}

func (f *tagTrail) RemoveTags(_ context.Context, in *cloudtrail.RemoveTagsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.RemoveTagsOutput, error) {
	for _, t := range in.TagsList {
		delete(f.tags, *t.Key)
	}
	return &cloudtrail.RemoveTagsOutput{}, nil
}

func (f *tagTrail) ListTags(context.Context, *cloudtrail.ListTagsInput, ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error) {
	return &cloudtrail.ListTagsOutput{ResourceTagList: []types.ResourceTag{{ResourceId: f.arn(), TagsList: tagList(f.tags)}}}, nil
}

func (f *tagTrail) PutEventSelectors(_ context.Context, in *cloudtrail.PutEventSelectorsInput, _ ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error) {
	f.sels = in.AdvancedEventSelectors
	return &cloudtrail.PutEventSelectorsOutput{}, nil
}

func (f *tagTrail) StartLogging(context.Context, *cloudtrail.StartLoggingInput, ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error) {
	return &cloudtrail.StartLoggingOutput{}, nil
}

// GetEventSelectors and the rest answer what was set, so only tags differ.
func (f *tagTrail) GetEventSelectors(context.Context, *cloudtrail.GetEventSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error) {
	return &cloudtrail.GetEventSelectorsOutput{AdvancedEventSelectors: f.sels}, nil
}

func (f *tagTrail) GetInsightSelectors(context.Context, *cloudtrail.GetInsightSelectorsInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetInsightSelectorsOutput, error) {
	return nil, &types.InsightNotEnabledException{Message: aws.String("off")}
}

func (f *tagTrail) GetTrailStatus(context.Context, *cloudtrail.GetTrailStatusInput, ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error) {
	return &cloudtrail.GetTrailStatusOutput{IsLogging: aws.Bool(true)}, nil
}

func tagList(m map[string]string) []types.Tag {
	var out []types.Tag
	for k, v := range m {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// tagged renders a trail with n policy tags whose keys hold '+', ':' and
// spaces, and some of the maximum length.
func tagged(t *testing.T, n int) *converge.Desired {
	t.Helper()
	tags := map[string]string{}
	for i := 0; i < n; i++ {
		k := []string{"team+%d", "cost center:%d", "a=b/c@d-%d", "%03d" + strings.Repeat("k", 125)}[i%4]
		tags[fmt.Sprintf(k, i)] = fmt.Sprintf("value %d", i)
	}
	tr := policy.DefaultTrail()
	tr.Name, tr.S3.Bucket, tr.KMS.KeyArn, tr.Tags = "org-audit", "acme-org-cloudtrail", policy.KMSNone, tags
	r, err := policy.Render(&tr, policy.RenderContext{Account: "333333333333", HomeRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEngineTagsPassCloudTrailRules: every CreateTrail and AddTags the
// engine sends, trailwarden's own tag included, passes CloudTrail's tag rule
// for policies with 0, 1, 2 and 49 tags, and when the policy then drops tags
// the engine removes exactly those and keeps a tag someone else added.
func TestEngineTagsPassCloudTrailRules(t *testing.T) {
	for _, n := range []int{0, 1, 2, policy.MaxTags} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ct := &tagTrail{}
			e := &converge.Engine{CloudTrail: ct, Region: "us-east-1"}
			if _, err := e.Converge(t.Context(), tagged(t, n), converge.Options{}); err != nil {
				t.Fatalf("create: %v", err)
			}
			if n < policy.MaxTags { // CloudTrail would refuse a 51st tag
				ct.tags["someone-else"] = "keep"
			}
			delete(ct.tags, "team+0") // drift, when there is such a tag
			smaller := tagged(t, n/2)
			if _, err := e.Converge(t.Context(), smaller, converge.Options{}); err != nil {
				t.Fatalf("update: %v", err)
			}
			if len(ct.sent) == 0 {
				t.Fatal("no tag request sent")
			}
			want := map[string]string{}
			if n < policy.MaxTags {
				want["someone-else"] = "keep"
			}
			for _, tg := range smaller.CreateTrail.TagsList {
				want[tg.Key] = tg.Value
			}
			if fmt.Sprint(ct.tags) != fmt.Sprint(want) {
				t.Errorf("tags after dropping to %d:\n got %v\nwant %v", n/2, ct.tags, want)
			}
			again, err := e.Converge(t.Context(), smaller, converge.Options{})
			if err != nil || again.Writes != 0 {
				t.Errorf("not idempotent: %v %+v", err, again)
			}
		})
	}
}
