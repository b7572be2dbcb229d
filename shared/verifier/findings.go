package verifier

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/alert"
)

// FindingPrefix starts the incidents-table id of a finding:
// "finding#<account>#<code>".
const FindingPrefix = "finding#"

// FindingID is a finding's dedup id in the incidents table.
func FindingID(account string, code Code) string {
	if account == "" {
		account = "unknown"
	}
	return FindingPrefix + account + "#" + string(code)
}

// Finding is one security finding.
type Finding struct {
	Account, Region string
	Code            Code
	Reason          string
	Bucket, Key     string
	MessageID       string
}

// IncidentsAPI is the part of DynamoDB the finding reporter calls.
type IncidentsAPI interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ IncidentsAPI = (*dynamodb.Client)(nil)

// AlertPublisher publishes an alert (alert.Publisher satisfies it).
type AlertPublisher interface {
	Publish(ctx context.Context, a alert.Alert) error
}

var _ AlertPublisher = (*alert.Publisher)(nil)

// Findings publishes findings, one alert per account and reason code per
// TTL: a conditional put of the finding's id in the incidents table
// (IncidentId, OpenedAt, ExpiresAt = OpenedAt + TTL, the table's TTL
// attribute) decides who alerts; an in-memory copy of the ids this instance
// opened saves the put for repeats. Safe for concurrent use.
type Findings struct {
	DB     IncidentsAPI
	Table  string
	Alerts AlertPublisher
	// TTL is the dedup period (24 hours when 0).
	TTL time.Duration
	Now func() time.Time

	mu     sync.Mutex
	opened map[string]time.Time // id → expiry
}

func (f *Findings) ttl() time.Duration {
	if f.TTL <= 0 {
		return 24 * time.Hour
	}
	return f.TTL
}

// Report publishes fd unless the same account and code alerted within the
// TTL. It returns whether an alert was published. An error is retryable:
// the claim is released so a retry alerts.
func (f *Findings) Report(ctx context.Context, fd Finding) (bool, error) {
	now := time.Now()
	if f.Now != nil {
		now = f.Now()
	}
	id := FindingID(fd.Account, fd.Code)
	f.mu.Lock()
	if exp, ok := f.opened[id]; ok && now.Before(exp) {
		f.mu.Unlock()
		return false, nil
	}
	f.mu.Unlock()
	expires := now.Add(f.ttl())
	n := func(t time.Time) ddbtypes.AttributeValue {
		return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
	}
	s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
	item := map[string]ddbtypes.AttributeValue{
		"IncidentId": s(id), "Kind": s(alert.KindSecurityFinding), "Account": s(orUnknown(fd.Account)),
		"Reason": s(string(fd.Code)), "Detail": s(fd.Reason), "OpenedAt": n(now), "ExpiresAt": n(expires),
	}
	if fd.Region != "" {
		item["Region"] = s(fd.Region)
	}
	_, err := f.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(f.Table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(IncidentId) OR ExpiresAt < :now"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":now": n(now)},
	})
	if err != nil {
		var ccf *ddbtypes.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			f.remember(id, expires) // another run alerted; stay quiet here too
			return false, nil
		}
		return false, fmt.Errorf("open finding %s: %w", id, err)
	}
	a := alert.Alert{
		Kind: alert.KindSecurityFinding, Severity: "high", IncidentID: id, Account: fd.Account, Region: fd.Region,
		Reason: fmt.Sprintf("%s: %s", fd.Code, fd.Reason), Detail: fmt.Sprintf("s3://%s/%s", fd.Bucket, fd.Key),
		Action: "Find the writer of this object (bucket access logs, the account's trails); it did not come from a trail trailwarden configured.",
		At:     now.UTC(),
	}
	if err := f.Alerts.Publish(ctx, a); err != nil {
		// Release the claim so that the retry alerts.
		_, derr := f.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(f.Table),
			Key: map[string]ddbtypes.AttributeValue{"IncidentId": s(id)}})
		return false, errors.Join(fmt.Errorf("alert for finding %s: %w", id, err), derr)
	}
	f.remember(id, expires)
	return true, nil
}

func (f *Findings) remember(id string, exp time.Time) {
	f.mu.Lock()
	if f.opened == nil {
		f.opened = map[string]time.Time{}
	}
	if len(f.opened) > 10000 { // bounded: forget everything, the table still dedups
		clear(f.opened)
	}
	f.opened[id] = exp
	f.mu.Unlock()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
