package verifier_test

import (
	"bytes"
	"encoding/json"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/eventsource"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
)

// Tests in this binary share one emulator: none may call t.Parallel. The
// pure tests never start it.
func TestMain(m *testing.M) { emulator.RunTests(m) }

const (
	accountsTable  = "trailwarden-accounts"
	ledgerTable    = "trailwarden-ledger"
	journalTable   = "trailwarden-journal"
	incidentsTable = "trailwarden-incidents"
)

type flow struct {
	t        *testing.T
	env      *emulator.Env
	res      *central.Resources
	proc     *verifier.Processor
	mapping  *eventsource.Mapping
	sim      *cloudtrailsim.Deliverer
	sqs      *sqs.Client
	sns      *sns.Client
	ddb      *dynamodb.Client
	logs     *bytes.Buffer
	now      time.Time
	members  []string
	simStart time.Time
}

func newFlow(t *testing.T) *flow {
	t.Helper()
	ctx := t.Context()
	env := emulator.NewEnvWith(t, emulator.WorldSpec{Members: []emulator.MemberSpec{{Name: "member-1"}, {Name: "member-2"}}})
	res, err := central.Provision(ctx, env.Logging.Config, env.Logging.Config, env.Logging.ID, env.Logging.ID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit",
		Tables: []central.Table{{Name: accountsTable, PartitionKey: accounts.KeyAttribute},
			{Name: ledgerTable, PartitionKey: ledger.KeyAttribute}, {Name: incidentsTable, PartitionKey: "IncidentId"},
			{Name: journalTable, PartitionKey: ledger.JournalSlotAttribute, SortKey: ledger.JournalWriterAttribute, NumericPartitionKey: true}},
		MaxReceiveCount: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Parse([]byte(res.PolicyYAML(central.PolicyOptions{OrganizationID: env.OrganizationID,
		ManagementAccount: emulator.ManagementAccountID, LoggingAccount: env.Logging.ID})))
	if err != nil {
		t.Fatal(err)
	}
	cfg := env.Logging.Config
	f := &flow{t: t, env: env, res: res, logs: &bytes.Buffer{}, sqs: sqs.NewFromConfig(cfg), sns: sns.NewFromConfig(cfg),
		ddb: dynamodb.NewFromConfig(cfg), now: time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour)}
	f.simStart = f.now
	store := &accounts.Store{DB: f.ddb, Table: accountsTable}
	for _, m := range env.Members {
		if err := store.Seen(ctx, m.ID, "created", m.Name, nil); err != nil {
			t.Fatal(err)
		}
		f.members = append(f.members, m.ID)
	}
	s3c := s3.NewFromConfig(cfg, awsenv.S3Options(cfg))
	// The emulator answers over plain HTTP, so the bucket policy's
	// aws:SecureTransport deny refuses every call, CloudTrail's writes
	// included; AWS evaluates it against TLS. Remove it for this test.
	if _, err := s3c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(res.Bucket)}); err != nil {
		t.Fatal(err)
	}
	f.proc = verifier.NewFromPolicy(pol, verifier.Config{
		AccountsTable: accountsTable, JournalTable: journalTable, IncidentsTable: incidentsTable, AlertsTopicARN: res.AlertsTopicARN,
		ObjectCheck: verifier.CheckAll, BatchSize: 10, MetricsNamespace: "Trailwarden", LogLevel: "debug",
	}, verifier.Clients{DynamoDB: f.ddb, S3: s3c, Alerts: &alert.Publisher{SNS: f.sns, TopicARN: res.AlertsTopicARN}},
		f.logs, func() time.Time { return f.now })
	f.sim, err = cloudtrailsim.New(s3c, f.sns, cloudtrailsim.Trail{Name: "org-audit", HomeRegion: cfg.Region,
		Bucket: res.Bucket, Prefix: res.KeyPrefix, OrgID: env.OrganizationID, KMSKeyARN: res.KMSKeyARN,
		TopicARN: res.DeliveriesTopicARN, BucketAccount: env.Logging.ID, BucketRegion: cfg.Region}, cloudtrailsim.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	f.mapping = &eventsource.Mapping{SQS: f.sqs, QueueURL: res.DeliveryQueueURL, QueueARN: res.DeliveryQueueARN,
		Region: cfg.Region, RetryNow: true}
	return f
}

func (f *flow) drain() eventsource.Stats {
	f.t.Helper()
	st, err := f.mapping.Drain(f.t.Context(), f.proc.Handle, 50)
	if err != nil {
		f.t.Fatal(err)
	}
	return st
}

// fold runs the watchdog's passes every 5 minutes for the next 80
// minutes of the flow's clock, as it would after these deliveries: each
// account's item is written with its counts and newest key (the items
// are the watchdog's; shared/ledger fold.go). It returns what they folded.
func (f *flow) fold() ledger.FoldStats {
	f.t.Helper()
	r := &ledger.Reader{DB: f.ddb, Table: ledgerTable,
		Journal: &ledger.JournalReader{DB: f.ddb, Table: journalTable, Horizon: ledger.JournalHorizon(time.Hour)},
		Fold:    &ledger.Folder{DB: f.ddb, Table: ledgerTable, Interval: time.Hour}}
	var sum ledger.FoldStats
	for at := f.now.Add(5 * time.Minute); !at.After(f.now.Add(80 * time.Minute)); at = at.Add(5 * time.Minute) {
		st, err := r.Scan(f.t.Context(), at, 2, func(ledger.Item) error { return nil })
		if err != nil {
			f.t.Fatal(err)
		}
		sum.Accounts += st.Fold.Accounts
		sum.Failed += st.Fold.Failed + st.Fold.Conflicts + st.Fold.Partial
	}
	return sum
}

func (f *flow) item(account string) ledger.Item {
	f.t.Helper()
	it, err := (&ledger.Reader{DB: f.ddb, Table: ledgerTable, Journal: &ledger.JournalReader{DB: f.ddb, Table: journalTable}}).Get(f.t.Context(), f.now, account)
	if err != nil {
		f.t.Fatal(err)
	}
	return it
}

func (f *flow) alerts() []alert.Alert {
	f.t.Helper()
	var out []alert.Alert
	for {
		msgs, err := f.sqs.ReceiveMessage(f.t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.res.AlertsQueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			f.t.Fatal(err)
		}
		if len(msgs.Messages) == 0 {
			return out
		}
		for _, m := range msgs.Messages {
			var a alert.Alert
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				f.t.Fatalf("alert body: %v", err)
			}
			out = append(out, a)
			_, _ = f.sqs.DeleteMessage(f.t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.res.AlertsQueueURL), ReceiptHandle: m.ReceiptHandle})
		}
	}
}

func (f *flow) queueDepth(url string) int {
	f.t.Helper()
	out, err := f.sqs.GetQueueAttributes(f.t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		f.t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	return n
}

// metric sums a metric over the EMF lines written so far.
func (f *flow) metric(name string) float64 {
	total := 0.0
	for _, line := range strings.Split(f.logs.String(), "\n") {
		if !strings.Contains(line, `"_aws"`) {
			continue
		}
		var doc map[string]any
		if json.Unmarshal([]byte(line), &doc) != nil {
			continue
		}
		if v, ok := doc[name].(float64); ok {
			total += v
		}
	}
	return total
}

func TestFlowRecordsDeliveries(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()
	m1, m2 := f.members[0], f.members[1]
	at := f.simStart.Add(5 * time.Minute)
	// member-1: a notification of two keys and one of one key in
	// us-east-1; digests in us-east-1 and a quiet ap-south-1.
	if _, err := f.sim.DeliverLogFiles(ctx, m1, "us-east-1", at, 2); err != nil {
		t.Fatal(err)
	}
	last, err := f.sim.DeliverLogFile(ctx, m1, "us-east-1", at.Add(7*time.Minute), 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, region := range []string{"us-east-1", "ap-south-1"} {
		df, err := f.sim.DeliverDigest(ctx, m1, region, at.Add(10*time.Minute), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.sim.SendDigestEvent(ctx, f.sqs, f.res.DeliveryQueueURL, df); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.sim.DeliverLogFile(ctx, m2, "eu-west-1", at, 2); err != nil {
		t.Fatal(err)
	}
	// The validation message CloudTrail publishes on a configured topic.
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.res.DeliveriesTopicARN), Message: aws.String("CloudTrail validation message.")}); err != nil {
		t.Fatal(err)
	}
	f.now = at.Add(11 * time.Minute)
	st := f.drain()
	if st.Failed != 0 || st.Records != 6 {
		t.Fatalf("stats %+v\n%s", st, f.logs)
	}
	// The times are in the journal as soon as the invocation returned.
	it := f.item(m1)
	use1 := it.Regions["us-east-1"]
	if !use1.LastLog.Equal(at.Add(7 * time.Minute).Truncate(time.Minute)) {
		t.Errorf("member-1 us-east-1 from the journal: %+v", use1)
	}
	if !use1.LastDigest.Equal(at.Add(10*time.Minute).Truncate(time.Second)) || it.Regions["ap-south-1"].LastDigest.IsZero() {
		t.Errorf("digests: %+v", it.Regions)
	}
	if rs := f.item(m2).Regions["eu-west-1"]; rs.LastLog.IsZero() {
		t.Errorf("member-2 from the journal: %+v", rs)
	}
	// Counts and the newest key reach the items when the watchdog folds
	// the journal into them (once per item interval).
	f.proc.Shutdown(ctx)
	f.fold()
	use1 = f.item(m1).Regions["us-east-1"]
	if !use1.LastLog.Equal(at.Add(7*time.Minute).Truncate(time.Minute)) || use1.LastKey != path.Base(last) || use1.Counts[at.Format("20060102")] != 3 {
		t.Errorf("member-1 us-east-1: %+v", use1)
	}
	if rs := f.item(m2).Regions["eu-west-1"]; rs.LastLog.IsZero() || rs.Counts[at.Format("20060102")] != 1 {
		t.Errorf("member-2: %+v", rs)
	}
	for name, want := range map[string]float64{"DeliveredLogFiles": 4, "DeliveredDigestFiles": 2, "ValidationMessages": 1,
		"SecurityFindings": 0, "MalformedNotifications": 0, "LedgerWriteFailures": 0} {
		if got := f.metric(name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if f.metric("LedgerWrites") != 1 { // one journal item; the account items are the watchdog's
		t.Errorf("LedgerWrites = %v", f.metric("LedgerWrites"))
	}
	if a := f.alerts(); len(a) != 0 {
		t.Errorf("unexpected alerts: %+v", a)
	}
}

func TestFlowFindingsAndHostileInputs(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()
	m1, m2 := f.members[0], f.members[1]
	at := f.simStart.Add(20 * time.Minute)
	f.now = at.Add(time.Minute)
	forgeries := []cloudtrailsim.Forgery{
		cloudtrailsim.ForeignAccount("999999999999", "us-east-1", at),
		cloudtrailsim.MismatchedFileAccount(m1, m2, "us-east-1", at),
		cloudtrailsim.WrongPrefix(m1, "elsewhere", "us-east-1", at),
	}
	for _, fg := range forgeries {
		if _, err := f.sim.Foreign(ctx, fg); err != nil {
			t.Fatal(err)
		}
	}
	// The same foreign account again: deduplicated.
	if _, err := f.sim.Foreign(ctx, cloudtrailsim.ForeignAccount("999999999999", "eu-west-1", at)); err != nil {
		t.Fatal(err)
	}
	// An announced object that does not exist (HeadObject: object-missing).
	ghost := cloudtrailsim.LogFileKey(cloudtrailsim.KeyParts{Prefix: "cloudtrail", OrgID: f.env.OrganizationID, PathAccount: m2,
		Region: "us-west-2", At: at, Unique: "GhOsTgHoStGhOsT0"})
	msg, _ := json.Marshal(cloudtrailsim.Notification{S3Bucket: f.res.Bucket, S3ObjectKey: []string{ghost}})
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.res.DeliveriesTopicARN), Message: aws.String(string(msg))}); err != nil {
		t.Fatal(err)
	}
	// Another publisher on the topic, and garbage straight on the queue.
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.res.DeliveriesTopicARN), Message: aws.String("Deployment finished")}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"not json at all", `{"Type":"Notification","MessageId":"x","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"s3Bucket\":\"acme-org`} {
		if _, err := f.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.res.DeliveryQueueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	f.drain()
	var codes []string
	for _, a := range f.alerts() {
		if a.Kind != alert.KindSecurityFinding || a.IncidentID == "" {
			t.Errorf("alert %+v", a)
		}
		codes = append(codes, strings.SplitN(a.Reason, ":", 2)[0])
	}
	slices.Sort(codes)
	want := []string{"account-mismatch", "foreign-account", "object-missing", "wrong-prefix"}
	if !slices.Equal(codes, want) {
		t.Fatalf("findings %v, want %v\n%s", codes, want, f.logs)
	}
	if got := f.metric("SecurityFindings"); got != 5 {
		t.Errorf("SecurityFindings = %v, want 5 (one deduplicated alert)", got)
	}
	if got := f.metric("NotCloudTrailMessages"); got != 1 {
		t.Errorf("NotCloudTrailMessages = %v", got)
	}
	// The malformed messages went to the DLQ by redrive; nothing is left.
	if n := f.queueDepth(f.res.DeliveryDLQURL); n != 2 {
		t.Errorf("DLQ holds %d messages, want 2\n%s", n, f.logs)
	}
	if n := f.queueDepth(f.res.DeliveryQueueURL); n != 0 {
		t.Errorf("queue holds %d messages", n)
	}
	if f.metric("MalformedNotifications") < 2 {
		t.Errorf("MalformedNotifications = %v", f.metric("MalformedNotifications"))
	}
	// The findings are in the incidents table with their TTL.
	scan, err := f.ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(incidentsTable)})
	if err != nil {
		t.Fatal(err)
	}
	var found map[string]ddbtypes.AttributeValue
	for _, it := range scan.Items {
		if id, _ := it["IncidentId"].(*ddbtypes.AttributeValueMemberS); id != nil && strings.HasPrefix(id.Value, "finding#999999999999#foreign-account#") {
			found = it
		}
	}
	if found["ExpiresAt"] == nil || found["OpenedAt"] == nil || found["AlertedAt"] == nil {
		t.Fatalf("incident item %v", found)
	}
	// Nothing foreign reached the ledger.
	if it := f.item("999999999999"); len(it.Regions) != 0 {
		t.Errorf("foreign account in the ledger: %+v", it)
	}
	if it := f.item(m2); len(it.Regions) != 0 {
		t.Errorf("rejected objects in member-2's ledger: %+v", it)
	}
}

func TestFlowDuplicateAndOutOfOrder(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()
	m1 := f.members[0]
	at := f.simStart.Add(30 * time.Minute)
	newest, err := f.sim.DeliverLogFile(ctx, m1, "eu-central-1", at, 1)
	if err != nil {
		t.Fatal(err)
	}
	// SNS delivers the same notification again (at-least-once).
	msg, _ := json.Marshal(cloudtrailsim.Notification{S3Bucket: f.res.Bucket, S3ObjectKey: []string{newest}})
	if _, err := f.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(f.res.DeliveriesTopicARN), Message: aws.String(string(msg))}); err != nil {
		t.Fatal(err)
	}
	f.now = at.Add(time.Minute)
	f.drain()
	// A late, older file arrives afterwards.
	if _, err := f.sim.DeliverLogFile(ctx, m1, "eu-central-1", at.Add(-20*time.Minute), 1); err != nil {
		t.Fatal(err)
	}
	f.now = at.Add(10 * time.Minute)
	if st := f.drain(); st.Failed != 0 {
		t.Fatalf("%+v\n%s", st, f.logs)
	}
	if rs := f.item(m1).Regions["eu-central-1"]; !rs.LastLog.Equal(at.Truncate(time.Minute)) {
		t.Fatalf("journal after a duplicate and a late file: %+v", rs)
	}
	f.proc.Shutdown(ctx)
	f.fold()
	rs := f.item(m1).Regions["eu-central-1"]
	if !rs.LastLog.Equal(at.Truncate(time.Minute)) || rs.LastKey != path.Base(newest) || rs.Counts[at.Format("20060102")] != 2 {
		t.Fatalf("ledger after a duplicate and a late file: %+v", rs)
	}
}

// A verifier instance processes deliveries and dies: the journal on the
// emulator holds what it processed, and the watchdog's passes fold it into
// the items before it leaves their horizon, so it outlives the journal.
func TestFlowDeadInstanceTimesAreFolded(t *testing.T) {
	f := newFlow(t)
	ctx := t.Context()
	m1 := f.members[0]
	at := f.simStart.Add(5 * time.Minute)
	if _, err := f.sim.DeliverLogFile(ctx, m1, "eu-north-1", at, 1); err != nil {
		t.Fatal(err)
	}
	f.now = at.Add(time.Minute)
	if st := f.drain(); st.Failed != 0 || st.Records != 1 {
		t.Fatalf("%+v\n%s", st, f.logs)
	}
	// No Shutdown: the instance is gone. Nothing is in the item yet.
	items := &ledger.Reader{DB: f.ddb, Table: ledgerTable}
	if it, err := items.Get(ctx, time.Time{}, m1); err != nil || !it.Regions["eu-north-1"].LastLog.IsZero() {
		t.Fatalf("item before the fold: %+v %v", it.Regions, err)
	}
	if st := f.fold(); st.Accounts < 1 || st.Failed != 0 {
		t.Fatalf("folds %+v", st)
	}
	it, err := items.Get(ctx, time.Time{}, m1)
	if err != nil || !it.Regions["eu-north-1"].LastLog.Equal(at.Truncate(time.Minute)) {
		t.Fatalf("item after the fold: %+v %v", it.Regions, err)
	}
}
