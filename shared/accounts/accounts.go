// Package accounts keeps the organization's members and their trailwarden
// state in the DynamoDB accounts table: one item per account, keyed by
// AccountId. The enabler writes it; the verifier reads it as its list of
// members; the watchdog and `trailwarden status` read it.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// Status of an account in trailwarden.
type Status string

const (
	StatusPending  Status = "pending"  // known, not yet converged
	StatusEnabled  Status = "enabled"  // trail converged and logging
	StatusFailed   Status = "failed"   // last converge failed (see LastError)
	StatusExcluded Status = "excluded" // excluded by policy; never touched
	StatusSkipped  Status = "skipped"  // suspended or closed
	StatusDeparted Status = "departed" // left the organization
)

// KeyAttribute is the table's partition key.
const KeyAttribute = "AccountId"

// Account is one item of the accounts table.
type Account struct {
	AccountID       string    `dynamodbav:"AccountId" json:"accountId"`
	Name            string    `dynamodbav:"Name,omitempty" json:"name,omitempty"`
	Status          Status    `dynamodbav:"Status" json:"status"`
	OUPath          []string  `dynamodbav:"OUPath,omitempty" json:"ouPath,omitempty"`
	PolicyHash      string    `dynamodbav:"PolicyHash,omitempty" json:"policyHash,omitempty"`
	TrailARN        string    `dynamodbav:"TrailArn,omitempty" json:"trailArn,omitempty"`
	HomeRegion      string    `dynamodbav:"HomeRegion,omitempty" json:"homeRegion,omitempty"`
	JoinedVia       string    `dynamodbav:"JoinedVia,omitempty" json:"joinedVia,omitempty"` // created | invited | backfill
	FirstSeenAt     time.Time `dynamodbav:"FirstSeenAt,omitempty" json:"firstSeenAt,omitzero"`
	EnabledAt       time.Time `dynamodbav:"EnabledAt,omitempty" json:"enabledAt,omitzero"`
	LastConvergeAt  time.Time `dynamodbav:"LastConvergeAt,omitempty" json:"lastConvergeAt,omitzero"`
	LastReport      string    `dynamodbav:"LastReport,omitempty" json:"lastReport,omitempty"` // a Report as JSON (ParseReport)
	LastError       string    `dynamodbav:"LastError,omitempty" json:"lastError,omitempty"`
	LastErrorCode   string    `dynamodbav:"LastErrorCode,omitempty" json:"lastErrorCode,omitempty"`
	Attempts        int       `dynamodbav:"Attempts,omitempty" json:"attempts,omitempty"`
	DeadlineAlerted bool      `dynamodbav:"DeadlineAlerted,omitempty" json:"deadlineAlerted,omitempty"`
	LastTamper      string    `dynamodbav:"LastTamper,omitempty" json:"lastTamper,omitempty"` // a Tamper as JSON (ParseTamper)
	UpdatedAt       time.Time `dynamodbav:"UpdatedAt" json:"updatedAt"`
}

// ErrNotFound: the account has no item.
var ErrNotFound = errors.New("account not in the accounts table")

// API is the part of the DynamoDB client the store calls.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store reads and writes the accounts table.
type Store struct {
	DB    API
	Table string
	Now   func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func key(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: id}}
}

// Get returns one account, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id string) (*Account, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("get account %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("account %s: %w", id, ErrNotFound)
	}
	var a Account
	if err := attributevalue.UnmarshalMap(out.Item, &a); err != nil {
		return nil, fmt.Errorf("decode account %s: %w", id, err)
	}
	return &a, nil
}

// update applies SET assignments (name → value) to one account, creating
// the item if needed. setIfAbsent assignments keep an existing value.
func (s *Store) update(ctx context.Context, id string, set map[string]any, setIfAbsent map[string]any, extra string) error {
	names := map[string]string{}
	values := map[string]ddbtypes.AttributeValue{}
	if extra != "" {
		// The only extra clause is the attempt counter.
		values[":one"] = &ddbtypes.AttributeValueMemberN{Value: "1"}
	}
	var expr string
	i := 0
	add := func(attr string, v any, ifAbsent bool) error {
		av, err := attributevalue.Marshal(v)
		if err != nil {
			return err
		}
		n, p := fmt.Sprintf("#a%d", i), fmt.Sprintf(":v%d", i)
		i++
		names[n] = attr
		values[p] = av
		if expr != "" {
			expr += ", "
		}
		if ifAbsent {
			expr += fmt.Sprintf("%s = if_not_exists(%s, %s)", n, n, p)
		} else {
			expr += n + " = " + p
		}
		return nil
	}
	for _, k := range sortedKeys(set) {
		if err := add(k, set[k], false); err != nil {
			return err
		}
	}
	for _, k := range sortedKeys(setIfAbsent) {
		if err := add(k, setIfAbsent[k], true); err != nil {
			return err
		}
	}
	ue := "SET " + expr
	if extra != "" {
		ue += " " + extra
	}
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: key(id), UpdateExpression: aws.String(ue),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("update account %s: %w", id, err)
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Seen records that an account is known (joined, or found by a reconcile)
// without changing a status it already has.
func (s *Store) Seen(ctx context.Context, id, joinedVia, name string, ouPath []string) error {
	now := s.now()
	set := map[string]any{"UpdatedAt": now}
	if len(ouPath) > 0 {
		set["OUPath"] = ouPath
	}
	if name != "" {
		set["Name"] = name
	}
	ifAbsent := map[string]any{"FirstSeenAt": now, "Status": StatusPending}
	if joinedVia != "" {
		ifAbsent["JoinedVia"] = joinedVia
	}
	return s.update(ctx, id, set, ifAbsent, "")
}

// Converged records a successful converge. A report that does not follow
// the Report schema is refused (ErrSchema), and nothing is written.
func (s *Store) Converged(ctx context.Context, id string, r Converge) error {
	if r.ReportJSON != "" {
		if _, err := ParseReport(r.ReportJSON); err != nil {
			return fmt.Errorf("account %s: %w", id, err)
		}
	}
	now := s.now()
	set := map[string]any{
		"Status": StatusEnabled, "TrailArn": r.TrailARN, "PolicyHash": r.PolicyHash, "HomeRegion": r.HomeRegion,
		"LastConvergeAt": now, "LastReport": r.ReportJSON, "LastError": "", "LastErrorCode": "",
		"Attempts": 0, "UpdatedAt": now,
	}
	if len(r.OUPath) > 0 {
		set["OUPath"] = r.OUPath
	}
	if r.Name != "" {
		set["Name"] = r.Name
	}
	return s.update(ctx, id, set, map[string]any{"FirstSeenAt": now, "EnabledAt": now}, "")
}

// Converge is what a successful converge leaves in the table; ReportJSON
// is a Report's JSON (Report.Encode).
type Converge struct {
	TrailARN, PolicyHash, HomeRegion, ReportJSON, Name string
	OUPath                                             []string
}

// Outcome is what one converge did to an account (the enabler's answer to
// a converge request, and a line of backfill's summary).
type Outcome struct {
	Account string
	Name    string
	OUPath  []string
	Status  Status // enabled, excluded, skipped (or pending/failed with an error)
	Report  *converge.Report
	// CoveredBy is the organization trail's ARN when the management
	// account's organization trail logs the account (nothing converged).
	CoveredBy string
}

// Failed records a failed attempt; status stays pending while retries go on
// (final=false) and becomes failed when the caller gives up.
func (s *Store) Failed(ctx context.Context, id string, cause error, code string, final bool) error {
	now := s.now()
	set := map[string]any{"LastError": cause.Error(), "LastErrorCode": code, "UpdatedAt": now, "LastConvergeAt": now}
	ifAbsent := map[string]any{"FirstSeenAt": now}
	if final {
		set["Status"] = StatusFailed
	} else {
		ifAbsent["Status"] = StatusPending
	}
	return s.update(ctx, id, set, ifAbsent, "ADD Attempts :one")
}

// SetStatus sets a status with a reason (excluded, skipped, departed).
func (s *Store) SetStatus(ctx context.Context, id string, st Status, reason string) error {
	now := s.now()
	return s.update(ctx, id, map[string]any{"Status": st, "LastError": reason, "UpdatedAt": now},
		map[string]any{"FirstSeenAt": now}, "")
}

// MarkDeadlineAlerted records that the enable-deadline alert was sent.
func (s *Store) MarkDeadlineAlerted(ctx context.Context, id string) error {
	return s.update(ctx, id, map[string]any{"DeadlineAlerted": true, "UpdatedAt": s.now()}, nil, "")
}

// RecordTamper stores who changed the trail: a Tamper's JSON
// (Tamper.Encode). A value that does not follow the schema is refused.
func (s *Store) RecordTamper(ctx context.Context, id, tamperJSON string) error {
	if _, err := ParseTamper(tamperJSON); err != nil {
		return fmt.Errorf("account %s: %w", id, err)
	}
	return s.update(ctx, id, map[string]any{"LastTamper": tamperJSON, "UpdatedAt": s.now()}, nil, "")
}

// List returns every account, scanning segments segments in parallel.
func (s *Store) List(ctx context.Context, segments int) ([]Account, error) {
	var mu sync.Mutex
	var all []Account
	_, err := tablescan.Parallel(ctx, s.DB, dynamodb.ScanInput{TableName: aws.String(s.Table)}, segments,
		func(items []map[string]ddbtypes.AttributeValue) error {
			var page []Account
			if err := attributevalue.UnmarshalListOfMaps(items, &page); err != nil {
				return fmt.Errorf("decode accounts: %w", err)
			}
			mu.Lock()
			all = append(all, page...)
			mu.Unlock()
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].AccountID < all[j].AccountID })
	return all, nil
}
