package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"strings"

	"github.com/trailwarden/trailwarden/shared/centralpolicy"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

// Central is the logging account's stack (home Region): the central bucket
// and its access-log bucket, the bucket's KMS key, the deliveries topic, and
// the rule that sends digest-object events to the delivery queue.
type Central struct {
	awscdk.Stack
	cfg       *Config
	Key       awskms.Key
	AccessLog awss3.Bucket
	Bucket    awss3.Bucket
	Topic     awssns.Topic
	DigestFwd awsevents.Rule
	// DeletionFwd forwards deletions under AWSLogs/ to the central bus.
	DeletionFwd awsevents.Rule
}

// NewCentral builds the central stack.
func NewCentral(scope constructs.Construct, id string, cfg *Config, props *awscdk.StackProps) *Central {
	s := &Central{Stack: awscdk.NewStack(scope, jsii.String(id), props), cfg: cfg}
	s.key()
	s.buckets()
	s.topic()
	s.digestForwarding()
	awscdk.NewCfnOutput(s.Stack, jsii.String(stackout.LogKeyARN), &awscdk.CfnOutputProps{
		Value:       s.Key.KeyArn(),
		Description: jsii.String("Put this in the policy's trail.kms.keyArn"),
	})
	awscdk.NewCfnOutput(s.Stack, jsii.String(stackout.DeliveriesTopicARN), &awscdk.CfnOutputProps{Value: s.Topic.TopicArn()})
	output(s.Stack, stackout.LogBucketName, s.Bucket.BucketName(), "central log bucket")
	return s
}

func (s *Central) key() {
	cfg := s.cfg
	s.Key = awskms.NewKey(s.Stack, jsii.String("LogKey"), &awskms.KeyProps{
		Description:       jsii.String("trailwarden: encrypts CloudTrail log files in the central bucket"),
		EnableKeyRotation: jsii.Bool(true),
		Alias:             jsii.String("alias/trailwarden/" + cfg.TrailName),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// CloudTrail's statements (encrypt, decrypt for the S3 Bucket Key,
	// describe) come from the one definition internal/central shares.
	for _, st := range centralpolicy.Key(cfg.writers()) {
		s.Key.AddToResourcePolicy(statement(st), jsii.Bool(false))
	}
	// The verifier decrypts digest (and log) files it GETs for the
	// integrity check: through S3 only.
	s.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("VerifierDecryptViaS3"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(cfg.Deployment.AutomationAccount))},
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"ArnLike":    map[string]any{"aws:PrincipalArn": roleARNPattern(cfg.Deployment.AutomationAccount, FnVerifier)},
			"StringLike": map[string]any{"kms:ViaService": "s3.*.amazonaws.com"},
		},
	}), jsii.Bool(false))
	if readers := cfg.Deployment.Bucket.Readers; len(readers) > 0 {
		s.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ReadersDecryptLogs"),
			Principals: arnPrincipals(readers),
			Actions:    jsii.Strings("kms:Decrypt", "kms:ReEncryptFrom"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{
				"Null": map[string]any{"kms:EncryptionContext:aws:cloudtrail:arn": "false"},
			},
		}), jsii.Bool(false))
	}
}

func arnPrincipals(arns []string) *[]awsiam.IPrincipal {
	out := make([]awsiam.IPrincipal, 0, len(arns))
	for _, a := range arns {
		out = append(out, awsiam.NewArnPrincipal(jsii.String(a)))
	}
	return &out
}

// buckets creates the access log bucket, then the central bucket with its
// policy.
func (s *Central) buckets() {
	s.accessLogBucket()
	s.logBucket()
	s.bucketPolicy()
}

func (s *Central) accessLogBucket() {
	b := s.cfg.Deployment.Bucket
	s.AccessLog = awss3.NewBucket(s.Stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		// Server access log delivery supports SSE-S3 only.
		Encryption:      awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		Versioned:       jsii.Bool(true),
		ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		RemovalPolicy:   awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{
			Id:                                  jsii.String("expire-access-logs"),
			Expiration:                          awscdk.Duration_Days(jsii.Number(float64(b.Lifecycle.AccessLogDays))),
			NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(30)),
			AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
		}},
	})

	checkovSkip(s.AccessLog, "CKV_AWS_18", "This is the server access log bucket; logging it to itself would loop, and to another bucket would need a third bucket for the same question.")
}

// logBucket creates the central bucket (KMS, versioned, access-logged,
// optional Object Lock) with EventBridge notifications on.
func (s *Central) logBucket() {
	cfg := s.cfg
	b := cfg.Deployment.Bucket
	rules := []*awss3.LifecycleRule{{
		Id:                                  jsii.String("noncurrent-versions"),
		NoncurrentVersionExpiration:         awscdk.Duration_Days(jsii.Number(float64(b.Lifecycle.NoncurrentDays))),
		AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
	}}
	if b.Lifecycle.GlacierIRDays > 0 || b.Lifecycle.ExpireDays > 0 {
		r := &awss3.LifecycleRule{Id: jsii.String("age-log-files")}
		if b.Lifecycle.GlacierIRDays > 0 {
			r.Transitions = &[]*awss3.Transition{{
				StorageClass:    awss3.StorageClass_GLACIER_INSTANT_RETRIEVAL(),
				TransitionAfter: awscdk.Duration_Days(jsii.Number(float64(b.Lifecycle.GlacierIRDays))),
			}}
		}
		if b.Lifecycle.ExpireDays > 0 {
			r.Expiration = awscdk.Duration_Days(jsii.Number(float64(b.Lifecycle.ExpireDays)))
		}
		rules = append(rules, r)
	}
	props := &awss3.BucketProps{
		// The one deliberate physical name: every member's trail names the
		// bucket (the policy file's trail.bucket).
		BucketName:             jsii.String(cfg.Bucket),
		BlockPublicAccess:      awss3.BlockPublicAccess_BLOCK_ALL(),
		Encryption:             awss3.BucketEncryption_KMS,
		EncryptionKey:          s.Key,
		BucketKeyEnabled:       jsii.Bool(true),
		EnforceSSL:             jsii.Bool(true),
		Versioned:              jsii.Bool(true),
		ObjectOwnership:        awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		ServerAccessLogsBucket: s.AccessLog,
		ServerAccessLogsPrefix: jsii.String("central/"),
		LifecycleRules:         &rules,
		RemovalPolicy:          awscdk.RemovalPolicy_RETAIN,
	}
	if b.ObjectLock.Enabled {
		props.ObjectLockEnabled = jsii.Bool(true)
		days := awscdk.Duration_Days(jsii.Number(float64(b.ObjectLock.Days)))
		if b.ObjectLock.Mode == "COMPLIANCE" {
			props.ObjectLockDefaultRetention = awss3.ObjectLockRetention_Compliance(days)
		} else {
			props.ObjectLockDefaultRetention = awss3.ObjectLockRetention_Governance(days)
		}
	}
	s.Bucket = awss3.NewBucket(s.Stack, jsii.String("Logs"), props)
	// S3 → EventBridge, natively on AWS::S3::Bucket
	// (NotificationConfiguration.EventBridgeConfiguration). BucketProps'
	// EventBridgeEnabled would add CDK's notifications custom resource
	// instead, which the emulator cannot run and which needs a Lambda.
	cfnBucket := s.Bucket.Node().DefaultChild().(awss3.CfnBucket)
	cfnBucket.AddPropertyOverride(jsii.String("NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled"), jsii.Bool(true))
}

// bucketPolicy grants CloudTrail (centralpolicy), the verifier's HEAD and
// the configured readers.
func (s *Central) bucketPolicy() {
	cfg := s.cfg
	for _, st := range centralpolicy.Bucket(cfg.centralInputs()) {
		s.Bucket.AddToResourcePolicy(statement(st))
	}
	if d := cfg.Deployment; d.ObjectCheck != "none" && d.AutomationAccount != cfg.LoggingAccount {
		// The verifier (automation account) HEADs log objects: HeadObject
		// needs s3:GetObject; it returns no body, so no kms:Decrypt. With
		// s3:ListBucket (under the logs prefix) a missing key is a 404.
		s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("VerifierHeadObject"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(d.AutomationAccount))},
			Actions:    jsii.Strings("s3:GetObject"),
			Resources:  jsii.Strings(cfg.LogObjectsARN()),
			Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": roleARNPattern(d.AutomationAccount, FnVerifier)}},
		}))
		s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("VerifierListLogObjects"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(d.AutomationAccount))},
			Actions:    jsii.Strings("s3:ListBucket"),
			Resources:  jsii.Strings(cfg.BucketARN()),
			Conditions: &map[string]any{
				"ArnLike":    map[string]any{"aws:PrincipalArn": roleARNPattern(d.AutomationAccount, FnVerifier)},
				"StringLike": cfg.listLogsCondition()["StringLike"],
			},
		}))
	}
	if d := cfg.Deployment; d.AutomationAccount != cfg.LoggingAccount {
		// The verifier reads digest files (and, with
		// deployment.integrity.logFiles, log files) to verify them.
		objects := cfg.DigestObjectsARN()
		if d.Integrity.LogFiles != "none" {
			objects = cfg.LogObjectsARN()
		}
		s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("VerifierGetDigests"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(d.AutomationAccount))},
			Actions:    jsii.Strings("s3:GetObject"),
			Resources:  jsii.Strings(objects),
			Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": roleARNPattern(d.AutomationAccount, FnVerifier)}},
		}))
	}
	if readers := cfg.Deployment.Bucket.Readers; len(readers) > 0 {
		s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ReadersList"),
			Principals: arnPrincipals(readers),
			Actions:    jsii.Strings("s3:ListBucket"),
			Resources:  jsii.Strings(cfg.BucketARN()),
		}))
		s.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ReadersGet"),
			Principals: arnPrincipals(readers),
			Actions:    jsii.Strings("s3:GetObject"),
			Resources:  jsii.Strings(cfg.LogObjectsARN()),
		}))
	}
}

// statement turns a centralpolicy statement into a CDK statement (its
// strings may hold deploy-time tokens such as the partition).
func statement(st centralpolicy.Statement) awsiam.PolicyStatement {
	return awsiam.PolicyStatement_FromJson(map[string]any(st))
}

func (s *Central) topic() {
	cfg := s.cfg
	// Not KMS-encrypted, deliberately: notifications carry only the bucket
	// name and object keys, and an encrypted topic costs a KMS request per
	// notification (see docs/deploy.md). TLS is enforced.
	s.Topic = awssns.NewTopic(s.Stack, jsii.String("Deliveries"), &awssns.TopicProps{
		// Physical name: every member's trail names this topic.
		TopicName:   jsii.String(cfg.TopicName),
		DisplayName: jsii.String("trailwarden CloudTrail deliveries"),
		EnforceSSL:  jsii.Bool(true),
	})
	checkovSkip(s.Topic, "CKV_AWS_26", "Deliberately unencrypted: notifications carry only the bucket name and object keys, and a KMS-encrypted topic costs a KMS request per notification for every account and Region (docs/deploy.md, Decisions). TLS is enforced by the topic policy.")
	for _, st := range centralpolicy.Topic(cfg.centralInputs()) {
		s.Topic.AddToResourcePolicy(statement(st))
	}
	if auto := cfg.Deployment.AutomationAccount; auto != cfg.LoggingAccount {
		// The automation account subscribes its delivery queue (a
		// subscription made by the queue's owner needs no confirmation).
		s.Topic.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AutomationSubscribe"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(auto))},
			Actions:    jsii.Strings("sns:Subscribe"),
			Resources:  jsii.Strings(cfg.DeliveriesTopicARN()),
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"sns:Protocol": "sqs"},
				"StringLike":   map[string]any{"sns:Endpoint": arn("sqs", cfg.HomeRegion, auto, "*")},
			},
		}))
	}
}

// digestForwarding sends S3 "Object Created" events for digest files from
// the logging account's default bus straight to the delivery queue in the
// automation account (a cross-account target, EventBridge User Guide,
// "Sending events to an AWS service in another account"): SNS is not
// documented to announce digests, and digests are the hourly heartbeat.
// Not through the central bus: an event sent to another account's bus is
// charged to the sender as a custom event, $1.00 per million (EventBridge
// User Guide, "Sending and receiving events between AWS accounts"), $12.41
// a month per 1,000 accounts; a cross-account target is a delivery charge
// (docs/cost.md).
func (s *Central) digestForwarding() {
	cfg := s.cfg
	role := awsiam.NewRole(s.Stack, jsii.String("ForwardRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("events.amazonaws.com"), nil),
		Path:        jsii.String(ForwarderRolePath),
		Description: jsii.String("trailwarden: sends digest-object and log-deletion events to the delivery queue"),
	})
	role.AddToPolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("SendToDeliveryQueue"),
		Actions:   jsii.Strings("sqs:SendMessage"),
		Resources: jsii.Strings(cfg.DeliveryQueueARN()),
	}))
	s.DigestFwd = awsevents.NewRule(s.Stack, jsii.String("DigestObjects"), &awsevents.RuleProps{
		Description:  jsii.String("trailwarden: CloudTrail digest objects created in the central bucket"),
		EventPattern: DigestEventPattern(cfg),
	})
	// Deletions under AWSLogs/: a verified log or digest file deleted
	// later is otherwise never seen again (docs/integrity.md).
	s.DeletionFwd = awsevents.NewRule(s.Stack, jsii.String("LogDeletions"), &awsevents.RuleProps{
		Description:  jsii.String("trailwarden: objects deleted under AWSLogs/ in the central bucket"),
		EventPattern: LogDeletionEventPattern(cfg),
	})
	// One target role and dead-letter queue for both rules.
	queueTarget(s.Stack, []awsevents.Rule{s.DigestFwd, s.DeletionFwd}, cfg.DeliveryQueueARN(), role)
}

// LogDeletionEventPattern matches S3 "Object Deleted" events under
// [prefix/]AWSLogs/ in the central bucket caused by an S3 API call (detail
// reason DeleteObject). A lifecycle expiration (reason "Lifecycle
// Expiration", requester s3.amazonaws.com: S3 User Guide, "EventBridge
// event message structure") is the bucket owner's own retention, not
// tampering, and is not forwarded.
func LogDeletionEventPattern(cfg *Config) *awsevents.EventPattern {
	in := cfg.centralInputs()
	logs := in.LogObjectsARN()[len(in.BucketARN())+1:] // "[prefix/]AWSLogs/*"
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.s3"),
		DetailType: jsii.Strings("Object Deleted"),
		Detail: &map[string]any{
			"bucket": map[string]any{"name": []string{cfg.Bucket}},
			"object": map[string]any{"key": awsevents.Match_Prefix(jsii.String(strings.TrimSuffix(logs, "*")))},
			"reason": []string{integritywatch.ReasonDeleteObject},
		},
	}
}

// DigestEventPattern matches S3 "Object Created" events for CloudTrail
// digest files in the central bucket.
func DigestEventPattern(cfg *Config) *awsevents.EventPattern {
	return &awsevents.EventPattern{
		Source:     jsii.Strings("aws.s3"),
		DetailType: jsii.Strings("Object Created"),
		Detail: &map[string]any{
			"bucket": map[string]any{"name": []string{cfg.Bucket}},
			"object": map[string]any{"key": awsevents.Match_Wildcard(jsii.String("*CloudTrail-Digest*"))},
		},
	}
}
