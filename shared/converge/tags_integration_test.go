package converge_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// taggedPolicyTrail renders the world's trail with n policy tags whose keys
// use every character CloudTrail's tag pattern allows beyond letters and
// digits (`+`, `:`, spaces, `=`, `/`, `@`, `-`, `.`, `_`) and the longest key.
func (w *world) taggedPolicyTrail(t *testing.T, n int) *converge.Desired {
	t.Helper()
	tags := map[string]string{}
	for i := 0; i < n; i++ {
		k := []string{"team+%d", "cost center:%d", "a=b/c@d-%d.e_f", "%03d" + strings.Repeat("k", 125)}[i%4]
		tags[fmt.Sprintf(k, i)] = fmt.Sprintf("value %d", i)
	}
	pol, err := policy.Parse([]byte(w.central.PolicyYAML(central.PolicyOptions{
		OrganizationID: w.env.OrganizationID, ManagementAccount: emulator.ManagementAccountID, LoggingAccount: w.env.Logging.ID,
		MemberRole: policy.DefaultMemberRole,
	})))
	if err != nil {
		t.Fatalf("policy with %d tags: %v", n, err)
	}
	tr, err := pol.Effective(w.member, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr.Tags = tags
	r, err := policy.Render(tr, policy.RenderContext{Account: w.member, HomeRegion: w.env.Region})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEngineTagsAcceptedByStrictEmulator: the engine's CreateTrail and
// AddTags requests, trailwarden's own tag included, for policies with 0, 1,
// 2 and 49 tags, pass the emulator's strict layer, which refuses what
// CloudTrail refuses (Tag key 1–128 and value 1–256 characters of
// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, at most 50 tags per trail; CloudTrail API
// Reference, Tag and AddTags). A comma-joined or empty managed-tags value,
// as earlier releases sent, fails here with InvalidTagParameterException.
// Then the policy drops half its tags: the engine's RemoveTags and AddTags
// pass too, and the trail ends with exactly the policy's tags and ours.
func TestEngineTagsAcceptedByStrictEmulator(t *testing.T) {
	w := setup(t)
	for _, n := range []int{0, 1, 2, policy.MaxTags} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := w.engine(t, nil)
			want := w.taggedPolicyTrail(t, n)
			if _, err := e.Converge(t.Context(), want, converge.Options{}); err != nil {
				t.Fatalf("converge with %d tags: %v", n, err)
			}
			smaller := w.taggedPolicyTrail(t, n/2)
			if _, err := e.Converge(t.Context(), smaller, converge.Options{}); err != nil {
				t.Fatalf("converge down to %d tags: %v", n/2, err)
			}
			ct := e.CloudTrail.(*cloudtrail.Client)
			trail, err := ct.GetTrail(t.Context(), &cloudtrail.GetTrailInput{Name: aws.String(smaller.CreateTrail.Name)})
			if err != nil {
				t.Fatal(err)
			}
			out, err := ct.ListTags(t.Context(), &cloudtrail.ListTagsInput{ResourceIdList: []string{aws.ToString(trail.Trail.TrailARN)}})
			if err != nil || len(out.ResourceTagList) != 1 {
				t.Fatalf("ListTags: %v %+v", err, out)
			}
			got := map[string]string{}
			for _, tg := range out.ResourceTagList[0].TagsList {
				got[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			wantTags := map[string]string{}
			for _, tg := range smaller.CreateTrail.TagsList {
				wantTags[tg.Key] = tg.Value
			}
			if fmt.Sprint(got) != fmt.Sprint(wantTags) {
				t.Errorf("tags after converging down to %d:\n got %v\nwant %v", n/2, got, wantTags)
			}
			if _, err := ct.DeleteTrail(t.Context(), &cloudtrail.DeleteTrailInput{Name: aws.String(smaller.CreateTrail.Name)}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
