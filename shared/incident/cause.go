package incident

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// Cause incidents: one per account and cause, the unit that alerts. The
// watchdog's per-Region items (stale#…, never#…) are its detection state;
// each attaches its Region to the cause incident of its diagnosis, and the
// enabler attaches a tamper event. One alert opens the incident with its
// Regions, an update follows a material change (Version grows: a Region
// added, a repair failed, a tamper call learnt), one resolution closes it.
//
// Item (besides the Incident fields of incident.go):
//
//	IncidentId        S   "cause#<account>#<key>" (CauseKey)
//	Kind              S   cause
//	Cause             S   stopped | deleted | changed | tampered | delivery-error | …
//	Regions           SS  every Region the incident has covered
//	OpenRegions       SS  Regions not delivering yet (absent when none)
//	Version           N   material changes so far (1 when opened)
//	AlertedVersion    N   the last version published
//	LastChangeAt      N   the last change of any kind (quiet time runs from it)
//	LastChange        S   the last material change, for the update's message
//	RepairAttemptAt, RepairConfirmedAt, RepairFailedAt N, RepairDetail S
//	EventName, EventID, Actor, InvokedBy, SourceIP S, EventTime N, EventNames SS
//
// Every write is conditional on the item's state, so the enabler's tamper
// path and overlapping watchdog runs can write the same incident at once.

// KindCause is the Kind of a cause incident.
const KindCause = "cause"

// PrefixCause starts a cause incident's id.
const PrefixCause = "cause#"

// Causes.
const (
	CauseStopped           = "stopped"
	CauseDeleted           = "deleted"
	CauseChanged           = "changed"
	CauseTampered          = "tampered"
	CauseDeliveryError     = "delivery-error"
	CauseNeverStarted      = "never-started"
	CauseDeliveriesMissing = "deliveries-missing"
	CauseRoleNotAssumable  = "role-not-assumable"
	CauseUndiagnosed       = "undiagnosed"
)

// keyTrail groups the causes that are one thing done to the trail: a
// StopLogging (tampered, as the enabler sees the call) and the silence
// that follows (stopped, as the watchdog diagnoses it) are one incident,
// whichever is seen first.
const keyTrail = "trail"

// CauseKey is the id part of a cause.
func CauseKey(cause string) string {
	switch cause {
	case CauseStopped, CauseDeleted, CauseChanged, CauseTampered:
		return keyTrail
	}
	return cause
}

// CauseID is the cause incident of account and cause.
func CauseID(account, cause string) string {
	return PrefixCause + orUnknown(account) + "#" + CauseKey(cause)
}

func (s *Store) update(ctx context.Context, id, expr, cond string, names map[string]string, vals map[string]ddbtypes.AttributeValue, ret ddbtypes.ReturnValue) (*dynamodb.UpdateItemOutput, bool, error) {
	if names == nil {
		names = map[string]string{}
	}
	names["#st"] = "State"
	vals[":open"] = str(string(StateOpen))
	// DynamoDB refuses names and values the expressions do not use.
	used := map[string]bool{}
	for _, t := range exprToken.FindAllString(expr+" "+cond, -1) {
		used[t] = true
	}
	for k := range names {
		if !used[k] {
			delete(names, k)
		}
	}
	for k := range vals {
		if !used[k] {
			delete(vals, k)
		}
	}
	in := &dynamodb.UpdateItemInput{TableName: aws.String(s.Table), Key: key(id),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: names, ExpressionAttributeValues: vals, ReturnValues: ret}
	if len(names) == 0 {
		in.ExpressionAttributeNames = nil
	}
	out, err := s.DB.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("update incident %s: %w", id, err)
	}
	return out, true, nil
}

// openCause puts c as a new open incident unless one is open.
func (s *Store) openCause(ctx context.Context, c Incident, now time.Time) (bool, error) {
	c.Kind, c.State, c.OpenedAt, c.LastChangeAt, c.Version = KindCause, StateOpen, now.UTC(), now.UTC(), 1
	c.AlertedVersion, c.AlertClaimAt, c.AlertedAt, c.ResolvedAt, c.RecoveryClaimAt, c.RecoveredAlertedAt, c.ExpiresAt =
		0, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if c.DiagnosedAt.IsZero() {
		c.DiagnosedAt = c.OpenedAt
	}
	// Not over an open incident, nor over a resolved one whose resolution
	// is still owed (it goes out first; the caller retries).
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.Table), Item: Encode(c),
		ConditionExpression: aws.String("attribute_not_exists(IncidentId) OR (#st <> :open AND " +
			"NOT (#st = :resolved AND attribute_exists(AlertedAt) AND attribute_not_exists(RecoveredAlertedAt)))"),
		ExpressionAttributeNames: map[string]string{"#st": "State"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":open": str(string(StateOpen)),
			":resolved": str(string(StateResolved))},
	})
	if isConditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open incident %s: %w", c.ID, err)
	}
	return true, nil
}

// AttachRegion adds region to the cause incident c (opening it when none
// is open). It reports whether the incident's picture changed materially:
// opened, or a Region it did not cover yet — except for a tamper incident,
// whose call already stopped the whole trail. A Region it covered before
// (flapping) is open again without a change.
func (s *Store) AttachRegion(ctx context.Context, c Incident, region string, now time.Time) (bool, error) {
	c.Regions, c.OpenRegions = []string{region}, []string{region}
	r := &ddbtypes.AttributeValueMemberSS{Value: []string{region}}
	for try := 0; try < 3; try++ {
		if ok, err := s.openCause(ctx, c, now); err != nil || ok {
			return ok, err
		}
		for _, step := range []struct {
			expr, cond string
			material   bool
		}{
			{"ADD Regions :r, OpenRegions :r SET LastChangeAt = :now", "Cause = :tampered", false},
			{"ADD Regions :r, OpenRegions :r, Version :one SET LastChangeAt = :now, LastChange = :chg", "Cause <> :tampered", true},
		} {
			_, ok, err := s.update(ctx, c.ID, step.expr, "#st = :open AND NOT contains(Regions, :rs) AND "+step.cond, nil,
				map[string]ddbtypes.AttributeValue{":r": r, ":rs": str(region), ":now": num(now), ":one": numInt(1),
					":tampered": str(CauseTampered), ":chg": str("Region " + region + " went silent too")}, ddbtypes.ReturnValueNone)
			if err != nil || ok {
				return ok && step.material, err
			}
		}
		_, ok, err := s.update(ctx, c.ID, "ADD OpenRegions :r SET LastChangeAt = :now", "#st = :open AND contains(Regions, :rs)", nil,
			map[string]ddbtypes.AttributeValue{":r": r, ":rs": str(region), ":now": num(now)}, ddbtypes.ReturnValueNone)
		if err != nil || ok {
			return false, err
		}
		// Resolved between the steps: open a new incident.
	}
	return false, fmt.Errorf("attach %s to incident %s: the incident kept changing", region, c.ID)
}

// DetachRegion records that region of the cause incident id delivers
// again.
func (s *Store) DetachRegion(ctx context.Context, id, region string, now time.Time) error {
	_, _, err := s.update(ctx, id, "DELETE OpenRegions :r SET LastChangeAt = :now", "#st = :open", nil,
		map[string]ddbtypes.AttributeValue{":r": &ddbtypes.AttributeValueMemberSS{Value: []string{region}}, ":now": num(now)},
		ddbtypes.ReturnValueNone)
	return err
}

// AttachTamper records a tamper call (c: Cause tampered, the Event fields
// and EventNames with its name) on the account's trail incident, opening
// it when none is open. It reports a material change: opened, the cause
// learnt (the silence was already open as stopped), or a call of another
// name. The same call again only keeps the incident from closing.
func (s *Store) AttachTamper(ctx context.Context, c Incident, now time.Time) (bool, error) {
	c.Cause = CauseTampered
	for try := 0; try < 3; try++ {
		if ok, err := s.openCause(ctx, c, now); err != nil || ok {
			return ok, err
		}
		vals := map[string]ddbtypes.AttributeValue{":tampered": str(CauseTampered), ":now": num(now), ":one": numInt(1),
			":en": &ddbtypes.AttributeValueMemberSS{Value: []string{c.EventName}}, ":ens": str(c.EventName),
			":reason": str(c.Reason), ":summary": str(c.Summary), ":action": str(c.Action), ":sev": str(c.Severity)}
		vals[":chg"] = str("the call behind it: " + c.Summary)
		expr := "SET Cause = :tampered, LastChangeAt = :now, LastChange = :chg, Reason = :reason, Summary = :summary, #action = :action, Severity = :sev"
		for name, v := range map[string]string{"EventName": c.EventName, "EventID": c.EventID, "Actor": c.Actor,
			"InvokedBy": c.InvokedBy, "SourceIP": c.SourceIP, "Detail": c.Detail, "TrailARN": c.TrailARN} {
			if v != "" {
				expr += ", " + name + " = :" + name
				vals[":"+name] = str(v)
			}
		}
		if !c.EventTime.IsZero() {
			expr += ", EventTime = :et"
			vals[":et"] = num(c.EventTime)
		}
		if !c.RepairAttemptAt.IsZero() {
			expr += ", RepairAttemptAt = :ra"
			vals[":ra"] = num(c.RepairAttemptAt)
		}
		_, ok, err := s.update(ctx, c.ID, expr+" ADD EventNames :en, Version :one",
			"#st = :open AND (Cause <> :tampered OR NOT contains(EventNames, :ens))", map[string]string{"#action": "Action"}, vals,
			ddbtypes.ReturnValueNone)
		if err != nil || ok {
			return ok, err
		}
		_, ok, err = s.update(ctx, c.ID, "SET LastChangeAt = :now", "#st = :open", nil,
			map[string]ddbtypes.AttributeValue{":now": num(now)}, ddbtypes.ReturnValueNone)
		if err != nil || ok {
			return false, err
		}
	}
	return false, fmt.Errorf("tamper call on incident %s: the incident kept changing", c.ID)
}

// MarkRepair records the outcome of the enabler's repair of a tampered
// trail. A failure is a material change once (until a repair succeeds);
// it reports whether this call made it.
func (s *Store) MarkRepair(ctx context.Context, id string, ok bool, detail string, now time.Time) (bool, error) {
	vals := map[string]ddbtypes.AttributeValue{":now": num(now), ":d": str(orUnknown(detail))}
	if ok {
		_, _, err := s.update(ctx, id, "SET RepairConfirmedAt = :now, LastChangeAt = :now, RepairDetail = :d REMOVE RepairFailedAt",
			"#st = :open", nil, vals, ddbtypes.ReturnValueNone)
		return false, err
	}
	vals[":one"] = numInt(1)
	vals[":chg"] = str("the repair failed: " + orUnknown(detail))
	_, changed, err := s.update(ctx, id, "SET RepairFailedAt = :now, LastChangeAt = :now, LastChange = :chg, RepairDetail = :d ADD Version :one",
		"#st = :open AND attribute_not_exists(RepairFailedAt)", nil, vals, ddbtypes.ReturnValueNone)
	return changed, err
}

// ResolveCause closes the cause incident id when no Region of it is open
// and nothing changed after quietSince (the caller's quiet time). It
// reports whether this call closed it and returns the item.
func (s *Store) ResolveCause(ctx context.Context, id string, now, quietSince time.Time) (Incident, bool, error) {
	out, ok, err := s.update(ctx, id, "SET #st = :resolved, ResolvedAt = :now, ExpiresAt = :exp",
		"#st = :open AND (attribute_not_exists(OpenRegions) OR size(OpenRegions) = :zero) AND LastChangeAt <= :quiet", nil,
		map[string]ddbtypes.AttributeValue{":resolved": str(string(StateResolved)), ":now": num(now),
			":exp": num(now.Add(s.retention())), ":zero": numInt(0), ":quiet": num(quietSince)}, ddbtypes.ReturnValueAllNew)
	if err != nil || !ok {
		return Incident{}, false, err
	}
	inc, err := Decode(out.Attributes)
	return inc, err == nil, err
}

// SendCause publishes the cause incident id's owed version, if any: claim
// (open, AlertedVersion < Version, no live lease) → build the alert from
// the item → publish → mark the version, or release. It reports whether
// this call published; a version owed while another run holds the lease is
// a retryable CodeAlertInFlight error.
func (s *Store) SendCause(ctx context.Context, pub Publisher, id string, build func(Incident) alert.Alert, now time.Time, lease time.Duration) (bool, error) {
	out, ok, err := s.update(ctx, id, "SET AlertClaimAt = :now",
		"#st = :open AND (attribute_not_exists(AlertedVersion) OR AlertedVersion < Version) AND "+
			"(attribute_not_exists(AlertClaimAt) OR AlertClaimAt < :expired)", nil,
		map[string]ddbtypes.AttributeValue{":now": num(now), ":expired": num(now.Add(-lease))}, ddbtypes.ReturnValueAllNew)
	if err != nil {
		return false, err
	}
	if !ok {
		inc, found, err := s.Get(ctx, id)
		if err != nil {
			return false, err
		}
		if found && inc.Open() && inc.AlertedVersion < inc.Version {
			return false, fault.Retryablef(CodeAlertInFlight, "alert of incident %s is being published by another run", id)
		}
		return false, nil
	}
	inc, err := Decode(out.Attributes)
	if err != nil {
		return false, err
	}
	a := build(inc)
	a.IncidentID, a.Version = inc.ID, inc.Version
	if a.At.IsZero() {
		a.At = now
	}
	if a.Transition == "" {
		a.Transition = alert.TransitionOpened
		if inc.AlertedVersion > 0 {
			a.Transition = alert.TransitionUpdated
		}
	}
	return deliver(ctx, pub, a,
		func() error {
			_, _, err := s.update(ctx, id, "SET AlertedVersion = :v, AlertedAt = if_not_exists(AlertedAt, :now) REMOVE AlertClaimAt",
				"attribute_exists(IncidentId)", nil, map[string]ddbtypes.AttributeValue{":v": numInt(inc.Version), ":now": num(now)},
				ddbtypes.ReturnValueNone)
			return err
		},
		func() error { return s.ReleaseAlert(ctx, id) })
}

var exprToken = regexp.MustCompile(`[:#][A-Za-z0-9_]+`)

func numInt(n int) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(n)}
}
