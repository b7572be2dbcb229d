package orgevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/jsondup"
)

// MaxEventSize bounds one event (the SQS and EventBridge limit is 256 KiB).
const MaxEventSize = 256 << 10

// EventBridge sources and detail-types this package reads.
const (
	SourceOrganizations    = "aws.organizations"
	SourceCloudTrail       = "aws.cloudtrail"
	DetailTypeAPICall      = "AWS API Call via CloudTrail"
	DetailTypeServiceEvent = "AWS Service Event via CloudTrail"
)

// Organizations event names (exactly as AWS spells them).
const (
	EventCreateAccountResult           = "CreateAccountResult"
	EventCreateAccount                 = "CreateAccount"
	EventAcceptHandshake               = "AcceptHandshake"
	EventAccountJoinedOrganization     = "AccountJoinedOrganization"
	EventAccountDepartedOrganization   = "AccountDepartedOrganization"
	EventMoveAccount                   = "MoveAccount"
	EventInviteAccountToOrganization   = "InviteAccountToOrganization"
	EventRemoveAccountFromOrganization = "RemoveAccountFromOrganization"
	EventLeaveOrganization             = "LeaveOrganization"
)

// Decide reads one EventBridge event (bare, or the body of an SQS message)
// and says what it means. A malformed input gives a Decision with
// ActionReject and an error that is a poison fault.Error wrapping a
// *RejectError; every other outcome returns a nil error. Decide never panics.
func Decide(payload []byte) (Decision, error) {
	return DecideFrom(payload, Origin{})
}

type decider struct {
	origin Origin
	env    Envelope
	detail CloudTrailDetail
	d      Decision
}

func (x *decider) reject(format string, args ...any) (Decision, error) {
	x.d.Action = ActionReject
	x.d.Reason = fmt.Sprintf(format, args...)
	return x.d, rejectErr(cleanN(x.d.Reason, maxReason))
}

func (x *decider) result(a Action, format string, args ...any) (Decision, error) {
	x.d.Action = a
	x.d.Reason = fmt.Sprintf(format, args...)
	return x.d, nil
}

func decide(payload []byte, o Origin) (Decision, error) {
	x := &decider{origin: o}
	if len(payload) > MaxEventSize {
		return x.reject("event is %d bytes; the limit is %d", len(payload), MaxEventSize)
	}
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 {
		return x.reject("empty input")
	}
	if trimmed[0] != '{' {
		return x.reject("not a JSON object")
	}
	if err := jsondup.Check(trimmed); err != nil {
		return x.reject("ambiguous event JSON: %v", err)
	}
	if err := json.Unmarshal(trimmed, &x.env); err != nil {
		return x.reject("malformed event JSON: %v", err)
	}
	env := &x.env
	x.d.EventID = env.ID
	x.d.Region = env.Region
	x.d.Event = env.DetailType
	if t, err := time.Parse(time.RFC3339, env.Time); err == nil {
		x.d.EventTime = t.UTC()
	}
	if env.Source == "" && env.DetailType == "" && isNull(env.Detail) {
		if DetectKind(trimmed) == KindSQS {
			return x.reject("an SQS event, not an EventBridge event: unwrap it with DecideSQSEvent")
		}
		return x.reject("not an EventBridge event: no source, detail-type or detail")
	}
	if isNull(env.Detail) {
		return x.reject("missing detail")
	}
	if !isObject(env.Detail) {
		return x.reject("detail is not a JSON object")
	}
	switch env.Source {
	case SourceOrganizations:
		d, err := x.organizations()
		if err != nil || (d.Action != ActionEnable && d.Action != ActionReevaluate && d.Action != ActionRecord) {
			return d, err
		}
		if problem := x.verified(d.Event); problem != "" {
			x.d.JoinedVia = "" // nothing joined as far as trailwarden knows
			return x.result(ActionIgnore, "%s%s (%s)", ReasonUnverified, problem, d.Event)
		}
		return d, nil
	case SourceCloudTrail:
		d, err := x.tamper()
		if err != nil || d.Action != ActionDrift {
			return d, err
		}
		if problem := x.tamperVerified(); problem != "" {
			return x.result(ActionIgnore, "%s%s (%s)", ReasonUnverified, problem, d.Event)
		}
		return d, nil
	case "":
		return x.reject("missing source")
	default:
		return x.result(ActionIgnore, "events from source %q are not handled by trailwarden", env.Source)
	}
}

// readDetail decodes the detail as a CloudTrail record and fills the common
// decision fields.
func (x *decider) readDetail() error {
	if err := json.Unmarshal(x.env.Detail, &x.detail); err != nil {
		return err
	}
	dt := &x.detail
	if dt.EventName != "" {
		x.d.Event = dt.EventName
	}
	x.d.CloudTrailEventID = dt.EventID
	if x.d.Region == "" {
		x.d.Region = dt.AWSRegion
	}
	if t, err := ParseTimestamp(dt.EventTime); err == nil {
		x.d.EventTime = t
	}
	return nil
}

// normalise lower-cases s and drops everything but letters and digits, so
// that "Account Joined Organization" and "AccountJoinedOrganization" meet.
func normalise(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return -1
	}, s)
}

func (x *decider) organizations() (Decision, error) {
	if err := x.readDetail(); err != nil {
		return x.reject("malformed Organizations detail: %v", err)
	}
	dt := &x.detail
	name := dt.EventName
	if name == "" {
		// A dedicated detail-type for the 2026 membership events.
		switch ndt := normalise(x.env.DetailType); {
		case strings.Contains(ndt, "accountjoinedorganization"):
			name = EventAccountJoinedOrganization
		case strings.Contains(ndt, "accountdepartedorganization"):
			name = EventAccountDepartedOrganization
		default:
			return x.result(ActionIgnore, "Organizations event of detail-type %q without an eventName is not handled", x.env.DetailType)
		}
		x.d.Event = name
	}
	if dt.ErrorCode != "" {
		return x.result(ActionIgnore, "%s failed (errorCode %s); nothing changed", name, dt.ErrorCode)
	}
	switch name {
	case EventCreateAccountResult:
		return x.createAccountResult()
	case EventCreateAccount:
		return x.createAccount()
	case EventAcceptHandshake:
		return x.acceptHandshake()
	case EventAccountJoinedOrganization:
		return x.membership(true)
	case EventAccountDepartedOrganization:
		return x.membership(false)
	case EventMoveAccount:
		return x.moveAccount()
	case EventInviteAccountToOrganization:
		return x.invite()
	case EventRemoveAccountFromOrganization, EventLeaveOrganization:
		return x.departureCall(name)
	default:
		return x.result(ActionIgnore, "Organizations event %s does not change membership", name)
	}
}

func (x *decider) createAccountResult() (Decision, error) {
	raw, err := objectField(x.detail.ServiceEventDetails)
	if err != nil {
		return x.reject("CreateAccountResult serviceEventDetails: %v", err)
	}
	if raw == nil {
		return x.reject("CreateAccountResult without serviceEventDetails")
	}
	var sed struct {
		CreateAccountStatus *CreateAccountStatus `json:"createAccountStatus"`
	}
	if err := json.Unmarshal(raw, &sed); err != nil {
		return x.reject("CreateAccountResult serviceEventDetails: %v", err)
	}
	if sed.CreateAccountStatus == nil {
		return x.reject("CreateAccountResult without serviceEventDetails.createAccountStatus")
	}
	return x.createAccountStatus(*sed.CreateAccountStatus, "CreateAccountResult")
}

func (x *decider) createAccountStatus(s CreateAccountStatus, what string) (Decision, error) {
	x.d.Reference = s.ID
	x.d.AccountName = s.AccountName
	ref := s.ID
	if ref == "" {
		ref = "no request id"
	}
	switch strings.ToUpper(s.State) {
	case "SUCCEEDED":
		if s.AccountID == "" {
			return x.reject("%s state SUCCEEDED without accountId (%s)", what, ref)
		}
		if !awsid.IsAccountID(s.AccountID) {
			return x.reject("%s accountId %q is not a 12-digit account id", what, s.AccountID)
		}
		x.d.Account = s.AccountID
		x.d.JoinedVia = JoinedCreated
		if t, err := ParseTimestamp(s.CompletedTimestamp); err == nil {
			x.d.EffectiveTime = t
		}
		return x.result(ActionEnable, "account created (%s)", ref)
	case "FAILED":
		x.d.FailureReason = s.FailureReason
		if t, err := ParseTimestamp(s.CompletedTimestamp); err == nil {
			x.d.EffectiveTime = t
		}
		fr := s.FailureReason
		if fr == "" {
			fr = "no failureReason given"
		}
		return x.result(ActionRecord, "account creation failed: %s (%s)", fr, ref)
	case "IN_PROGRESS":
		return x.result(ActionRecord, "account creation in progress (%s); the account is enabled on CreateAccountResult", ref)
	case "":
		return x.reject("%s createAccountStatus without state (%s)", what, ref)
	default:
		return x.result(ActionRecord, "account creation state %q (%s)", s.State, ref)
	}
}

func (x *decider) createAccount() (Decision, error) {
	raw, err := objectField(x.detail.ResponseElements)
	if err != nil {
		return x.reject("CreateAccount responseElements: %v", err)
	}
	if raw == nil {
		return x.result(ActionRecord, "CreateAccount call without responseElements; the account is enabled on CreateAccountResult")
	}
	var re struct {
		CreateAccountStatus *CreateAccountStatus `json:"createAccountStatus"`
	}
	if err := json.Unmarshal(raw, &re); err != nil {
		return x.reject("CreateAccount responseElements: %v", err)
	}
	if re.CreateAccountStatus == nil {
		return x.result(ActionRecord, "CreateAccount call without createAccountStatus; the account is enabled on CreateAccountResult")
	}
	// AWS answers IN_PROGRESS; a synchronous SUCCEEDED (as the emulator
	// answers) carries the account id and is as good as CreateAccountResult.
	return x.createAccountStatus(*re.CreateAccountStatus, "CreateAccount")
}

func (x *decider) acceptHandshake() (Decision, error) {
	raw, err := objectField(x.detail.ResponseElements)
	if err != nil {
		return x.reject("AcceptHandshake responseElements: %v", err)
	}
	var re struct {
		Handshake *Handshake `json:"handshake"`
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &re); err != nil {
			return x.reject("AcceptHandshake responseElements: %v", err)
		}
	}
	if re.Handshake == nil {
		return x.result(ActionRecord, "AcceptHandshake without responseElements.handshake; cannot tell what was accepted (the scheduled reconcile catches a join)")
	}
	h := re.Handshake
	x.d.Reference = h.ID
	if !strings.EqualFold(h.State, "ACCEPTED") {
		return x.result(ActionIgnore, "handshake %s is in state %q, not ACCEPTED", h.ID, h.State)
	}
	if !strings.EqualFold(h.Action, "INVITE") {
		return x.result(ActionIgnore, "handshake action %q is not an invitation to join", h.Action)
	}
	caller := ""
	if x.detail.UserIdentity != nil {
		caller = x.detail.UserIdentity.AccountID
	}
	recipient := x.detail.RecipientAccountID
	account := caller
	if account == "" {
		account = recipient
	}
	if account == "" {
		return x.reject("AcceptHandshake without userIdentity.accountId or recipientAccountId")
	}
	if !awsid.IsAccountID(account) {
		return x.reject("AcceptHandshake caller account %q is not a 12-digit account id", account)
	}
	if caller != "" && recipient != "" && caller != recipient {
		return x.reject("AcceptHandshake caller account %s differs from recipientAccountId %s", caller, recipient)
	}
	target := "an e-mail address"
	for _, p := range h.Parties {
		if strings.EqualFold(p.Type, "ACCOUNT") {
			if p.ID != account {
				return x.reject("handshake ACCOUNT party %s is not the accepting account %s", p.ID, account)
			}
			target = "an account id"
		}
	}
	x.d.Account = account
	x.d.JoinedVia = JoinedInvited
	return x.result(ActionEnable, "invitation accepted (handshake %s, sent to %s)", h.ID, target)
}

// membership handles AccountJoinedOrganization (joined) and
// AccountDepartedOrganization (!joined); see the package comment for where
// the fields are looked for.
func (x *decider) membership(joined bool) (Decision, error) {
	name := EventAccountDepartedOrganization
	methodKeys := []string{"departureMethod", "departedMethod"}
	timeKeys := []string{"departureTime", "departedTime", "departureTimestamp", "departedTimestamp"}
	if joined {
		name = EventAccountJoinedOrganization
		methodKeys = []string{"joinedMethod", "joinMethod"}
		timeKeys = []string{"joinedTime", "joinedTimestamp", "joinTime"}
	}
	scopes, err := x.membershipScopes(name)
	if err != nil {
		return x.reject("%s: %v", name, err)
	}
	account, err := findAccount(scopes, x.env.Resources)
	if err != nil {
		return x.reject("%s: %v", name, err)
	}
	if account == "" {
		return x.reject("%s without a member account id (looked in serviceEventDetails, requestParameters, detail and resources)", name)
	}
	method, err := findString(scopes, methodKeys)
	if err != nil {
		return x.reject("%s: %v", name, err)
	}
	when, err := findString(scopes, timeKeys)
	if err != nil {
		return x.reject("%s: %v", name, err)
	}
	if t, err := ParseTimestamp(when); err == nil {
		x.d.EffectiveTime = t
	}
	x.d.Account = account
	m := strings.ToLower(method)
	if !joined {
		if m == "" {
			m = "not stated"
		}
		return x.result(ActionRecord, "account departed the organization (method %s)", m)
	}
	switch m {
	case "created":
		x.d.JoinedVia = JoinedCreated
	case "invited":
		x.d.JoinedVia = JoinedInvited
	case "":
		return x.result(ActionEnable, "account joined the organization (joined method not stated)")
	default:
		return x.result(ActionEnable, "account joined the organization (unknown joined method %q)", method)
	}
	return x.result(ActionEnable, "account joined the organization (%s)", m)
}

// membershipScopes lists the JSON objects that may hold the membership
// fields, most specific first.
func (x *decider) membershipScopes(name string) ([]map[string]json.RawMessage, error) {
	var scopes []map[string]json.RawMessage
	add := func(raw json.RawMessage, what string) error {
		obj, err := objectField(raw)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if obj == nil {
			return nil
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(obj, &m); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		scopes = append(scopes, m)
		return nil
	}
	if err := add(x.detail.ServiceEventDetails, "serviceEventDetails"); err != nil {
		return nil, err
	}
	if len(scopes) == 1 {
		sed := scopes[0]
		nested := strings.ToLower(name[:1]) + name[1:]
		for _, k := range []string{"account", nested} {
			if v, ok := sed[k]; ok && isObject(v) {
				if err := add(v, "serviceEventDetails."+k); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := add(x.detail.RequestParameters, "requestParameters"); err != nil {
		return nil, err
	}
	if err := add(x.env.Detail, "detail"); err != nil {
		return nil, err
	}
	return scopes, nil
}

func (x *decider) moveAccount() (Decision, error) {
	raw, err := objectField(x.detail.RequestParameters)
	if err != nil {
		return x.reject("MoveAccount requestParameters: %v", err)
	}
	if raw == nil {
		return x.reject("MoveAccount without requestParameters")
	}
	var rp struct {
		AccountID           string `json:"accountId"`
		SourceParentID      string `json:"sourceParentId"`
		DestinationParentID string `json:"destinationParentId"`
	}
	if err := json.Unmarshal(raw, &rp); err != nil {
		return x.reject("MoveAccount requestParameters: %v", err)
	}
	if !awsid.IsAccountID(rp.AccountID) {
		return x.reject("MoveAccount accountId %q is not a 12-digit account id", rp.AccountID)
	}
	x.d.Account = rp.AccountID
	x.d.SourceParentID = rp.SourceParentID
	x.d.DestinationParentID = rp.DestinationParentID
	return x.result(ActionReevaluate, "account moved from %s to %s; its effective policy may have changed", orNone(rp.SourceParentID), orNone(rp.DestinationParentID))
}

func (x *decider) invite() (Decision, error) {
	var rp struct {
		Target *HandshakeParty `json:"target"`
	}
	raw, err := objectField(x.detail.RequestParameters)
	if err != nil {
		return x.reject("InviteAccountToOrganization requestParameters: %v", err)
	}
	if raw != nil {
		if err := json.Unmarshal(raw, &rp); err != nil {
			return x.reject("InviteAccountToOrganization requestParameters: %v", err)
		}
	}
	var re struct {
		Handshake *Handshake `json:"handshake"`
	}
	if raw, err := objectField(x.detail.ResponseElements); err == nil && raw != nil {
		if err := json.Unmarshal(raw, &re); err != nil {
			return x.reject("InviteAccountToOrganization responseElements: %v", err)
		}
	} else if err != nil {
		return x.reject("InviteAccountToOrganization responseElements: %v", err)
	}
	hs := "no handshake id"
	if re.Handshake != nil && re.Handshake.ID != "" {
		hs = re.Handshake.ID
		x.d.Reference = re.Handshake.ID
	}
	target := "an unstated target"
	if rp.Target != nil {
		switch {
		case strings.EqualFold(rp.Target.Type, "ACCOUNT"):
			target = "an account id"
			if awsid.IsAccountID(rp.Target.ID) {
				x.d.Account = rp.Target.ID
			}
		case strings.EqualFold(rp.Target.Type, "EMAIL"):
			// Never copy the address.
			target = "an e-mail address"
		default:
			target = fmt.Sprintf("a target of type %q", rp.Target.Type)
		}
	}
	return x.result(ActionRecord, "invitation sent to %s (handshake %s); an invitation is not a join", target, hs)
}

func (x *decider) departureCall(name string) (Decision, error) {
	account := ""
	if name == EventLeaveOrganization {
		if x.detail.UserIdentity != nil {
			account = x.detail.UserIdentity.AccountID
		}
		if account == "" {
			account = x.detail.RecipientAccountID
		}
	} else {
		raw, err := objectField(x.detail.RequestParameters)
		if err != nil {
			return x.reject("%s requestParameters: %v", name, err)
		}
		var rp struct {
			AccountID string `json:"accountId"`
		}
		if raw != nil {
			if err := json.Unmarshal(raw, &rp); err != nil {
				return x.reject("%s requestParameters: %v", name, err)
			}
		}
		account = rp.AccountID
	}
	if !awsid.IsAccountID(account) {
		return x.reject("%s account %q is not a 12-digit account id", name, account)
	}
	x.d.Account = account
	return x.result(ActionRecord, "account left the organization (%s)", name)
}

func orNone(s string) string {
	if s == "" {
		return "(not stated)"
	}
	return s
}
