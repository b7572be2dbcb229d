// Package settings holds the runtime settings of trailwarden's functions: the
// environment variable names (shared with infra/ so the compiler ties the
// deployment to the code that reads it), typed structs, and validation that
// reports every problem at once.
package settings

// Environment variable names. infra/ sets exactly these; functions read
// exactly these. Never spell one as a string literal elsewhere.
const (
	// EnvPolicyFile is the path of the policy file bundled with the function
	// (relative paths are resolved against LAMBDA_TASK_ROOT).
	EnvPolicyFile = "TRAILWARDEN_POLICY_FILE"
	// EnvAccountsTable is the DynamoDB accounts table name.
	EnvAccountsTable = "TRAILWARDEN_ACCOUNTS_TABLE"
	// EnvLedgerTable is the DynamoDB arrival ledger table name.
	EnvLedgerTable = "TRAILWARDEN_LEDGER_TABLE"
	// EnvIncidentsTable is the DynamoDB incidents table name.
	EnvIncidentsTable = "TRAILWARDEN_INCIDENTS_TABLE"
	// EnvRequestQueueURL is the enabler's request queue (repairs are enqueued here).
	EnvRequestQueueURL = "TRAILWARDEN_REQUEST_QUEUE_URL"
	// EnvAlertsTopicARN is the SNS topic that receives alerts.
	EnvAlertsTopicARN = "TRAILWARDEN_ALERTS_TOPIC_ARN"
	// EnvAlertsBus is the central event bus (name or ARN) that also
	// receives every alert (shared/alertbus); unset: the topic only.
	EnvAlertsBus = "TRAILWARDEN_ALERTS_BUS"
	// EnvSecurityHubProductARN is the default product ARN findings are
	// imported under (shared/asff); unset: no Security Hub import.
	EnvSecurityHubProductARN = "TRAILWARDEN_SECURITY_HUB_PRODUCT_ARN"
	// EnvAlarmsTopicARN is the private topic trailwarden's CloudWatch
	// alarms notify; the alarm relay reads it from its queue.
	EnvAlarmsTopicARN = "TRAILWARDEN_ALARMS_TOPIC_ARN"
	// EnvAlarmNamePrefix is "<automation stack>-", the prefix of every
	// alarm name the relay accepts.
	EnvAlarmNamePrefix = "TRAILWARDEN_ALARM_NAME_PREFIX"
	// EnvRunbookBaseURL is the https URL of docs/runbooks/ findings link to.
	EnvRunbookBaseURL = "TRAILWARDEN_RUNBOOK_BASE_URL"
	// EnvObjectCheck is the verifier's object check: none | sample | all.
	EnvObjectCheck = "TRAILWARDEN_OBJECT_CHECK"
	// EnvIntegrityTable is the digest-verification state table; unset,
	// the verifier does not verify digests.
	EnvIntegrityTable = "TRAILWARDEN_INTEGRITY_TABLE"
	// EnvIntegrityLogFiles is which log files a verified digest's hashes
	// are checked for: none | sample | all.
	EnvIntegrityLogFiles = "TRAILWARDEN_INTEGRITY_LOG_FILES"
	// EnvIntegrityHeadsTable is the table of each digest chain's newest
	// verified digest: the verifier writes it, the watchdog reads it for
	// expected-but-missing digests; unset, neither does.
	EnvIntegrityHeadsTable = "TRAILWARDEN_INTEGRITY_HEADS_TABLE"
	// EnvJournalTable is the DynamoDB arrival journal table name (see
	// shared/ledger: the verifier appends, the watchdog and status read).
	EnvJournalTable = "TRAILWARDEN_JOURNAL_TABLE"
	// EnvLedgerItemInterval is how often the watchdog folds the journal
	// into each ledger item (Go duration); readers look back over the
	// journal accordingly, and the verifier keeps journal items that long.
	EnvLedgerItemInterval = "TRAILWARDEN_LEDGER_ITEM_INTERVAL"
	// EnvCoalesceWindow is the ledger's coalescing window (Go duration).
	EnvCoalesceWindow = "TRAILWARDEN_COALESCE_WINDOW"
	// EnvEnableDeadline is how long a joined account may stay un-enabled
	// before an alert (Go duration).
	EnvEnableDeadline = "TRAILWARDEN_ENABLE_DEADLINE"
	// EnvNeverStartedAfter is how long after enablement an account with no
	// delivery counts as never started (Go duration).
	EnvNeverStartedAfter = "TRAILWARDEN_NEVER_STARTED_AFTER"
	// EnvStaleFloor is the minimum silence before an account × Region is stale.
	EnvStaleFloor = "TRAILWARDEN_STALE_FLOOR"
	// EnvRepair turns the watchdog's repair requests on ("true"/"false").
	EnvRepair = "TRAILWARDEN_REPAIR"
	// EnvMetricsNamespace is the CloudWatch namespace of the EMF metrics.
	EnvMetricsNamespace = "TRAILWARDEN_METRICS_NAMESPACE"
	// EnvLogLevel is debug | info | warn | error, deployment.logLevel. In
	// Lambda the functions follow AWS_LAMBDA_LOG_LEVEL, which infra/ sets
	// from the same value (the function's application log level).
	EnvLogLevel = "TRAILWARDEN_LOG_LEVEL"
)

// DefaultMetricsNamespace is the CloudWatch namespace when none is set.
const DefaultMetricsNamespace = "Trailwarden"

// Environment variables set by infra/ in addition to the ones above.
const (
	// EnvOrgReaderRoleARN is the read-only role in the management account that
	// the reconciler (and the enabler, for an account's OU path) assume to
	// call organizations:ListAccounts / ListParents. Empty in single-account
	// mode.
	EnvOrgReaderRoleARN = "TRAILWARDEN_ORG_READER_ROLE_ARN"
	// EnvSingleAccount is "true" when trailwarden runs in one account only:
	// the enabler converges the current account and nothing calls
	// Organizations.
	EnvSingleAccount = "TRAILWARDEN_SINGLE_ACCOUNT"
)

// The watchdog's settings, in addition to EnvLedgerTable, EnvIncidentsTable,
// EnvStaleFloor, EnvCoalesceWindow, EnvNeverStartedAfter and EnvRepair.
const (
	// EnvEnabledRegions lists, comma-separated, the Regions a multi-Region
	// trail must deliver from in every account (Regions enabled in all
	// accounts); Regions seen in an account's ledger are watched anyway.
	EnvEnabledRegions = "TRAILWARDEN_ENABLED_REGIONS"
	// EnvScanSegments is the number of parallel segments of the watchdog's
	// table scans.
	EnvScanSegments = "TRAILWARDEN_SCAN_SEGMENTS"
	// EnvDiagnoseConcurrency is how many member accounts the watchdog asks
	// CloudTrail about at once.
	EnvDiagnoseConcurrency = "TRAILWARDEN_DIAGNOSE_CONCURRENCY"
	// EnvMaxDiagnoses caps the diagnoses of one watchdog pass (the rest wait
	// for the next pass).
	EnvMaxDiagnoses = "TRAILWARDEN_MAX_DIAGNOSES"
	// EnvRediagnoseEvery is how often an open incident is diagnosed again
	// (Go duration).
	EnvRediagnoseEvery = "TRAILWARDEN_REDIAGNOSE_EVERY"
	// EnvMassThreshold: when more account × Regions than this go silent in
	// one pass, the watchdog raises one organization-wide incident instead
	// of one per pair.
	EnvMassThreshold = "TRAILWARDEN_MASS_THRESHOLD"
)

// Verifier settings in addition to the shared ones above.
const (
	// EnvObjectCheckSampleRate is the share of objects HeadObject checks
	// when the object check is "sample" (a number in (0, 1]; default 0.01).
	EnvObjectCheckSampleRate = "TRAILWARDEN_OBJECT_CHECK_SAMPLE_RATE"
	// EnvVerifierBatchSize is the verifier's event source batch size; a
	// smaller batch means the queue is drained and the ledger writer
	// flushes everything (default 10).
	EnvVerifierBatchSize = "TRAILWARDEN_VERIFIER_BATCH_SIZE"
)

// WatchdogMemberRole is the read-only role the watchdog assumes in every
// member account to diagnose its trail. The member template creates it
// under this fixed name; it may only read trails (never the enabler's
// member role, which writes).
const WatchdogMemberRole = "TrailwardenWatchdogReader"
