package orgevent

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// TamperEvents maps each CloudTrail call that can weaken a trail to the
// requestParameters key naming the trail (CloudTrail API reference request
// syntax, camel-cased as CloudTrail records it): Name for StopLogging,
// DeleteTrail and UpdateTrail; TrailName for PutEventSelectors and
// PutInsightSelectors; ResourceId for RemoveTags. The value may be a trail
// name or a trail ARN.
var TamperEvents = map[string]string{
	"StopLogging":         "name",
	"DeleteTrail":         "name",
	"UpdateTrail":         "name",
	"PutEventSelectors":   "trailName",
	"PutInsightSelectors": "trailName",
	"RemoveTags":          "resourceId",
}

func (x *decider) tamper() (Decision, error) {
	if x.env.DetailType != DetailTypeAPICall {
		return x.result(ActionIgnore, "CloudTrail event of detail-type %q is not an API call", x.env.DetailType)
	}
	if err := x.readDetail(); err != nil {
		return x.reject("malformed CloudTrail detail: %v", err)
	}
	dt := &x.detail
	name := dt.EventName
	key, ok := TamperEvents[name]
	if !ok {
		if name == "" {
			return x.reject("CloudTrail API call without eventName")
		}
		return x.result(ActionIgnore, "CloudTrail call %s does not weaken a trail", name)
	}
	if dt.ErrorCode != "" {
		return x.result(ActionIgnore, "%s failed (errorCode %s); the trail did not change", name, dt.ErrorCode)
	}
	var account string
	switch {
	case awsid.IsAccountID(dt.RecipientAccountID):
		account = dt.RecipientAccountID
	case awsid.IsAccountID(x.env.Account):
		account = x.env.Account
	default:
		return x.reject("%s without a 12-digit recipientAccountId or account", name)
	}

	raw, err := objectField(dt.RequestParameters)
	if err != nil {
		return x.reject("%s requestParameters: %v", name, err)
	}
	if raw == nil {
		return x.reject("%s without requestParameters", name)
	}
	var rp map[string]json.RawMessage
	if err := json.Unmarshal(raw, &rp); err != nil {
		return x.reject("%s requestParameters: %v", name, err)
	}
	id, err := findString([]map[string]json.RawMessage{rp}, []string{key})
	if err != nil {
		return x.reject("%s requestParameters.%v", name, err)
	}
	if id == "" {
		if _, ok := rp["eventDataStore"]; ok {
			return x.result(ActionIgnore, "%s targets an event data store, not a trail", name)
		}
		return x.reject("%s without requestParameters.%s", name, key)
	}
	if strings.HasPrefix(id, "arn:") {
		trail, _, ok := splitTrailARN(id)
		if !ok {
			return x.result(ActionIgnore, "%s targets %s, which is not a trail", name, id)
		}
		x.d.TrailARN = id
		x.d.TrailName = trail
	} else {
		x.d.TrailName = id
	}
	if x.d.TrailARN == "" {
		if re, err := objectField(dt.ResponseElements); err == nil && re != nil {
			var r struct {
				TrailARN string `json:"trailARN"`
			}
			if json.Unmarshal(re, &r) == nil {
				if n, _, ok := splitTrailARN(r.TrailARN); ok && n == x.d.TrailName {
					x.d.TrailARN = r.TrailARN
				}
			}
		}
	}
	for k := range rp {
		if k != key {
			x.d.ChangedSettings = append(x.d.ChangedSettings, k)
		}
	}
	slices.Sort(x.d.ChangedSettings)
	x.d.Account = account
	x.d.SourceIP = dt.SourceIPAddress
	x.d.UserAgent = dt.UserAgent
	x.d.Actor = actorOf(dt.UserIdentity)
	return x.result(ActionDrift, "%s on trail %s", name, x.d.TrailName)
}

func actorOf(u *UserIdentity) *Actor {
	if u == nil {
		return nil
	}
	a := &Actor{
		Type:        u.Type,
		ARN:         u.ARN,
		PrincipalID: u.PrincipalID,
		AccountID:   u.AccountID,
		InvokedBy:   u.InvokedBy,
	}
	if u.SessionContext != nil && u.SessionContext.SessionIssuer != nil {
		si := u.SessionContext.SessionIssuer
		if strings.EqualFold(si.Type, "Role") {
			a.RoleName = si.UserName
			a.RoleARN = si.ARN
		}
	}
	if role, session, _, ok := splitAssumedRoleARN(u.ARN); ok {
		if a.RoleName == "" {
			a.RoleName = role
		}
		a.SessionName = session
	}
	return a
}

// splitAssumedRoleARN reads arn:<partition>:sts::<account>:assumed-role/<role>/<session>.
func splitAssumedRoleARN(arn string) (role, session, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return "", "", "", false
	}
	rest, found := strings.CutPrefix(parts[5], "assumed-role/")
	if !found {
		return "", "", "", false
	}
	role, session, found = strings.Cut(rest, "/")
	if !found || role == "" || session == "" {
		return "", "", "", false
	}
	return role, session, parts[4], true
}

// splitTrailARN reads arn:<partition>:cloudtrail:<region>:<account>:trail/<name>.
func splitTrailARN(arn string) (name, account string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "cloudtrail" {
		return "", "", false
	}
	name, found := strings.CutPrefix(parts[5], "trail/")
	if !found || name == "" || strings.Contains(name, "/") {
		return "", "", false
	}
	return name, parts[4], true
}

// MatchesTrail reports whether a drift decision targeted the trail given by
// name or by ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>). An
// ARN matches the decision's TrailARN exactly; when the event named the
// trail only by name, an ARN matches on its name and account.
func MatchesTrail(d Decision, trail string) bool {
	if trail == "" || d.TrailName == "" {
		return false
	}
	if !strings.HasPrefix(trail, "arn:") {
		return d.TrailName == trail
	}
	name, account, ok := splitTrailARN(trail)
	if !ok {
		return false
	}
	if d.TrailARN != "" {
		return d.TrailARN == trail
	}
	return d.TrailName == name && (d.Account == "" || d.Account == account)
}

// IsOwnActor reports whether the call behind a decision was made by one of
// trailwarden's own roles. Each entry of roleNames is either a role name
// ("TrailwardenMemberRole": any session of that role), or a role name and a
// session name ("OrganizationAccountAccessRole/trailwarden-enabler"), where a
// trailing "*" makes the session a prefix ("OrganizationAccountAccessRole/trailwarden-*").
// The role is read from sessionContext.sessionIssuer or the assumed-role ARN
// (arn:aws:sts::<account>:assumed-role/<RoleName>/<session>), and must
// belong to the decision's account.
func IsOwnActor(d Decision, roleNames []string) bool {
	a := d.Actor
	if a == nil {
		return false
	}
	role, session, account, ok := splitAssumedRoleARN(a.ARN)
	if !ok {
		return false
	}
	if a.RoleName != "" && a.RoleName != role {
		return false // the issuer and the ARN disagree
	}
	if d.Account != "" && account != d.Account {
		return false
	}
	for _, entry := range roleNames {
		r, want, hasSession := strings.Cut(entry, "/")
		if r == "" || r != role {
			continue
		}
		if !hasSession {
			return true
		}
		if prefix, isPrefix := strings.CutSuffix(want, "*"); isPrefix {
			if prefix != "" && strings.HasPrefix(session, prefix) {
				return true
			}
		} else if session == want {
			return true
		}
	}
	return false
}
