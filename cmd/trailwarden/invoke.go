package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

const invokeLong = `Runs the same handler the Lambda function runs, in this process, against the
AWS endpoint in use (AWS_ENDPOINT_URL for the emulator), and prints its
response (for SQS handlers, the partial batch response; for the watchdog,
the pass's report). The enabler accepts an SQS event wrapping EventBridge
events or a bare EventBridge event; the verifier an SQS event or one bare
message body (an SNS envelope, a CloudTrail notification, an S3 event).
--now (RFC 3339) runs the watchdog's pass as of that time.

Exit codes: 0 the batch was processed whole (the watchdog: no open
incident); 1 batch item failures (records left for a retry or the DLQ), or
open incidents; 2 a usage, access or runtime error (the watchdog: a pass
with errors).`

const invokeExample = `  trailwarden invoke enabler --event events/organizations/sqs-wrapped-create-account-result.json \
    --policy policy.yaml --accounts-table trailwarden-accounts --request-queue-url URL --alerts-topic-arn ARN
  trailwarden invoke watchdog --now 2026-03-14T12:00:00Z`

// invokeOptions are the flags of the invoke subcommands.
type invokeOptions struct {
	d         deployFlags
	eventFile string
	now       string
}

func newInvokeCmd(env *cmdEnv) *cobra.Command {
	sub := func(name, short string, run func(context.Context, *cmdEnv, *invokeOptions) error) *cobra.Command {
		var o invokeOptions
		c := &cobra.Command{Use: name, Short: short, Long: invokeLong, Example: invokeExample, Args: noArgs,
			RunE: func(c *cobra.Command, _ []string) error { return run(c.Context(), env, &o) }}
		o.d.register(c.Flags(), env)
		if name == "watchdog" {
			c.Flags().StringVar(&o.now, "now", "", "run the pass as of this time (RFC 3339; default now)")
		} else {
			c.Flags().StringVar(&o.eventFile, "event", "", "event file (required)")
		}
		return c
	}
	c := groupCmd("invoke", "run a function's real handler here, against the configured AWS endpoint", invokeLong,
		sub("enabler --event FILE", "run the enabler's handler on an event", invokeEnabler),
		sub("verifier --event FILE", "run the verifier's handler on an event", invokeVerifier),
		sub("watchdog", "run one watchdog pass", invokeWatchdog))
	c.Example = invokeExample
	return c
}

// batchResult prints an SQS handler's response: failures are exit 1.
func batchResult(env *cmdEnv, resp events.SQSEventResponse) error {
	if err := writeJSON(env, resp); err != nil {
		return err
	}
	if n := len(resp.BatchItemFailures); n > 0 {
		return problemf("%d record(s) failed: a Lambda function would leave them on the queue for a retry or the DLQ", n)
	}
	return nil
}

// sqsEventFrom reads an SQS event, or wraps a bare event body in one.
func sqsEventFrom(path string) (events.SQSEvent, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return events.SQSEvent{}, err
	}
	var ev events.SQSEvent
	if json.Unmarshal(b, &ev) == nil && len(ev.Records) > 0 {
		return ev, nil
	}
	return events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "local-1", Body: string(b), EventSource: "aws:sqs",
		Attributes: map[string]string{"ApproximateReceiveCount": "1", "SentTimestamp": fmt.Sprint(time.Now().UnixMilli())},
	}}}, nil
}

func invokeEnabler(ctx context.Context, env *cmdEnv, o *invokeOptions) error {
	d := &o.d
	if o.eventFile == "" {
		return usageErrorf("invoke enabler: --event is required")
	}
	if err := d.need(env, "policy", "accounts-table", "incidents-table", "alerts-topic-arn"); err != nil {
		return err
	}
	ev, err := sqsEventFrom(o.eventFile)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return err
	}
	proc, err := enabler.New(ctx, settings.Enabler{Common: settings.Common{PolicyFile: d.policyFile, AlertsTopicARN: d.alertsTopicARN,
		OrgReaderRoleARN: d.orgReaderRoleARN, MetricsNamespace: settings.DefaultMetricsNamespace, LogLevel: "info"},
		AccountsTable: d.accountsTable, IncidentsTable: d.incidentsTable, RequestQueueURL: d.requestQueueURL, EnableDeadline: time.Hour, SessionName: cliSession(env)}, s.home, env.stderr)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	return batchResult(env, proc.Handle(ctx, ev))
}

// getenvWith answers the functions' configuration lookups from the
// deployment flags first, then the environment.
func getenvWith(d *deployFlags, env *cmdEnv) settings.Getenv {
	flags := map[string]string{
		settings.EnvPolicyFile: d.policyFile, settings.EnvAccountsTable: d.accountsTable, settings.EnvLedgerTable: d.ledgerTable,
		settings.EnvJournalTable:   d.journalTable,
		settings.EnvIncidentsTable: d.incidentsTable, settings.EnvRequestQueueURL: d.requestQueueURL,
		settings.EnvAlertsTopicARN: d.alertsTopicARN, settings.EnvOrgReaderRoleARN: d.orgReaderRoleARN,
	}
	return func(k string) string {
		if v := flags[k]; v != "" {
			return v
		}
		return env.getenv(k)
	}
}

func invokeVerifier(ctx context.Context, env *cmdEnv, o *invokeOptions) error {
	d := &o.d
	if o.eventFile == "" {
		return usageErrorf("invoke verifier: --event is required")
	}
	cfg, err := verifier.LoadConfig(getenvWith(d, env))
	if err != nil {
		return usageErrorf("invoke verifier: %v", err)
	}
	ev, err := sqsEventFrom(o.eventFile)
	if err != nil {
		return fmt.Errorf("invoke: %w", err)
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		return err
	}
	proc, err := verifier.New(ctx, cfg, home, env.stderr)
	if err != nil {
		return fmt.Errorf("invoke verifier: %w", err)
	}
	resp := proc.Handle(ctx, ev)
	// A one-shot run is a whole instance's life: what the ledger writer
	// still holds is written before exit, as at a SIGTERM.
	proc.Shutdown(ctx)
	return batchResult(env, resp)
}

func invokeWatchdog(ctx context.Context, env *cmdEnv, o *invokeOptions) error {
	d := &o.d
	now := time.Now()
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return usageErrorf("invoke watchdog: --now: %v", err)
		}
		now = t
	}
	cfg, err := watchdog.LoadConfig(getenvWith(d, env))
	if err != nil {
		return usageErrorf("invoke watchdog: %v", err)
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		return err
	}
	w, err := watchdog.New(ctx, cfg, home, env.stderr)
	if err != nil {
		return fmt.Errorf("invoke watchdog: %w", err)
	}
	rep, err := w.Run(ctx, now)
	if err != nil {
		return fmt.Errorf("invoke watchdog: %w", err)
	}
	if err := writeJSON(env, rep); err != nil {
		return err
	}
	switch {
	case len(rep.Errors) > 0:
		return fmt.Errorf("invoke watchdog: the pass met %d error(s) (see \"errors\")", len(rep.Errors))
	case rep.OpenIncidents > 0:
		return errProblemSilent
	}
	return nil
}
