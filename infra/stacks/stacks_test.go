package stacks

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/alarmrelay"
)

// fakeBuild writes placeholder bootstrap files so the tests do not depend on
// `make build`.
func fakeBuild(t testing.TB) string {
	t.Helper()
	dir := tempDir(t)
	for _, fn := range append(Functions, FnRefresher) {
		if err := os.MkdirAll(filepath.Join(dir, fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fn, "bootstrap"), []byte("fake "+fn+" binary\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

type built struct {
	cfg    *Config
	stacks *Stacks
	app    awscdk.App
	outdir string
}

// build synthesizes the app for a testdata configuration into a temporary
// cloud assembly.
func build(t testing.TB, config, buildDir string) *built {
	t.Helper()
	cfg, _, err := Load(filepath.Join("testdata", config), buildDir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	outdir := tempDir(t)
	ctx := AppContext()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	s, err := Build(app, cfg)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	app.Synth(nil)
	return &built{cfg: cfg, stacks: s, app: app, outdir: outdir}
}

var orgBuilt, singleBuilt *built

// scratch holds what outlives one test (the cached builds); TestMain
// removes it.
var scratch string

func tempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp(scratch, "t")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestMain(m *testing.M) {
	var err error
	if scratch, err = os.MkdirTemp("", "trailwarden-infra-"); err != nil {
		panic(err)
	}
	code := runTests(m)
	os.RemoveAll(scratch)
	os.Exit(code)
}

func org(t *testing.T) *built {
	if orgBuilt == nil {
		orgBuilt = build(t, "org.yaml", fakeBuild(t))
	}
	return orgBuilt
}

func single(t *testing.T) *built {
	if singleBuilt == nil {
		singleBuilt = build(t, "single.yaml", fakeBuild(t))
	}
	return singleBuilt
}

func (b *built) all() []awscdk.Stack {
	var out []awscdk.Stack
	if b.stacks.Central != nil {
		out = append(out, b.stacks.Central.Stack)
	}
	if b.stacks.Automation != nil {
		out = append(out, b.stacks.Automation.Stack)
	}
	if b.stacks.Management != nil {
		out = append(out, b.stacks.Management.Stack)
	}
	if b.stacks.Member != nil {
		out = append(out, b.stacks.Member.Stack)
	}
	return out
}

// tpl is a stack's synthesized template as plain JSON, for checks that are
// clearer in Go than as assertion matchers.
func tpl(t *testing.T, st awscdk.Stack) map[string]any {
	t.Helper()
	return *assertions.Template_FromStack(st, nil).ToJSON()
}

func resources(t *testing.T, st awscdk.Stack, typ string) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, r := range tpl(t, st)["Resources"].(map[string]any) {
		rm := r.(map[string]any)
		if rm["Type"] == typ {
			props, _ := rm["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// js renders v as compact JSON, for substring checks on policies whose ARNs
// are Fn::Join expressions.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestNoUnsuppressedNagErrors(t *testing.T) {
	for _, b := range []*built{org(t), single(t)} {
		for _, st := range b.all() {
			errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
			for _, e := range *errs {
				//lint:ignore SA1019 the Go bindings expose no other type for synthesis messages yet
				t.Errorf("%s %s: %v", *st.StackName(), *e.Id, e.Entry.Data)
			}
		}
	}
}

func TestStacksPerMode(t *testing.T) {
	if s := org(t).stacks; s.Management == nil || s.Central == nil || s.Automation == nil || s.Member == nil {
		t.Errorf("organization mode: want all four stacks, got %+v", s)
	}
	s := single(t).stacks
	if s.Management != nil {
		t.Errorf("single-account mode has a management stack")
	}
	for _, st := range single(t).all() {
		if *st.Account() != "123456789012" {
			t.Errorf("single-account mode: %s is in %s", *st.StackName(), *st.Account())
		}
	}
	env := map[string]string{}
	for _, st := range org(t).all() {
		env[*st.StackName()] = *st.Account() + "/" + *st.Region()
	}
	want := map[string]string{
		CentralStackName: "222222222222/eu-west-1", AutomationStackName: "333333333333/eu-west-1",
		ManagementStackName: "111111111111/us-east-1", MemberStackName: "111111111111/eu-west-1",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s is deployed to %s, want %s", k, env[k], v)
		}
	}
}

func TestFunctions(t *testing.T) {
	a := org(t).stacks.Automation
	tp := assertions.Template_FromStack(a.Stack, nil)
	// testdata/org.yaml enables Security Hub: the five and the refresher.
	tp.ResourceCountIs(jsii.String("AWS::Lambda::Function"), jsii.Number(6))
	for id, p := range resources(t, a.Stack, "AWS::Lambda::Function") {
		if p["Runtime"] != "provided.al2023" || js(p["Architectures"]) != `["arm64"]` || p["Handler"] != "bootstrap" {
			t.Errorf("%s: runtime %v, architectures %v, handler %v", id, p["Runtime"], p["Architectures"], p["Handler"])
		}
		if _, ok := p["FunctionName"]; ok {
			t.Errorf("%s has a physical name", id)
		}
		env := p["Environment"].(map[string]any)["Variables"].(map[string]any)
		regions := env["TRAILWARDEN_ENABLED_REGIONS"]
		if strings.HasPrefix(id, "Refresher") || strings.HasPrefix(id, "AlarmRelay") {
			regions = "eu-west-1,us-east-1,eu-central-1" // they read Security Hub and incidents, or relay alarms, only
		}
		if env["TRAILWARDEN_POLICY_FILE"] != PolicyFileName || env["TRAILWARDEN_METRICS_NAMESPACE"] != "Trailwarden" ||
			regions != "eu-west-1,us-east-1,eu-central-1" {
			t.Errorf("%s environment: %v", id, env)
		}
		if _, ok := p["LoggingConfig"].(map[string]any)["LogGroup"]; !ok {
			t.Errorf("%s has no explicit log group", id)
		}
		if lc := p["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" || lc["ApplicationLogLevel"] != "INFO" {
			t.Errorf("%s logging: %v (want JSON at the deployment's level, for AWS_LAMBDA_LOG_LEVEL)", id, lc)
		}
	}
	for id, p := range resources(t, a.Stack, "AWS::Logs::LogGroup") {
		if p["RetentionInDays"] != float64(90) {
			t.Errorf("log group %s retention = %v, want 90", id, p["RetentionInDays"])
		}
	}
	if n := len(resources(t, a.Stack, "AWS::Logs::LogGroup")); n != 6 {
		t.Errorf("%d log groups, want 6", n)
	}
	// No role has a managed policy (no AWSLambdaBasicExecutionRole).
	for id, p := range resources(t, a.Stack, "AWS::IAM::Role") {
		if _, ok := p["ManagedPolicyArns"]; ok {
			t.Errorf("role %s has managed policies", id)
		}
		if !strings.HasPrefix(p["Path"].(string), "/trailwarden/") {
			t.Errorf("role %s path %v", id, p["Path"])
		}
	}
}

func TestQueues(t *testing.T) {
	a := org(t).stacks.Automation
	queues := resources(t, a.Stack, "AWS::SQS::Queue")
	if len(queues) != 6 {
		t.Fatalf("%d queues, want 6", len(queues))
	}
	vis := map[string]float64{}
	for id, p := range queues {
		if p["SqsManagedSseEnabled"] != true || p["KmsMasterKeyId"] != nil {
			t.Errorf("queue %s: want SQS-managed SSE and no KMS key, got %v", id, p)
		}
		if v, ok := p["VisibilityTimeout"].(float64); ok {
			vis[id] = v
		}
	}
	cases := []struct {
		queue      string
		fnTimeout  float64
		maxReceive float64
	}{{"Requests", EnablerTimeoutSeconds, 10}, {"Deliveries", VerifierTimeoutSeconds, 5}, {"AlarmRelayQueue", AlarmRelayTimeoutSeconds, AlarmRelayMaxReceive}}
	for _, c := range cases {
		var p map[string]any
		for id, q := range queues {
			if strings.HasPrefix(id, c.queue) && !strings.HasPrefix(id, c.queue+"DLQ") {
				p = q
			}
		}
		if p == nil {
			t.Fatalf("no %s queue", c.queue)
		}
		if v := p["VisibilityTimeout"].(float64); v < 6*c.fnTimeout {
			t.Errorf("%s visibility %v < 6 × function timeout %v", c.queue, v, c.fnTimeout)
		}
		if got := p["RedrivePolicy"].(map[string]any)["maxReceiveCount"]; got != c.maxReceive {
			t.Errorf("%s maxReceiveCount = %v, want %v", c.queue, got, c.maxReceive)
		}
	}
	// Every queue policy denies plain HTTP.
	for id, p := range resources(t, a.Stack, "AWS::SQS::QueuePolicy") {
		if !strings.Contains(js(p), `"aws:SecureTransport":"false"`) {
			t.Errorf("queue policy %s does not enforce TLS", id)
		}
	}
	// Event sources report batch item failures and bound concurrency.
	for id, p := range resources(t, a.Stack, "AWS::Lambda::EventSourceMapping") {
		if js(p["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
			t.Errorf("event source %s: FunctionResponseTypes %v", id, p["FunctionResponseTypes"])
		}
		want := float64(RequestBatchSize)
		if strings.HasPrefix(id, "AlarmRelay") && js(p["ScalingConfig"]) != `{"MaximumConcurrency":2}` {
			t.Errorf("alarm relay event source %s: scaling %v", id, p["ScalingConfig"])
		}
		if strings.HasPrefix(id, "Verifier") {
			want = DeliveryBatchSize
			if js(p["ScalingConfig"]) != `{"MaximumConcurrency":2}` {
				t.Errorf("delivery event source %s: scaling %v, want the deployment's default of 2", id, p["ScalingConfig"])
			}
			if js(p["MaximumBatchingWindowInSeconds"]) != "5" {
				t.Errorf("delivery event source %s: batching window %v", id, p["MaximumBatchingWindowInSeconds"])
			}
		}
		if p["BatchSize"] != want || p["ScalingConfig"] == nil {
			t.Errorf("event source %s: batch %v (want %v) scaling %v", id, p["BatchSize"], want, p["ScalingConfig"])
		}
	}
	if n := len(resources(t, a.Stack, "AWS::Lambda::EventSourceMapping")); n != 3 {
		t.Errorf("%d event sources, want 3", n)
	}
	// The delivery queue subscribes to the central topic with raw delivery
	// off; the alarm relay's queue to the alarms topic, raw delivery off too.
	subs := resources(t, a.Stack, "AWS::SNS::Subscription")
	found, relay := false, false
	for _, p := range subs {
		if p["Protocol"] == "sqs" && strings.Contains(js(p["TopicArn"]), "AlarmNotifications") {
			relay = true
			if p["RawMessageDelivery"] != false || !strings.Contains(js(p["Endpoint"]), "AlarmRelayQueue") {
				t.Errorf("alarm relay subscription: %v", p)
			}
		} else if p["Protocol"] == "sqs" {
			found = true
			if p["RawMessageDelivery"] != false || p["Region"] != "eu-west-1" || !strings.Contains(js(p["TopicArn"]), ":sns:eu-west-1:222222222222:trailwarden-deliveries") {
				t.Errorf("delivery subscription: %v", p)
			}
		}
	}
	if !found || !relay {
		t.Errorf("SQS subscriptions: to the deliveries topic %v, to the alarms topic %v", found, relay)
	}
}

func TestTables(t *testing.T) {
	a := org(t).stacks.Automation
	want := map[string]string{"Accounts": `[{"AttributeName":"AccountId","KeyType":"HASH"}]`,
		"Ledger":    `[{"AttributeName":"AccountId","KeyType":"HASH"}]`,
		"Incidents": `[{"AttributeName":"IncidentId","KeyType":"HASH"}]`,
		"Journal":   `[{"AttributeName":"Slot","KeyType":"HASH"},{"AttributeName":"Writer","KeyType":"RANGE"}]`}
	tables := resources(t, a.Stack, "AWS::DynamoDB::Table")
	for prefix, keys := range want {
		ok := false
		for id, p := range tables {
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			ok = true
			if js(p["KeySchema"]) != keys || p["BillingMode"] != "PAY_PER_REQUEST" || p["DeletionProtectionEnabled"] != true ||
				js(p["PointInTimeRecoverySpecification"]) != `{"PointInTimeRecoveryEnabled":true}` {
				t.Errorf("table %s: %v", id, p)
			}
		}
		if !ok {
			t.Errorf("no %s table", prefix)
		}
	}
	assertions.Template_FromStack(a.Stack, nil).HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
	})
	// Resolved incidents and finding markers expire.
	assertions.Template_FromStack(a.Stack, nil).HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "IncidentId", "KeyType": "HASH"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "ExpiresAt", "Enabled": true},
	})
	// The journal's partition key is a number, and its items expire.
	assertions.Template_FromStack(a.Stack, nil).HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"AttributeDefinitions": []any{map[string]any{"AttributeName": "Slot", "AttributeType": "N"},
			map[string]any{"AttributeName": "Writer", "AttributeType": "S"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "ExpiresAt", "Enabled": true},
	})
	// The verifier deduplicates findings in the incidents table.
	policies := js(resources(t, a.Stack, "AWS::IAM::Policy"))
	if !strings.Contains(policies, `"Sid":"IncidentsFindings"`) {
		t.Errorf("the verifier may not write finding markers")
	}
	// The verifier only appends to the journal; the watchdog only queries it.
	for _, sid := range []string{`"Action":"dynamodb:PutItem","Effect":"Allow","Resource":{"Fn::GetAtt":["Journal`,
		`"Action":"dynamodb:Query","Effect":"Allow","Resource":{"Fn::GetAtt":["Journal`} {
		if !strings.Contains(policies, sid) {
			t.Errorf("journal grant missing: %s", sid)
		}
	}
	if !strings.Contains(policies, `"Sid":"LedgerFold"`) {
		t.Errorf("the watchdog may not fold journal times into the ledger")
	}
	if !strings.Contains(policies, `"Sid":"AccountsDeadlineFlag"`) {
		t.Errorf("the watchdog may not flag overdue accounts")
	}
}

func TestAlarms(t *testing.T) {
	a := org(t).stacks.Automation
	alarms := resources(t, a.Stack, "AWS::CloudWatch::Alarm")
	byMetric := map[string]map[string]any{}
	for _, p := range alarms {
		if n, ok := p["MetricName"].(string); ok {
			key := n
			if n == "Errors" || n == "Throttles" || n == "ApproximateNumberOfMessagesVisible" {
				key += js(p["Dimensions"])
			}
			byMetric[key] = p
		} else {
			byMetric["query"] = p
		}
		// Missing data is good or bad, never INSUFFICIENT_DATA: the relay
		// takes an alarm's OK after ALARM as its resolution (docs/alerts.md).
		if m := p["TreatMissingData"]; m != "breaching" && m != "notBreaching" {
			t.Errorf("alarm %v: TreatMissingData %v", p["AlarmName"], m)
		}
		// Every alarm has its rule (shared/alarmrelay): the runbook its
		// description links and the relay's severity.
		name, _ := p["AlarmName"].(string)
		rule, ok := alarmrelay.RuleFor(strings.TrimPrefix(name, AutomationStackName+"-"))
		if !ok || !strings.HasSuffix(p["AlarmDescription"].(string), "/"+rule.RunbookPage()) {
			t.Errorf("alarm %s: rule %+v %v, description %v", name, rule, ok, p["AlarmDescription"])
		}
		// Every alarm notifies the alarms topic (the relay); the alarms on
		// the relay itself also the alerts topic (shared/alarmrelay Rule.Direct).
		actions, okActions := js(p["AlarmActions"]), js(p["OKActions"])
		want := []string{"AlarmNotifications"}
		if rule.Direct {
			want = append(want, "Alerts")
		}
		if rule.Direct != strings.Contains(js(p["Dimensions"]), "AlarmRelay") {
			t.Errorf("alarm %s: direct %v, but it watches %s", name, rule.Direct, js(p["Dimensions"]))
		}
		if actions != okActions || len(p["AlarmActions"].([]any)) != len(want) {
			t.Errorf("alarm %v: actions %s, OK actions %s, want %v", p["AlarmDescription"], actions, okActions, want)
		}
		for _, w := range want {
			if !strings.Contains(actions, `"Ref":"`+w) {
				t.Errorf("alarm %v does not notify %s: %s", p["AlarmDescription"], w, actions)
			}
		}
	}
	check := func(key, op string, threshold float64, missing string) {
		t.Helper()
		p, ok := byMetric[key]
		if !ok {
			t.Errorf("no alarm on %s", key)
			return
		}
		if p["ComparisonOperator"] != op || p["Threshold"] != threshold || p["TreatMissingData"] != missing {
			t.Errorf("alarm %s: %v %v %v", key, p["ComparisonOperator"], p["Threshold"], p["TreatMissingData"])
		}
		if p["Namespace"] != nil && p["Namespace"] != "Trailwarden" && p["Namespace"] != "AWS/Lambda" && p["Namespace"] != "AWS/SQS" {
			t.Errorf("alarm %s namespace %v", key, p["Namespace"])
		}
	}
	check("StaleAccountRegions", "GreaterThanThreshold", 0, "notBreaching")
	check("SecurityFindings", "GreaterThanThreshold", 0, "notBreaching")
	check("Invocations", "LessThanThreshold", 1, "breaching")
	check("ApproximateAgeOfOldestMessage", "GreaterThanThreshold", DeliveryQueueAgeSeconds, "notBreaching")
	if hb := byMetric["Invocations"]; hb == nil || !strings.Contains(js(hb["Dimensions"]), "Watchdog") {
		t.Errorf("heartbeat alarm is not on the watchdog's invocations: %v", hb)
	}
	if age := byMetric["ApproximateAgeOfOldestMessage"]; age == nil || !strings.Contains(js(age["Dimensions"]), "Deliveries") || age["EvaluationPeriods"] != float64(2) {
		t.Errorf("queue-age alarm is not on the delivery queue over two periods: %v", age)
	}
	check("query", "LessThanOrEqualToThreshold", 0, "breaching")
	q := byMetric["query"]
	if q["EvaluationPeriods"] != float64(3) || !strings.Contains(js(q["Metrics"]), "SUM(DeliveredLogFiles)") || !strings.Contains(js(q["Metrics"]), `"Period":300`) {
		t.Errorf("no-deliveries alarm: %v", q)
	}
	dlq, fnErr, fnThr := 0, 0, 0
	for _, p := range alarms {
		switch p["MetricName"] {
		case "ApproximateNumberOfMessagesVisible":
			dlq++
		case "Errors":
			fnErr++
		case "Throttles":
			fnThr++
		default:
			continue
		}
		if p["ComparisonOperator"] != "GreaterThanThreshold" || p["Threshold"] != float64(0) {
			t.Errorf("alarm %v: %v %v", p["AlarmDescription"], p["ComparisonOperator"], p["Threshold"])
		}
	}
	// Six functions: testdata/org.yaml enables Security Hub (the refresher).
	// Throttles surface as queue age (SQS sources) and as the watchdog's
	// missing heartbeat: no alarm of their own (docs/cost.md).
	if dlq != 3 || fnErr != 6 || fnThr != 0 {
		t.Errorf("DLQ alarms %d (want 3), error alarms %d (want 6), throttle alarms %d (want 0)", dlq, fnErr, fnThr)
	}
	if n := len(resources(t, a.Stack, "AWS::CloudWatch::Dashboard")); n != 1 {
		t.Errorf("%d dashboards, want 1", n)
	}
	body := js(tpl(t, a.Stack)["Resources"])
	for _, w := range []string{"Log files delivered", "Stale account-Regions", "Open incidents", "Security findings", "Dead-letter queue depth", "Function errors"} {
		if !strings.Contains(body, w) {
			t.Errorf("dashboard has no %q widget", w)
		}
	}
}

func TestBucketPolicy(t *testing.T) {
	c := org(t).stacks.Central
	var policy string
	for _, p := range resources(t, c.Stack, "AWS::S3::BucketPolicy") {
		if s := js(p); strings.Contains(s, "CloudTrailWrite") {
			policy = s
		}
	}
	for _, want := range []string{
		`"Sid":"CloudTrailAclCheck"`,
		`"aws:SourceAccount":["111111111111","555555555555"]`,
		`"s3:x-amz-acl":"bucket-owner-full-control"`,
		`:cloudtrail:*:*:trail/org-audit`,
		`:s3:::acme-org-cloudtrail/cloudtrail/AWSLogs/*`,
		`"aws:SecureTransport":"false"`,
		`:iam::333333333333:role/trailwarden/verifier/*`,
	} {
		if !strings.Contains(policy, want) {
			t.Errorf("bucket policy lacks %s:\n%s", want, policy)
		}
	}
	if strings.Contains(strings.ReplaceAll(policy, "arn:aws:iam::444444444444:role/SecurityAnalyst", ""), "arn:aws:") {
		t.Errorf("bucket policy spells a literal partition")
	}
	for id, p := range resources(t, c.Stack, "AWS::S3::Bucket") {
		if js(p["PublicAccessBlockConfiguration"]) != `{"BlockPublicAcls":true,"BlockPublicPolicy":true,"IgnorePublicAcls":true,"RestrictPublicBuckets":true}` {
			t.Errorf("bucket %s: public access %v", id, p["PublicAccessBlockConfiguration"])
		}
		if p["BucketName"] == "acme-org-cloudtrail" {
			if js(p["NotificationConfiguration"]) != `{"EventBridgeConfiguration":{"EventBridgeEnabled":true}}` || p["LoggingConfiguration"] == nil ||
				js(p["VersioningConfiguration"]) != `{"Status":"Enabled"}` || p["ObjectLockEnabled"] != true {
				t.Errorf("central bucket: %v", p)
			}
		}
	}
	// No custom resource anywhere (the emulator cannot run one, and none is needed).
	for _, st := range org(t).all() {
		for id, r := range tpl(t, st)["Resources"].(map[string]any) {
			typ := r.(map[string]any)["Type"].(string)
			if strings.HasPrefix(typ, "Custom::") || typ == "AWS::CloudFormation::CustomResource" {
				t.Errorf("%s has custom resource %s (%s)", *st.StackName(), id, typ)
			}
		}
	}
}

func TestAccountsScopeBucketPolicy(t *testing.T) {
	cfg, _, err := Load("testdata/org.yaml", fakeBuild(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Deployment.Bucket.WriterScope = "accounts"
	cfg.Deployment.Bucket.WriterAccounts = []string{"555555555555", "666666666666"}
	got := js(cfg.writers().Conditions(map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"}))
	if !strings.Contains(got, `"aws:SourceAccount":["555555555555","666666666666"]`) || strings.Contains(got, "SourceOrgID") {
		t.Errorf("accounts scope conditions: %s", got)
	}
	cfg.Deployment.Bucket.WriterScope = "organization"
	cfg.Deployment.Bucket.WriterAccounts = nil
	if got := js(cfg.writers().Conditions(nil)); !strings.Contains(got, `"aws:SourceOrgID":"o-a1b2c3d4e5"`) || strings.Contains(got, "SourceAccount") {
		t.Errorf("organization scope conditions: %s", got)
	}
}

func TestKeyPolicy(t *testing.T) {
	c := org(t).stacks.Central
	keys := resources(t, c.Stack, "AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("%d keys", len(keys))
	}
	for _, p := range keys {
		if p["EnableKeyRotation"] != true {
			t.Error("key rotation off")
		}
		pol := js(p["KeyPolicy"])
		for _, want := range []string{
			`"Action":"kms:GenerateDataKey*"`,
			`"kms:EncryptionContext:aws:cloudtrail:arn":{"Fn::Join"`,
			`:cloudtrail:*:*:trail/org-audit`,
			`"aws:SourceAccount":["111111111111","555555555555"]`,
			`"Sid":"CloudTrailDescribeKey"`,
			`"Null":{"kms:EncryptionContext:aws:cloudtrail:arn":"false"}`,
			`"AWS":"arn:aws:iam::444444444444:role/SecurityAnalyst"`,
		} {
			if !strings.Contains(pol, want) {
				t.Errorf("key policy lacks %s:\n%s", want, pol)
			}
		}
	}
}

func TestDeliveriesTopicPolicy(t *testing.T) {
	c := org(t).stacks.Central
	for _, p := range resources(t, c.Stack, "AWS::SNS::TopicPolicy") {
		s := js(p)
		for _, want := range []string{`"Sid":"CloudTrailPublish"`, `"aws:SourceAccount":["111111111111","555555555555"]`, `"Sid":"AutomationSubscribe"`, `"sns:Protocol":"sqs"`, `"aws:SecureTransport":"false"`} {
			if !strings.Contains(s, want) {
				t.Errorf("topic policy lacks %s: %s", want, s)
			}
		}
	}
	assertions.Template_FromStack(c.Stack, nil).HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{"TopicName": "trailwarden-deliveries"})
	assertions.Template_FromStack(c.Stack, nil).HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{
			"source": []any{"aws.s3"}, "detail-type": []any{"Object Created"},
			"detail": map[string]any{"bucket": map[string]any{"name": []any{"acme-org-cloudtrail"}}, "object": map[string]any{"key": []any{map[string]any{"wildcard": "*CloudTrail-Digest*"}}}},
		},
	})
	// Deletions under AWSLogs/ by an S3 API call, not lifecycle expirations.
	assertions.Template_FromStack(c.Stack, nil).HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{
			"source": []any{"aws.s3"}, "detail-type": []any{"Object Deleted"},
			"detail": map[string]any{"bucket": map[string]any{"name": []any{"acme-org-cloudtrail"}},
				"object": map[string]any{"key": []any{map[string]any{"prefix": "cloudtrail/AWSLogs/"}}}, "reason": []any{"DeleteObject"}},
		},
	})
}

func TestAssumeRoleScoping(t *testing.T) {
	a := org(t).stacks.Automation
	for id, p := range resources(t, a.Stack, "AWS::IAM::Policy") {
		s := js(p)
		if !strings.Contains(s, "sts:AssumeRole") {
			continue
		}
		if strings.Contains(s, `:iam::*:role/TrailwardenMember`) && !strings.Contains(s, `"aws:ResourceOrgID":"o-a1b2c3d4e5"`) {
			t.Errorf("%s assumes the member role without aws:ResourceOrgID: %s", id, s)
		}
		if strings.Contains(s, `"Resource":"*"`) {
			t.Errorf("%s assumes any role: %s", id, s)
		}
	}
	// Only the enabler may assume the member role (the watchdog assumes its
	// read-only role, see TestMemberRolesWriteNoIAM); only the reconciler
	// and enabler the Organizations reader.
	check := func(f *Function, member, reader bool) {
		var s string
		for id, p := range resources(t, a.Stack, "AWS::IAM::Policy") {
			if strings.HasPrefix(id, *f.Node().Id()) {
				s = js(p)
			}
		}
		if got := strings.Contains(s, "role/TrailwardenMember"); got != member {
			t.Errorf("%s may assume the member role: %v, want %v", *f.Node().Id(), got, member)
		}
		if got := strings.Contains(s, "role/TrailwardenOrgReader"); got != reader {
			t.Errorf("%s may assume the org reader: %v, want %v", *f.Node().Id(), got, reader)
		}
	}
	check(a.Enabler, true, true)
	check(a.Watchdog, false, false)
	check(a.Reconciler, false, true)
	check(a.Verifier, false, false)

	m := org(t).stacks.Member
	trust := ""
	for _, p := range resources(t, m.Stack, "AWS::IAM::Role") {
		if p["RoleName"] == "TrailwardenMember" {
			trust = js(p["AssumeRolePolicyDocument"])
		}
	}
	for _, want := range []string{`:iam::333333333333:root`, `role/trailwarden/enabler/*`, `"aws:PrincipalArn"`} {
		if !strings.Contains(trust, want) {
			t.Errorf("member role trust lacks %s: %s", want, trust)
		}
	}
	if strings.Contains(trust, "verifier") || strings.Contains(trust, "reconciler") || strings.Contains(trust, "watchdog") {
		t.Errorf("member role trusts more than the enabler: %s", trust)
	}
	var memberPolicy string
	for _, p := range resources(t, m.Stack, "AWS::IAM::Policy") {
		if s := js(p); strings.Contains(s, "cloudtrail:CreateTrail") {
			memberPolicy = s
		}
	}
	for _, forbidden := range []string{"cloudtrail:DeleteTrail", "cloudtrail:StopLogging", `"cloudtrail:*"`, `"iam:*"`} {
		if strings.Contains(memberPolicy, forbidden) {
			t.Errorf("member policy allows %s", forbidden)
		}
	}
	for _, want := range []string{`"iam:PassedToService":"cloudtrail.amazonaws.com"`, `:role/TrailwardenCloudTrailLogs"`, "log-group:/trailwarden/cloudtrail", "log-group:/workloads/cloudtrail"} {
		if !strings.Contains(memberPolicy, want) {
			t.Errorf("member policy lacks %s: %s", want, memberPolicy)
		}
	}
}

func TestCentralBusPolicy(t *testing.T) {
	a := org(t).stacks.Automation
	pols := resources(t, a.Stack, "AWS::Events::EventBusPolicy")
	if len(pols) != 1 {
		t.Fatalf("%d bus policies, want 1", len(pols))
	}
	for _, p := range pols {
		s := js(p["Statement"])
		if !strings.Contains(s, `"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}`) || !strings.Contains(s, `":iam::*:role/trailwarden/forwarder/*"`) || !strings.Contains(s, `"Action":"events:PutEvents"`) {
			t.Errorf("bus policy: %s", s)
		}
	}
	if n := len(resources(t, single(t).stacks.Automation.Stack, "AWS::Events::EventBusPolicy")); n != 0 {
		t.Errorf("single-account mode has %d bus policies", n)
	}
	tp := assertions.Template_FromStack(a.Stack, nil)
	tp.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventBusName": "trailwarden-central",
		"EventPattern": map[string]any{"source": []any{"aws.organizations", "aws.cloudtrail"}},
	})
	tp.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{"ScheduleExpression": "rate(5 minutes)"})
	tp.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{"ScheduleExpression": "rate(6 hours)"})
}

func TestManagement(t *testing.T) {
	m := org(t).stacks.Management
	tp := assertions.Template_FromStack(m.Stack, nil)
	tp.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"EventPattern": map[string]any{"source": []any{"aws.organizations"}, "detail": map[string]any{"eventName": assertions.Match_ArrayWith(&[]any{"CreateAccountResult", "AcceptHandshake"})}},
	})
	sets := resources(t, m.Stack, "AWS::CloudFormation::StackSet")
	if len(sets) != 1 {
		t.Fatalf("%d stack sets", len(sets))
	}
	for _, p := range sets {
		if p["PermissionModel"] != "SERVICE_MANAGED" || js(p["AutoDeployment"]) != `{"Enabled":true,"RetainStacksOnAccountRemoval":false}` ||
			!strings.Contains(js(p["StackInstancesGroup"]), `"OrganizationalUnitIds":["r-ab12"]`) {
			t.Errorf("stack set: %v", p)
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(p["TemplateBody"].(string)), &body); err != nil {
			t.Fatalf("template body: %v", err)
		}
		if _, ok := body["Parameters"]; ok {
			t.Errorf("member template has parameters (bootstrap?): %v", body["Parameters"])
		}
		res := js(body["Resources"])
		for _, want := range []string{`"RoleName":"TrailwardenMember"`, `"StopLogging"`, "AWS::Events::Rule", "trailwarden-central"} {
			if !strings.Contains(res, want) {
				t.Errorf("member template lacks %s", want)
			}
		}
	}
	var reader string
	for _, p := range resources(t, m.Stack, "AWS::IAM::Role") {
		if p["RoleName"] == "TrailwardenOrgReader" {
			reader = js(p)
		}
	}
	if !strings.Contains(reader, "role/trailwarden/reconciler/*") || strings.Contains(reader, "watchdog") {
		t.Errorf("org reader trust: %s", reader)
	}
}

func TestNoLiteralPartition(t *testing.T) {
	for _, b := range []*built{org(t), single(t)} {
		for _, st := range b.all() {
			body := js(tpl(t, st))
			// Reader and operator principals come from the configuration verbatim.
			body = strings.ReplaceAll(body, "arn:aws:iam::444444444444:role/SecurityAnalyst", "")
			ops := b.cfg.Deployment.Operators
			for _, p := range append(append([]string{}, ops.ReadOnlyPrincipals...), ops.ConvergePrincipals...) {
				body = strings.ReplaceAll(body, p, "")
			}
			if strings.Contains(body, "arn:aws:") {
				t.Errorf("%s spells a literal arn:aws:", *st.StackName())
			}
		}
	}
}

// TestSynthIsReproducible synthesizes the app twice and compares every
// template and asset manifest byte for byte (asset hashes included).
func TestSynthIsReproducible(t *testing.T) {
	buildDir := fakeBuild(t)
	a := build(t, "org.yaml", buildDir)
	b := build(t, "org.yaml", buildDir)
	files, _ := filepath.Glob(filepath.Join(a.outdir, "*.json"))
	if len(files) == 0 {
		t.Fatal("no files synthesized")
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "tree.json" {
			continue
		}
		x, _ := os.ReadFile(f)
		y, err := os.ReadFile(filepath.Join(b.outdir, name))
		if err != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two synths (%v)", name, err)
		}
	}
}

func TestFunctionMemory(t *testing.T) {
	a := org(t).stacks.Automation
	seen := 0
	for id, p := range resources(t, a.Stack, "AWS::Lambda::Function") {
		desc, _ := p["Description"].(string)
		if !strings.HasPrefix(desc, "trailwarden:") {
			continue
		}
		seen++
		want := float64(DefaultMemoryMB)
		if strings.Contains(desc, "stale and never-started") {
			want = WatchdogMemoryMB
		}
		if p["MemorySize"] != want {
			t.Errorf("function %s (%s): MemorySize %v, want %v", id, desc, p["MemorySize"], want)
		}
		if got := js(p["Environment"]); !strings.Contains(got, `"GOMEMLIMIT":"`+GoMemLimit(want)+`"`) {
			t.Errorf("function %s: GOMEMLIMIT missing or wrong in %s", id, got)
		}
	}
	if seen != 6 { // with the refresher (Security Hub enabled)
		t.Errorf("%d trailwarden functions, want 6", seen)
	}
}
