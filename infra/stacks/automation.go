package stacks

import (
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledger"

	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdaeventsources"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/trailwarden/trailwarden/shared/settings"
)

// Function tuning. Queue visibility timeouts are VisibilityFactor × the
// consuming function's timeout (AWS's guidance for SQS event sources).
const (
	VisibilityFactor = 6

	EnablerTimeoutSeconds  = 300 // AssumeRole + converge at ~1 TPS per write API, with retries
	VerifierTimeoutSeconds = 60
	// The scheduled functions' timeouts: the configuration's schedules are
	// validated against them (shared/deployment).
	ReconcilerTimeoutSeconds = deployment.ReconcilerTimeoutSeconds
	WatchdogTimeoutSeconds   = deployment.WatchdogTimeoutSeconds

	DefaultMemoryMB = 256
	// WatchdogMemoryMB: one pass holds the journal's overlay and decodes
	// every ledger and accounts item; measured (BENCHMARKS.md) 112 MB over
	// the fakes' own data at 10,000 accounts, and at 100,000 about 415 MB
	// live (peak 666 MB with the fakes under GOMEMLIMIT=700MiB). 1 GB also
	// buys CPU (Lambda allocates it in proportion) for about $0.12 a month.
	WatchdogMemoryMB = 1024

	// RequestMaxReceive is high: a new account's role may not be assumable
	// for minutes after the account exists, so early attempts fail.
	RequestMaxReceive  = 10
	DeliveryMaxReceive = 5

	RequestBatchSize = 10
	// DeliveryBatchSize: one verifier invocation appends one journal item
	// (a write unit for ~100 entries) and is one Lambda request, so larger
	// batches cost less; the 5-second batching window bounds the wait.
	DeliveryBatchSize     = 100
	EnablerMaxConcurrency = 5 // bounds parallel converges (CloudTrail write APIs are ~1 TPS per account)
)

// Automation is the automation account's stack: the four functions, their
// queues, the tables, the alerts topic, the central event bus, schedules,
// alarms and the dashboard.
type Automation struct {
	awscdk.Stack
	cfg *Config

	RequestQueue, RequestDLQ    awssqs.Queue
	DeliveryQueue, DeliveryDLQ  awssqs.Queue
	Accounts, Ledger, Incidents awsdynamodb.Table
	Journal                     awsdynamodb.Table
	// Integrity is the digest-verification state (shared/integritywatch).
	Integrity awsdynamodb.Table
	// IntegrityHeads is each digest chain's newest verified digest (the
	// watchdog's expected-but-missing digests).
	IntegrityHeads      awsdynamodb.Table
	AlertsKey           awskms.Key
	Alerts              awssns.Topic
	Bus                 awsevents.EventBus
	Enabler, Reconciler *Function
	Verifier, Watchdog  *Function
	// Refresher is nil unless deployment.securityHub.enabled.
	Refresher *Function
	// AlarmRelay reads AlarmRelayQueue, fed by AlarmsTopic, which the
	// alarms notify (alarmrelay.go).
	AlarmRelay                     *Function
	AlarmsTopic                    awssns.Topic
	AlarmRelayQueue, AlarmRelayDLQ awssqs.Queue
	functions                      []*Function
	dlqs                           map[string]awssqs.Queue
	alarmNames                     []string
	// directAlarms notify the alerts topic directly (alarmrelay.go).
	directAlarms []string
}

// NewAutomation builds the automation stack. assetDirs maps each function
// name to its staged asset directory (StageAsset).
func NewAutomation(scope constructs.Construct, id string, cfg *Config, assetDirs map[string]string, props *awscdk.StackProps) *Automation {
	s := &Automation{Stack: awscdk.NewStack(scope, jsii.String(id), props), cfg: cfg, dlqs: map[string]awssqs.Queue{}}
	s.queues()
	s.tables()
	s.alerts()
	s.bus()
	s.functionsFrom(assetDirs)
	s.wiring()
	s.permissions()
	s.schedules()
	s.refresher(assetDirs)
	s.alarmRelay(assetDirs)
	s.alarms()
	s.savedQueries()
	if s.cfg.Deployment.DashboardOn() {
		s.dashboard()
	}
	s.outputs()
	return s
}

func (s *Automation) queuePair(id, name string, visibility float64, maxReceive int) (awssqs.Queue, awssqs.Queue) {
	dlq := awssqs.NewQueue(s.Stack, jsii.String(id+"DLQ"), &awssqs.QueueProps{
		// SQS-managed SSE: SNS and EventBridge can write to it (the
		// AWS-managed alias/aws/sqs key would refuse them).
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
	var queueName *string
	if name != "" {
		queueName = jsii.String(name)
	}
	q := awssqs.NewQueue(s.Stack, jsii.String(id), &awssqs.QueueProps{
		QueueName:         queueName,
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:        jsii.Bool(true),
		VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(visibility)),
		RetentionPeriod:   awscdk.Duration_Days(jsii.Number(4)),
		DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(maxReceive))},
	})
	s.dlqs[id+"DLQ"] = dlq
	return q, dlq
}

func (s *Automation) queues() {
	s.RequestQueue, s.RequestDLQ = s.queuePair("Requests", "", VisibilityFactor*EnablerTimeoutSeconds, RequestMaxReceive)
	// A physical name: the logging account's digest rule targets it by ARN.
	s.DeliveryQueue, s.DeliveryDLQ = s.queuePair("Deliveries", s.cfg.DeliveryQueueName(), VisibilityFactor*VerifierTimeoutSeconds, DeliveryMaxReceive)
}

func (s *Automation) table(id string, pk, sk string, ttl ...string) awsdynamodb.Table {
	props := &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(pk), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	}
	if len(ttl) > 0 {
		props.TimeToLiveAttribute = jsii.String(ttl[0])
	}
	if sk != "" {
		props.SortKey = &awsdynamodb.Attribute{Name: jsii.String(sk), Type: awsdynamodb.AttributeType_STRING}
	}
	return awsdynamodb.NewTable(s.Stack, jsii.String(id), props)
}

func (s *Automation) tables() {
	s.Accounts = s.table("Accounts", accounts.KeyAttribute, "")
	// One ledger item per account (see shared/ledger): no sort key.
	s.Ledger = s.table("Ledger", ledger.KeyAttribute, "")
	// Resolved incidents and finding dedup markers expire (epoch seconds).
	s.Incidents = s.table("Incidents", "IncidentId", "", "ExpiresAt")
	// Digest-verification state, outside the ledger items: one small item
	// per digest (expiring) and one per chain.
	s.Integrity = s.table("Integrity", "id", "", "ttl")
	// One item per account × Region × trail, scanned by every watchdog
	// pass: a table of its own, so the scan reads only heads.
	s.IntegrityHeads = s.table("IntegrityHeads", integritywatch.HeadsKey, "")
	// The arrival journal: one item per verifier invocation, partitioned
	// by 5-minute slot (a number), expiring after the readers' horizon.
	s.Journal = awsdynamodb.NewTable(s.Stack, jsii.String("Journal"), &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String(ledger.JournalSlotAttribute), Type: awsdynamodb.AttributeType_NUMBER},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String(ledger.JournalWriterAttribute), Type: awsdynamodb.AttributeType_STRING},
		TimeToLiveAttribute:              jsii.String(ledger.JournalExpiresAttribute),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		DeletionProtection:               jsii.Bool(true),
		RemovalPolicy:                    awscdk.RemovalPolicy_RETAIN,
	})
}

func (s *Automation) alerts() {
	s.AlertsKey = awskms.NewKey(s.Stack, jsii.String("AlertsKey"), &awskms.KeyProps{
		Description:       jsii.String("trailwarden: encrypts the alerts topic"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// CloudWatch alarms publish to the encrypted alarms topic (and the
	// relay's own alarms to the alerts topic too: alarmrelay.go): the key
	// and the topic policies admit this account's alarms (an
	// AWS::SNS::TopicPolicy replaces the topic's default policy, so
	// EnforceSSL's Deny alone would refuse them).
	s.AlertsKey.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchAlarms"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
		Conditions: s.alarmConditions(AlarmName(*s.StackName(), "*")),
	}), jsii.Bool(false))
	s.Alerts = awssns.NewTopic(s.Stack, jsii.String("Alerts"), &awssns.TopicProps{
		DisplayName: jsii.String("trailwarden alerts"),
		MasterKey:   s.AlertsKey,
		EnforceSSL:  jsii.Bool(true),
	})
	for _, e := range s.cfg.Deployment.Alerts.Emails {
		s.Alerts.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(e), nil))
	}
	for _, u := range s.cfg.Deployment.Alerts.HTTPS {
		s.Alerts.AddSubscription(awssnssubscriptions.NewUrlSubscription(jsii.String(u), &awssnssubscriptions.UrlSubscriptionProps{
			Protocol: awssns.SubscriptionProtocol_HTTPS,
		}))
	}
}

// alarmConditions admit this account's CloudWatch alarms of the given
// names (patterns) only (the confused-deputy keys aws:SourceAccount and
// aws:SourceArn).
func (s *Automation) alarmConditions(names ...string) *map[string]any {
	arns := make([]string, len(names))
	for i, n := range names {
		arns[i] = arn("cloudwatch", *s.Region(), *s.Account(), "alarm:"+n)
	}
	var src any = arns
	if len(arns) == 1 {
		src = arns[0]
	}
	return &map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": s.Account()},
		"ArnLike":      map[string]any{"aws:SourceArn": src},
	}
}

// RequestEventPattern matches what the enabler acts on from the central bus:
// Organizations events (forwarded from the management account) and trail
// tamper events (forwarded from members).
func RequestEventPattern() *awsevents.EventPattern {
	return &awsevents.EventPattern{Source: jsii.Strings("aws.organizations", "aws.cloudtrail")}
}

func (s *Automation) bus() {
	cfg := s.cfg
	s.Bus = awsevents.NewEventBus(s.Stack, jsii.String("CentralBus"), &awsevents.EventBusProps{
		// Physical name: the management account, the logging account and
		// every member target this bus by ARN.
		EventBusName: jsii.String(cfg.Deployment.Names.EventBus),
		Description:  jsii.String("trailwarden: Organizations, tamper and digest events from the organization"),
	})
	if !cfg.Deployment.SingleAccount {
		// Only trailwarden's forwarder roles (path ForwarderRolePath) in the
		// organization's accounts may put events: the management account
		// (Organizations events), the logging account (digest events) and
		// members (tamper events).
		s.Bus.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("ForwardersPutEvents"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewStarPrincipal()},
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  &[]*string{s.Bus.EventBusArn()},
			Conditions: &map[string]any{
				"StringEquals": map[string]any{"aws:PrincipalOrgID": cfg.OrgID},
				"ArnLike":      map[string]any{"aws:PrincipalArn": arn("iam", "", "*", "role"+ForwarderRolePath+"*")},
			},
		}))
	}
}

func (s *Automation) functionsFrom(assetDirs map[string]string) {
	cfg := s.cfg
	d := cfg.Deployment
	env := baseEnv(cfg)
	env[settings.EnvAccountsTable] = s.Accounts.TableName()
	env[settings.EnvLedgerTable] = s.Ledger.TableName()
	env[settings.EnvIncidentsTable] = s.Incidents.TableName()
	env[settings.EnvRequestQueueURL] = s.RequestQueue.QueueUrl()
	env[settings.EnvAlertsTopicARN] = s.Alerts.TopicArn()
	env[settings.EnvObjectCheck] = jsii.String(d.ObjectCheck)
	env[settings.EnvJournalTable] = s.Journal.TableName()
	env[settings.EnvIntegrityTable] = s.Integrity.TableName()
	env[settings.EnvIntegrityLogFiles] = jsii.String(d.Integrity.LogFiles)
	env[settings.EnvIntegrityHeadsTable] = s.IntegrityHeads.TableName()
	env[settings.EnvLedgerItemInterval] = jsii.String(d.Ledger.ItemInterval.String())
	env[settings.EnvVerifierBatchSize] = jsii.String(strconv.Itoa(DeliveryBatchSize))
	env[settings.EnvEnableDeadline] = jsii.String(d.EnableDeadline.String())
	env[settings.EnvNeverStartedAfter] = jsii.String(d.NeverStartedAfter.String())
	env[settings.EnvStaleFloor] = jsii.String(d.StaleFloor.String())
	env[settings.EnvRepair] = jsii.String(strconv.FormatBool(d.RepairOn()))
	env[settings.EnvEnabledRegions] = jsii.String(strings.Join(d.Regions, ","))
	if !d.SingleAccount {
		env[settings.EnvOrgReaderRoleARN] = jsii.String(cfg.OrgReaderRoleARN())
	}
	retention := retentionByDays[d.LogRetentionDays]
	// No reserved concurrency: Lambda keeps at least 100 of the account's
	// concurrency unreserved, and new accounts often have a quota of 10, so
	// a reservation makes the stack undeployable there (Lambda Developer
	// Guide, "Configuring reserved concurrency"). Scheduled runs do not
	// overlap because each timeout is shorter than its schedule (checked by
	// Config.Validate) and a failed run is not retried asynchronously (the
	// next scheduled run does its work); an occasional duplicate delivery of
	// the schedule is harmless (incidents open once, by conditional put).
	mk := func(name string, timeout, memoryMB float64, asyncRetries *float64, desc string) *Function {
		f := NewFunction(s.Stack, capitalize(name), FunctionProps{
			Name:               name,
			AssetDir:           assetDirs[name],
			Timeout:            awscdk.Duration_Seconds(jsii.Number(timeout)),
			MemoryMB:           memoryMB,
			Env:                copyEnv(env),
			LogRetention:       retention,
			AsyncRetryAttempts: asyncRetries,
			Description:        desc,
		})
		s.functions = append(s.functions, f)
		return f
	}
	s.Enabler = mk(FnEnabler, EnablerTimeoutSeconds, DefaultMemoryMB, nil, "trailwarden: converges member accounts' trails")
	s.Reconciler = mk(FnReconciler, ReconcilerTimeoutSeconds, DefaultMemoryMB, jsii.Number(0), "trailwarden: enqueues every ACTIVE account")
	s.Verifier = mk(FnVerifier, VerifierTimeoutSeconds, DefaultMemoryMB, nil, "trailwarden: verifies CloudTrail deliveries, keeps the arrival ledger")
	s.Watchdog = mk(FnWatchdog, WatchdogTimeoutSeconds, WatchdogMemoryMB, jsii.Number(0), "trailwarden: finds stale and never-started accounts, alerts, repairs")
	// The ledger's lag allowance on the watchdog's thresholds (the
	// deployment key's former name: coalesceWindow). Only the watchdog
	// reads it; the verifier has no coalescing window any more.
	s.Watchdog.Fn.AddEnvironment(jsii.String(settings.EnvCoalesceWindow), jsii.String(d.Ledger.CoalesceWindow.String()), nil)
}

func copyEnv(m map[string]*string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func (s *Automation) wiring() {
	cfg := s.cfg
	s.Enabler.Fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.RequestQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(RequestBatchSize),
		ReportBatchItemFailures: jsii.Bool(true),
		MaxConcurrency:          jsii.Number(EnablerMaxConcurrency),
	}))
	s.Verifier.Fn.AddEventSource(awslambdaeventsources.NewSqsEventSource(s.DeliveryQueue, &awslambdaeventsources.SqsEventSourceProps{
		BatchSize:               jsii.Number(DeliveryBatchSize),
		MaxBatchingWindow:       awscdk.Duration_Seconds(jsii.Number(5)),
		ReportBatchItemFailures: jsii.Bool(true),
		// Bounds warm verifier instances (and with them the journal
		// writes in flight; the ledger items do not depend on it).
		MaxConcurrency: jsii.Number(cfg.Deployment.VerifierConcurrency),
	}))
	// The rules name the bus by its configured name (a fixed physical name
	// every account already targets) and depend on it explicitly.
	bus := awsevents.EventBus_FromEventBusName(s.Stack, jsii.String("CentralBusByName"), jsii.String(cfg.Deployment.Names.EventBus))
	// Central bus → request queue (Organizations and tamper events).
	requests := awsevents.NewRule(s.Stack, jsii.String("RequestEvents"), &awsevents.RuleProps{
		EventBus:     bus,
		Description:  jsii.String("trailwarden: Organizations and trail tamper events to the enabler"),
		EventPattern: RequestEventPattern(),
		Targets:      &[]awsevents.IRuleTarget{awseventstargets.NewSqsQueue(s.RequestQueue, nil)},
	})
	requests.Node().AddDependency(s.Bus)
	// Digest objects come straight from the logging account's default bus
	// (Central.digestForwarding): only its forwarder role, under
	// ForwarderRolePath, may send them.
	s.DeliveryQueue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DigestForwarder"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewAccountPrincipal(jsii.String(cfg.LoggingAccount))},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{s.DeliveryQueue.QueueArn()},
		Conditions: &map[string]any{"ArnLike": map[string]any{"aws:PrincipalArn": arn("iam", "", cfg.LoggingAccount, "role"+ForwarderRolePath+"*")}},
	}))
	// Deliveries topic (logging account) → delivery queue. The queue's owner
	// subscribes, so no confirmation is needed; raw delivery stays off (the
	// verifier reads the SNS envelope).
	topicARN := cfg.DeliveriesTopicARN()
	awssns.NewSubscription(s.Stack, jsii.String("DeliveriesSubscription"), &awssns.SubscriptionProps{
		Topic:              awssns.Topic_FromTopicArn(s.Stack, jsii.String("DeliveriesTopic"), jsii.String(topicARN)),
		Protocol:           awssns.SubscriptionProtocol_SQS,
		Endpoint:           s.DeliveryQueue.QueueArn(),
		RawMessageDelivery: jsii.Bool(false),
		Region:             jsii.String(cfg.HomeRegion),
	})
	s.DeliveryQueue.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("DeliveriesTopic"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("sns.amazonaws.com"), nil)},
		Actions:    jsii.Strings("sqs:SendMessage"),
		Resources:  &[]*string{s.DeliveryQueue.QueueArn()},
		Conditions: &map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": topicARN}},
	}))
}

// Table actions, named explicitly rather than through grant helpers so each
// role shows exactly what its function does.
var (
	tableRead  = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}
	tableWrite = []string{"dynamodb:PutItem", "dynamodb:UpdateItem"}
)

func tableARNs(t awsdynamodb.Table) []*string {
	return []*string{t.TableArn()}
}

// outboxActions are the incidents-table calls of the alert outbox
// (shared/incident.Outbox).
var outboxActions = []string{"dynamodb:UpdateItem", "dynamodb:GetItem"}

func (s *Automation) permissions() {
	cfg := s.cfg
	d := cfg.Deployment
	memberRole := []*string{jsii.String(cfg.MemberRoleARNPattern())}
	assumeMember := map[string]any{"StringEquals": map[string]any{"aws:ResourceOrgID": cfg.OrgID}}
	if d.SingleAccount {
		memberRole = []*string{jsii.String(arn("iam", "", s.cfg.LoggingAccount, "role/"+cfg.MemberRole))}
		assumeMember = nil
	}
	publish := func(f *Function) { s.Alerts.GrantPublish(f.Role) }
	// The functions that send alerts (through shared/incident's outbox) also
	// put them on the central bus (shared/alertbus).
	busARN := arn("events", *s.Region(), *s.Account(), "event-bus/"+d.Names.EventBus)
	// With deployment.securityHub.enabled they also import findings into
	// Security Hub CSPM in this account and Region, under its default
	// product ARN (docs/securityhub.md: the product resource of
	// BatchImportFindings, Service Authorization Reference).
	product := arn("securityhub", *s.Region(), *s.Account(), "product/"+*s.Account()+"/default")
	alertsBus := func(f *Function) {
		f.Allow("AlertsBusPutEvents", []string{"events:PutEvents"}, []*string{jsii.String(busARN)}, nil)
		f.Fn.AddEnvironment(jsii.String(settings.EnvAlertsBus), jsii.String(busARN), nil)
		f.Fn.AddEnvironment(jsii.String(settings.EnvRunbookBaseURL), jsii.String(d.RunbookBaseURL), nil)
		if d.SecurityHub.Enabled {
			f.Allow("SecurityHubImport", []string{"securityhub:BatchImportFindings"}, []*string{jsii.String(product)}, nil)
			f.Fn.AddEnvironment(jsii.String(settings.EnvSecurityHubProductARN), jsii.String(product), nil)
		}
	}

	// enabler: converge members, record accounts, alert.
	e := s.Enabler
	e.Allow("AssumeMemberRole", []string{"sts:AssumeRole"}, memberRole, assumeMember)
	e.Allow("AccountsTable", append(append([]string{}, tableRead[:2]...), tableWrite...), tableARNs(s.Accounts), nil)
	if !d.SingleAccount {
		e.Allow("AssumeOrgReader", []string{"sts:AssumeRole"}, []*string{jsii.String(cfg.OrgReaderRoleARN())}, nil)
	}
	// The alert outbox: claim, mark or release one item per alerted event;
	// a tamper call opens the account's trail incident by conditional put
	// (shared/incident, AttachTamper).
	e.Allow("IncidentsAlerts", append(append([]string{}, outboxActions...), "dynamodb:PutItem"), tableARNs(s.Incidents), nil)
	publish(e)
	alertsBus(e)

	// reconciler: list the organization (through the management account's
	// read-only role), enqueue every ACTIVE account, compare with the table.
	r := s.Reconciler
	if !d.SingleAccount {
		r.Allow("AssumeOrgReader", []string{"sts:AssumeRole"}, []*string{jsii.String(cfg.OrgReaderRoleARN())}, nil)
	}
	r.Allow("EnqueueRequests", []string{"sqs:SendMessage"}, []*string{s.RequestQueue.QueueArn()}, nil)
	r.Allow("AccountsTable", append(append([]string{}, tableRead...), tableWrite...), tableARNs(s.Accounts), nil)
	publish(r)

	// verifier: journal appends, membership reads, HEAD on log objects,
	// findings. It never touches the ledger items (the watchdog folds the
	// journal into them).
	v := s.Verifier
	v.Allow("AccountsTableRead", tableRead, tableARNs(s.Accounts), nil)
	// The journal is append-only: one conditional PutItem per invocation.
	v.Allow("JournalAppend", []string{"dynamodb:PutItem"}, []*string{s.Journal.TableArn()}, nil)
	// Findings are deduplicated through the alert outbox in the incidents
	// table (a conditional claim, marked sent or released).
	v.Allow("IncidentsFindings", outboxActions, tableARNs(s.Incidents), nil)
	if d.ObjectCheck != "none" {
		v.Allow("HeadLogObjects", []string{"s3:GetObject"}, []*string{jsii.String(cfg.LogObjectsARN())}, nil)
		// With s3:ListBucket, HEAD of a missing key answers 404, not 403
		// (S3 API Reference, HeadObject); only under the logs prefix.
		v.Allow("ListLogObjects", []string{"s3:ListBucket"}, []*string{jsii.String(cfg.BucketARN())}, cfg.listLogsCondition())
	}
	s.verifierIntegrity(v)
	publish(v)
	alertsBus(v)

	// watchdog: read ledger and accounts, keep incidents, diagnose in
	// members, alert, request repairs.
	w := s.Watchdog
	w.Allow("LedgerTableRead", tableRead, tableARNs(s.Ledger), nil)
	// The watchdog is the ledger items' one writer: it folds the journal
	// into them (shared/ledger Folder), a conditional UpdateItem.
	w.Allow("LedgerFold", []string{"dynamodb:UpdateItem"}, []*string{s.Ledger.TableArn()}, nil)
	w.Allow("AccountsTableRead", tableRead, tableARNs(s.Accounts), nil)
	w.Allow("JournalRead", []string{"dynamodb:Query"}, []*string{s.Journal.TableArn()}, nil)
	// The enable-overdue alert is sent once: the watchdog flags the account.
	w.Allow("AccountsDeadlineFlag", []string{"dynamodb:UpdateItem"}, tableARNs(s.Accounts), nil)
	w.Allow("IncidentsTable", append(append([]string{}, tableRead...), append(tableWrite, "dynamodb:DeleteItem")...), tableARNs(s.Incidents), nil)
	// The watchdog only reads: it assumes its own read-only member role.
	readerRole := []*string{jsii.String(arn("iam", "", "*", "role/"+settings.WatchdogMemberRole))}
	if d.SingleAccount {
		readerRole = []*string{jsii.String(arn("iam", "", s.cfg.LoggingAccount, "role/"+settings.WatchdogMemberRole))}
	}
	w.Allow("AssumeMemberRole", []string{"sts:AssumeRole"}, readerRole, assumeMember)
	w.Allow("EnqueueRepairs", []string{"sqs:SendMessage"}, []*string{s.RequestQueue.QueueArn()}, nil)
	// Expected-but-missing digests: one scan of the heads per pass.
	w.Allow("IntegrityHeadsRead", []string{"dynamodb:Scan"}, []*string{s.IntegrityHeads.TableArn()}, nil)
	publish(w)
	alertsBus(w)
}

func (s *Automation) schedules() {
	d := s.cfg.Deployment
	every := func(id string, dur float64, f *Function, desc string) {
		awsevents.NewRule(s.Stack, jsii.String(id), &awsevents.RuleProps{
			Description: jsii.String(desc),
			Schedule:    awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(dur))),
			Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.Fn, &awseventstargets.LambdaFunctionProps{
				RetryAttempts: jsii.Number(2),
			})},
		})
	}
	every("ReconcileSchedule", d.Schedules.Reconcile.Minutes(), s.Reconciler, fmt.Sprintf("trailwarden: reconcile every %s", d.Schedules.Reconcile))
	every("WatchdogSchedule", d.Schedules.Watchdog.Minutes(), s.Watchdog, fmt.Sprintf("trailwarden: watchdog every %s", d.Schedules.Watchdog))
}

// verifierIntegrity grants the continuous digest verification
// (shared/integritywatch): its state table (conditional UpdateItem, and
// GetItem for a digest announced again), its heads table (UpdateItem),
// GetObject on digest keys (and on log files when
// deployment.integrity.logFiles is not none), ListPublicKeys (no
// resource-level permissions: Service Authorization Reference, AWS
// CloudTrail), and kms:Decrypt on the trail's key through S3 only (a GET of
// an SSE-KMS object).
func (s *Automation) verifierIntegrity(v *Function) {
	cfg, d := s.cfg, s.cfg.Deployment
	// GetItem: only for a digest announced again after it was verified
	// (an overwrite is told by its ETag).
	v.Allow("IntegrityState", []string{"dynamodb:UpdateItem", "dynamodb:GetItem"}, []*string{s.Integrity.TableArn()}, nil)
	v.Allow("IntegrityHeads", []string{"dynamodb:UpdateItem"}, []*string{s.IntegrityHeads.TableArn()}, nil)
	v.Allow("ListPublicKeys", []string{"cloudtrail:ListPublicKeys"}, []*string{jsii.String("*")}, nil)
	v.Allow("GetDigests", []string{"s3:GetObject"}, []*string{jsii.String(cfg.DigestObjectsARN())}, nil)
	if d.Integrity.LogFiles != "none" && d.ObjectCheck == "none" {
		v.Allow("GetLogObjects", []string{"s3:GetObject"}, []*string{jsii.String(cfg.LogObjectsARN())}, nil)
	}
	// The key is the central stack's, in the logging account; its key
	// policy names the verifier role (VerifierDecryptViaS3).
	v.Allow("DecryptLogObjects", []string{"kms:Decrypt"}, []*string{jsii.String(arn("kms", "*", cfg.LoggingAccount, "key/*"))},
		map[string]any{"StringLike": map[string]any{"kms:ViaService": "s3.*.amazonaws.com"}})
}
