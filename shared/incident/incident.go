// Package incident keeps incident state in the DynamoDB incidents table
// (partition key IncidentId). Cause incidents (cause.go: one per account
// and cause) are what alerts: one opening with their Regions, an update per
// material change, one resolution — even when watchdog runs and the
// enabler's tamper path write at once. The watchdog's per-Region items
// below are its detection state: each attaches its Region to its cause
// incident once and detaches it once.
//
// Item layout (times are epoch seconds; absent when not set):
//
//	IncidentId         S  "stale#<account>#<region>" | "never#<account>" | "mass#organization"
//	Group              S  the cause incident it attaches to (CauseID)
//	Kind               S  stale | never-started | mass
//	Account, Region    S
//	State              S  watch | open | resolved
//	Since              N  last delivery before the silence (EnabledAt for never-started)
//	OpenedAt           N  when the incident was opened (or the watch recorded)
//	DiagnosedAt        N  last diagnosis
//	Reason, Summary,
//	Detail, Action     S  the diagnosis (reason code, one human line, details, suggestion)
//	Severity           S  critical | high
//	RepairRequestedAt  N  a converge request was sent to the request queue
//	AlertClaimAt       N  lease taken by the run attaching (publishing, for mass)
//	AlertedAt          N  attached to its cause incident (the mass alert published)
//	ResolvedAt         N  deliveries resumed
//	RecoveryClaimAt    N  lease taken by the run detaching
//	RecoveredAlertedAt N  detached from its cause incident (the mass recovery published)
//	ExpiresAt          N  TTL for watch and resolved items
//
// The alert outbox (Outbox, outbox.go) writes "alert#…" items for the
// enabler and "finding#…" items for the verifier to the same table; Active
// reads only the watchdog's prefixes.
//
// Exactly-once steps: Open is a conditional put (no item, or an item that
// is not open), so only one run opens an incident; the run that opened it —
// or a later run, when publishing failed — takes a lease (ClaimAlert) before
// publishing and records AlertedAt after. A crash between publish and
// MarkAlerted re-sends after the lease expires: at least once, never twice
// concurrently.
package incident

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// KeyAttribute is the table's partition key.
const KeyAttribute = "IncidentId"

// Kinds of incident.
const (
	KindStale        = "stale"         // an account × Region stopped delivering
	KindNeverStarted = "never-started" // an enabled account never delivered anything
	KindMass         = "mass"          // many pairs at once: the pipeline, not the trails
)

// Id prefixes (the verifier's items use "finding#").
const (
	PrefixStale = "stale#"
	PrefixNever = "never#"
	PrefixMass  = "mass#"
)

// MassID is the one organization-wide incident.
const MassID = PrefixMass + "organization"

// State of an incident item.
type State string

const (
	// StateWatch: a pair looked silent, the diagnosis found the trail
	// healthy (a lull); no alert. Kept to avoid diagnosing it again.
	StateWatch State = "watch"
	// StateOpen: alerted (or being alerted).
	StateOpen State = "open"
	// StateResolved: deliveries resumed.
	StateResolved State = "resolved"
)

// StaleID is the incident id of an account × Region.
func StaleID(account, region string) string { return PrefixStale + account + "#" + region }

// NeverID is the never-started incident id of an account.
func NeverID(account string) string { return PrefixNever + account }

// Incident is one item of the incidents table.
type Incident struct {
	ID       string
	Kind     string
	Account  string
	Region   string
	State    State
	Since    time.Time
	OpenedAt time.Time

	DiagnosedAt time.Time
	Reason      string // reason code (watchdog.Reason…)
	Summary     string // one human line, e.g. "logging stopped at …"
	Detail      string
	Action      string
	Severity    string

	RepairRequestedAt  time.Time
	AlertClaimAt       time.Time
	AlertedAt          time.Time
	ResolvedAt         time.Time
	RecoveryClaimAt    time.Time
	RecoveredAlertedAt time.Time
	ExpiresAt          time.Time

	// Group is a pair's cause incident (CauseID): the one that alerts.
	Group string
	// Cause incidents (cause.go).
	Cause, AccountName, OU, TrailARN string
	Regions, OpenRegions, EventNames []string
	Version, AlertedVersion          int
	LastChangeAt                     time.Time
	RepairAttemptAt                  time.Time // the enabler is repairing a tampered trail
	RepairConfirmedAt                time.Time
	RepairFailedAt                   time.Time
	RepairDetail                     string
	LastChange                       string // the last material change, in words
	// The CloudTrail call behind a tamper incident.
	EventName, EventID, Actor, InvokedBy, SourceIP string
	EventTime                                      time.Time
}

// Open reports whether the incident is open.
func (i Incident) Open() bool { return i.State == StateOpen }

// PerRegion reports whether i is one of the watchdog's per account × Region
// items, which views listing incidents (status, the HTML report) show. A
// cause incident groups those items (docs/alerts.md): listing both would
// count one cause twice.
func (i Incident) PerRegion() bool { return i.Kind != KindCause }

// RecoveryPending reports whether a resolved incident still owes its
// recovery message (only alerted incidents announce a recovery).
func (i Incident) RecoveryPending() bool {
	return i.State == StateResolved && !i.AlertedAt.IsZero() && i.RecoveredAlertedAt.IsZero()
}

// AlertPending reports whether an open incident has not been alerted yet.
func (i Incident) AlertPending() bool { return i.State == StateOpen && i.AlertedAt.IsZero() }

// API is the part of DynamoDB the store calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Store reads and writes incidents.
type Store struct {
	DB    API
	Table string
	// Retention is how long watch and resolved items stay (ExpiresAt, for
	// the table's TTL); default 14 days.
	Retention time.Duration
}

func (s *Store) retention() time.Duration {
	if s.Retention > 0 {
		return s.Retention
	}
	return 14 * 24 * time.Hour
}

func key(id string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: id}}
}

func num(t time.Time) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

func str(s string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: s} }

// isConditionFailed reports a failed condition expression.
func isConditionFailed(err error) bool {
	var ccf *ddbtypes.ConditionalCheckFailedException
	return errors.As(err, &ccf)
}

func (i *Incident) strs() map[string]*string {
	return map[string]*string{KeyAttribute: &i.ID, "Kind": &i.Kind, "Account": &i.Account, "Region": &i.Region,
		"Reason": &i.Reason, "Summary": &i.Summary, "Detail": &i.Detail, "Action": &i.Action, "Severity": &i.Severity,
		"Group": &i.Group, "Cause": &i.Cause, "AccountName": &i.AccountName, "OU": &i.OU, "TrailARN": &i.TrailARN,
		"RepairDetail": &i.RepairDetail, "LastChange": &i.LastChange, "EventName": &i.EventName, "EventID": &i.EventID, "Actor": &i.Actor,
		"InvokedBy": &i.InvokedBy, "SourceIP": &i.SourceIP}
}

func (i *Incident) times() map[string]*time.Time {
	return map[string]*time.Time{"Since": &i.Since, "OpenedAt": &i.OpenedAt, "DiagnosedAt": &i.DiagnosedAt,
		"RepairRequestedAt": &i.RepairRequestedAt, "AlertClaimAt": &i.AlertClaimAt, "AlertedAt": &i.AlertedAt,
		"ResolvedAt": &i.ResolvedAt, "RecoveryClaimAt": &i.RecoveryClaimAt, "RecoveredAlertedAt": &i.RecoveredAlertedAt,
		"ExpiresAt": &i.ExpiresAt, "LastChangeAt": &i.LastChangeAt, "RepairAttemptAt": &i.RepairAttemptAt,
		"RepairConfirmedAt": &i.RepairConfirmedAt, "RepairFailedAt": &i.RepairFailedAt, "EventTime": &i.EventTime}
}

func (i *Incident) sets() map[string]*[]string {
	return map[string]*[]string{"Regions": &i.Regions, "OpenRegions": &i.OpenRegions, "EventNames": &i.EventNames}
}

func (i *Incident) ints() map[string]*int {
	return map[string]*int{"Version": &i.Version, "AlertedVersion": &i.AlertedVersion}
}

// Encode renders an incident as DynamoDB attributes.
func Encode(i Incident) map[string]ddbtypes.AttributeValue {
	av := key(i.ID)
	for name, v := range i.strs() {
		if *v != "" && name != KeyAttribute {
			av[name] = str(*v)
		}
	}
	if i.State != "" {
		av["State"] = str(string(i.State))
	}
	for name, t := range i.times() {
		if !t.IsZero() {
			av[name] = num(*t)
		}
	}
	for name, ss := range i.sets() {
		if len(*ss) > 0 { // DynamoDB has no empty set
			av[name] = &ddbtypes.AttributeValueMemberSS{Value: *ss}
		}
	}
	for name, n := range i.ints() {
		if *n != 0 {
			av[name] = &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(*n)}
		}
	}
	return av
}

// Decode reads an incident from DynamoDB attributes; unknown attributes
// are ignored.
func Decode(av map[string]ddbtypes.AttributeValue) (Incident, error) {
	var i Incident
	strs, times, sets, ints := i.strs(), i.times(), i.sets(), i.ints()
	var state string
	strs["State"] = &state
	for name, v := range av {
		var err error
		if p, ok := strs[name]; ok {
			err = decodeString(v, p)
		} else if p, ok := times[name]; ok {
			err = decodeTime(v, p)
		} else if p, ok := sets[name]; ok {
			ss, ok := v.(*ddbtypes.AttributeValueMemberSS)
			if !ok {
				return Incident{}, fmt.Errorf("incident: %s is not a string set", name)
			}
			*p = append([]string(nil), ss.Value...)
			sort.Strings(*p)
		} else if p, ok := ints[name]; ok {
			var t time.Time
			err = decodeTime(v, &t)
			*p = int(t.Unix())
		}
		if err != nil {
			return Incident{}, fmt.Errorf("incident: %s: %w", name, err)
		}
	}
	i.State = State(state)
	if i.ID == "" {
		return Incident{}, fmt.Errorf("incident: item without %s", KeyAttribute)
	}
	return i, nil
}

func decodeString(v ddbtypes.AttributeValue, p *string) error {
	s, ok := v.(*ddbtypes.AttributeValueMemberS)
	if !ok {
		return errors.New("not a string")
	}
	*p = s.Value
	return nil
}

func decodeTime(v ddbtypes.AttributeValue, p *time.Time) error {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return errors.New("not a number")
	}
	f, err := strconv.ParseFloat(n.Value, 64)
	if err != nil {
		return err
	}
	*p = time.Unix(int64(f), 0).UTC()
	return nil
}

// Open records inc as open, stamped at now. It reports whether this call
// opened it: false (and no error) when the incident is already open, so the
// caller sends no second alert. A watch or resolved item is replaced.
func (s *Store) Open(ctx context.Context, inc Incident, now time.Time) (bool, error) {
	inc.State = StateOpen
	inc.OpenedAt = now.UTC()
	if inc.DiagnosedAt.IsZero() {
		inc.DiagnosedAt = inc.OpenedAt
	}
	inc.AlertClaimAt, inc.AlertedAt, inc.ResolvedAt, inc.RecoveryClaimAt, inc.RecoveredAlertedAt, inc.ExpiresAt =
		time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: Encode(inc),
		ConditionExpression:       aws.String("attribute_not_exists(IncidentId) OR #st <> :open"),
		ExpressionAttributeNames:  map[string]string{"#st": "State"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":open": str(string(StateOpen))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open incident %s: %w", inc.ID, err)
	}
	return true, nil
}

// Watch records a pair whose silence was diagnosed as a lull (trail
// healthy, nothing to deliver), so later runs do not diagnose it again until
// its last delivery changes. An open incident is left alone.
func (s *Store) Watch(ctx context.Context, inc Incident, now time.Time) error {
	inc.State = StateWatch
	inc.OpenedAt = now.UTC()
	inc.DiagnosedAt = now.UTC()
	inc.ExpiresAt = now.Add(s.retention()).UTC()
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: Encode(inc),
		ConditionExpression:       aws.String("attribute_not_exists(IncidentId) OR #st <> :open"),
		ExpressionAttributeNames:  map[string]string{"#st": "State"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":open": str(string(StateOpen))},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("watch %s: %w", inc.ID, err)
	}
	return nil
}

// claim takes a publishing lease on one incident: it succeeds only when the
// item is in state, the done attribute is absent, and no other lease newer
// than lease is held. It reports whether the lease was taken.
func (s *Store) claim(ctx context.Context, id string, state State, claimAttr, doneAttr string, extra string, now time.Time, lease time.Duration) (bool, error) {
	cond := "#st = :state AND attribute_not_exists(#done) AND (attribute_not_exists(#claim) OR #claim < :expired)"
	if extra != "" {
		cond += " AND " + extra
	}
	_, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: key(id),
		UpdateExpression:         aws.String("SET #claim = :now"),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: map[string]string{"#st": "State", "#claim": claimAttr, "#done": doneAttr},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":state": str(string(state)), ":now": num(now), ":expired": num(now.Add(-lease)),
		},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim %s of %s: %w", claimAttr, id, err)
	}
	return true, nil
}

func (s *Store) set(ctx context.Context, id string, expr string, names map[string]string, values map[string]ddbtypes.AttributeValue, cond string) error {
	in := &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: key(id), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
	}
	_, err := s.DB.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update incident %s: %w", id, err)
	}
	return nil
}

// ClaimAlert takes the lease to publish an open incident's alert; false
// means another run holds it or the alert was already sent.
func (s *Store) ClaimAlert(ctx context.Context, id string, now time.Time, lease time.Duration) (bool, error) {
	return s.claim(ctx, id, StateOpen, "AlertClaimAt", "AlertedAt", "", now, lease)
}

// MarkAlerted records that the alert was published.
func (s *Store) MarkAlerted(ctx context.Context, id string, now time.Time) error {
	return s.set(ctx, id, "SET AlertedAt = :now", nil, map[string]ddbtypes.AttributeValue{":now": num(now)}, "attribute_exists(IncidentId)")
}

// ReleaseAlert drops the alert lease after a failed publish, so the next
// run retries at once.
func (s *Store) ReleaseAlert(ctx context.Context, id string) error {
	return s.set(ctx, id, "REMOVE AlertClaimAt", nil, nil, "attribute_exists(IncidentId)")
}

// MarkRepairRequested records that a converge request was sent.
func (s *Store) MarkRepairRequested(ctx context.Context, id string, now time.Time) error {
	return s.set(ctx, id, "SET RepairRequestedAt = :now", nil, map[string]ddbtypes.AttributeValue{":now": num(now)}, "attribute_exists(IncidentId)")
}

// Rediagnosed stores a newer diagnosis of an open incident.
func (s *Store) Rediagnosed(ctx context.Context, id string, now time.Time, reason, summary, detail, action string) error {
	return s.set(ctx, id, "SET DiagnosedAt = :now, Reason = :r, Summary = :s, Detail = :d, #action = :a",
		map[string]string{"#st": "State", "#action": "Action"},
		map[string]ddbtypes.AttributeValue{":now": num(now), ":r": str(reason), ":s": str(summary), ":d": str(detail),
			":a": str(action), ":open": str(string(StateOpen))},
		"#st = :open")
}

// Resolve marks an open incident resolved at now. It reports whether this
// call resolved it (false: not open, e.g. another run resolved it) and
// returns the item as it now is.
func (s *Store) Resolve(ctx context.Context, id string, now time.Time) (Incident, bool, error) {
	out, err := s.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.Table), Key: key(id),
		UpdateExpression:         aws.String("SET #st = :resolved, ResolvedAt = :now, ExpiresAt = :exp"),
		ConditionExpression:      aws.String("#st = :open"),
		ExpressionAttributeNames: map[string]string{"#st": "State"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":resolved": str(string(StateResolved)), ":open": str(string(StateOpen)),
			":now": num(now), ":exp": num(now.Add(s.retention())),
		},
		ReturnValues: ddbtypes.ReturnValueAllNew,
	})
	if isConditionFailed(err) {
		return Incident{}, false, nil
	}
	if err != nil {
		return Incident{}, false, fmt.Errorf("resolve incident %s: %w", id, err)
	}
	inc, err := Decode(out.Attributes)
	if err != nil {
		return Incident{}, false, err
	}
	return inc, true, nil
}

// ClaimRecovery takes the lease to publish a resolved incident's recovery
// message (only for incidents whose alert was sent).
func (s *Store) ClaimRecovery(ctx context.Context, id string, now time.Time, lease time.Duration) (bool, error) {
	return s.claim(ctx, id, StateResolved, "RecoveryClaimAt", "RecoveredAlertedAt", "attribute_exists(AlertedAt)", now, lease)
}

// MarkRecoveryAlerted records that the recovery message was published.
func (s *Store) MarkRecoveryAlerted(ctx context.Context, id string, now time.Time) error {
	return s.set(ctx, id, "SET RecoveredAlertedAt = :now", nil, map[string]ddbtypes.AttributeValue{":now": num(now)}, "attribute_exists(IncidentId)")
}

// ReleaseRecovery drops the recovery lease after a failed publish.
func (s *Store) ReleaseRecovery(ctx context.Context, id string) error {
	return s.set(ctx, id, "REMOVE RecoveryClaimAt", nil, nil, "attribute_exists(IncidentId)")
}

// Get returns one incident (strongly consistent); ok is false when absent.
func (s *Store) Get(ctx context.Context, id string) (Incident, bool, error) {
	out, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table), Key: key(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return Incident{}, false, fmt.Errorf("get incident %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return Incident{}, false, nil
	}
	inc, err := Decode(out.Item)
	return inc, err == nil, err
}

// Active returns the watchdog's live items (per-Region items and cause
// incidents): open and watch items, and
// resolved items whose recovery message is still owed. It scans segments
// segments in parallel; the verifier's items are filtered out.
func (s *Store) Active(ctx context.Context, segments int) ([]Incident, error) {
	in := dynamodb.ScanInput{
		TableName: aws.String(s.Table),
		FilterExpression: aws.String("(begins_with(IncidentId, :ps) OR begins_with(IncidentId, :pn) OR begins_with(IncidentId, :pm) OR begins_with(IncidentId, :pc)) AND " +
			"(#st <> :resolved OR (attribute_exists(AlertedAt) AND attribute_not_exists(RecoveredAlertedAt)))"),
		ExpressionAttributeNames: map[string]string{"#st": "State"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":ps": str(PrefixStale), ":pn": str(PrefixNever), ":pm": str(PrefixMass), ":pc": str(PrefixCause),
			":resolved": str(string(StateResolved)),
		},
	}
	return ScanDecoded(ctx, s.DB, in, segments)
}

// ScanDecoded scans the incidents table with in (segments segments in
// parallel), decodes every item and returns them sorted by id: the one read
// of incident items for the watchdog and the operator's status.
func ScanDecoded(ctx context.Context, db tablescan.API, in dynamodb.ScanInput, segments int) ([]Incident, error) {
	var mu sync.Mutex
	var all []Incident
	_, err := tablescan.Parallel(ctx, db, in, segments, func(items []map[string]ddbtypes.AttributeValue) error {
		for _, av := range items {
			inc, err := Decode(av)
			if err != nil {
				return err
			}
			mu.Lock()
			all = append(all, inc)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}

// ParseID splits an incident id into kind, account and Region; ok is false
// for ids this package does not own.
func ParseID(id string) (kind, account, region string, ok bool) {
	switch {
	case strings.HasPrefix(id, PrefixStale):
		parts := strings.SplitN(id[len(PrefixStale):], "#", 2)
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return "", "", "", false
		}
		return KindStale, parts[0], parts[1], true
	case strings.HasPrefix(id, PrefixNever):
		if len(id) == len(PrefixNever) {
			return "", "", "", false
		}
		return KindNeverStarted, id[len(PrefixNever):], "", true
	case id == MassID:
		return KindMass, "", "", true
	case strings.HasPrefix(id, PrefixCause):
		acct, k, ok := strings.Cut(id[len(PrefixCause):], "#")
		if !ok || acct == "" || k == "" {
			return "", "", "", false
		}
		return KindCause, acct, "", true
	}
	return "", "", "", false
}
