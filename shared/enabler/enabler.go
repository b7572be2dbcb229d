// Package enabler is the enabler function's logic: each record of the
// request queue (an Organizations event, a trail tamper event, or one of
// trailwarden's own converge requests) becomes a decision, and enable /
// reevaluate / repair decisions converge the account's trail.
//
// Failure handling, per record:
//   - malformed input: poison; logged with the reason, counted, reported as
//     a batch item failure so it reaches the DLQ through redrive;
//   - a member role not (yet) assumable, throttling, propagation delays:
//     retryable; the record's visibility timeout is raised with exponential
//     backoff so retries spread over the minutes a new account needs; when
//     the enable deadline passes, one alert says the account is overdue;
//   - a problem only a human can fix (a sixth trail, a policy error for this
//     account): recorded as failed in the accounts table, alerted, and the
//     record goes to the DLQ.
package enabler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
	"github.com/trailwarden/trailwarden/shared/telemetry"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// Directory answers what the enabler asks Organizations.
type Directory interface {
	Describe(ctx context.Context, id string) (orgdir.Account, error)
	Path(ctx context.Context, id string) ([]string, error)
	Forget(id string)
}

// Sessions hands out member-account configurations (awsenv.Assumer).
type Sessions interface {
	Config(ctx context.Context, account, roleName, region string) (aws.Config, error)
}

// AccountStore is the part of the accounts table the enabler writes.
type AccountStore interface {
	Get(ctx context.Context, id string) (*accounts.Account, error)
	Seen(ctx context.Context, id, joinedVia, name string, ouPath []string) error
	Converged(ctx context.Context, id string, r accounts.Converge) error
	Failed(ctx context.Context, id string, cause error, code string, final bool) error
	SetStatus(ctx context.Context, id string, st accounts.Status, reason string) error
	MarkDeadlineAlerted(ctx context.Context, id string) error
	RecordTamper(ctx context.Context, id, tamperJSON string) error
}

// Alerter publishes alerts.
type Alerter interface {
	Publish(ctx context.Context, a alert.Alert) error
}

// Outbox publishes each alert once per id and keeps a failed one owed
// (incident.Outbox).
type Outbox interface {
	Send(ctx context.Context, id string, a alert.Alert) (bool, error)
	Resend(ctx context.Context, id string) (bool, error)
}

// Incidents keeps cause incidents (incident.Store): a tamper call opens the
// account's trail incident, which the silence it causes joins (the
// watchdog), and the repair's outcome is recorded on it.
type Incidents interface {
	AttachTamper(ctx context.Context, c incident.Incident, now time.Time) (bool, error)
	MarkRepair(ctx context.Context, id string, ok bool, detail string, now time.Time) (bool, error)
	SendCause(ctx context.Context, pub incident.Publisher, id string, build func(incident.Incident) alert.Alert, now time.Time, lease time.Duration) (bool, error)
}

// VisibilityAPI changes a record's visibility timeout (retry backoff).
type VisibilityAPI interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

var (
	_ AccountStore = (*accounts.Store)(nil)
	_ Directory    = (*orgdir.Directory)(nil)
	_ Sessions     = (*awsenv.Assumer)(nil)
	_ Outbox       = (*incident.Outbox)(nil)
	_ Incidents    = (*incident.Store)(nil)
)

// Processor handles request-queue batches.
type Processor struct {
	Policy    *policy.Policy
	Directory Directory
	Sessions  Sessions
	// NewEngine builds a converge engine from a member configuration.
	NewEngine func(cfg aws.Config) *converge.Engine
	Accounts  AccountStore
	// Alerts publishes directly: alerts of work outside a queue (the CLI,
	// backfill). Alerts of a queue record go through Outbox, once per
	// event, and fail the record until published.
	Alerts Alerter
	Outbox Outbox
	// Incidents, when set, turns a tamper call into the account's trail
	// incident (one alert for the call and the silence that follows;
	// updates on a failed repair) instead of an alert per event.
	Incidents Incidents
	// Visibility and QueueURL enable backoff; without them retries follow
	// the queue's visibility timeout.
	Visibility VisibilityAPI
	QueueURL   string
	Metrics    *telemetry.Metrics
	Logger     *slog.Logger
	Now        func() time.Time
	// EnableDeadline: an account still not enabled this long after it was
	// first seen raises one alert (default 1h).
	EnableDeadline time.Duration
	// BackoffBase and BackoffMax shape retry spacing (default 30s, 15m).
	BackoffBase, BackoffMax time.Duration
	// OwnRoles are the "role/session" pairs trailwarden's functions act
	// through in members (OwnRoles(pol)); a tamper event made through one of
	// them is the loop guard's to judge, not an alert.
	OwnRoles []string
	// DryRun makes every converge a plan: the same decisions (skip, exclude,
	// organization trail), the trail's change computed but not applied, and
	// nothing written to the accounts table, alerted or counted (CLI plan).
	DryRun bool
}

// store is the accounts table, or one that records nothing in a dry run
// or when there is no table (the CLI without --accounts-table).
func (p *Processor) store() AccountStore {
	if p.DryRun || p.Accounts == nil {
		return discard{}
	}
	return p.Accounts
}

// discard is an AccountStore that records nothing and finds nothing.
type discard struct{}

func (discard) Get(_ context.Context, id string) (*accounts.Account, error) {
	return nil, fmt.Errorf("account %s: %w", id, accounts.ErrNotFound)
}
func (discard) Seen(context.Context, string, string, string, []string) error     { return nil }
func (discard) Converged(context.Context, string, accounts.Converge) error       { return nil }
func (discard) Failed(context.Context, string, error, string, bool) error        { return nil }
func (discard) SetStatus(context.Context, string, accounts.Status, string) error { return nil }
func (discard) MarkDeadlineAlerted(context.Context, string) error                { return nil }
func (discard) RecordTamper(context.Context, string, string) error               { return nil }

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

func (p *Processor) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.Default()
}

// Handle processes one SQS batch and returns the partial batch response.
func (p *Processor) Handle(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
	res := sqsbatch.Run(ctx, ev, p.Record, sqsbatch.Options{Logger: p.log()})
	for _, o := range res.Outcomes {
		if o.Err != nil {
			p.count("RequestFailures", 1, "Kind", o.Kind.String())
		}
	}
	if p.Metrics != nil {
		_ = p.Metrics.Flush(ctx)
	}
	return res.Response()
}

func (p *Processor) count(name string, n int, dims ...string) {
	if p.Metrics != nil && !p.DryRun {
		p.Metrics.Count(name, n, dims...)
	}
}

// Record handles one request-queue record.
func (p *Processor) Record(ctx context.Context, rec events.SQSMessage) error {
	req, err := DecideRecord(rec, OriginOf(p.Policy))
	if err != nil {
		p.count("MalformedRequests", 1)
		return err
	}
	d := req.Decision
	if it := req.Item; it != nil {
		p.log().InfoContext(ctx, "converge requested", "messageId", rec.MessageId, "account", it.Account, "reason", it.Reason, "detail", it.Detail)
		ctx = withEventKey(ctx, rec.MessageId)
		if it.Reason == workitem.ReasonRepair {
			return p.repairRequested(ctx, rec, it.Account)
		}
		return p.enable(ctx, rec, it.Account, it.JoinedVia, it.Reason)
	}
	p.log().InfoContext(ctx, "event decided", "messageId", rec.MessageId, "decision", d)
	p.count("Decisions", 1, "Action", string(d.Action))
	ctx = withEventKey(ctx, eventKeyOf(d, rec))
	switch d.Action {
	case orgevent.ActionEnable:
		return p.enable(ctx, rec, d.Account, string(d.JoinedVia), "joined")
	case orgevent.ActionReevaluate:
		if p.Directory != nil {
			p.Directory.Forget(d.Account)
		}
		return p.enable(ctx, rec, d.Account, "", "moved")
	case orgevent.ActionDrift:
		return p.drift(ctx, rec, d)
	case orgevent.ActionRecord:
		if orgevent.IsDeparture(d) {
			return p.departed(ctx, d)
		}
		return nil
	default: // ignore
		if strings.HasPrefix(d.Reason, orgevent.ReasonUnverified) {
			p.log().WarnContext(ctx, "event ignored: unverified origin", "messageId", rec.MessageId, "decision", d)
			p.count("UnverifiedEvents", 1)
		}
		return nil
	}
}

// Outcome is what happened to one account.
type Outcome = accounts.Outcome

// enable converges one account for a queue record; on a retryable failure
// it spaces the record's next delivery with backoff.
func (p *Processor) enable(ctx context.Context, rec events.SQSMessage, account, joinedVia, why string) error {
	_, err := p.ConvergeAccount(ctx, account, joinedVia, why)
	if err != nil && (fault.KindOf(err) == fault.Retryable || fault.KindOf(err) == fault.Unknown) {
		p.backoff(ctx, rec, account)
	}
	return err
}

// ConvergeAccount converges one account outside any queue (the CLI) or for
// a record: skips, exclusions, organization-trail coverage, the accounts
// table, alerts. A nil Outcome comes with an error from describing the
// account or recording it as seen, before any decision.
func (p *Processor) ConvergeAccount(ctx context.Context, account, joinedVia, why string) (*Outcome, error) {
	// Describe first: an account Organizations does not know must not get a
	// row (the verifier treats rows as members).
	info, err := p.Directory.Describe(ctx, account)
	if err != nil {
		return nil, err
	}
	if err := p.store().Seen(ctx, account, strings.ToLower(joinedVia), info.Name, nil); err != nil {
		return nil, err
	}
	return p.convergeKnown(ctx, info, why)
}

// ConvergeListed converges an account already described by ListAccounts
// (backfill): only its OU path is looked up, which saves a DescribeAccount
// per account against Organizations' low request rate.
func (p *Processor) ConvergeListed(ctx context.Context, a orgdir.Account, why string) (*Outcome, error) {
	if err := p.store().Seen(ctx, a.ID, strings.ToLower(a.Joined), a.Name, nil); err != nil {
		return nil, err
	}
	path, err := p.Directory.Path(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	a.OUPath = path
	return p.convergeKnown(ctx, a, why)
}

func (p *Processor) convergeKnown(ctx context.Context, info orgdir.Account, why string) (*Outcome, error) {
	account := info.ID
	log := p.log().With("account", account)
	out := &Outcome{Account: account, Name: info.Name, OUPath: info.OUPath}
	if info.State == "PENDING_ACTIVATION" {
		// Organizations is still activating the account: try again later.
		return out, fault.Retryablef("AccountActivating", "account %s is still being activated", account)
	}
	if !info.Active() {
		log.InfoContext(ctx, "account skipped", "state", info.State)
		p.count("AccountsSkipped", 1)
		out.Status = accounts.StatusSkipped
		return out, p.store().SetStatus(ctx, account, accounts.StatusSkipped, "account state "+info.State)
	}
	if p.Policy.Excluded(account, info.OUPath) {
		log.InfoContext(ctx, "account excluded by policy")
		p.count("AccountsExcluded", 1)
		out.Status = accounts.StatusExcluded
		return out, p.store().SetStatus(ctx, account, accounts.StatusExcluded, "excluded by policy")
	}
	if p.Policy.Mode == policy.ModeOrganizationTrail && account != p.Policy.Organization.ManagementAccount {
		return p.coveredByOrganizationTrail(ctx, out)
	}
	rep, trail, err := p.converge(ctx, account, info.OUPath)
	out.Report = rep
	if err != nil {
		out.Status = accounts.StatusPending
		if k := fault.KindOf(err); k == fault.NeedsHuman || k == fault.Poison {
			out.Status = accounts.StatusFailed
		}
		return out, p.failed(ctx, account, info, err)
	}
	repJSON, _ := json.Marshal(rep)
	if err := p.store().Converged(ctx, account, accounts.Converge{
		TrailARN: rep.TrailARN, PolicyHash: trail.Hash(), HomeRegion: p.Policy.Organization.HomeRegion,
		ReportJSON: string(repJSON), OUPath: info.OUPath, Name: info.Name,
	}); err != nil {
		return out, err
	}
	out.Status = accounts.StatusEnabled
	p.count("AccountsConverged", 1)
	if rep.Writes > 0 {
		p.count("TrailChanges", 1)
	}
	log.InfoContext(ctx, "trail converged", "why", why, "trail", rep.TrailARN, "created", rep.Created,
		"changes", len(rep.Changes), "writes", rep.Writes, "calls", len(rep.Calls))
	return out, nil
}

// converge resolves the account's policy and applies it.
func (p *Processor) converge(ctx context.Context, account string, ouPath []string) (*converge.Report, *policy.Trail, error) {
	trail, err := p.Policy.Effective(account, ouPath)
	if err != nil {
		return nil, nil, fault.New(fault.NeedsHuman, "PolicyError", err)
	}
	home := p.Policy.Organization.HomeRegion
	req, err := policy.Render(trail, policy.RenderContext{Account: account, HomeRegion: home, Partition: awsenv.Partition(home)})
	if err != nil {
		return nil, nil, fault.New(fault.NeedsHuman, "PolicyError", err)
	}
	cfg, err := p.Sessions.Config(ctx, account, p.Policy.Organization.MemberRole, home)
	if err != nil {
		return nil, nil, err
	}
	rep, err := p.NewEngine(cfg).Converge(ctx, req, converge.Options{DryRun: p.DryRun})
	if err != nil {
		return rep, nil, err
	}
	return rep, trail, nil
}

// failed records a failed converge and decides between retry and DLQ.
func (p *Processor) failed(ctx context.Context, account string, info orgdir.Account, cause error) error {
	final, err := p.recordFailure(ctx, account, cause)
	if err != nil {
		return errors.Join(cause, err)
	}
	code := fault.Code(cause)
	if final {
		// Once per request (the outbox remembers the event); redeliveries
		// on their way to the DLQ are not alerted again.
		err := p.alert(ctx, alert.Alert{Kind: alert.KindEnableFailed, Severity: "high", Account: account, AccountName: info.Name,
			OU: last(info.OUPath), Region: p.Policy.Organization.HomeRegion, Reason: fmt.Sprintf("converge failed: %s", code),
			Detail: cause.Error(), Action: "fix the cause named here, then run `trailwarden enable --account " + account + " --yes`"})
		return errors.Join(cause, err)
	}
	p.checkDeadline(ctx, account, info, cause)
	return cause
}

// recordFailure writes a failed converge to the accounts table; final is
// true when retries cannot help (the record goes to the DLQ).
func (p *Processor) recordFailure(ctx context.Context, account string, cause error) (final bool, err error) {
	kind := fault.KindOf(cause)
	final = kind == fault.NeedsHuman || kind == fault.Poison
	if err := p.store().Failed(ctx, account, cause, fault.Code(cause), final); err != nil {
		return final, err
	}
	p.count("ConvergeFailures", 1, "Kind", kind.String())
	return final, nil
}

// backoff spaces the next delivery of a record that will be retried.
func (p *Processor) backoff(ctx context.Context, rec events.SQSMessage, account string) {
	if p.Visibility == nil || p.QueueURL == "" || rec.ReceiptHandle == "" {
		return
	}
	base, max := p.BackoffBase, p.BackoffMax
	if base <= 0 {
		base = 30 * time.Second
	}
	if max <= 0 {
		max = 15 * time.Minute
	}
	delay := sqsbatch.Backoff(sqsbatch.ReceiveCount(rec), base, max)
	if _, err := p.Visibility.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(p.QueueURL), ReceiptHandle: aws.String(rec.ReceiptHandle), VisibilityTimeout: int32(delay / time.Second),
	}); err != nil {
		p.log().WarnContext(ctx, "could not set retry backoff", "account", account, "error", err.Error())
	}
}

// checkDeadline alerts once when an account stays un-enabled too long.
func (p *Processor) checkDeadline(ctx context.Context, account string, info orgdir.Account, cause error) {
	deadline := p.EnableDeadline
	if deadline <= 0 {
		deadline = time.Hour
	}
	acc, err := p.store().Get(ctx, account)
	if err != nil || acc.Status == accounts.StatusEnabled || acc.DeadlineAlerted || acc.FirstSeenAt.IsZero() {
		return
	}
	if p.now().Sub(acc.FirstSeenAt) < deadline {
		return
	}
	// Best effort: a publish that failed leaves the flag unset, and the
	// next failed attempt (or the watchdog's pass) alerts.
	if err := p.publish(ctx, alert.EnableOverdue(account, info.Name, last(info.OUPath), acc.FirstSeenAt, p.now(),
		fault.Code(cause), cause.Error())); err == nil {
		_ = p.store().MarkDeadlineAlerted(ctx, account)
	}
}

// alert publishes a for the work in ctx: once per event through the outbox
// when ctx carries a queue record's event key, directly otherwise. A nil
// error means the alert was published (now or by an earlier delivery).
func (p *Processor) alert(ctx context.Context, a alert.Alert) error {
	key := eventKey(ctx)
	if key == "" || p.Outbox == nil || p.DryRun {
		return p.publish(ctx, a)
	}
	a.At = p.now()
	sent, err := p.Outbox.Send(ctx, incident.AlertID(a.Kind, a.Account, key), a)
	if err != nil {
		p.log().ErrorContext(ctx, "alert not published; the record is retried", "kind", a.Kind, "account", a.Account, "error", err.Error())
		return err
	}
	if sent {
		p.count("AlertsPublished", 1, "Kind", a.Kind)
	}
	return nil
}

// resendOwed publishes an alert an earlier delivery of the same event
// stored but could not publish (its retry may not produce it again: the
// repair already wrote).
func (p *Processor) resendOwed(ctx context.Context, kind, account string) error {
	key := eventKey(ctx)
	if key == "" || p.Outbox == nil {
		return nil
	}
	sent, err := p.Outbox.Resend(ctx, incident.AlertID(kind, account, key))
	if sent {
		p.count("AlertsPublished", 1, "Kind", kind)
	}
	return err
}

// publish sends a at once (no outbox).
func (p *Processor) publish(ctx context.Context, a alert.Alert) error {
	if p.Alerts == nil || p.DryRun {
		return nil
	}
	a.At = p.now()
	if err := p.Alerts.Publish(ctx, a); err != nil {
		p.log().ErrorContext(ctx, "alert not published", "kind", a.Kind, "account", a.Account, "error", err.Error())
		return err
	}
	p.count("AlertsPublished", 1, "Kind", a.Kind)
	return nil
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

type eventKeyKey struct{}

// withEventKey carries the id of the event a queue record is about (its
// CloudTrail or EventBridge event id, else the SQS message id, which every
// redelivery keeps) to the code that alerts: alerts are recorded per event.
func withEventKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, eventKeyKey{}, key)
}

// eventKeyOf is the event key of a decided record: the CloudTrail event id,
// else the EventBridge event id, else the SQS message id.
func eventKeyOf(d orgevent.Decision, rec events.SQSMessage) string {
	for _, k := range []string{d.CloudTrailEventID, d.EventID, rec.MessageId} {
		if k != "" {
			return k
		}
	}
	return ""
}

// eventKey is "" outside a queue (CLI, backfill).
func eventKey(ctx context.Context) string {
	k, _ := ctx.Value(eventKeyKey{}).(string)
	return k
}

// coveredByOrganizationTrail records a member in organization-trail mode:
// the management account's organization trail logs it, and members cannot
// change that trail, so there is nothing to converge in the member. The
// organization trail itself converges when the management account does
// (backfill, reconcile, `trailwarden enable --account <management>`).
func (p *Processor) coveredByOrganizationTrail(ctx context.Context, out *Outcome) (*Outcome, error) {
	org := p.Policy.Organization
	arn := fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", awsenv.Partition(org.HomeRegion), org.HomeRegion, org.ManagementAccount, p.Policy.Trail.Name)
	if err := p.store().Converged(ctx, out.Account, accounts.Converge{
		TrailARN: arn, PolicyHash: p.Policy.Trail.Hash(), HomeRegion: org.HomeRegion, Name: out.Name, OUPath: out.OUPath,
		ReportJSON: `{"coveredBy":"organization trail","trailArn":"` + arn + `"}`,
	}); err != nil {
		return out, err
	}
	out.Status, out.CoveredBy = accounts.StatusEnabled, arn
	p.count("AccountsCoveredByOrganizationTrail", 1)
	p.log().InfoContext(ctx, "account covered by the organization trail", "account", out.Account, "trail", arn)
	return out, nil
}
