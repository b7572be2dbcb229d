package stacks

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/internal/iameval"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// The policy conformance table: every service interaction trailwarden relies
// on, with its request context as AWS documents it, decided by
// internal/iameval against the synthesized templates (org.yaml). A missing or
// wrong statement fails here; docs/deploy.md ("Policy conformance") lists
// the sources.

const (
	cfMgmt    = "111111111111"
	cfLogging = "222222222222"
	cfAuto    = "333333333333"
	cfMember  = "555555555555"
	cfForeign = "999999999999"
	cfRegion  = "eu-west-1"
	cfOrg     = "o-a1b2c3d4e5"
)

type conformance struct {
	w    *iameval.World
	tpls map[string]*iameval.Template
}

var conformanceCache *conformance

func conformanceWorld(t *testing.T) *conformance {
	t.Helper()
	if conformanceCache != nil {
		return conformanceCache
	}
	s := org(t).stacks
	c := &conformance{tpls: map[string]*iameval.Template{
		"central":     {Account: cfLogging, Region: cfRegion, Body: tpl(t, s.Central.Stack)},
		"automation":  {Account: cfAuto, Region: cfRegion, Body: tpl(t, s.Automation.Stack)},
		"management":  {Account: cfMgmt, Region: OrganizationsRegion, Body: tpl(t, s.Management.Stack)},
		"memberStack": {Account: cfMgmt, Region: cfRegion, Body: tpl(t, s.Member.Stack)},
	}}
	for _, p := range resources(t, s.Management.Stack, "AWS::CloudFormation::StackSet") {
		var body map[string]any
		if err := json.Unmarshal([]byte(p["TemplateBody"].(string)), &body); err != nil {
			t.Fatal(err)
		}
		c.tpls["member"] = &iameval.Template{Account: cfMember, Region: cfRegion, Body: body}
	}
	var all []*iameval.Template
	for _, k := range []string{"central", "automation", "management", "memberStack", "member"} {
		all = append(all, c.tpls[k])
	}
	w, err := iameval.NewWorld(all...)
	if err != nil {
		t.Fatalf("NewWorld: %v", err)
	}
	c.w = w
	conformanceCache = c
	return c
}

// arn is the ARN (Fn::GetAtt attr) of the resource CDK named from prefix.
func (c *conformance) arn(t *testing.T, tpl, typ, prefix, attr string) string {
	t.Helper()
	id, err := c.tpls[tpl].Find(typ, prefix)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.tpls[tpl].Attr(id, attr)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// role is the one role whose ARN starts with prefix.
func (c *conformance) role(t *testing.T, prefix string) iameval.Caller {
	t.Helper()
	var found []string
	for a := range c.w.Roles {
		if strings.HasPrefix(a, prefix) {
			found = append(found, a)
		}
	}
	if len(found) != 1 {
		var all []string
		for a := range c.w.Roles {
			all = append(all, a)
		}
		sort.Strings(all)
		t.Fatalf("%d roles %s*; roles: %v", len(found), prefix, all)
	}
	return iameval.RoleCaller(found[0])
}

type interaction struct {
	name     string
	caller   iameval.Caller
	action   string
	resource string
	ctx      map[string][]string
	allow    bool
}

// tls adds aws:SecureTransport true (every request of an AWS service and of
// the SDK uses TLS) unless the case sets it.
func tls(ctx map[string][]string) map[string][]string {
	out := map[string][]string{"aws:SecureTransport": {"true"}}
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

// trailCtx is the context CloudTrail sends for a trail's deliveries:
// aws:SourceArn (the trail) and aws:SourceAccount (the trail's owner; the
// management account for an organization trail). CloudTrail User Guide,
// "Cross-service confused deputy prevention".
func trailCtx(trailARN string, extra map[string][]string) map[string][]string {
	acct := strings.Split(trailARN, ":")[4]
	ctx := map[string][]string{"aws:SourceArn": {trailARN}, "aws:SourceAccount": {acct}}
	for k, v := range extra {
		ctx[k] = v
	}
	return ctx
}

func run(t *testing.T, c *conformance, cases []interaction) {
	t.Helper()
	for _, x := range cases {
		d, err := c.w.Decide(iameval.Request{Caller: x.caller, Action: x.action, Resource: x.resource, Context: tls(x.ctx)})
		if err != nil {
			t.Errorf("%s: %v", x.name, err)
			continue
		}
		if d.Allowed != x.allow {
			t.Errorf("%s: allowed %v, want %v (%s)", x.name, d.Allowed, x.allow, d.Reason)
		}
	}
}

const (
	cfBucket       = "arn:aws:s3:::acme-org-cloudtrail"
	cfLogKey       = "cloudtrail/AWSLogs/" + cfMember + "/CloudTrail/eu-west-1/2026/12/07/" + cfMember + "_CloudTrail_eu-west-1_20261207T1200Z_a1b2.json.gz"
	cfDigestKey    = "cloudtrail/AWSLogs/" + cfMember + "/CloudTrail-Digest/eu-west-1/2026/12/07/" + cfMember + "_CloudTrail-Digest_eu-west-1_org-audit_us-east-1_20261207T120030Z.json.gz"
	cfOrgDigestKey = "cloudtrail/AWSLogs/" + cfOrg + "/" + cfMember + "/CloudTrail-Digest/eu-west-1/2026/12/07/" + cfMember + "_CloudTrail-Digest_eu-west-1_org-audit_us-east-1_20261207T120030Z.json.gz"
	cfOrgLogKey    = "cloudtrail/AWSLogs/" + cfOrg + "/" + cfMember + "/CloudTrail/eu-west-1/2026/12/07/" + cfMember + "_CloudTrail_eu-west-1_20261207T1200Z_a1b2.json.gz"
	cfTrail        = "arn:aws:cloudtrail:eu-west-1:" + cfMember + ":trail/org-audit"
	cfOrgTrail     = "arn:aws:cloudtrail:eu-west-1:" + cfMgmt + ":trail/org-audit"
	cfDeliveries   = "arn:aws:sns:eu-west-1:" + cfLogging + ":trailwarden-deliveries"
	cfBus          = "arn:aws:events:eu-west-1:" + cfAuto + ":event-bus/trailwarden-central"
)

// CloudTrail → S3, KMS, SNS. CloudTrail User Guide: "Amazon S3 bucket policy
// for CloudTrail" (GetBucketAcl; PutObject with s3:x-amz-acl =
// bucket-owner-full-control, account and organization paths), "Configure AWS
// KMS key policies for CloudTrail" (GenerateDataKey* under
// kms:EncryptionContext:aws:cloudtrail:arn; kms:Decrypt for an S3 Bucket Key;
// DescribeKey), "Amazon SNS topic policy for CloudTrail".
func TestConformanceCloudTrail(t *testing.T) {
	c := conformanceWorld(t)
	ct := iameval.ServiceCaller("cloudtrail.amazonaws.com")
	key := c.arn(t, "central", "AWS::KMS::Key", "LogKey", "Arn")
	acl := map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}
	enc := func(trail string) map[string][]string {
		return map[string][]string{"kms:EncryptionContext:aws:cloudtrail:arn": {trail}}
	}
	bucketKey := map[string][]string{"kms:EncryptionContext:aws:s3:arn": {cfBucket}}
	other := "arn:aws:cloudtrail:eu-west-1:" + cfMember + ":trail/other"
	foreign := "arn:aws:cloudtrail:eu-west-1:" + cfForeign + ":trail/org-audit"
	run(t, c, []interaction{
		{"S3 GetBucketAcl", ct, "s3:GetBucketAcl", cfBucket, trailCtx(cfTrail, nil), true},
		{"S3 PutObject, account path", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(cfTrail, acl), true},
		{"S3 PutObject, organization path", ct, "s3:PutObject", cfBucket + "/" + cfOrgLogKey, trailCtx(cfOrgTrail, acl), true},
		{"KMS GenerateDataKey", ct, "kms:GenerateDataKey", key, trailCtx(cfTrail, enc(cfTrail)), true},
		{"KMS Decrypt for the S3 Bucket Key", ct, "kms:Decrypt", key, trailCtx(cfTrail, bucketKey), true},
		{"KMS DescribeKey", ct, "kms:DescribeKey", key, trailCtx(cfTrail, nil), true},
		{"SNS Publish", ct, "SNS:Publish", cfDeliveries, trailCtx(cfTrail, nil), true},

		{"S3 PutObject without bucket-owner-full-control", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(cfTrail, nil), false},
		{"S3 PutObject outside AWSLogs/", ct, "s3:PutObject", cfBucket + "/cloudtrail/other/x", trailCtx(cfTrail, acl), false},
		{"S3 PutObject without TLS", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(cfTrail, merge(acl, map[string][]string{"aws:SecureTransport": {"false"}})), false},
		{"S3 PutObject, foreign account", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(foreign, acl), false},
		{"S3 PutObject, another organization", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(foreign, merge(acl, map[string][]string{"aws:SourceOrgID": {"o-zzzzzzzzzz"}})), false},
		{"S3 PutObject, another trail name", ct, "s3:PutObject", cfBucket + "/" + cfLogKey, trailCtx(other, acl), false},
		{"KMS GenerateDataKey, another trail name", ct, "kms:GenerateDataKey", key, trailCtx(other, enc(other)), false},
		{"KMS GenerateDataKey, foreign account", ct, "kms:GenerateDataKey", key, trailCtx(foreign, enc(foreign)), false},
		{"KMS Decrypt, foreign account", ct, "kms:Decrypt", key, trailCtx(foreign, bucketKey), false},
		{"SNS Publish, foreign account", ct, "SNS:Publish", cfDeliveries, trailCtx(foreign, nil), false},
		{"SNS Publish, another trail name", ct, "SNS:Publish", cfDeliveries, trailCtx(other, nil), false},
		{"SNS Publish without TLS", ct, "SNS:Publish", cfDeliveries, trailCtx(cfTrail, map[string][]string{"aws:SecureTransport": {"false"}}), false},
	})
}

func merge(a, b map[string][]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// CloudWatch → SNS and KMS (the alerts topic): "Amazon SNS topic policies
// for CloudWatch alarms" with aws:SourceArn (the alarm) and
// aws:SourceAccount; SNS → SQS ("Give the SNS topic permission to send
// messages to the queue", aws:SourceArn = topic); EventBridge → SQS
// ("Amazon SQS permissions" for EventBridge targets, aws:SourceArn = rule).
func TestConformanceServiceDeliveries(t *testing.T) {
	c := conformanceWorld(t)
	cw := iameval.ServiceCaller("cloudwatch.amazonaws.com")
	alerts := c.arn(t, "automation", "AWS::SNS::Topic", "Alerts", "TopicArn")
	alertsKey := c.arn(t, "automation", "AWS::KMS::Key", "AlertsKey", "Arn")
	alarms := c.arn(t, "automation", "AWS::SNS::Topic", "AlarmNotifications", "TopicArn")
	relayQ := c.arn(t, "automation", "AWS::SQS::Queue", "AlarmRelayQueue", "Arn")
	alarmOf := func(name string) map[string][]string {
		return map[string][]string{"aws:SourceArn": {"arn:aws:cloudwatch:eu-west-1:" + cfAuto + ":alarm:TrailwardenAutomation-" + name}, "aws:SourceAccount": {cfAuto}}
	}
	alarm := alarmOf("StaleAccountRegions")
	foreignAlarm := map[string][]string{"aws:SourceArn": {"arn:aws:cloudwatch:eu-west-1:" + cfForeign + ":alarm:x"}, "aws:SourceAccount": {cfForeign}}
	deliveryQ := c.arn(t, "automation", "AWS::SQS::Queue", "Deliveries", "Arn")
	requestQ := c.arn(t, "automation", "AWS::SQS::Queue", "Requests", "Arn")
	deletionFwdRule := c.arn(t, "central", "AWS::Events::Rule", "LogDeletions", "Arn")
	requestRule := c.arn(t, "automation", "AWS::Events::Rule", "RequestEvents", "Arn")
	sns := iameval.ServiceCaller("sns.amazonaws.com")
	events := iameval.ServiceCaller("events.amazonaws.com")
	src := func(a string) map[string][]string { return map[string][]string{"aws:SourceArn": {a}} }
	digestFwdDLQ := c.arn(t, "central", "AWS::SQS::Queue", "ForwardDLQ", "Arn")
	digestFwdRule := c.arn(t, "central", "AWS::Events::Rule", "DigestObjects", "Arn")
	orgFwdDLQ := c.arn(t, "management", "AWS::SQS::Queue", "ForwardDLQ", "Arn")
	orgFwdRule := c.arn(t, "management", "AWS::Events::Rule", "OrganizationsEvents", "Arn")
	// S3 server access logging (S3 User Guide, "Permissions for log delivery":
	// logging.s3.amazonaws.com with aws:SourceArn = the source bucket and
	// aws:SourceAccount).
	accessLogs := c.arn(t, "central", "AWS::S3::Bucket", "AccessLogs", "Arn")
	s3log := iameval.ServiceCaller("logging.s3.amazonaws.com")
	logCtx := map[string][]string{"aws:SourceArn": {cfBucket}, "aws:SourceAccount": {cfLogging}}
	run(t, c, []interaction{
		{"S3 server access logs of the central bucket", s3log, "s3:PutObject", accessLogs + "/central/2026-12-07-12-00-00-ABC", logCtx, true},
		{"another bucket's access logs", s3log, "s3:PutObject", accessLogs + "/central/x", map[string][]string{"aws:SourceArn": {"arn:aws:s3:::other"}, "aws:SourceAccount": {cfForeign}}, false},
		{"digest forwarder's dead letters", events, "sqs:SendMessage", digestFwdDLQ, src(digestFwdRule), true},
		{"Organizations forwarder's dead letters", events, "sqs:SendMessage", orgFwdDLQ, src(orgFwdRule), true},
		{"another rule → forwarding DLQ", events, "sqs:SendMessage", orgFwdDLQ, src(digestFwdRule), false},
		{"CloudWatch alarm → alarms topic", cw, "sns:Publish", alarms, alarm, true},
		{"alarms topic → relay queue", sns, "sqs:SendMessage", relayQ, src(alarms), true},
		{"relay's DLQ alarm → alerts topic (direct)", cw, "sns:Publish", alerts, alarmOf("AlarmRelayQueueDLQDepth"), true},
		{"relay's errors alarm → alerts topic (direct)", cw, "sns:Publish", alerts, alarmOf("AlarmRelayErrors"), true},
		{"CloudWatch alarm → alerts key GenerateDataKey", cw, "kms:GenerateDataKey", alertsKey, alarm, true},
		{"CloudWatch alarm → alerts key Decrypt", cw, "kms:Decrypt", alertsKey, alarm, true},
		{"deliveries topic → delivery queue", sns, "sqs:SendMessage", deliveryQ, src(cfDeliveries), true},
		{"deletion forwarder's dead letters", events, "sqs:SendMessage", digestFwdDLQ, src(deletionFwdRule), true},
		{"request rule → request queue", events, "sqs:SendMessage", requestQ, src(requestRule), true},

		{"a foreign account's alarm → alerts topic", cw, "sns:Publish", alerts, foreignAlarm, false},
		{"a foreign account's alarm → alarms topic", cw, "sns:Publish", alarms, foreignAlarm, false},
		{"another alarm of the automation account → alarms topic", cw, "sns:Publish", alarms,
			map[string][]string{"aws:SourceArn": {"arn:aws:cloudwatch:eu-west-1:" + cfAuto + ":alarm:SomeoneElses"}, "aws:SourceAccount": {cfAuto}}, false},
		{"a relayed alarm → alerts topic (it goes through the relay)", cw, "sns:Publish", alerts, alarm, false},
		{"alarm without TLS", cw, "sns:Publish", alarms, merge(alarm, map[string][]string{"aws:SecureTransport": {"false"}}), false},
		{"another topic → relay queue", sns, "sqs:SendMessage", relayQ, src(alerts), false},
		{"another topic → delivery queue", sns, "sqs:SendMessage", deliveryQ, src("arn:aws:sns:eu-west-1:" + cfForeign + ":trailwarden-deliveries"), false},
		{"another rule → request queue", events, "sqs:SendMessage", requestQ, src("arn:aws:events:eu-west-1:" + cfForeign + ":rule/x"), false},
		{"a rule of the automation account → delivery queue", events, "sqs:SendMessage", deliveryQ, src("arn:aws:events:eu-west-1:" + cfAuto + ":rule/x"), false},
	})
}

// Digest-object events go from the logging account's default bus straight
// to the delivery queue, sent as the digest forwarder role (a cross-account
// target: EventBridge User Guide, "Sending events to an AWS service in
// another account": the execution role's identity policy and the target's
// resource policy).
func TestConformanceDigestForwarding(t *testing.T) {
	c := conformanceWorld(t)
	events := iameval.ServiceCaller("events.amazonaws.com")
	fwd := c.role(t, "arn:aws:iam::"+cfLogging+":role"+ForwarderRolePath)
	deliveryQ := c.arn(t, "automation", "AWS::SQS::Queue", "Deliveries", "Arn")
	requestQ := c.arn(t, "automation", "AWS::SQS::Queue", "Requests", "Arn")
	run(t, c, []interaction{
		{"events assumes the digest forwarder", events, "sts:AssumeRole", fwd.ARN, nil, true},
		{"digest forwarder → delivery queue", fwd, "sqs:SendMessage", deliveryQ, nil, true},
		{"digest forwarder → request queue", fwd, "sqs:SendMessage", requestQ, nil, false},
		{"digest forwarder → central bus", fwd, "events:PutEvents", cfBus, map[string][]string{"aws:PrincipalOrgID": {cfOrg}}, false},
		{"a member account's role → delivery queue", iameval.RoleCaller("arn:aws:iam::" + cfMember + ":role/TrailwardenMember"), "sqs:SendMessage", deliveryQ, nil, false},
	})
}

// Cross-account PutEvents to the central bus: the forwarder roles (assumed by
// events.amazonaws.com) in the management and member accounts;
// nobody else, in the organization or outside it. EventBridge User Guide,
// "Sending and receiving events between AWS accounts".
func TestConformanceCentralBus(t *testing.T) {
	c := conformanceWorld(t)
	events := iameval.ServiceCaller("events.amazonaws.com")
	fwd := []iameval.Caller{
		c.role(t, "arn:aws:iam::"+cfMgmt+":role"+ForwarderRolePath+"ForwardRole"),
		c.role(t, "arn:aws:iam::"+cfMember+":role"+ForwarderRolePath),
	}
	org := map[string][]string{"aws:PrincipalOrgID": {cfOrg}}
	var cases []interaction
	for _, f := range fwd {
		cases = append(cases,
			interaction{"events assumes " + f.ARN, events, "sts:AssumeRole", f.ARN, nil, true},
			interaction{f.ARN + " → central bus", f, "events:PutEvents", cfBus, org, true})
	}
	memberRole := iameval.RoleCaller("arn:aws:iam::" + cfMember + ":role/TrailwardenMember")
	cases = append(cases,
		interaction{"another role of the organization → central bus", memberRole, "events:PutEvents", cfBus, org, false},
		interaction{"a foreign account → central bus", iameval.RoleCaller("arn:aws:iam::" + cfForeign + ":role/trailwarden/forwarder/x"), "events:PutEvents", cfBus, nil, false},
	)
	// The foreign role is not in the world: decide it against the bus alone.
	d, err := iameval.Evaluate(iameval.Request{Caller: iameval.RoleCaller("arn:aws:iam::" + cfForeign + ":role/trailwarden/forwarder/x"),
		Action: "events:PutEvents", Resource: cfBus, ResourceAccount: cfAuto, Context: tls(nil)},
		[]*iameval.Policy{iameval.MustParse(`{"Statement":[{"Effect":"Allow","Action":"events:PutEvents","Resource":"*"}]}`)}, c.w.Resources[cfBus], iameval.Ordinary)
	if err != nil || d.Allowed {
		t.Errorf("a foreign forwarder with an allowing identity policy: %v %v", d, err)
	}
	run(t, c, cases[:len(cases)-1])
}

// Every function role → every SDK call its code makes (shared/ and
// functions/), the Lambda service → each role, the member role's trust,
// and the member role's and the Organizations reader's own calls. Service
// Authorization Reference for the actions and resources; S3 API Reference,
// HeadObject ("If the object you request doesn't exist, the error that
// Amazon S3 returns depends on whether you also have the s3:ListBucket
// permission": 404 with it, 403 without).
func TestConformanceFunctions(t *testing.T) {
	c := conformanceWorld(t)
	roles := map[string]iameval.Caller{}
	for _, fn := range Functions {
		roles[fn] = c.role(t, "arn:aws:iam::"+cfAuto+":role"+RolePath(fn))
	}
	table := func(prefix string) string { return c.arn(t, "automation", "AWS::DynamoDB::Table", prefix, "Arn") }
	accounts, ledgerT, journal, incidents := table("Accounts"), table("Ledger"), table("Journal"), table("Incidents")
	alerts := c.arn(t, "automation", "AWS::SNS::Topic", "Alerts", "TopicArn")
	alertsKey := c.arn(t, "automation", "AWS::KMS::Key", "AlertsKey", "Arn")
	requestQ := c.arn(t, "automation", "AWS::SQS::Queue", "Requests", "Arn")
	deliveryQ := c.arn(t, "automation", "AWS::SQS::Queue", "Deliveries", "Arn")
	memberRole := "arn:aws:iam::" + cfMember + ":role/TrailwardenMember"
	orgReader := "arn:aws:iam::" + cfMgmt + ":role/TrailwardenOrgReader"
	inOrg := map[string][]string{"aws:ResourceOrgID": {cfOrg}}
	lambda := iameval.ServiceCaller("lambda.amazonaws.com")

	var cases []interaction
	add := func(fn, action, resource string, ctx map[string][]string) {
		cases = append(cases, interaction{fn + " " + action + " " + resource, roles[fn], action, resource, ctx, true})
	}
	for _, fn := range Functions {
		cases = append(cases, interaction{"lambda assumes " + fn, lambda, "sts:AssumeRole", roles[fn].ARN, nil, true})
		add(fn, "sns:Publish", alerts, nil)
		add(fn, "kms:GenerateDataKey", alertsKey, nil)
		add(fn, "kms:Decrypt", alertsKey, nil)
	}
	// enabler: request queue (event source), accounts table, member role,
	// Organizations reader.
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"} {
		add(FnEnabler, a, requestQ, nil)
	}
	add(FnEnabler, "dynamodb:GetItem", accounts, nil)
	add(FnEnabler, "dynamodb:UpdateItem", accounts, nil)
	add(FnEnabler, "dynamodb:UpdateItem", incidents, nil) // the alert outbox
	add(FnEnabler, "dynamodb:GetItem", incidents, nil)
	add(FnEnabler, "dynamodb:PutItem", incidents, nil) // a tamper call opens the trail incident
	add(FnEnabler, "sts:AssumeRole", memberRole, inOrg)
	add(FnEnabler, "sts:AssumeRole", orgReader, nil)
	// reconciler: Organizations reader, SendMessageBatch (sqs:SendMessage).
	add(FnReconciler, "sts:AssumeRole", orgReader, nil)
	add(FnReconciler, "sqs:SendMessage", requestQ, nil)
	// verifier: delivery queue, journal, members, findings, HEAD (the
	// ledger items are the watchdog's).
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"} {
		add(FnVerifier, a, deliveryQ, nil)
	}
	add(FnVerifier, "dynamodb:PutItem", journal, nil)
	add(FnVerifier, "dynamodb:Scan", accounts, nil)
	// The alert outbox (shared/incident Outbox): a conditional UpdateItem
	// claims, marks or releases an alert; GetItem reads a stored one.
	add(FnVerifier, "dynamodb:UpdateItem", incidents, nil)
	add(FnVerifier, "dynamodb:GetItem", incidents, nil)
	add(FnVerifier, "s3:GetObject", cfBucket+"/"+cfLogKey, nil)
	add(FnVerifier, "s3:GetObject", cfBucket+"/"+cfOrgLogKey, nil)
	add(FnVerifier, "s3:ListBucket", cfBucket, map[string][]string{"s3:prefix": {cfLogKey}})
	// verifier, continuous integrity: digests, public keys, state table,
	// decryption through S3.
	integrityT := table("Integrity")
	add(FnVerifier, "s3:GetObject", cfBucket+"/"+cfDigestKey, nil)
	add(FnVerifier, "s3:GetObject", cfBucket+"/"+cfOrgDigestKey, nil)
	add(FnVerifier, "cloudtrail:ListPublicKeys", "*", nil)
	add(FnVerifier, "dynamodb:UpdateItem", integrityT, nil)
	add(FnVerifier, "dynamodb:GetItem", integrityT, nil) // a digest announced again: overwritten?
	headsT := table("IntegrityHeads")
	add(FnVerifier, "dynamodb:UpdateItem", headsT, nil)
	add(FnWatchdog, "dynamodb:Scan", headsT, nil) // expected-but-missing digests
	add(FnVerifier, "kms:Decrypt", c.arn(t, "central", "AWS::KMS::Key", "LogKey", "Arn"), map[string][]string{"kms:ViaService": {"s3.eu-west-1.amazonaws.com"}})
	// watchdog: ledger, journal, accounts, incidents, member role, repairs.
	for _, a := range []string{"dynamodb:Scan", "dynamodb:GetItem", "dynamodb:UpdateItem"} {
		add(FnWatchdog, a, ledgerT, nil)
	}
	add(FnWatchdog, "dynamodb:Query", journal, nil)
	add(FnWatchdog, "dynamodb:Scan", accounts, nil)
	add(FnWatchdog, "dynamodb:UpdateItem", accounts, nil)
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan", "dynamodb:DeleteItem"} {
		add(FnWatchdog, a, incidents, nil)
	}
	watchdogReader := "arn:aws:iam::" + cfMember + ":role/" + settings.WatchdogMemberRole
	add(FnWatchdog, "sts:AssumeRole", watchdogReader, inOrg)
	add(FnWatchdog, "sqs:SendMessage", requestQ, nil)
	// The functions that alert put their alerts on the central bus.
	for _, fn := range []string{FnEnabler, FnVerifier, FnWatchdog} {
		add(fn, "events:PutEvents", cfBus, nil)
	}
	// Security Hub import (testdata/org.yaml enables it), under the
	// automation account's default product ARN only.
	product := "arn:aws:securityhub:" + cfRegion + ":" + cfAuto + ":product/" + cfAuto + "/default"
	for _, fn := range []string{FnEnabler, FnVerifier, FnWatchdog} {
		add(fn, "securityhub:BatchImportFindings", product, nil)
	}
	// The refresher (Security Hub enabled): reads this hub's findings,
	// re-imports them under the product, reads incidents; nothing else.
	roles[FnRefresher] = c.role(t, "arn:aws:iam::"+cfAuto+":role"+RolePath(FnRefresher))
	hubARN := "arn:aws:securityhub:" + cfRegion + ":" + cfAuto + ":hub/default"
	cases = append(cases, interaction{"lambda assumes " + FnRefresher, lambda, "sts:AssumeRole", roles[FnRefresher].ARN, nil, true})
	add(FnRefresher, "securityhub:GetFindings", hubARN, nil)
	add(FnRefresher, "securityhub:BatchImportFindings", product, nil)
	add(FnRefresher, "dynamodb:GetItem", incidents, nil)

	// The alarm relay: its queue (event source), Publish on the alerts
	// topic (granted to every function above), nothing else.
	relayQ := c.arn(t, "automation", "AWS::SQS::Queue", "AlarmRelayQueue", "Arn")
	alarmsTopic := c.arn(t, "automation", "AWS::SNS::Topic", "AlarmNotifications", "TopicArn")
	for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"} {
		add(FnAlarmRelay, a, relayQ, nil)
	}

	// The member role's own calls in its account (shared/converge,
	// shared/watchdog's diagnosis).
	m := iameval.RoleCaller(memberRole)
	trail := "arn:aws:cloudtrail:eu-west-1:" + cfMember + ":trail/org-audit"
	for _, a := range MemberTrailActions {
		cases = append(cases, interaction{"member " + a, m, a, trail, nil, true})
	}
	logsRole := "arn:aws:iam::" + cfMember + ":role/" + policy.LogsRoleName
	// The watchdog's reader role: its diagnosis reads, in any Region (the
	// shadow copies of a multi-Region trail), and nothing else.
	wr := iameval.RoleCaller(watchdogReader)
	for _, a := range WatchdogTrailActions {
		cases = append(cases, interaction{"watchdog reader " + a, wr, a, "arn:aws:cloudtrail:ap-south-1:" + cfMember + ":trail/org-audit", nil, true})
	}
	cases = append(cases,
		interaction{"member DescribeTrails", m, "cloudtrail:DescribeTrails", "*", nil, true},
		interaction{"member iam:PassRole to CloudTrail", m, "iam:PassRole", logsRole, map[string][]string{"iam:PassedToService": {"cloudtrail.amazonaws.com"}}, true},
		interaction{"member logs:CreateLogGroup", m, "logs:CreateLogGroup", "arn:aws:logs:eu-west-1:" + cfMember + ":log-group:/trailwarden/cloudtrail", nil, true},
	)
	o := iameval.RoleCaller(orgReader)
	for _, a := range []string{"organizations:ListAccounts", "organizations:ListParents", "organizations:DescribeAccount"} {
		cases = append(cases, interaction{"org reader " + a, o, a, "*", nil, true})
	}

	// Must be denied.
	deny := func(name string, caller iameval.Caller, action, resource string, ctx map[string][]string) {
		cases = append(cases, interaction{name, caller, action, resource, ctx, false})
	}
	deny("verifier assumes the member role", roles[FnVerifier], "sts:AssumeRole", memberRole, inOrg)
	deny("reconciler assumes the member role", roles[FnReconciler], "sts:AssumeRole", memberRole, inOrg)
	deny("watchdog assumes the Organizations reader", roles[FnWatchdog], "sts:AssumeRole", orgReader, nil)
	deny("watchdog assumes the member (write) role", roles[FnWatchdog], "sts:AssumeRole", memberRole, inOrg)
	deny("watchdog reader StopLogging", wr, "cloudtrail:StopLogging", trail, nil)
	deny("watchdog reader UpdateTrail", wr, "cloudtrail:UpdateTrail", trail, nil)
	deny("member creates a role", m, "iam:CreateRole", "arn:aws:iam::"+cfMember+":role/x", nil)
	deny("member edits a role's trust", m, "iam:UpdateAssumeRolePolicy", logsRole, nil)
	deny("verifier reads outside AWSLogs/", roles[FnVerifier], "s3:GetObject", cfBucket+"/other/x", nil)
	deny("verifier lists outside AWSLogs/", roles[FnVerifier], "s3:ListBucket", cfBucket, map[string][]string{"s3:prefix": {"other/"}})
	deny("verifier lists the whole bucket", roles[FnVerifier], "s3:ListBucket", cfBucket, nil)
	deny("verifier HEAD without TLS", roles[FnVerifier], "s3:GetObject", cfBucket+"/"+cfLogKey, map[string][]string{"aws:SecureTransport": {"false"}})
	deny("verifier deletes incidents", roles[FnVerifier], "dynamodb:DeleteItem", incidents, nil)
	deny("verifier deletes integrity state", roles[FnVerifier], "dynamodb:DeleteItem", table("Integrity"), nil)
	deny("verifier scans integrity state", roles[FnVerifier], "dynamodb:Scan", table("Integrity"), nil)
	deny("verifier deletes a head", roles[FnVerifier], "dynamodb:DeleteItem", headsT, nil)
	deny("watchdog writes a head", roles[FnWatchdog], "dynamodb:UpdateItem", headsT, nil)
	deny("watchdog reads digest state", roles[FnWatchdog], "dynamodb:Scan", table("Integrity"), nil)
	deny("verifier decrypts outside S3", roles[FnVerifier], "kms:Decrypt", c.arn(t, "central", "AWS::KMS::Key", "LogKey", "Arn"), nil)
	deny("verifier writes log objects", roles[FnVerifier], "s3:PutObject", cfBucket+"/"+cfLogKey, nil)
	deny("reconciler (sends no alert) puts events on the central bus", roles[FnReconciler], "events:PutEvents", cfBus, nil)
	deny("reconciler imports findings", roles[FnReconciler], "securityhub:BatchImportFindings", product, nil)
	deny("watchdog imports under another product", roles[FnWatchdog], "securityhub:BatchImportFindings",
		"arn:aws:securityhub:"+cfRegion+":"+cfAuto+":product/aws/guardduty", nil)
	deny("refresher imports under another product", roles[FnRefresher], "securityhub:BatchImportFindings",
		"arn:aws:securityhub:"+cfRegion+":"+cfAuto+":product/aws/guardduty", nil)
	deny("refresher reads the hub of another Region", roles[FnRefresher], "securityhub:GetFindings",
		"arn:aws:securityhub:us-east-1:"+cfAuto+":hub/default", nil)
	deny("refresher writes incidents", roles[FnRefresher], "dynamodb:UpdateItem", incidents, nil)
	deny("refresher alerts", roles[FnRefresher], "sns:Publish", alerts, nil)
	deny("relay publishes to the alarms topic (a loop)", roles[FnAlarmRelay], "sns:Publish", alarmsTopic, nil)
	deny("relay puts events on the central bus", roles[FnAlarmRelay], "events:PutEvents", cfBus, nil)
	deny("relay imports findings", roles[FnAlarmRelay], "securityhub:BatchImportFindings", product, nil)
	deny("relay reads incidents", roles[FnAlarmRelay], "dynamodb:GetItem", incidents, nil)
	deny("relay reads the delivery queue", roles[FnAlarmRelay], "sqs:ReceiveMessage", deliveryQ, nil)
	deny("verifier reads the relay queue", roles[FnVerifier], "sqs:ReceiveMessage", relayQ, nil)
	deny("watchdog publishes to the alarms topic", roles[FnWatchdog], "sns:Publish", alarmsTopic, nil)
	deny("watchdog reads Security Hub findings", roles[FnWatchdog], "securityhub:GetFindings", hubARN, nil)
	deny("member DeleteTrail", m, "cloudtrail:DeleteTrail", trail, nil)
	deny("member StopLogging", m, "cloudtrail:StopLogging", trail, nil)
	deny("member on another trail", m, "cloudtrail:UpdateTrail", "arn:aws:cloudtrail:eu-west-1:"+cfMember+":trail/other", nil)
	deny("member passes the logs role elsewhere", m, "iam:PassRole", logsRole, map[string][]string{"iam:PassedToService": {"lambda.amazonaws.com"}})
	run(t, c, cases)

	// A role outside the automation account cannot assume the member role,
	// whatever its own policy says.
	trust := c.w.Roles[memberRole].Trust
	anything := []*iameval.Policy{iameval.MustParse(`{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}
	for _, who := range []string{"arn:aws:iam::" + cfForeign + ":role/trailwarden/enabler/x", "arn:aws:iam::" + cfAuto + ":role/other"} {
		d, err := iameval.Evaluate(iameval.Request{Caller: iameval.RoleCaller(who), Action: "sts:AssumeRole", Resource: memberRole, ResourceAccount: cfMember, Context: tls(nil)}, anything, trust, iameval.KeyPolicy)
		if err != nil || d.Allowed {
			t.Errorf("%s assumes the member role: %v %v", who, d, err)
		}
	}
}

// Organization-trail mode: the management account's member role may create
// the organization trail (CloudTrail User Guide, "Prepare for creating a
// trail for your organization"), and CloudTrail's writes from it (the
// management account's trail, organization paths) are admitted without a
// writer list.
func TestConformanceOrganizationTrail(t *testing.T) {
	cfg, _, err := Load("testdata/org.yaml", fakeBuild(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.OrganizationTrail = true
	cfg.Deployment.Bucket.WriterAccounts = nil
	outdir := tempDir(t)
	ctx := AppContext()
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(outdir)})
	s, err := Build(app, cfg)
	if err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	for _, st := range []awscdk.Stack{s.Management.Stack, s.Member.Stack} {
		errs := assertions.Annotations_FromStack(st).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*")))
		for _, e := range *errs {
			//lint:ignore SA1019 the Go bindings expose no other type for synthesis messages yet
			t.Errorf("%s %s: %v", *st.StackName(), *e.Id, e.Entry.Data)
		}
	}
	w, err := iameval.NewWorld(
		&iameval.Template{Account: cfMgmt, Region: OrganizationsRegion, Body: tpl(t, s.Management.Stack)},
		&iameval.Template{Account: cfMgmt, Region: cfRegion, Body: tpl(t, s.Member.Stack)},
		&iameval.Template{Account: cfLogging, Region: cfRegion, Body: tpl(t, s.Central.Stack)},
	)
	if err != nil {
		t.Fatal(err)
	}
	c := &conformance{w: w}
	m := iameval.RoleCaller("arn:aws:iam::" + cfMgmt + ":role/TrailwardenMember")
	slr := "arn:aws:iam::" + cfMgmt + ":role/aws-service-role/cloudtrail.amazonaws.com/AWSServiceRoleForCloudTrail"
	ct := map[string][]string{"iam:AWSServiceName": {"cloudtrail.amazonaws.com"}, "organizations:ServicePrincipal": {"cloudtrail.amazonaws.com"}}
	cases := []interaction{
		{"CreateTrail", m, "cloudtrail:CreateTrail", cfOrgTrail, nil, true},
		{"GetRole on CloudTrail's service-linked role", m, "iam:GetRole", slr, nil, true},
		{"CreateServiceLinkedRole for CloudTrail", m, "iam:CreateServiceLinkedRole", slr, ct, true},
		{"trusted access for CloudTrail", m, "organizations:EnableAWSServiceAccess", "*", ct, true},
		{"ListAWSServiceAccessForOrganization", m, "organizations:ListAWSServiceAccessForOrganization", "*", nil, true},
		{"DescribeOrganization", m, "organizations:DescribeOrganization", "*", nil, true},
		{"ListAccounts", m, "organizations:ListAccounts", "*", nil, true},
		{"trusted access for another service", m, "organizations:EnableAWSServiceAccess", "*", map[string][]string{"organizations:ServicePrincipal": {"config.amazonaws.com"}}, false},
		{"another service-linked role", m, "iam:CreateServiceLinkedRole", "arn:aws:iam::" + cfMgmt + ":role/aws-service-role/config.amazonaws.com/x", map[string][]string{"iam:AWSServiceName": {"config.amazonaws.com"}}, false},
		{"CloudTrail writes the organization path", iameval.ServiceCaller("cloudtrail.amazonaws.com"), "s3:PutObject", cfBucket + "/" + cfOrgLogKey,
			trailCtx(cfOrgTrail, map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}), true},
		{"a member account's own trail is not the organization trail", iameval.ServiceCaller("cloudtrail.amazonaws.com"), "s3:PutObject", cfBucket + "/" + cfLogKey,
			trailCtx(cfTrail, map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}), false},
	}
	run(t, c, cases)
}
