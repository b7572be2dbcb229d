package policy

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// awsTagOK is CloudTrail's rule for a tag, written here from AWS's model and
// not from the code under test: botocore's cloudtrail service-2.json gives
// TagKey min 1 max 128 and TagValue min 1 max 256 (Unicode characters), and
// the API Reference (AddTags, CreateTrail: InvalidTagParameterException)
// requires both to match ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.
func awsTagOK(key, value string) error {
	re := regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
	if n := utf8.RuneCountInString(key); n < 1 || n > 128 || !re.MatchString(key) {
		return fmt.Errorf("key %q refused by CloudTrail", key)
	}
	if n := utf8.RuneCountInString(value); n < 1 || n > 256 || !re.MatchString(value) {
		return fmt.Errorf("value %q (%d characters) refused by CloudTrail", value, n)
	}
	return nil
}

// policyTags returns n distinct tags whose keys use the characters AWS
// allows that a naive encoding would trip on: '+', ':', spaces, and keys of
// the maximum length.
func policyTags(n int) map[string]string {
	out := map[string]string{}
	for i := 0; i < n; i++ {
		var k string
		switch i % 4 {
		case 0:
			k = fmt.Sprintf("team+%d", i)
		case 1:
			k = fmt.Sprintf("cost center:%d", i)
		case 2:
			k = fmt.Sprintf("a=b/c@d-%d", i)
		default:
			k = fmt.Sprintf("%03d", i) + strings.Repeat("k", 125)
		}
		out[k] = "v " + k[:min(len(k), 200)]
	}
	return out
}

func TestTrailTagsAcceptedByCloudTrail(t *testing.T) {
	for _, n := range []int{0, 1, 2, MaxTags} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			tags := policyTags(n)
			var v validator
			v.tags(tags, "trail.tags")
			if len(v.problems) > 0 {
				t.Fatalf("policy tags refused: %v", v.problems)
			}
			list := trailTags(tags)
			if len(list) != n+1 || len(list) > MaxTrailTags {
				t.Fatalf("%d tags sent, want %d (at most %d)", len(list), n+1, MaxTrailTags)
			}
			for _, tg := range list {
				if err := awsTagOK(tg.Key, tg.Value); err != nil {
					t.Error(err)
				}
			}
			m := ParseManagedTags(list[len(list)-1].Value)
			for k := range tags {
				if !m.Manages(k) {
					t.Errorf("managed key %q not recognised from %q", k, list[len(list)-1].Value)
				}
			}
			if m.Manages("someone-else") || m.Manages(ManagedTagsKey) {
				t.Error("manages a key it never set")
			}
		})
	}
}

func TestManagedTagsLegacyAndGarbage(t *testing.T) {
	if m := ParseManagedTags("owner"); !m.Manages("owner") || m.Manages("cost") {
		t.Error("the single-key value of earlier releases is not read")
	}
	for _, v := range []string{"", "v1.abc", "v1.!!!!!"} {
		m := ParseManagedTags(v)
		if m.Manages("owner") || m.Manages("") {
			t.Errorf("%q manages keys", v)
		}
	}
	if ManagedTagsValue([]string{"b", "a", "a"}) != ManagedTagsValue([]string{"a", "b"}) {
		t.Error("value depends on order or duplicates")
	}
}

func TestCheckTagAgreesWithCloudTrail(t *testing.T) {
	cases := [][2]string{
		{"owner", "security"}, {"a+b", "c:d"}, {"with space", "x y"}, {"k", ""}, {"", "v"}, {"k", "a,b"},
		{strings.Repeat("k", 129), "v"}, {"k", strings.Repeat("v", 257)}, {"ключ", "значение"},
	}
	for _, c := range cases {
		if (CheckTag(c[0], c[1]) == nil) != (awsTagOK(c[0], c[1]) == nil) {
			t.Errorf("CheckTag(%q, %q) = %v, CloudTrail's rule says %v", c[0], c[1], CheckTag(c[0], c[1]), awsTagOK(c[0], c[1]))
		}
	}
}

func TestValidCombinations(t *testing.T) {
	for name, patch := range map[string]string{
		"error rate insights with read":               `trail: {managementEvents: {readWrite: read}, insights: {apiErrorRate: true}}`,
		"management excluded with organization trail": `organization: {existingOrganizationTrail: true, exclude: {accounts: ["111111111111"]}}`,
		"member role of our own":                      `organization: {memberRole: TrailwardenMember}`,
	} {
		p := mustParse(t, patched(t, patch))
		if _, err := p.Validate(ValidateOptions{}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAllBucketsSelectorExcludesTrailBucket(t *testing.T) {
	p := mustParse(t, patched(t, `trail: {dataEvents: {s3: {allBuckets: all}}}`))
	tr, err := p.Effective(memberAccount, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Render(tr, RenderContext{Account: memberAccount, HomeRegion: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.PutEventSelectors.AdvancedEventSelectors {
		if !strings.Contains(s.Name, "all buckets") {
			continue
		}
		for _, f := range s.FieldSelectors {
			if f.Field == "resources.ARN" && len(f.NotStartsWith) == 1 && f.NotStartsWith[0] == "arn:aws:s3:::"+tr.S3.Bucket+"/" {
				return
			}
		}
		t.Fatalf("all-buckets selector logs the trail's own deliveries: %+v", s)
	}
	t.Fatal("no all-buckets selector")
}
