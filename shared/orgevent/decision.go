package orgevent

import (
	"errors"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// Action says what trailwarden should do about an event.
type Action string

const (
	// ActionEnable: converge the trail of Decision.Account (it joined).
	ActionEnable Action = "enable"
	// ActionReevaluate: the account is already a member but its effective
	// policy may have changed (moved to another OU); converge again.
	ActionReevaluate Action = "reevaluate"
	// ActionRecord: worth remembering, nothing to converge (an account
	// creation in progress or failed, an invitation, a departure).
	ActionRecord Action = "record"
	// ActionIgnore: not for trailwarden (other services, other handshakes,
	// failed calls).
	ActionIgnore Action = "ignore"
	// ActionReject: the input is malformed; retrying cannot help.
	ActionReject Action = "reject"
	// ActionDrift: someone changed or stopped a trail in a member account.
	ActionDrift Action = "drift"
)

// JoinMethod says how an account joined the organization.
type JoinMethod string

const (
	JoinedCreated JoinMethod = "created"
	JoinedInvited JoinMethod = "invited"
)

// Actor is who made a CloudTrail call (userIdentity), for drift decisions.
type Actor struct {
	Type        string `json:"type,omitempty"`
	ARN         string `json:"arn,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	InvokedBy   string `json:"invokedBy,omitempty"`
	// RoleName and RoleARN come from sessionContext.sessionIssuer when the
	// caller is an assumed role; SessionName from the assumed-role ARN.
	RoleName    string `json:"roleName,omitempty"`
	RoleARN     string `json:"roleArn,omitempty"`
	SessionName string `json:"sessionName,omitempty"`
}

// Decision is what one event means to trailwarden. It never holds the event
// itself nor any e-mail address, so it is safe to log and print.
type Decision struct {
	Action Action `json:"action"`
	// Event is detail.eventName, or the detail-type when there is none.
	Event string `json:"event"`
	// Account is the 12-digit account the action applies to, or "".
	Account string `json:"account,omitempty"`
	Reason  string `json:"reason"`
	// JoinedVia is set on enable decisions for a join.
	JoinedVia JoinMethod `json:"joinedVia,omitempty"`
	Region    string     `json:"region,omitempty"`
	// EventID is the EventBridge event id; CloudTrailEventID is detail.eventID.
	EventID           string    `json:"eventId,omitempty"`
	CloudTrailEventID string    `json:"cloudTrailEventId,omitempty"`
	EventTime         time.Time `json:"eventTime,omitzero"`
	// EffectiveTime is when the change took effect according to the event
	// body (completedTimestamp, joinedTime, departureTime), when given.
	EffectiveTime time.Time `json:"effectiveTime,omitzero"`
	// Reference is the request or handshake id ("car-…", "h-…").
	Reference string `json:"reference,omitempty"`
	// AccountName is createAccountStatus.accountName (AWS usually masks it
	// as "****"); FailureReason is createAccountStatus.failureReason.
	AccountName   string `json:"accountName,omitempty"`
	FailureReason string `json:"failureReason,omitempty"`
	// SourceParentID and DestinationParentID are set for MoveAccount.
	SourceParentID      string `json:"sourceParentId,omitempty"`
	DestinationParentID string `json:"destinationParentId,omitempty"`

	// Drift fields.
	Actor     *Actor `json:"actor,omitempty"`
	SourceIP  string `json:"sourceIp,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	// TrailName and TrailARN name the trail the call targeted; TrailARN is
	// set only when the event states it (an ARN parameter or trailARN in
	// the response): a name alone does not say the trail's home Region.
	TrailName string `json:"trailName,omitempty"`
	TrailARN  string `json:"trailArn,omitempty"`
	// ChangedSettings lists the requestParameters keys an UpdateTrail (or
	// selector call) set, sorted, without the trail identifier.
	ChangedSettings []string `json:"changedSettings,omitempty"`
}

// LogValue gives slog a compact, e-mail-free view of the decision.
func (d Decision) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("action", string(d.Action)),
		slog.String("event", d.Event),
		slog.String("reason", d.Reason),
	}
	add := func(k, v string) {
		if v != "" {
			attrs = append(attrs, slog.String(k, v))
		}
	}
	add("account", d.Account)
	add("joined_via", string(d.JoinedVia))
	add("region", d.Region)
	add("event_id", d.EventID)
	add("cloudtrail_event_id", d.CloudTrailEventID)
	add("reference", d.Reference)
	add("trail_name", d.TrailName)
	add("trail_arn", d.TrailARN)
	if d.Actor != nil {
		add("actor_arn", d.Actor.ARN)
		add("actor_invoked_by", d.Actor.InvokedBy)
	}
	add("source_ip", d.SourceIP)
	return slog.GroupValue(attrs...)
}

// RejectError says why an input was rejected. Decide returns it wrapped in a
// fault.Error of kind Poison with code "MalformedEvent", so both
// errors.As(err, new(*RejectError)) and fault.KindOf(err) work.
type RejectError struct {
	Reason string
}

func (e *RejectError) Error() string { return "orgevent: rejected: " + e.Reason }

// CodeMalformedEvent is the fault code of rejected inputs.
const CodeMalformedEvent = "MalformedEvent"

func rejectErr(reason string) error {
	return fault.New(fault.Poison, CodeMalformedEvent, &RejectError{Reason: reason})
}

// IsReject reports whether err says the input was rejected, and why.
func IsReject(err error) (string, bool) {
	var re *RejectError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return "", false
}

// maxField bounds every string copied from an event into a Decision.
const maxField = 256

// redacted replaces any token that contains "@".
const redacted = "<redacted>"

// clean clips s, makes it valid UTF-8 without control characters, and
// replaces every token holding an "@" (an e-mail address, or an SSO session
// name that is one) with "<redacted>". Token boundaries are the separators
// found in ARNs, principal ids and free text.
func clean(s string) string { return cleanN(s, maxField) }

// maxReason bounds Decision.Reason.
const maxReason = 512

func cleanN(s string, limit int) string {
	if s == "" {
		return ""
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if strings.Contains(s, "@") {
		s = redactAt(s)
	}
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isSep(r rune) bool {
	switch r {
	case ' ', '/', ':', ',', ';', '"', '\'', '<', '>', '(', ')', '[', ']', '{', '}', '=', '|', '\\':
		return true
	}
	return false
}

func redactAt(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := s[start:end]
		if strings.Contains(tok, "@") {
			b.WriteString(redacted)
		} else {
			b.WriteString(tok)
		}
		start = -1
	}
	for i, r := range s {
		if isSep(r) {
			flush(i)
			b.WriteRune(r)
			continue
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(s))
	return b.String()
}

// sanitize applies clean to every string field; it is the last step of
// every decision, so the e-mail guarantee holds in one place.
func (d *Decision) sanitize() {
	for _, p := range []*string{
		&d.Event, &d.Account, &d.Region, &d.EventID, &d.CloudTrailEventID,
		&d.Reference, &d.AccountName, &d.FailureReason, &d.SourceParentID,
		&d.DestinationParentID, &d.SourceIP, &d.UserAgent, &d.TrailName, &d.TrailARN,
	} {
		*p = clean(*p)
	}
	d.Reason = cleanN(d.Reason, maxReason)
	d.JoinedVia = JoinMethod(clean(string(d.JoinedVia)))
	for i := range d.ChangedSettings {
		d.ChangedSettings[i] = clean(d.ChangedSettings[i])
	}
	if a := d.Actor; a != nil {
		for _, p := range []*string{
			&a.Type, &a.ARN, &a.PrincipalID, &a.AccountID, &a.InvokedBy,
			&a.RoleName, &a.RoleARN, &a.SessionName,
		} {
			*p = clean(*p)
		}
	}
}

// Rejected is the reject decision (and its poison error) of an input that
// is refused before Decide reads it, such as a record from another event
// source; the reason is cleaned as every decision is.
func Rejected(reason string) (Decision, error) {
	d := Decision{Action: ActionReject, Reason: reason}
	d.sanitize()
	return d, rejectErr(d.Reason)
}

// IsDeparture reports whether a decision records an account leaving the
// organization (AccountDepartedOrganization, RemoveAccountFromOrganization,
// LeaveOrganization). The enabler confirms it with Organizations before it
// believes it.
func IsDeparture(d Decision) bool {
	if d.Action != ActionRecord || d.Account == "" {
		return false
	}
	switch d.Event {
	case EventAccountDepartedOrganization, EventRemoveAccountFromOrganization, EventLeaveOrganization:
		return true
	}
	return false
}
