package enabler

import (
	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/jsondup"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

// ActionConverge is the decision of one of trailwarden's own converge
// requests (a work item from reconcile, backfill, a repair or the CLI).
const ActionConverge orgevent.Action = "converge"

// EventConvergeRequest is the event name of a work item's decision.
const EventConvergeRequest = "ConvergeRequest"

// Request is what one request-queue record asks of the enabler: its
// decision, and the work item when the record is one of ours.
type Request struct {
	Decision orgevent.Decision
	Item     *workitem.Item
}

// OriginOf is the origin events are verified against: the policy's
// management account and organization, and the partition of its home
// Region.
func OriginOf(pol *policy.Policy) orgevent.Origin {
	return orgevent.Origin{ManagementAccount: pol.Organization.ManagementAccount, OrganizationID: pol.Organization.ID,
		Partition: awsid.Partition(pol.Organization.HomeRegion)}
}

// DecideRecord is the one decision of a request-queue record, shared by the
// enabler's handler and `trailwarden explain`: a record from an event
// source other than SQS is refused; a work item is parsed and validated;
// anything else is an EventBridge event decided by orgevent, verified
// against o. A non-nil error is poison (the record belongs in the DLQ).
func DecideRecord(rec events.SQSMessage, o orgevent.Origin) (Request, error) {
	if d, err := orgevent.CheckEventSource(rec.EventSource); err != nil {
		return Request{Decision: d}, err
	}
	body := []byte(rec.Body)
	if workitem.IsWorkItem(body) {
		it, err := workitem.Parse(body)
		if derr := jsondup.Check(body); derr != nil && err == nil {
			err = fault.New(fault.Poison, "MalformedWorkItem", derr)
		}
		if err != nil {
			d, _ := orgevent.Rejected(err.Error())
			d.Event = EventConvergeRequest
			return Request{Decision: d}, err
		}
		d := orgevent.Decision{Action: ActionConverge, Event: EventConvergeRequest, Account: it.Account,
			Reason: "converge requested (" + it.Reason + ")"}
		return Request{Decision: d, Item: &it}, nil
	}
	d, err := orgevent.DecideFrom(body, o)
	return Request{Decision: d}, err
}
