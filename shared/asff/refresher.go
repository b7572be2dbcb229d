package asff

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"

	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

// IncidentCauses are the watchdog's incidents (the incidents table): a
// finding's cause is open while its incident is open with the same Since.
type IncidentCauses struct{ Store *incident.Store }

// StillOpen reports whether incident key is open since since (the table
// keeps seconds).
func (c IncidentCauses) StillOpen(ctx context.Context, key string, since time.Time) (bool, error) {
	inc, ok, err := c.Store.Get(ctx, key)
	if err != nil || !ok {
		return false, err
	}
	return inc.Open() && inc.Since.Equal(since.UTC().Truncate(time.Second)), nil
}

// ImporterOf is the importing side of a default product ARN,
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default,
// without a runbook base (the refresher maps no finding).
func ImporterOf(productARN string) (Config, error) {
	p := strings.Split(productARN, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "securityhub" {
		return Config{}, fmt.Errorf("%q is not a Security Hub product ARN", productARN)
	}
	c := Config{Partition: p[1], Region: p[3], Account: p[4]}
	if p[5] != "product/"+c.Account+"/default" {
		return Config{}, fmt.Errorf("%q is not the account's default product ARN", productARN)
	}
	withBase := c
	withBase.RunbookBase = "https://"
	if err := withBase.Validate(); err != nil {
		return Config{}, fmt.Errorf("product ARN %q: %w", productARN, err)
	}
	return c, nil
}

// RefresherConfig is the refresher function's configuration.
type RefresherConfig struct {
	ProductARN       string
	IncidentsTable   string
	MetricsNamespace string
	LogLevel         string
}

// LoadRefresherConfig reads the refresher's configuration from the
// environment, reporting every problem at once.
func LoadRefresherConfig(get settings.Getenv) (RefresherConfig, error) {
	e := settings.NewEnv(get)
	c := RefresherConfig{
		ProductARN:       e.Required(settings.EnvSecurityHubProductARN),
		IncidentsTable:   e.Required(settings.EnvIncidentsTable),
		MetricsNamespace: e.String(settings.EnvMetricsNamespace),
		LogLevel:         e.String(settings.EnvLogLevel),
	}
	if c.MetricsNamespace == "" {
		c.MetricsNamespace = settings.DefaultMetricsNamespace
	}
	if c.ProductARN != "" {
		if _, err := ImporterOf(c.ProductARN); err != nil {
			e.Problemf("%s: %v", settings.EnvSecurityHubProductARN, err)
		}
	}
	return c, e.Err()
}

// Metrics of one refresh.
const (
	MetricRefreshed     = "FindingsRefreshed"
	MetricRefreshFailed = "FindingsRefreshFailed"
)

// RefreshFunction is the scheduled refresher (functions/refresher).
type RefreshFunction struct {
	Refresher *Refresher
	Metrics   *telemetry.Metrics
	Logger    *slog.Logger
	Now       func() time.Time // nil: the wall clock
}

// NewRefreshFunction wires the refresher from validated configuration and
// the function's AWS configuration; logs and metrics go to out.
func NewRefreshFunction(cfg RefresherConfig, home aws.Config, out io.Writer) (*RefreshFunction, error) {
	imp, err := ImporterOf(cfg.ProductARN)
	if err != nil {
		return nil, err
	}
	hub := securityhub.NewFromConfig(home)
	return &RefreshFunction{
		Refresher: &Refresher{Findings: hub, Publisher: &Publisher{API: hub, Account: imp.Account}, ProductArn: cfg.ProductARN,
			Causes: IncidentCauses{Store: &incident.Store{DB: dynamodb.NewFromConfig(home), Table: cfg.IncidentsTable}}},
		Metrics: telemetry.NewMetrics(out, cfg.MetricsNamespace, "refresher"),
		Logger:  telemetry.NewLogger(out, cfg.LogLevel).With("function", "refresher"),
	}, nil
}

// ErrNotRefreshed: Security Hub refused some refreshed findings; the next
// run tries them again (they are still due).
var ErrNotRefreshed = errors.New("findings not refreshed")

// Handle runs one refresh for the schedule's event. It fails the
// invocation when a call failed or a finding was refused, so the function's
// error alarm fires; the next run retries what is still due.
func (f *RefreshFunction) Handle(ctx context.Context, ev lambdaevents.CloudWatchEvent) error {
	now := time.Now
	if f.Now != nil {
		now = f.Now
	}
	rep, err := f.Refresher.Run(ctx, now().UTC())
	f.Metrics.Count(MetricRefreshed, rep.Refreshed)
	f.Metrics.Count(MetricRefreshFailed, len(rep.Failed))
	if ferr := f.Metrics.Flush(ctx); ferr != nil {
		f.Logger.WarnContext(ctx, "metrics not written", "error", ferr.Error())
	}
	attrs := []any{"eventId", ev.ID, "candidates", rep.Candidates, "refreshed", rep.Refreshed, "closed", rep.Closed, "failed", len(rep.Failed)}
	for _, fl := range rep.Failed {
		f.Logger.ErrorContext(ctx, "finding not refreshed", "findingId", fl.ID, "code", fl.Code, "message", fl.Message)
	}
	if err == nil && len(rep.Failed) > 0 {
		err = fmt.Errorf("%w: %d refused", ErrNotRefreshed, len(rep.Failed))
	}
	if err != nil {
		f.Logger.ErrorContext(ctx, "refresh failed", append(attrs, "error", err.Error())...)
		return err
	}
	f.Logger.InfoContext(ctx, "findings refreshed", attrs...)
	return nil
}
