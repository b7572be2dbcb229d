package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// Alert ids of the outbox (incidents-table items next to the watchdog's).
const (
	// PrefixAlert starts the id of an alert owed for one event:
	// "alert#<kind>#<account>#<event id>".
	PrefixAlert = "alert#"
	// PrefixFinding starts the id of a verifier finding's dedup item.
	PrefixFinding = "finding#"
)

// AlertID is the outbox id of the alert of kind about account owed for one
// event (a CloudTrail event id, an EventBridge event id or an SQS message
// id): every delivery of that event maps to the same id.
func AlertID(kind, account, event string) string {
	return PrefixAlert + kind + "#" + orUnknown(account) + "#" + event
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// OutboxAPI is the part of DynamoDB the outbox calls.
type OutboxAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Publisher publishes one alert (alert.Publisher).
type Publisher interface {
	Publish(ctx context.Context, a alert.Alert) error
}

var _ Publisher = (*alert.Publisher)(nil)

// CodeAlertInFlight is the fault code of Send when another run holds the
// alert's lease: the caller's record must be retried, not acknowledged.
const CodeAlertInFlight = "AlertInFlight"

// CodeAlertNotPublished is the fault code of a failed publish.
const CodeAlertNotPublished = "AlertNotPublished"

// Outbox publishes each alert once per id: claim (a conditional update
// taking a lease on the id) → publish → mark it sent, or release the lease
// when publishing failed. Send returns an error whenever the alert was
// neither published now nor known to be published before, so the caller
// keeps the work (an SQS record is retried) until it is.
//
// An item marked sent stays until ExpiresAt (the table's TTL attribute);
// with Window > 0 an expired item may alert again (findings repeat at most
// once per window), otherwise the id alerts once while the item lives.
type Outbox struct {
	DB     OutboxAPI
	Table  string
	Alerts Publisher
	// Lease bounds how long a crashed publisher blocks a retry (default 2m).
	Lease time.Duration
	// Retention is how long a sent id is remembered (default 14 days).
	Retention time.Duration
	Now       func() time.Time
}

func (o *Outbox) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

// Send publishes a unless id was already published and has not expired.
// It reports whether this call published it. The item keeps the alert's
// kind, account, Region and reason for the operator.
func (o *Outbox) Send(ctx context.Context, id string, a alert.Alert) (bool, error) {
	return o.SendFor(ctx, id, a, o.retention())
}

func (o *Outbox) retention() time.Duration {
	if o.Retention > 0 {
		return o.Retention
	}
	return 14 * 24 * time.Hour
}

func (o *Outbox) lease() time.Duration {
	if o.Lease > 0 {
		return o.Lease
	}
	return 2 * time.Minute
}

// SendFor is Send with the id remembered for keep (a finding's dedup
// window): after keep, the same id alerts again.
func (o *Outbox) SendFor(ctx context.Context, id string, a alert.Alert, keep time.Duration) (bool, error) {
	now := o.now()
	if a.At.IsZero() {
		a.At = now
	}
	if a.IncidentID == "" {
		a.IncidentID = id
	}
	claimed, err := o.claim(ctx, id, a, now, keep)
	if err != nil {
		return false, err
	}
	if !claimed {
		sent, err := o.sent(ctx, id, now)
		if err != nil {
			return false, err
		}
		if sent {
			return false, nil
		}
		return false, fault.Retryablef(CodeAlertInFlight, "alert %s is being published by another run", id)
	}
	return deliver(ctx, o.Alerts, a,
		func() error {
			return o.update(ctx, id, "SET AlertedAt = :now", map[string]ddbtypes.AttributeValue{":now": num(now)})
		},
		func() error { return o.update(ctx, id, "REMOVE AlertClaimAt", nil) }) // the alert stays stored (Body) for Resend
}

// deliver is the one publish step of every claimed alert (the outbox's and
// the incidents'): publish, then mark it sent; when publishing failed,
// release the lease and return a retryable error, so the caller's work
// is retried and the alert is not lost. A mark that fails after a publish
// is not an error: the alert is out, and the lease's expiry allows at
// most a repeat.
func deliver(ctx context.Context, pub Publisher, a alert.Alert, mark, release func() error) (bool, error) {
	if perr := pub.Publish(ctx, a); perr != nil {
		return false, fault.New(fault.Retryable, CodeAlertNotPublished, errors.Join(fmt.Errorf("alert %s: %w", a.IncidentID, perr), release()))
	}
	_ = mark()
	return true, nil
}

// SendAlert is claim → publish → mark (or release) for an open incident's
// alert: it reports whether this call published it; false with a nil
// error when another run holds the lease or the alert was sent.
func (s *Store) SendAlert(ctx context.Context, pub Publisher, a alert.Alert, now time.Time, lease time.Duration) (bool, error) {
	ok, err := s.ClaimAlert(ctx, a.IncidentID, now, lease)
	if err != nil || !ok {
		return false, err
	}
	return deliver(ctx, pub, a, func() error { return s.MarkAlerted(ctx, a.IncidentID, now) },
		func() error { return s.ReleaseAlert(ctx, a.IncidentID) })
}

// SendRecovery is SendAlert for a resolved incident's recovery message.
func (s *Store) SendRecovery(ctx context.Context, pub Publisher, a alert.Alert, now time.Time, lease time.Duration) (bool, error) {
	ok, err := s.ClaimRecovery(ctx, a.IncidentID, now, lease)
	if err != nil || !ok {
		return false, err
	}
	return deliver(ctx, pub, a, func() error { return s.MarkRecoveryAlerted(ctx, a.IncidentID, now) },
		func() error { return s.ReleaseRecovery(ctx, a.IncidentID) })
}

// claim takes the lease: no item, an expired item, or an item neither sent
// nor leased within the lease.
func (o *Outbox) claim(ctx context.Context, id string, a alert.Alert, now time.Time, keep time.Duration) (bool, error) {
	body, err := json.Marshal(a)
	if err != nil {
		return false, fmt.Errorf("encode alert %s: %w", id, err)
	}
	vals := map[string]ddbtypes.AttributeValue{
		":body": str(string(body)),
		":now":  num(now), ":expired": num(now.Add(-o.lease())), ":exp": num(now.Add(keep)),
		":kind": str(a.Kind), ":acct": str(orUnknown(a.Account)), ":reason": str(orUnknown(a.Reason)),
	}
	expr := "SET AlertClaimAt = :now, OpenedAt = if_not_exists(OpenedAt, :now), ExpiresAt = :exp, Kind = :kind, Account = :acct, Reason = :reason, Body = :body"
	if a.Region != "" {
		expr += ", #region = :region"
		vals[":region"] = str(a.Region)
	}
	_, err = o.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(o.Table), Key: key(id),
		UpdateExpression: aws.String(expr + " REMOVE AlertedAt"),
		ConditionExpression: aws.String("attribute_not_exists(IncidentId) OR ExpiresAt < :now OR " +
			"(attribute_not_exists(AlertedAt) AND (attribute_not_exists(AlertClaimAt) OR AlertClaimAt < :expired))"),
		ExpressionAttributeNames:  regionName(a.Region),
		ExpressionAttributeValues: vals,
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fault.New(fault.Retryable, CodeAlertNotPublished, fmt.Errorf("claim alert %s: %w", id, err))
	}
	return true, nil
}

func regionName(region string) map[string]string {
	if region == "" {
		return nil
	}
	return map[string]string{"#region": "Region"}
}

// sent reports whether id was published and has not expired.
func (o *Outbox) sent(ctx context.Context, id string, now time.Time) (bool, error) {
	out, err := o.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(o.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fault.New(fault.Retryable, CodeAlertNotPublished, fmt.Errorf("read alert %s: %w", id, err))
	}
	inc, err := Decode(out.Item)
	if err != nil {
		return false, nil // deleted meanwhile: the retry claims it
	}
	return !inc.AlertedAt.IsZero() && !inc.ExpiresAt.Before(now), nil
}

func (o *Outbox) update(ctx context.Context, id, expr string, vals map[string]ddbtypes.AttributeValue) error {
	_, err := o.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(o.Table), Key: key(id),
		UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals,
		ConditionExpression: aws.String("attribute_exists(IncidentId)")})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("update alert %s: %w", id, err)
	}
	return nil
}

// Resend publishes the alert stored under id when an earlier Send claimed
// it but could not publish it (work whose retry no longer produces the
// alert, such as a repair that already wrote). It reports whether it
// published; an error means the alert is still owed.
func (o *Outbox) Resend(ctx context.Context, id string) (bool, error) {
	out, err := o.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(o.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, fault.New(fault.Retryable, CodeAlertNotPublished, fmt.Errorf("read alert %s: %w", id, err))
	}
	body, ok := out.Item["Body"].(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return false, nil
	}
	if _, done := out.Item["AlertedAt"]; done {
		return false, nil
	}
	var a alert.Alert
	if err := json.Unmarshal([]byte(body.Value), &a); err != nil {
		return false, fmt.Errorf("stored alert %s: %w", id, err)
	}
	return o.Send(ctx, id, a)
}
