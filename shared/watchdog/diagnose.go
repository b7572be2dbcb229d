package watchdog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// Reason codes of a diagnosis (the incident's Reason, the alert's detail).
const (
	ReasonLoggingStopped    = "logging-stopped"
	ReasonBucketDelivery    = "bucket-access-denied" // S3 refuses log or digest files
	ReasonKMSKeyUnusable    = "kms-key-unusable"
	ReasonSNSPublishFailing = "sns-publish-failing"
	ReasonTrailDeleted      = "trail-deleted"
	ReasonTrailChanged      = "trail-changed"
	ReasonRoleNotAssumable  = "role-not-assumable"
	ReasonDeliveriesMissing = "trail-healthy-deliveries-missing" // escalate
	ReasonDiagnosisFailed   = "diagnosis-failed"
	// ReasonLull: the trail is healthy and CloudTrail delivered nothing
	// newer than the ledger holds: a busy Region went quiet. No alert.
	ReasonLull = "lull"
	// ReasonPipeline: many pairs went silent at once (mass incident).
	ReasonPipeline = "pipeline-silent"
)

// Diagnosis says why an account × Region is silent.
type Diagnosis struct {
	Reason     string   `json:"reason"`
	Summary    string   `json:"summary"` // one human line
	Detail     string   `json:"detail,omitempty"`
	Action     string   `json:"suggestedAction,omitempty"`
	Severity   string   `json:"severity"`
	Repairable bool     `json:"repairable"` // a converge of the account fixes it
	Changes    []string `json:"changes,omitempty"`
}

// Sessions hands out member-account configurations (awsenv.Assumer); a
// role that cannot be assumed is an *awsenv.RoleError.
type Sessions interface {
	Config(ctx context.Context, account, roleName, region string) (aws.Config, error)
}

var _ Sessions = (*awsenv.Assumer)(nil)

// TrailAPI is what the diagnosis asks CloudTrail in a member account.
type TrailAPI interface {
	GetTrail(ctx context.Context, in *cloudtrail.GetTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
}

var _ TrailAPI = (*cloudtrail.Client)(nil)

// Diagnoser asks a member account's CloudTrail why deliveries stopped. One
// Diagnoser serves one pass: it remembers each account's GetTrail answer
// (the trail is the same in every Region) so an account with several silent
// Regions costs one GetTrail plus one GetTrailStatus per Region.
type Diagnoser struct {
	Policy   *policy.Policy
	Sessions Sessions
	NewTrail func(aws.Config) TrailAPI

	mu     sync.Mutex
	trails map[string]*trailLookup
	calls  int
}

type trailLookup struct {
	once  sync.Once
	trail *cttypes.Trail
	cfg   aws.Config
	err   error
}

// Calls returns how many CloudTrail calls were made.
func (d *Diagnoser) Calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

func (d *Diagnoser) count() {
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
}

// home is the account's trail home Region.
func (d *Diagnoser) home(acct accounts.Account) string {
	if acct.HomeRegion != "" {
		return acct.HomeRegion
	}
	return d.Policy.Organization.HomeRegion
}

// TrailARN is the account's trail ARN: from the accounts table, else built
// from the policy's trail name in the home Region.
func (d *Diagnoser) TrailARN(acct accounts.Account, trailName string) string {
	if acct.TrailARN != "" {
		return acct.TrailARN
	}
	home := d.home(acct)
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", awsenv.Partition(home), home, acct.AccountID, trailName)
}

func (d *Diagnoser) lookup(ctx context.Context, acct accounts.Account, arn string) *trailLookup {
	d.mu.Lock()
	if d.trails == nil {
		d.trails = map[string]*trailLookup{}
	}
	// The trail lives in the account its ARN names: the member's own trail,
	// or the management account's organization trail.
	owner := acct.AccountID
	if parts := strings.Split(arn, ":"); len(parts) > 4 && len(parts[4]) == 12 {
		owner = parts[4]
	}
	l, ok := d.trails[owner]
	if !ok {
		l = &trailLookup{}
		d.trails[owner] = l
	}
	d.mu.Unlock()
	l.once.Do(func() {
		cfg, err := d.Sessions.Config(ctx, owner, d.Policy.Organization.MemberRole, d.home(acct))
		if err != nil {
			l.err = err
			return
		}
		l.cfg = cfg
		d.count()
		out, err := d.NewTrail(cfg).GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)})
		if err != nil {
			l.err = err
			return
		}
		l.trail = out.Trail
	})
	return l
}

// Diagnose asks CloudTrail about account's trail in region. ledgerLast is
// the newest delivery the ledger holds (log file or digest, whichever the
// verdict measured); stale says the heartbeat stopped (not only activity),
// which turns "healthy, nothing newer" from a lull into an escalation.
func (d *Diagnoser) Diagnose(ctx context.Context, acct accounts.Account, region string, ledgerLastLog, ledgerLast time.Time, stale bool) Diagnosis {
	want, err := d.Policy.Effective(acct.AccountID, acct.OUPath)
	if err != nil {
		return Diagnosis{Reason: ReasonDiagnosisFailed, Severity: "high",
			Summary: "the policy gives this account no trail: " + err.Error(),
			Action:  "check the policy's exclusions and overrides for this account"}
	}
	arn := d.TrailARN(acct, want.Name)
	l := d.lookup(ctx, acct, arn)
	if l.err != nil {
		return d.failure(acct, l.err)
	}
	if changes := Drift(want, l.trail); len(changes) > 0 {
		return Diagnosis{Reason: ReasonTrailChanged, Severity: "high", Repairable: true, Changes: changes,
			Summary: "trail changed: " + strings.Join(changes, "; "),
			Action:  "re-converge the account (`trailwarden enable --account " + acct.AccountID + " --yes`) and find out who changed the trail (CloudTrail UpdateTrail events in the member account)"}
	}
	d.count()
	regional := l.cfg.Copy()
	regional.Region = region
	st, err := d.NewTrail(regional).GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		return d.failure(acct, err)
	}
	return judgeStatus(acct.AccountID, st, ledgerLastLog, ledgerLast, stale)
}

func (d *Diagnoser) failure(acct accounts.Account, err error) Diagnosis {
	var re *awsenv.RoleError
	switch {
	case errors.As(err, &re):
		return Diagnosis{Reason: ReasonRoleNotAssumable, Severity: "critical",
			Summary: fmt.Sprintf("role %s cannot be assumed in the account", d.Policy.Organization.MemberRole),
			Detail:  err.Error(),
			Action:  "restore the member role and its trust in the trailwarden account (an SCP or a changed trust policy may block sts:AssumeRole); the trail's state is unknown"}
	case fault.IsAPIError(err, "TrailNotFoundException"):
		return Diagnosis{Reason: ReasonTrailDeleted, Severity: "high", Repairable: true,
			Summary: "trail deleted", Detail: err.Error(),
			Action: "re-converge the account and find out who deleted the trail (DeleteTrail events)"}
	}
	return Diagnosis{Reason: ReasonDiagnosisFailed, Severity: "high",
		Summary: "could not ask CloudTrail: " + fault.Code(err), Detail: err.Error(),
		Action: "check the member account's trail by hand (`aws cloudtrail get-trail-status`)"}
}

// judgeStatus reads GetTrailStatus.
func judgeStatus(account string, st *cloudtrail.GetTrailStatusOutput, ledgerLastLog, ledgerLast time.Time, stale bool) Diagnosis {
	if !aws.ToBool(st.IsLogging) {
		at := "an unknown time"
		if st.StopLoggingTime != nil {
			at = st.StopLoggingTime.UTC().Format(time.RFC3339)
		}
		return Diagnosis{Reason: ReasonLoggingStopped, Severity: "high", Repairable: true,
			Summary: "logging stopped at " + at,
			Action:  "re-converge the account (StartLogging) and find out who stopped it (StopLogging events in the member account)"}
	}
	for _, e := range []struct{ what, err string }{
		{"log files", aws.ToString(st.LatestDeliveryError)},
		{"digest files", aws.ToString(st.LatestDigestDeliveryError)},
	} {
		if e.err == "" {
			continue
		}
		if kmsError(e.err) {
			return Diagnosis{Reason: ReasonKMSKeyUnusable, Severity: "high",
				Summary: fmt.Sprintf("KMS key unusable: CloudTrail cannot encrypt %s (%s)", e.what, e.err),
				Action:  "check the trail's KMS key: enabled, not pending deletion, and its key policy allows cloudtrail.amazonaws.com kms:GenerateDataKey* for this trail"}
		}
		return Diagnosis{Reason: ReasonBucketDelivery, Severity: "high",
			Summary: fmt.Sprintf("%s on the bucket: CloudTrail cannot deliver %s", e.err, e.what),
			Action:  "fix the central bucket's policy (CloudTrailWrite for this trail and organization) or its existence; CloudTrail retries for 30 days, late files then arrive"}
	}
	if e := aws.ToString(st.LatestNotificationError); e != "" {
		return Diagnosis{Reason: ReasonSNSPublishFailing, Severity: "high",
			Summary: fmt.Sprintf("SNS publish failing (%s): log files may reach the bucket but the verifier is not told", e),
			Action:  "fix the deliveries topic's policy (SNS:Publish for cloudtrail.amazonaws.com from this trail) or its KMS key"}
	}
	ctLog := aws.ToTime(st.LatestDeliveryTime)
	ctDigest := aws.ToTime(st.LatestDigestDeliveryTime)
	newer := []string{}
	if ctLog.After(ledgerLastLog.Add(time.Minute)) && ctLog.After(ledgerLast.Add(time.Minute)) {
		newer = append(newer, "log files at "+ctLog.UTC().Format(time.RFC3339))
	}
	if ctDigest.After(ledgerLast.Add(time.Minute)) {
		newer = append(newer, "digests at "+ctDigest.UTC().Format(time.RFC3339))
	}
	if len(newer) > 0 {
		return Diagnosis{Reason: ReasonDeliveriesMissing, Severity: "critical",
			Summary: "trail healthy, deliveries missing: CloudTrail delivered " + strings.Join(newer, " and ") + " that the ledger never recorded",
			Action:  "escalate: check the deliveries topic → queue subscription, the verifier's errors and DLQ, and the bucket for the missing keys"}
	}
	if stale {
		return Diagnosis{Reason: ReasonDeliveriesMissing, Severity: "critical",
			Summary: "trail healthy, deliveries missing: the trail is logging with no error, yet neither log files nor the hourly digest arrived",
			Action:  "escalate: open a case with AWS Support with the trail ARN and the times; check the Region is enabled in the account"}
	}
	return Diagnosis{Reason: ReasonLull, Severity: "info", Summary: "trail healthy; nothing newer to deliver (the Region went quiet)"}
}

// kmsError reports a delivery error that names KMS. CloudTrail documents
// LatestDeliveryError as the S3 error text; an SSE-KMS failure surfaces as a
// KMS error code (e.g. KMS.DisabledException, KMS.NotFoundException).
func kmsError(s string) bool {
	u := strings.ToUpper(s)
	return strings.Contains(u, "KMS")
}

// Drift lists the delivery settings where the live trail differs from the
// policy's: the bucket, prefix, KMS key, topic, log file validation and
// multi-Region flag (what decides where files go and whether the watchdog
// can see them).
func Drift(want *policy.Trail, live *cttypes.Trail) []string {
	if live == nil {
		return []string{"trail missing"}
	}
	var out []string
	diff := func(field, w, g string) {
		if w != g {
			out = append(out, fmt.Sprintf("%s is %q, policy says %q", field, g, w))
		}
	}
	diff("S3 bucket", want.S3.Bucket, aws.ToString(live.S3BucketName))
	diff("S3 key prefix", want.S3.KeyPrefix, aws.ToString(live.S3KeyPrefix))
	wantKey := want.KMS.KeyArn
	if wantKey == policy.KMSNone {
		wantKey = ""
	}
	diff("KMS key", wantKey, aws.ToString(live.KmsKeyId))
	diff("SNS topic", want.SNS.TopicArn, aws.ToString(live.SnsTopicARN))
	if want.LogFileValidation != aws.ToBool(live.LogFileValidationEnabled) {
		out = append(out, fmt.Sprintf("log file validation is %v, policy says %v", aws.ToBool(live.LogFileValidationEnabled), want.LogFileValidation))
	}
	if want.MultiRegion != aws.ToBool(live.IsMultiRegionTrail) {
		out = append(out, fmt.Sprintf("multi-Region is %v, policy says %v", aws.ToBool(live.IsMultiRegionTrail), want.MultiRegion))
	}
	sort.Strings(out)
	return out
}
