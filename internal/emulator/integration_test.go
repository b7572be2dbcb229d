package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

// Tests in this binary share one emulator: none of them may call t.Parallel.
func TestMain(m *testing.M) { emulator.RunTests(m) }

// loggingDestination creates, in the logging account, a bucket whose policy
// lets CloudTrail write the member's logs and a topic CloudTrail may publish
// to; it returns the bucket name and the topic ARN. The policies follow the
// CloudTrail user guide ("Amazon S3 bucket policy for CloudTrail", "Amazon
// SNS topic policy for CloudTrail"); moto does not evaluate them.
func loggingDestination(t *testing.T, env *emulator.Env, memberID string) (bucket, topicARN string) {
	t.Helper()
	ctx := t.Context()
	logging := env.Logging
	bucket = "trailwarden-logs-" + logging.ID
	s3c := s3.NewFromConfig(logging.Config, emulator.S3Options)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	sourceARN := fmt.Sprintf("arn:aws:cloudtrail:*:%s:trail/*", memberID)
	bucketPolicy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::%[1]s",
     "Condition": {"StringLike": {"aws:SourceArn": "%[2]s"}}},
    {"Sid": "AWSCloudTrailWrite", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::%[1]s/AWSLogs/%[3]s/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
                   "StringLike": {"aws:SourceArn": "%[2]s"}}}
  ]
}`, bucket, sourceARN, memberID)
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket: aws.String(bucket), Policy: aws.String(bucketPolicy),
	}); err != nil {
		t.Fatalf("put bucket policy: %v", err)
	}

	snsc := sns.NewFromConfig(logging.Config)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailwarden-deliveries")})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	topicARN = aws.ToString(topic.TopicArn)
	topicPolicy := fmt.Sprintf(`{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AWSCloudTrailSNSPolicy", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "SNS:Publish", "Resource": "%s",
     "Condition": {"StringLike": {"aws:SourceArn": "%s"}}}
  ]
}`, topicARN, sourceARN)
	if _, err := snsc.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: aws.String(topicARN), AttributeName: aws.String("Policy"), AttributeValue: aws.String(topicPolicy),
	}); err != nil {
		t.Fatalf("set topic policy: %v", err)
	}
	return bucket, topicARN
}

// TestCrossAccountTrail is the foundation's acceptance test: a member
// account's trail delivers to the logging account's bucket and topic.
func TestCrossAccountTrail(t *testing.T) {
	env := emulator.NewEnv(t)
	ctx := t.Context()
	member := env.MustMember("member-1")
	if member.ID == env.Logging.ID || member.ID == emulator.ManagementAccountID {
		t.Fatalf("accounts not distinct: management %s, logging %s, member %s",
			emulator.ManagementAccountID, env.Logging.ID, member.ID)
	}
	if !strings.HasPrefix(env.OrganizationID, "o-") || !strings.HasPrefix(env.RootID, "r-") {
		t.Fatalf("organization %q root %q: want o-… and r-…", env.OrganizationID, env.RootID)
	}
	bucket, topicARN := loggingDestination(t, env, member.ID)
	if !strings.Contains(topicARN, ":"+env.Logging.ID+":") {
		t.Fatalf("topic ARN %s is not in the logging account %s", topicARN, env.Logging.ID)
	}

	// The member's role, assumed fresh from the management account.
	cfg := env.AccountConfig(member.ID)
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("get caller identity: %v", err)
	}
	if got := aws.ToString(id.Account); got != member.ID {
		t.Fatalf("assumed identity is in account %s, want %s", got, member.ID)
	}

	ct := cloudtrail.NewFromConfig(cfg)
	const name = "trailwarden"
	created, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name:                       aws.String(name),
		S3BucketName:               aws.String(bucket),
		SnsTopicName:               aws.String(topicARN), // cross-account: must be the ARN
		IsMultiRegionTrail:         aws.Bool(true),
		IncludeGlobalServiceEvents: aws.Bool(true),
		EnableLogFileValidation:    aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("create trail with the logging account's topic ARN: %v\nmoto's last output:\n%s", err, env.Server.Output())
	}
	wantTrailARN := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", env.Region, member.ID, name)
	if got := aws.ToString(created.TrailARN); got != wantTrailARN {
		t.Errorf("CreateTrail TrailARN = %s, want %s", got, wantTrailARN)
	}
	if got := aws.ToString(created.SnsTopicARN); got != topicARN {
		t.Errorf("CreateTrail SnsTopicARN = %s, want %s", got, topicARN)
	}

	got, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("get trail: %v", err)
	}
	checkTrail(t, "GetTrail", got.Trail, wantTrailARN, bucket, topicARN)

	described, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatalf("describe trails: %v", err)
	}
	if len(described.TrailList) != 1 {
		t.Fatalf("DescribeTrails: %d trails, want 1: %+v", len(described.TrailList), described.TrailList)
	}
	checkTrail(t, "DescribeTrails", &described.TrailList[0], wantTrailARN, bucket, topicARN)

	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("start logging: %v", err)
	}
	status, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("get trail status: %v", err)
	}
	if !aws.ToBool(status.IsLogging) {
		t.Errorf("GetTrailStatus IsLogging = false after StartLogging")
	}
	if status.StartLoggingTime == nil {
		t.Errorf("GetTrailStatus StartLoggingTime unset after StartLogging")
	}

	// The logging account itself has no trail: trails are per account.
	own, err := cloudtrail.NewFromConfig(env.Logging.Config).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatalf("describe trails in the logging account: %v", err)
	}
	if len(own.TrailList) != 0 {
		t.Errorf("logging account sees %d trails, want 0", len(own.TrailList))
	}

	if _, err := ct.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(name)}); err != nil {
		t.Fatalf("delete trail: %v", err)
	}
	after, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatalf("describe trails after delete: %v", err)
	}
	if len(after.TrailList) != 0 {
		t.Errorf("DescribeTrails after DeleteTrail: %d trails, want 0", len(after.TrailList))
	}
	_, err = ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name)})
	var notFound *cttypes.TrailNotFoundException
	if !errors.As(err, &notFound) {
		t.Errorf("GetTrail after DeleteTrail: err = %v, want TrailNotFoundException", err)
	}
}

func checkTrail(t *testing.T, op string, tr *cttypes.Trail, trailARN, bucket, topicARN string) {
	t.Helper()
	if tr == nil {
		t.Fatalf("%s: no trail", op)
	}
	if got := aws.ToString(tr.TrailARN); got != trailARN {
		t.Errorf("%s TrailARN = %s, want %s", op, got, trailARN)
	}
	if got := aws.ToString(tr.S3BucketName); got != bucket {
		t.Errorf("%s S3BucketName = %s, want %s", op, got, bucket)
	}
	if got := aws.ToString(tr.SnsTopicARN); got != topicARN {
		t.Errorf("%s SnsTopicARN = %s, want the logging account's %s", op, got, topicARN)
	}
	if !aws.ToBool(tr.IsMultiRegionTrail) {
		t.Errorf("%s IsMultiRegionTrail = false, want true", op)
	}
	if !aws.ToBool(tr.LogFileValidationEnabled) {
		t.Errorf("%s LogFileValidationEnabled = false, want true", op)
	}
}

func TestResetForgetsStateAndCredentials(t *testing.T) {
	env := emulator.NewEnv(t)
	ctx := t.Context()
	member := env.MustMember("member-1")
	old := env.AccountConfig(member.ID)
	if _, err := s3.NewFromConfig(old, emulator.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket: aws.String("before-reset"),
	}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}

	if err := env.Server.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}

	mgmt := env.Server.ManagementConfig("")
	out, err := s3.NewFromConfig(mgmt, emulator.S3Options).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("list buckets: %v", err)
	}
	if len(out.Buckets) != 0 {
		t.Errorf("after reset: %d buckets, want 0", len(out.Buckets))
	}
	// The member's credentials were forgotten: moto now treats them as the
	// default account. This is why configs must be assumed after a reset.
	id, err := sts.NewFromConfig(old).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("get caller identity: %v", err)
	}
	if got := aws.ToString(id.Account); got != emulator.ManagementAccountID {
		t.Errorf("old credentials after reset act in %s, want moto's default %s", got, emulator.ManagementAccountID)
	}

	// The seed makes account ids repeatable: the same world gets the same ids.
	again := emulator.NewEnv(t)
	if again.Logging.ID != env.Logging.ID || again.MustMember("member-1").ID != member.ID {
		t.Errorf("ids after reset: logging %s member %s, want %s %s",
			again.Logging.ID, again.MustMember("member-1").ID, env.Logging.ID, member.ID)
	}
}

// attemptCounter counts the HTTP attempts a client makes, inside the retry
// loop.
func attemptCounter(n *atomic.Int32) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("CountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				n.Add(1)
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

func TestNotImplementedIsClearAndNotRetried(t *testing.T) {
	srv := emulator.Reset(t)
	var attempts atomic.Int32
	ct := cloudtrail.NewFromConfig(srv.ManagementConfig(""), func(o *cloudtrail.Options) {
		o.APIOptions = append(o.APIOptions, attemptCounter(&attempts))
	})
	start := time.Now()
	_, err := ct.GetEventDataStore(t.Context(), &cloudtrail.GetEventDataStoreInput{
		EventDataStore: aws.String("arn:aws:cloudtrail:us-east-1:123456789012:eventdatastore/x"),
	})
	if err == nil {
		t.Fatal("GetEventDataStore succeeded; pick another action moto does not implement")
	}
	if !emulator.IsNotEmulated(err) {
		t.Fatalf("err = %v, want a NotEmulatedError", err)
	}
	const want = "emulator: moto does not implement cloudtrail:GetEventDataStore"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts, want 1 (not retried)", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v, want a fast failure", d)
	}
}

func TestRetriesAreFewAndShort(t *testing.T) {
	cfg := emulator.Shared(t).ManagementConfig("")
	r := cfg.Retryer()
	if got := r.MaxAttempts(); got != 2 {
		t.Errorf("MaxAttempts = %d, want 2", got)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		d, err := r.RetryDelay(attempt, errors.New("x"))
		if err != nil {
			t.Fatalf("RetryDelay: %v", err)
		}
		if d > 200*time.Millisecond {
			t.Errorf("RetryDelay(%d) = %v, want ≤ 200ms", attempt, d)
		}
	}
}

func TestAccountsHaveSeparateCloudTrailState(t *testing.T) {
	env := emulator.NewEnvWith(t, emulator.WorldSpec{
		OUs:     []string{"Workloads"},
		Members: []emulator.MemberSpec{{Name: "alpha", OU: "Workloads"}, {Name: "beta"}},
	})
	ctx := t.Context()
	alpha, beta := env.MustMember("alpha"), env.MustMember("beta")
	if alpha.ID == beta.ID {
		t.Fatalf("alpha and beta share account id %s", alpha.ID)
	}
	bucket := "shared-logs"
	if _, err := s3.NewFromConfig(env.Logging.Config, emulator.S3Options).CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket: aws.String(bucket),
	}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	for _, m := range []emulator.Account{alpha, beta} {
		if _, err := cloudtrail.NewFromConfig(m.Config).CreateTrail(ctx, &cloudtrail.CreateTrailInput{
			Name: aws.String("trail-" + m.Name), S3BucketName: aws.String(bucket),
		}); err != nil {
			t.Fatalf("create trail in %s: %v", m.Name, err)
		}
	}
	for _, m := range []emulator.Account{alpha, beta} {
		out, err := cloudtrail.NewFromConfig(m.Config).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
		if err != nil {
			t.Fatalf("describe trails in %s: %v", m.Name, err)
		}
		if len(out.TrailList) != 1 || aws.ToString(out.TrailList[0].Name) != "trail-"+m.Name {
			t.Errorf("%s sees %+v, want only trail-%s", m.Name, trailNames(out.TrailList), m.Name)
		}
	}
	// The header-based config reaches the same account state as the role.
	byHeader, err := env.Server.Config(ctx, alpha.ID, "")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	out, err := cloudtrail.NewFromConfig(byHeader).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatalf("describe trails by header: %v", err)
	}
	if got := trailNames(out.TrailList); len(got) != 1 || got[0] != "trail-alpha" {
		t.Errorf("header config for alpha sees %v, want [trail-alpha]", got)
	}
}

func trailNames(ts []cttypes.Trail) []string {
	var names []string
	for _, t := range ts {
		names = append(names, aws.ToString(t.Name))
	}
	return names
}

func TestConfigActsInTheAccount(t *testing.T) {
	env := emulator.NewEnv(t)
	ctx := t.Context()
	member := env.MustMember("member-1")
	tests := []struct {
		name string
		cfg  func() (aws.Config, error)
		want string
	}{
		{"management", func() (aws.Config, error) { return env.Server.ManagementConfig(""), nil }, emulator.ManagementAccountID},
		{"header", func() (aws.Config, error) { return env.Server.Config(ctx, member.ID, "eu-west-1") }, member.ID},
		{"assumed", func() (aws.Config, error) {
			return env.Server.AssumeConfig(ctx, env.Management, member.ID, "", "eu-west-1")
		}, member.ID},
		{"world member", func() (aws.Config, error) { return member.Config, nil }, member.ID},
		{"logging", func() (aws.Config, error) { return env.Logging.Config, nil }, env.Logging.ID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.cfg()
			if err != nil {
				t.Fatalf("config: %v", err)
			}
			id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatalf("get caller identity: %v", err)
			}
			if got := aws.ToString(id.Account); got != tc.want {
				t.Errorf("account = %s, want %s", got, tc.want)
			}
		})
	}
	if _, err := env.Server.Config(ctx, "12345", ""); err == nil {
		t.Error("Config with a 5-digit account id succeeded")
	}
}

func TestS3PathStyle(t *testing.T) {
	env := emulator.NewEnvWith(t, emulator.WorldSpec{NoMembers: true})
	ctx := t.Context()
	c := s3.NewFromConfig(env.Logging.Config, emulator.S3Options)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("path-style")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("path-style"), Key: aws.String("AWSLogs/x.json"), Body: strings.NewReader("{}"),
	}); err != nil {
		t.Fatalf("put object: %v", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("path-style"), Key: aws.String("AWSLogs/x.json")})
	if err != nil {
		t.Fatalf("get object: %v", err)
	}
	defer got.Body.Close()
	body, _ := io.ReadAll(got.Body)
	if string(body) != "{}" {
		t.Errorf("body = %q, want {}", body)
	}
}

func TestCloudWatchOptions(t *testing.T) {
	srv := emulator.Reset(t)
	ctx := t.Context()
	cfg := srv.ManagementConfig("")

	// Gap: the client's default protocol (RPCv2 CBOR) is not served by moto.
	// If this starts to pass, moto learned CBOR and CloudWatchOptions can go.
	_, err := cloudwatch.NewFromConfig(cfg).ListMetrics(ctx, &cloudwatch.ListMetricsInput{})
	if err == nil {
		t.Error("the default CloudWatch client works against moto now; CloudWatchOptions may be unneeded")
	}

	cw := cloudwatch.NewFromConfig(cfg, emulator.CloudWatchOptions)
	if _, err := cw.PutMetricData(ctx, &cloudwatch.PutMetricDataInput{
		Namespace: aws.String("Trailwarden/Test"),
		MetricData: []cwtypes.MetricDatum{{
			MetricName: aws.String("Deliveries"), Value: aws.Float64(3), Unit: cwtypes.StandardUnitCount,
			Dimensions: []cwtypes.Dimension{{Name: aws.String("Region"), Value: aws.String("us-east-1")}},
		}},
	}); err != nil {
		t.Fatalf("put metric data: %v", err)
	}
	out, err := cw.ListMetrics(ctx, &cloudwatch.ListMetricsInput{Namespace: aws.String("Trailwarden/Test")})
	if err != nil {
		t.Fatalf("list metrics: %v", err)
	}
	if len(out.Metrics) != 1 || aws.ToString(out.Metrics[0].MetricName) != "Deliveries" {
		t.Errorf("ListMetrics = %+v, want one Deliveries metric", out.Metrics)
	}
	if _, err := cw.PutMetricAlarm(ctx, &cloudwatch.PutMetricAlarmInput{
		AlarmName: aws.String("stale"), Namespace: aws.String("Trailwarden/Test"), MetricName: aws.String("Deliveries"),
		Statistic: cwtypes.StatisticSum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: cwtypes.ComparisonOperatorLessThanThreshold,
	}); err != nil {
		t.Fatalf("put metric alarm: %v", err)
	}
	alarms, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{"stale"}})
	if err != nil {
		t.Fatalf("describe alarms: %v", err)
	}
	if len(alarms.MetricAlarms) != 1 {
		t.Errorf("DescribeAlarms: %d alarms, want 1", len(alarms.MetricAlarms))
	}
}
