package doctor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestSampleIsDeterministicAndSpread(t *testing.T) {
	ids := []string{"555555555555", "111111111111", "444444444444", "222222222222", "333333333333"}
	got := Sample(ids, 3)
	want := []string{"111111111111", "333333333333", "555555555555"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sample = %v, want %v", got, want)
	}
	if got := Sample(ids, 1); !reflect.DeepEqual(got, []string{"111111111111"}) {
		t.Fatalf("Sample 1 = %v", got)
	}
	if got := Sample(ids[:2], 5); len(got) != 2 {
		t.Fatalf("Sample larger than the list = %v", got)
	}
}

// bucketPolicy is CloudTrail's bucket policy for trail name org-audit
// (CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail").
const bucketPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"CloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl",
  "Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:*:trail/org-audit"}}},
 {"Sid":"CloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject",
  "Resource":"arn:aws:s3:::b/cloudtrail/AWSLogs/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"},
  "StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:*:trail/org-audit"}}},
 {"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],
  "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

func TestAllows(t *testing.T) {
	c := Central{Partition: "aws", Region: "us-east-1", OrganizationID: "o-abc", Bucket: "b", KeyPrefix: "cloudtrail",
		TrailNames: []string{"org-audit"}, Account: "333333333333"}
	put := c.needs()["bucket"][1]
	cases := []struct {
		name, doc string
		n         need
		want      string // "" allowed, else a substring of the reason
	}{
		{"as deployed", bucketPolicy, put, ""},
		{"acl check", bucketPolicy, c.needs()["bucket"][0], ""},
		{"write statement missing", strings.Replace(bucketPolicy, `"Action":"s3:PutObject"`, `"Action":"s3:GetObject"`, 1), put,
			"no statement allows cloudtrail.amazonaws.com s3:PutObject"},
		{"other trail name", strings.ReplaceAll(bucketPolicy, "trail/org-audit", "trail/other"), put, "aws:SourceArn"},
		{"wrong prefix", strings.Replace(bucketPolicy, "b/cloudtrail/AWSLogs/*", "b/logs/AWSLogs/*", 1), put, "no statement allows"},
		{"deny without condition", strings.Replace(bucketPolicy, `"Condition":{"Bool":{"aws:SecureTransport":"false"}}`, `"Condition":{}`, 1), put,
			`"DenyInsecureTransport" denies`},
		{"wrong org", strings.Replace(bucketPolicy, `"StringEquals":{`, `"StringEquals":{"aws:SourceOrgID":"o-other",`, 1), put, "o-other"},
		{"unknown operator", strings.Replace(bucketPolicy, `"StringEquals":{`, `"NumericLessThan":{"aws:SourceAccount":"1",`, 1), put,
			"NumericLessThan is not evaluated"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stmts, err := parsePolicy(tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			got := allows(stmts, tc.n)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("allows = %q, want %q", got, tc.want)
			}
		})
	}
}

// fakeLambdaSettings stands in for lambda:GetAccountSettings, which the
// emulator does not implement.
type fakeLambdaSettings struct {
	limit, unreserved int32
	err               error
}

func (f fakeLambdaSettings) GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{ConcurrentExecutions: f.limit,
		UnreservedConcurrentExecutions: aws.Int32(f.unreserved)}}, f.err
}

func TestConcurrency(t *testing.T) {
	cases := []struct {
		limit, unreserved int32
		want              Status
	}{{1000, 900, Pass}, {10, 10, Warn}, {1000, 5, Fail}, {10, 3, Fail}}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.limit, "/", tc.unreserved), func(t *testing.T) {
			c := &Checker{Lambda: fakeLambdaSettings{limit: tc.limit, unreserved: tc.unreserved}}
			rep := &Report{}
			if err := c.concurrency(context.Background(), Config{NeedConcurrency: 7}, rep); err != nil {
				t.Fatal(err)
			}
			if got := rep.Checks[0]; got.Status != tc.want || (tc.want != Pass && got.Next == "") {
				t.Fatalf("%+v, want %s with a next step", got, tc.want)
			}
		})
	}
	c := &Checker{Lambda: fakeLambdaSettings{err: errors.New("AccessDeniedException")}}
	var ae *AccessError
	if err := c.concurrency(context.Background(), Config{}, &Report{}); !errors.As(err, &ae) {
		t.Fatalf("a refused read must be an AccessError, got %v", err)
	}
}

type fakeConverger struct{ err error }

func (f fakeConverger) Converge(context.Context, string) (string, int, error) {
	return "arn:aws:cloudtrail:us-east-1:333333333333:trail/org-audit", 1, f.err
}

type emptyBucket struct{}

func (emptyBucket) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return &s3.ListObjectsV2Output{Contents: []s3types.Object{}}, nil
}

type noArrivals struct{}

func (noArrivals) Newest(context.Context, string, string) (time.Time, time.Time, error) {
	return time.Time{}, time.Time{}, nil
}

func TestCanaryTimeoutSaysWhatArrived(t *testing.T) {
	clock := time.Date(2026, 12, 7, 10, 0, 30, 0, time.UTC)
	c := &Canary{Converge: fakeConverger{}, Bucket: emptyBucket{}, Ledger: noArrivals{}, Now: func() time.Time { return clock },
		Sleep: func(_ context.Context, d time.Duration) error { clock = clock.Add(d); return nil }}
	rep, err := c.Run(context.Background(), CanaryOptions{Account: "333333333333", Region: "us-east-1",
		Central: Central{Bucket: "b"}, Timeout: 5 * time.Minute, Poll: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.TimedOut || rep.OK || !rep.Hops[0].Done || rep.Hops[1].Done || !strings.Contains(rep.Detail, HopLogBucket) {
		t.Fatalf("%+v", rep)
	}
	c.Converge = fakeConverger{err: errors.New("InsufficientS3BucketPolicyException")}
	rep, err = c.Run(context.Background(), CanaryOptions{Account: "333333333333", Timeout: time.Minute, Poll: time.Minute})
	if err != nil || rep.OK || !strings.Contains(rep.Detail, "InsufficientS3BucketPolicyException") {
		t.Fatalf("a refused converge is a failed canary: %+v, %v", rep, err)
	}
}

// orgWith answers ListAWSServiceAccessForOrganization with the given
// principals and ListAccounts with the given ACTIVE accounts.
type orgWith struct {
	principals, accounts []string
}

func (o orgWith) ListAWSServiceAccessForOrganization(context.Context, *organizations.ListAWSServiceAccessForOrganizationInput,
	...func(*organizations.Options)) (*organizations.ListAWSServiceAccessForOrganizationOutput, error) {
	out := &organizations.ListAWSServiceAccessForOrganizationOutput{}
	for _, p := range o.principals {
		out.EnabledServicePrincipals = append(out.EnabledServicePrincipals, orgtypes.EnabledServicePrincipal{ServicePrincipal: aws.String(p)})
	}
	return out, nil
}

func (o orgWith) ListAccounts(context.Context, *organizations.ListAccountsInput, ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error) {
	out := &organizations.ListAccountsOutput{}
	for _, a := range o.accounts {
		out.Accounts = append(out.Accounts, orgtypes.Account{Id: aws.String(a), Status: orgtypes.AccountStatusActive})
	}
	return out, nil
}

type recordingProber struct{ tried *[]string }

func (r recordingProber) Probe(_ context.Context, account string) error {
	*r.tried = append(*r.tried, account)
	return nil
}

func TestTrustedAccessAndSampleScope(t *testing.T) {
	cases := []struct {
		name       string
		orgTrail   bool
		principals []string
		failed     []string
	}{
		{"account trails need StackSets only", false, []string{StackSetsPrincipal}, nil},
		{"organization trail needs CloudTrail too", true, []string{StackSetsPrincipal}, []string{"trusted-access " + CloudTrailPrincipal}},
		{"nothing enabled", false, nil, []string{"trusted-access " + StackSetsPrincipal}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var tried []string
			c := &Checker{Org: orgWith{tc.principals, []string{"111111111111", "222222222222", "333333333333"}}, Roles: recordingProber{&tried}}
			rep := &Report{}
			if err := c.trustedAccess(context.Background(), Config{OrganizationTrail: tc.orgTrail}, rep); err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, ch := range rep.Checks {
				if ch.Status == Fail {
					failed = append(failed, ch.Name)
				}
			}
			if !reflect.DeepEqual(failed, tc.failed) {
				t.Fatalf("failed %v, want %v", failed, tc.failed)
			}
			sample, err := c.memberRole(context.Background(), Config{ManagementAccount: "111111111111", Excluded: []string{"333333333333"}, Sample: 5}, rep)
			if err != nil || !reflect.DeepEqual(tried, []string{"222222222222"}) || !reflect.DeepEqual(sample, tried) {
				t.Fatalf("the management account and exclusions are never sampled: tried %v, %v", tried, err)
			}
		})
	}
}
