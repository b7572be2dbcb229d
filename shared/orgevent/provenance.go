package orgevent

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// EventSourceOrganizations is detail.eventSource of every Organizations
// CloudTrail record.
const EventSourceOrganizations = "organizations.amazonaws.com"

// EventSourceCloudTrail is detail.eventSource of every CloudTrail API
// call's record (the tamper events).
const EventSourceCloudTrail = "cloudtrail.amazonaws.com"

// ReasonUnverified starts the reason of an Organizations event that is
// ignored because it did not come from our organization's management
// account (or, for calls the member makes, from the member itself).
const ReasonUnverified = "unverified origin: "

// Origin is what the policy says about trailwarden's organization; events
// are verified against it before they are acted on. The zero Origin
// verifies nothing (explain without a policy).
type Origin struct {
	// ManagementAccount is the organization's management account: the only
	// account whose default bus receives Organizations events, forwarded
	// from there to trailwarden's bus with their envelope unchanged.
	ManagementAccount string
	// OrganizationID is the organization's id (o-…).
	OrganizationID string
	// Partition is the deployment's partition (awsid.Partition of the
	// policy's home Region): an event naming a Region of another partition
	// did not come from this organization.
	Partition string
}

// callerEvents are the Organizations calls a member makes itself: their
// CloudTrail record and EventBridge event belong to the member's account.
var callerEvents = map[string]bool{EventAcceptHandshake: true, EventLeaveOrganization: true}

// DecideFrom is Decide, then, for an Organizations decision that would act
// (enable, reevaluate, record), the origin checks: the event came through
// the management account's path (the envelope's account; for a member's
// own call, the member), userIdentity and recipientAccountId agree with
// it, detail.eventSource is Organizations, and every organization or
// management account the event names is ours. An event that fails them is
// ignored, with a reason starting with ReasonUnverified.
func DecideFrom(payload []byte, o Origin) (Decision, error) {
	d, err := decide(payload, o)
	d.sanitize()
	return d, err
}

func (x *decider) verified(name string) (problem string) {
	o := x.origin
	dt := &x.detail
	if dt.EventSource != EventSourceOrganizations && (dt.EventSource != "" || o != (Origin{})) {
		return fmt.Sprintf("detail.eventSource is %q, not %s", dt.EventSource, EventSourceOrganizations)
	}
	if problem := x.otherPartition(); problem != "" {
		return problem
	}
	if o.ManagementAccount == "" && o.OrganizationID == "" {
		return ""
	}
	caller := ""
	if dt.UserIdentity != nil {
		caller = dt.UserIdentity.AccountID
	}
	want := o.ManagementAccount
	if callerEvents[name] {
		want = x.d.Account // the member that made the call
	}
	if want != "" {
		if x.env.Account != want {
			return fmt.Sprintf("the event is from account %s's bus, not %s's", orNone(x.env.Account), want)
		}
		if dt.RecipientAccountID != want {
			return fmt.Sprintf("recipientAccountId %s is not %s", orNone(dt.RecipientAccountID), want)
		}
		if caller != "" && caller != want {
			return fmt.Sprintf("userIdentity.accountId %s is not %s", caller, want)
		}
	}
	for _, n := range x.named() {
		if n.org != "" && o.OrganizationID != "" && n.org != o.OrganizationID {
			return fmt.Sprintf("%s names organization %s, not ours (%s)", n.where, n.org, o.OrganizationID)
		}
		if n.management != "" && o.ManagementAccount != "" && n.management != o.ManagementAccount {
			return fmt.Sprintf("%s names management account %s, not ours (%s)", n.where, n.management, o.ManagementAccount)
		}
	}
	if name == EventAcceptHandshake && o.OrganizationID != "" && !x.namesOrganization() {
		return "the accepted handshake names no organization"
	}
	return ""
}

// otherPartition names the envelope's or the record's Region when it is
// not in the origin's partition ("" when both are, or nothing is known).
func (x *decider) otherPartition() string {
	if x.origin.Partition == "" {
		return ""
	}
	for _, r := range []struct{ where, region string }{{"the event's region", x.env.Region}, {"detail.awsRegion", x.detail.AWSRegion}} {
		if r.region != "" && awsid.Partition(r.region) != x.origin.Partition {
			return fmt.Sprintf("%s %s is in partition %s, not the deployment's %s",
				r.where, clean(r.region), awsid.Partition(r.region), x.origin.Partition)
		}
	}
	return ""
}

// tamperVerified is the origin check of a tamper event (a drift decision):
// CloudTrail's own record (detail.eventSource), forwarded from the member's
// bus with its envelope unchanged, so the envelope's account is the
// account that recorded the call (detail.recipientAccountId), and its
// Regions are in the deployment's partition. Whether that account is a
// member is the handler's check (DescribeAccount). The zero Origin
// (explain without a policy) checks only an eventSource that is present.
func (x *decider) tamperVerified() (problem string) {
	dt := &x.detail
	if dt.EventSource != EventSourceCloudTrail && (dt.EventSource != "" || x.origin != (Origin{})) {
		return fmt.Sprintf("detail.eventSource is %q, not %s", clean(dt.EventSource), EventSourceCloudTrail)
	}
	if x.origin == (Origin{}) {
		return ""
	}
	if x.env.Account != dt.RecipientAccountID {
		return fmt.Sprintf("the event is from account %s's bus, but recipientAccountId is %s",
			orNone(clean(x.env.Account)), orNone(clean(dt.RecipientAccountID)))
	}
	return x.otherPartition()
}

// naming is an organization id and/or management account an event names.
type naming struct{ where, org, management string }

// named lists the organizations and management accounts the event names:
// Organizations ARNs in resources and in a handshake
// (arn:<partition>:organizations::<management>:<type>/<o-id>/…),
// organizationId fields, and a handshake's ORGANIZATION party.
func (x *decider) named() []naming {
	var out []naming
	arn := func(where, s string) {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[0] != "arn" || parts[2] != "organizations" {
			return
		}
		n := naming{where: where, management: parts[4]}
		if res := strings.Split(parts[5], "/"); len(res) >= 2 && strings.HasPrefix(res[1], "o-") {
			n.org = res[1]
		}
		out = append(out, n)
	}
	for _, r := range x.env.Resources {
		arn("resources", r)
	}
	scopes, _ := x.membershipScopes(x.d.Event)
	for _, m := range scopes {
		if s, err := findString([]map[string]json.RawMessage{m}, []string{"organizationId"}); err == nil && s != "" {
			out = append(out, naming{where: "organizationId", org: s})
		}
	}
	if h := x.handshake(); h != nil {
		arn("the handshake", h.ARN)
		for _, p := range h.Parties {
			if strings.EqualFold(p.Type, "ORGANIZATION") {
				out = append(out, naming{where: "the handshake's ORGANIZATION party", org: p.ID})
			}
		}
	}
	return out
}

func (x *decider) namesOrganization() bool {
	for _, n := range x.named() {
		if n.org != "" {
			return true
		}
	}
	return false
}

// handshake is responseElements.handshake, when there is one.
func (x *decider) handshake() *Handshake {
	raw, err := objectField(x.detail.ResponseElements)
	if err != nil || raw == nil {
		return nil
	}
	var re struct {
		Handshake *Handshake `json:"handshake"`
	}
	if json.Unmarshal(raw, &re) != nil {
		return nil
	}
	return re.Handshake
}
