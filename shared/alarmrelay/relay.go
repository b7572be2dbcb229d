package alarmrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/sqsbatch"
)

// Config is the relay's configuration.
type Config struct {
	AlertsTopicARN string
	RunbookBaseURL string
	Source         Source
}

// LoadConfig reads the relay's environment; the alarms' account and Region
// are the alarms topic's.
func LoadConfig(get settings.Getenv) (Config, error) {
	e := settings.NewEnv(get)
	c := Config{
		AlertsTopicARN: e.Required(settings.EnvAlertsTopicARN),
		RunbookBaseURL: e.String(settings.EnvRunbookBaseURL),
		Source: Source{TopicARN: e.Required(settings.EnvAlarmsTopicARN),
			NamePrefix: e.Required(settings.EnvAlarmNamePrefix)},
	}
	if c.Source.TopicARN != "" {
		// arn:<partition>:sns:<region>:<account>:<name>
		p := strings.Split(c.Source.TopicARN, ":")
		if len(p) != 6 || p[0] != "arn" || p[2] != "sns" || p[3] == "" || p[4] == "" {
			e.Problemf("%s: %q is not an SNS topic ARN", settings.EnvAlarmsTopicARN, c.Source.TopicARN)
		} else {
			c.Source.Region, c.Source.Account = p[3], p[4]
		}
	}
	return c, e.Err()
}

// Publisher sends an alert (alert.Publisher).
type Publisher interface {
	Publish(ctx context.Context, a alert.Alert) error
}

// Relay relays the records of the alarms queue.
type Relay struct {
	Source    Source
	Publisher Publisher
	Logger    *slog.Logger
	Now       func() time.Time // nil: the wall clock
}

// Report counts one batch's records.
type Report struct {
	Relayed, Ignored, Malformed, Failed int
}

// Handle relays every record: a relayed or ignored record is deleted; a
// malformed one fails (poison: after the queue's maxReceiveCount it is in
// the dead-letter queue, never dropped); a failed publish fails its record
// for SQS to deliver again. An alarm is acknowledged only once published.
func (r *Relay) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, Report) {
	var rep Report
	res := sqsbatch.Run(ctx, ev, func(ctx context.Context, rec events.SQSMessage) error {
		relayed, err := r.Record(ctx, rec.Body)
		switch {
		case errors.Is(err, ErrMalformed):
			rep.Malformed++
		case err != nil:
			rep.Failed++
		case relayed:
			rep.Relayed++
		default:
			rep.Ignored++
		}
		return err
	}, sqsbatch.Options{Logger: r.logger()})
	r.logger().InfoContext(ctx, "alarm relay batch", "records", len(ev.Records), "relayed", rep.Relayed,
		"ignored", rep.Ignored, "malformed", rep.Malformed, "failed", rep.Failed)
	return res.Response(), rep
}

// Record relays one body; relayed is false for a state change that is no
// incident's transition (ToAlert).
func (r *Relay) Record(ctx context.Context, body string) (relayed bool, err error) {
	n, rule, err := Parse(body, r.Source)
	if err != nil {
		return false, fault.New(fault.Poison, "MalformedAlarm", err)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	a, ok := ToAlert(n, rule, now())
	if !ok {
		r.logger().InfoContext(ctx, "alarm state change not relayed", "alarm", n.AlarmName, "from", n.OldStateValue, "to", n.NewStateValue)
		return false, nil
	}
	if err := r.Publisher.Publish(ctx, a); err != nil {
		return false, fault.New(fault.Retryable, "PublishFailed", fmt.Errorf("relay %s %s: %w", n.AlarmName, n.NewStateValue, err))
	}
	return true, nil
}

func (r *Relay) logger() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
