package enabler

import (
	"context"
	"errors"
	"time"

	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/orgevent"
)

// CodeAccountNotFound is orgdir's fault code for DescribeAccount's
// AccountNotFoundException (the account is not in the organization).
const CodeAccountNotFound = "AccountNotFound"

// departed records a departure only when Organizations confirms it and the
// event is not older than the account's join: DescribeAccount must answer
// AccountNotFoundException (an account still in the organization did not
// leave, or re-joined since), and the event's time must not precede the
// accounts table's first-seen and enabled times (a departure replayed after
// a re-join). Anything else leaves the account as it is.
func (p *Processor) departed(ctx context.Context, d orgevent.Decision) error {
	log := p.log().With("account", d.Account, "event", d.Event)
	info, err := p.Directory.Describe(ctx, d.Account)
	switch {
	case err == nil:
		log.WarnContext(ctx, "departure not confirmed: Organizations still lists the account; left as it is", "state", info.State)
		p.count("DeparturesNotConfirmed", 1)
		return nil
	case fault.Code(err) != CodeAccountNotFound:
		return err // throttling and the like: retried
	}
	acc, err := p.Accounts.Get(ctx, d.Account)
	if errors.Is(err, accounts.ErrNotFound) {
		log.InfoContext(ctx, "departure of an account trailwarden never recorded")
		return nil
	}
	if err != nil {
		return err
	}
	if when := departureTime(d); !when.IsZero() && (when.Before(acc.FirstSeenAt) || when.Before(acc.EnabledAt)) {
		log.WarnContext(ctx, "departure older than the account's join or enablement; left as it is",
			"departedAt", when, "firstSeenAt", acc.FirstSeenAt, "enabledAt", acc.EnabledAt)
		p.count("DeparturesNotConfirmed", 1)
		return nil
	}
	return p.Accounts.SetStatus(ctx, d.Account, accounts.StatusDeparted, "left the organization")
}

// departureTime is when the event says the account left.
func departureTime(d orgevent.Decision) time.Time {
	if !d.EffectiveTime.IsZero() {
		return d.EffectiveTime
	}
	return d.EventTime
}
