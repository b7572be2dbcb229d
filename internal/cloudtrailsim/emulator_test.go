package cloudtrailsim_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
)

// Tests in this binary share one emulator: none of them may call t.Parallel.
// Pure tests never start it.
func TestMain(m *testing.M) { emulator.RunTests(m) }

const trailName = "trailwarden"

// world is a logging account destination (bucket, KMS key, topic, a queue
// subscribed to the topic) and a member whose trail delivers there.
type world struct {
	env      *emulator.Env
	member   emulator.Account
	s3       *s3.Client
	sqs      *sqs.Client
	ct       *cloudtrail.Client
	bucket   string
	keyARN   string
	topicARN string
	queueURL string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	env := emulator.NewEnv(t)
	w := &world{env: env, member: env.MustMember("member-1")}
	logging := env.Logging
	w.s3 = s3.NewFromConfig(logging.Config, emulator.S3Options)
	w.sqs = sqs.NewFromConfig(logging.Config)
	w.bucket = "trailwarden-logs-" + logging.ID
	if _, err := w.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	key, err := kms.NewFromConfig(logging.Config).CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("cloudtrail logs")})
	if err != nil {
		t.Fatalf("create key: %v", err)
	}
	w.keyARN = aws.ToString(key.KeyMetadata.Arn)
	snsc := sns.NewFromConfig(logging.Config)
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailwarden-deliveries")})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	w.topicARN = aws.ToString(topic.TopicArn)
	q, err := w.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("verifier")})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	w.queueURL = aws.ToString(q.QueueUrl)
	attrs, err := w.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("queue attributes: %v", err)
	}
	if _, err := snsc.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"]),
	}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}

	// The member's trail, so that GetTrailStatus can report deliveries.
	w.ct = cloudtrail.NewFromConfig(w.member.Config)
	if _, err := w.ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
		Name: aws.String(trailName), S3BucketName: aws.String(w.bucket), SnsTopicName: aws.String(w.topicARN),
		KmsKeyId: aws.String(w.keyARN), IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true),
	}); err != nil {
		t.Fatalf("create member trail: %v", err)
	}
	if _, err := w.ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(trailName)}); err != nil {
		t.Fatalf("start logging: %v", err)
	}
	return w
}

func (w *world) deliverer(t *testing.T, tr cloudtrailsim.Trail) *cloudtrailsim.Deliverer {
	t.Helper()
	tr.Name, tr.HomeRegion, tr.Bucket = trailName, w.env.Region, w.bucket
	if tr.KMSKeyARN == "" {
		tr.KMSKeyARN = w.keyARN
	}
	tr.TopicARN = w.topicARN
	tr.BucketAccount, tr.BucketRegion = w.env.Logging.ID, w.env.Region
	d, err := cloudtrailsim.New(w.s3, sns.NewFromConfig(w.env.Logging.Config), tr,
		cloudtrailsim.Options{ControlURL: w.env.Server.URL(), Key: testKey(t), Seed: 7})
	if err != nil {
		t.Fatalf("new deliverer: %v", err)
	}
	return d
}

// receive drains the queue (moto delivers SNS → SQS inside Publish).
func (w *world) receive(t *testing.T) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := w.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(w.queueURL), MaxNumberOfMessages: 10, VisibilityTimeout: 30,
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := w.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{
				QueueUrl: aws.String(w.queueURL), ReceiptHandle: m.ReceiptHandle,
			}); err != nil {
				t.Fatalf("delete message: %v", err)
			}
		}
	}
}

func (w *world) object(t *testing.T, key string) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := w.s3.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", w.bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return out, body
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return raw
}

// envelopeMessage checks an SQS body is an SNS envelope from topicARN and
// returns its CloudTrail notification.
func envelopeMessage(t *testing.T, body, topicARN string) cloudtrailsim.Notification {
	t.Helper()
	var env struct {
		Type, MessageId, TopicArn, Message, Timestamp, SignatureVersion, Signature, SigningCertURL, UnsubscribeURL string
	}
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("SQS body is not JSON: %v\n%s", err, body)
	}
	if env.Type != "Notification" || env.TopicArn != topicARN || env.MessageId == "" || env.Timestamp == "" ||
		env.Signature == "" || env.SigningCertURL == "" || env.UnsubscribeURL == "" {
		t.Errorf("SNS envelope fields missing or wrong: %s", body)
	}
	var n cloudtrailsim.Notification
	dec := json.NewDecoder(bytes.NewReader([]byte(env.Message)))
	dec.DisallowUnknownFields() // our own output: exactly the two documented fields
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("Message is not a CloudTrail notification: %v\n%s", err, env.Message)
	}
	return n
}

var at = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func TestDeliverLogFileEmulated(t *testing.T) {
	w := newWorld(t)
	d := w.deliverer(t, cloudtrailsim.Trail{})
	region := "eu-west-1"
	key, err := d.DeliverLogFile(t.Context(), w.member.ID, region, at, 4)
	if err != nil {
		t.Fatalf("DeliverLogFile: %v", err)
	}
	want := regexp.MustCompile(fmt.Sprintf(`^AWSLogs/%[1]s/CloudTrail/eu-west-1/2026/03/14/%[1]s_CloudTrail_eu-west-1_20260314T0926Z_[A-Za-z0-9]{16}\.json\.gz$`, w.member.ID))
	if !want.MatchString(key) {
		t.Fatalf("key %q does not match %s", key, want)
	}

	head, err := w.s3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(w.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	if head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) != w.keyARN {
		t.Errorf("HeadObject SSE = %q key %q, want aws:kms %s", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId), w.keyARN)
	}
	acl, err := w.s3.GetObjectAcl(t.Context(), &s3.GetObjectAclInput{Bucket: aws.String(w.bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get object acl: %v", err)
	}
	if len(acl.Grants) == 0 {
		t.Errorf("object has no ACL grants")
	}

	_, body := w.object(t, key)
	var lf struct {
		Records []map[string]any `json:"Records"`
	}
	if err := json.Unmarshal(gunzip(t, body), &lf); err != nil {
		t.Fatalf("log file is not JSON: %v", err)
	}
	if len(lf.Records) != 4 {
		t.Fatalf("log file has %d records, want 4", len(lf.Records))
	}
	for i, r := range lf.Records {
		for _, f := range []string{"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
			"sourceIPAddress", "userAgent", "requestParameters", "responseElements", "requestID", "eventID", "readOnly",
			"eventType", "managementEvent", "recipientAccountId", "eventCategory", "tlsDetails"} {
			if _, ok := r[f]; !ok {
				t.Errorf("record %d lacks %s", i, f)
			}
		}
		if r["awsRegion"] != region || r["recipientAccountId"] != w.member.ID || r["eventType"] != "AwsApiCall" ||
			r["eventCategory"] != "Management" {
			t.Errorf("record %d = %v", i, r)
		}
		et, err := time.Parse(time.RFC3339, r["eventTime"].(string))
		if err != nil || et.After(at) || et.Before(at.Add(-5*time.Minute)) {
			t.Errorf("record %d eventTime %v not in the 5 minutes before delivery", i, r["eventTime"])
		}
	}

	bodies := w.receive(t)
	if len(bodies) != 1 {
		t.Fatalf("queue has %d messages, want 1", len(bodies))
	}
	n := envelopeMessage(t, bodies[0], w.topicARN)
	if n.S3Bucket != w.bucket || len(n.S3ObjectKey) != 1 || n.S3ObjectKey[0] != key {
		t.Errorf("notification = %+v, want bucket %s key %s", n, w.bucket, key)
	}

	status := trailStatus(t, w, region)
	if got := aws.ToTime(status.LatestDeliveryTime); !got.Equal(at) {
		t.Errorf("LatestDeliveryTime = %v, want %v", got, at)
	}
	if got := aws.ToTime(status.LatestNotificationTime); !got.Equal(at) {
		t.Errorf("LatestNotificationTime = %v, want %v", got, at)
	}
}

func trailStatus(t *testing.T, w *world, region string) *cloudtrail.GetTrailStatusOutput {
	t.Helper()
	arn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", w.env.Region, w.member.ID, trailName)
	ct := cloudtrail.NewFromConfig(w.member.Config, func(o *cloudtrail.Options) { o.Region = region })
	out, err := ct.GetTrailStatus(t.Context(), &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		t.Fatalf("GetTrailStatus in %s: %v", region, err)
	}
	return out
}

func TestDeliverLogFilesOneNotificationEmulated(t *testing.T) {
	w := newWorld(t)
	d := w.deliverer(t, cloudtrailsim.Trail{Prefix: "org", OrgID: w.env.OrganizationID})
	keys, err := d.DeliverLogFiles(t.Context(), w.member.ID, "us-east-1", at, 3)
	if err != nil {
		t.Fatalf("DeliverLogFiles: %v", err)
	}
	prefix := fmt.Sprintf("org/AWSLogs/%s/%s/CloudTrail/us-east-1/2026/03/14/", w.env.OrganizationID, w.member.ID)
	for _, k := range keys {
		if !bytes.HasPrefix([]byte(k), []byte(prefix)) {
			t.Errorf("key %s lacks prefix %s", k, prefix)
		}
	}
	bodies := w.receive(t)
	if len(bodies) != 1 {
		t.Fatalf("queue has %d messages, want 1", len(bodies))
	}
	n := envelopeMessage(t, bodies[0], w.topicARN)
	if fmt.Sprint(n.S3ObjectKey) != fmt.Sprint(keys) {
		t.Errorf("notification keys = %v, want %v", n.S3ObjectKey, keys)
	}
}

func TestDeliverDigestEmulated(t *testing.T) {
	w := newWorld(t)
	d := w.deliverer(t, cloudtrailsim.Trail{})
	ctx := t.Context()
	region := "eu-central-1"
	logs, err := d.DeliverLogFiles(ctx, w.member.ID, region, at.Add(-20*time.Minute), 2)
	if err != nil {
		t.Fatalf("DeliverLogFiles: %v", err)
	}
	w.receive(t) // the log notification; digests are not announced
	first, err := d.DeliverDigest(ctx, w.member.ID, region, at, nil)
	if err != nil {
		t.Fatalf("DeliverDigest: %v", err)
	}
	wantKey := fmt.Sprintf("AWSLogs/%[1]s/CloudTrail-Digest/eu-central-1/2026/03/14/%[1]s_CloudTrail-Digest_eu-central-1_%[2]s_%[3]s_20260314T092653Z.json.gz",
		w.member.ID, trailName, w.env.Region)
	if first.Key != wantKey {
		t.Fatalf("digest key = %s, want %s", first.Key, wantKey)
	}
	if got := w.receive(t); len(got) != 0 {
		t.Errorf("digest produced %d SNS messages, want none", len(got))
	}

	out, body := w.object(t, first.Key)
	if out.Metadata["signature-algorithm"] != "SHA256withRSA" || out.Metadata["signature"] != first.Signature {
		t.Errorf("digest metadata = %v", out.Metadata)
	}
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Errorf("digest SSE = %q, want SSE-S3", out.ServerSideEncryption)
	}
	raw := gunzip(t, body)
	if err := cloudtrailsim.VerifyDigest(d.PublicKey(), raw, out.Metadata["signature"]); err != nil {
		t.Errorf("stored digest does not verify: %v", err)
	}
	var dg map[string]any
	if err := json.Unmarshal(raw, &dg); err != nil {
		t.Fatalf("digest is not JSON: %v", err)
	}
	for f, want := range map[string]any{
		"awsAccountId": w.member.ID, "digestS3Bucket": w.bucket, "digestS3Object": first.Key,
		"digestStartTime": "2026-03-14T08:26:53Z", "digestEndTime": "2026-03-14T09:26:53Z",
		"digestSignatureAlgorithm": "SHA256withRSA", "digestPublicKeyFingerprint": cloudtrailsim.Fingerprint(d.PublicKey()),
		"previousDigestS3Bucket": nil, "previousDigestS3Object": nil, "previousDigestHashValue": nil,
		"previousDigestHashAlgorithm": nil, "previousDigestSignature": nil,
	} {
		got, ok := dg[f]
		if !ok || got != want {
			t.Errorf("digest %s = %v (present %v), want %v", f, got, ok, want)
		}
	}
	files, _ := dg["logFiles"].([]any)
	if len(files) != 2 {
		t.Fatalf("digest lists %d log files, want 2", len(files))
	}
	for i, f := range files {
		lf := f.(map[string]any)
		if lf["s3Object"] != logs[i] || lf["s3Bucket"] != w.bucket || lf["hashAlgorithm"] != "SHA-256" {
			t.Errorf("logFiles[%d] = %v", i, lf)
		}
		_, lbody := w.object(t, logs[i])
		if got := sha256Hex(gunzip(t, lbody)); got != lf["hashValue"] {
			t.Errorf("logFiles[%d].hashValue = %v, want SHA-256 of the uncompressed file %s", i, lf["hashValue"], got)
		}
	}

	second, err := d.DeliverDigest(ctx, w.member.ID, region, at.Add(time.Hour), nil)
	if err != nil {
		t.Fatalf("second DeliverDigest: %v", err)
	}
	if second.Digest.PreviousDigestSignature == nil || *second.Digest.PreviousDigestSignature != first.Signature ||
		*second.Digest.PreviousDigestS3Object != first.Key || *second.Digest.PreviousDigestHashValue != sha256Hex(first.JSON) ||
		len(second.Digest.LogFiles) != 0 || second.Digest.NewestEventTime != nil {
		t.Errorf("second digest does not chain to the first or is not empty: %+v", second.Digest)
	}
	if second.Digest.DigestStartTime != first.Digest.DigestEndTime {
		t.Errorf("second digest starts %s, want %s", second.Digest.DigestStartTime, first.Digest.DigestEndTime)
	}
	if got := aws.ToTime(trailStatus(t, w, region).LatestDigestDeliveryTime); !got.Equal(at.Add(time.Hour)) {
		t.Errorf("LatestDigestDeliveryTime = %v, want %v", got, at.Add(time.Hour))
	}

	if err := d.SendDigestEvent(ctx, w.sqs, w.queueURL, second); err != nil {
		t.Fatalf("SendDigestEvent: %v", err)
	}
	bodies := w.receive(t)
	if len(bodies) != 1 {
		t.Fatalf("queue has %d messages, want 1", len(bodies))
	}
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Account    string `json:"account"`
		Detail     struct {
			Bucket struct{ Name string } `json:"bucket"`
			Object struct {
				Key  string `json:"key"`
				Size int64  `json:"size"`
			} `json:"object"`
		} `json:"detail"`
	}
	if err := json.Unmarshal([]byte(bodies[0]), &ev); err != nil {
		t.Fatalf("digest event: %v", err)
	}
	if ev.Source != "aws.s3" || ev.DetailType != "Object Created" || ev.Account != w.env.Logging.ID ||
		ev.Detail.Bucket.Name != w.bucket || ev.Detail.Object.Key != second.Key || ev.Detail.Object.Size != second.Size {
		t.Errorf("digest event = %+v", ev)
	}
}

func TestSetDeliveryErrorEmulated(t *testing.T) {
	w := newWorld(t)
	d := w.deliverer(t, cloudtrailsim.Trail{})
	ctx := t.Context()
	region := "us-east-1"
	if err := d.SetDeliveryError(ctx, w.member.ID, region, "", "AccessDenied"); err != nil {
		t.Fatalf("SetDeliveryError: %v", err)
	}
	st := trailStatus(t, w, region)
	if aws.ToString(st.LatestDeliveryError) != "AccessDenied" || aws.ToString(st.LatestDigestDeliveryError) != "AccessDenied" {
		t.Errorf("status errors = %q / %q, want AccessDenied", aws.ToString(st.LatestDeliveryError), aws.ToString(st.LatestDigestDeliveryError))
	}
	if _, err := d.DeliverLogFile(ctx, w.member.ID, region, at, 1); !errors.Is(err, cloudtrailsim.ErrDeliveryFailed) {
		t.Errorf("DeliverLogFile with a broken bucket: err = %v, want ErrDeliveryFailed", err)
	}
	list, err := w.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(w.bucket)})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(list.Contents) != 0 {
		t.Errorf("broken bucket received %d objects", len(list.Contents))
	}
	if err := d.SetDeliveryError(ctx, w.member.ID, region, "", ""); err != nil {
		t.Fatalf("clear delivery error: %v", err)
	}
	if _, err := d.DeliverLogFile(ctx, w.member.ID, region, at, 1); err != nil {
		t.Errorf("DeliverLogFile after repair: %v", err)
	}
	st = trailStatus(t, w, region)
	if st.LatestDeliveryError != nil && *st.LatestDeliveryError != "" {
		t.Errorf("LatestDeliveryError = %q after repair", *st.LatestDeliveryError)
	}
}

func TestForeignMarkerInsightEmulated(t *testing.T) {
	w := newWorld(t)
	d := w.deliverer(t, cloudtrailsim.Trail{Prefix: "ct"})
	ctx := t.Context()
	foreign := "999988887777"
	cases := []struct {
		name string
		f    cloudtrailsim.Forgery
		want string
	}{
		{"foreign account", cloudtrailsim.ForeignAccount(foreign, "us-west-2", at),
			`^ct/AWSLogs/999988887777/CloudTrail/us-west-2/2026/03/14/999988887777_CloudTrail_us-west-2_20260314T0926Z_[A-Za-z0-9]{16}\.json\.gz$`},
		{"file name account differs", cloudtrailsim.MismatchedFileAccount(w.member.ID, foreign, "us-west-2", at),
			`^ct/AWSLogs/` + w.member.ID + `/CloudTrail/us-west-2/2026/03/14/999988887777_CloudTrail_us-west-2_20260314T0926Z_[A-Za-z0-9]{16}\.json\.gz$`},
		{"wrong prefix", cloudtrailsim.WrongPrefix(w.member.ID, "elsewhere", "us-west-2", at),
			`^elsewhere/AWSLogs/` + w.member.ID + `/CloudTrail/us-west-2/2026/03/14/` + w.member.ID + `_CloudTrail_us-west-2_20260314T0926Z_[A-Za-z0-9]{16}\.json\.gz$`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			key, err := d.Foreign(ctx, c.f)
			if err != nil {
				t.Fatalf("Foreign: %v", err)
			}
			if !regexp.MustCompile(c.want).MatchString(key) {
				t.Errorf("key %s does not match %s", key, c.want)
			}
			bodies := w.receive(t)
			if len(bodies) != 1 || envelopeMessage(t, bodies[0], w.topicARN).S3ObjectKey[0] != key {
				t.Errorf("forged delivery not announced: %v", bodies)
			}
		})
	}

	marker, err := d.WriteMarker(ctx, w.member.ID)
	if err != nil {
		t.Fatalf("WriteMarker: %v", err)
	}
	if marker != "ct/AWSLogs/"+w.member.ID+"/CloudTrail/" {
		t.Errorf("marker key = %s", marker)
	}
	if out, body := w.object(t, marker); len(body) != 0 || aws.ToInt64(out.ContentLength) != 0 {
		t.Errorf("marker has %d bytes", len(body))
	}

	ikey, err := d.DeliverInsight(ctx, w.member.ID, "us-east-1", at, false)
	if err != nil {
		t.Fatalf("DeliverInsight: %v", err)
	}
	if !regexp.MustCompile(`^ct/AWSLogs/` + w.member.ID + `/CloudTrail-Insight/us-east-1/2026/03/14/` + w.member.ID + `_CloudTrail-Insight_us-east-1_20260314T0926Z_[A-Za-z0-9]{16}\.json\.gz$`).MatchString(ikey) {
		t.Errorf("insight key = %s", ikey)
	}
	_, ibody := w.object(t, ikey)
	var ins struct {
		Records []struct {
			EventType      string `json:"eventType"`
			EventCategory  string `json:"eventCategory"`
			SharedEventID  string `json:"sharedEventID"`
			InsightDetails struct {
				State string `json:"state"`
			} `json:"insightDetails"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(gunzip(t, ibody), &ins); err != nil {
		t.Fatalf("insights file: %v", err)
	}
	if len(ins.Records) != 2 || ins.Records[0].InsightDetails.State != "Start" || ins.Records[1].InsightDetails.State != "End" ||
		ins.Records[0].SharedEventID != ins.Records[1].SharedEventID || ins.Records[0].EventType != "AwsCloudTrailInsight" {
		t.Errorf("insights records = %+v", ins.Records)
	}
	if got := w.receive(t); len(got) != 0 {
		t.Errorf("insight without notify produced %d messages", len(got))
	}
}
