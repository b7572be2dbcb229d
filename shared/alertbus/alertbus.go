// Package alertbus puts trailwarden's alerts on its central EventBridge bus,
// so that other tools (ticketing, SOAR) subscribe with a rule: source
// Source, one detail-type per alert kind, the detail a versioned schema.
package alertbus

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/trailwarden/trailwarden/shared/alert"
)

// Source is the source of every alert event. trailwarden's own rules on the
// bus match only aws.organizations, aws.cloudtrail and aws.s3, so an alert
// event never feeds trailwarden back. A custom source must not begin with
// "aws." (EventBridge PutEventsRequestEntry).
const Source = "trailwarden.alerts"

// SchemaVersion is the version of Detail: the alerts topic's JSON
// document's (alert.SchemaVersion), so a rule and a queue subscriber read
// one schema.
const SchemaVersion = alert.SchemaVersion

// DetailTypePrefix starts each detail-type: "trailwarden alert <kind>".
const DetailTypePrefix = "trailwarden alert "

// DetailType is the detail-type of an alert of kind.
func DetailType(kind string) string { return DetailTypePrefix + kind }

// Detail is the event's detail: the alert's JSON document, as SQS,
// Lambda and HTTPS subscribers of the topic receive it.
type Detail = alert.Document

// PutEventsAPI is the EventBridge call the publisher makes.
type PutEventsAPI interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

// ErrRejected is returned when EventBridge accepted the call but refused
// the entry (PutEvents reports it in FailedEntryCount, not as an error).
var ErrRejected = errors.New("event refused by EventBridge")

// Publisher puts alerts on one bus.
type Publisher struct {
	Events PutEventsAPI
	// Bus is the event bus's name or ARN.
	Bus string
}

// Entry is the PutEvents entry of a.
func (p *Publisher) Entry(a alert.Alert) (ebtypes.PutEventsRequestEntry, error) {
	if a.Summary == "" {
		a.Summarize()
	}
	body, err := alert.JSON(a)
	if err != nil {
		return ebtypes.PutEventsRequestEntry{}, fmt.Errorf("encode alert event: %w", err)
	}
	e := ebtypes.PutEventsRequestEntry{EventBusName: aws.String(p.Bus), Source: aws.String(Source),
		DetailType: aws.String(DetailType(a.Kind)), Detail: aws.String(string(body))}
	if !a.At.IsZero() {
		e.Time = aws.Time(a.At)
	}
	return e, nil
}

// Publish puts a on the bus (alert's Bus hook); an error means it is not
// there.
func (p *Publisher) Publish(ctx context.Context, a alert.Alert) error {
	e, err := p.Entry(a)
	if err != nil {
		return err
	}
	out, err := p.Events.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{e}})
	if err != nil {
		return fmt.Errorf("put %s alert event: %w", a.Kind, err)
	}
	if out.FailedEntryCount > 0 {
		code, msg := "", ""
		if len(out.Entries) > 0 {
			code, msg = aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage)
		}
		return fmt.Errorf("put %s alert event: %w: %s %s", a.Kind, ErrRejected, code, msg)
	}
	return nil
}

// New is the bus sink of alert.Publisher: nil (no bus) when bus is "".
func New(events PutEventsAPI, bus string) alert.Sink {
	if bus == "" {
		return nil
	}
	return &Publisher{Events: events, Bus: bus}
}
