package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/settings"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

const invokeUsage = `Usage:
  trailwarden invoke enabler  --event FILE [deployment flags]
  trailwarden invoke verifier --event FILE [deployment flags]
  trailwarden invoke watchdog [--now TIME] [deployment flags]

Runs the same handler the Lambda function runs, in this process, against the
AWS endpoint in use (AWS_ENDPOINT_URL for the emulator), and prints its
response (for SQS handlers, the partial batch response; for the watchdog,
the pass's report). The enabler accepts an SQS event wrapping EventBridge
events or a bare EventBridge event; the verifier an SQS event or one bare
message body (an SNS envelope, a CloudTrail notification, an S3 event).
--now (RFC 3339) runs the watchdog's pass as of that time.

Example:
  trailwarden invoke enabler --event events/organizations/sqs-wrapped-create-account-result.json \
    --policy policy.yaml --accounts-table trailwarden-accounts --request-queue-url URL --alerts-topic-arn ARN
`

var invokeCommand = command{
	summary: "run a function's real handler here, against the configured AWS endpoint",
	usage:   invokeUsage,
	run:     runInvoke,
}

// invokers are the functions invoke can run.
var invokers = map[string]func(ctx context.Context, env *cmdEnv, args []string) int{
	"enabler":  invokeEnabler,
	"verifier": invokeVerifier,
	"watchdog": invokeWatchdog,
}

func runInvoke(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 {
		return usageErr(env, "invoke: name a function\n%s", invokeUsage)
	}
	fn, ok := invokers[args[0]]
	if !ok {
		return usageErr(env, "invoke: unknown function %q", args[0])
	}
	return fn(ctx, env, args[1:])
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

func invokeEnabler(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "invoke enabler", invokeUsage)
	var d deployFlags
	d.register(fs, env)
	eventFile := fs.String("event", "", "event file (required)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if *eventFile == "" || !d.need(env, "policy", "accounts-table", "incidents-table", "alerts-topic-arn") {
		return usageErr(env, "invoke enabler: --event and the deployment flags are required")
	}
	ev, err := sqsEventFrom(*eventFile)
	if err != nil {
		env.errorf("invoke: %v", err)
		return exitProblem
	}
	s, err := d.open(ctx, env)
	if err != nil {
		return exitProblem
	}
	proc, err := enabler.New(ctx, settings.Enabler{Common: settings.Common{PolicyFile: d.policyFile, AlertsTopicARN: d.alertsTopicARN,
		OrgReaderRoleARN: d.orgReaderRoleARN, MetricsNamespace: settings.DefaultMetricsNamespace, LogLevel: "info"},
		AccountsTable: d.accountsTable, IncidentsTable: d.incidentsTable, RequestQueueURL: d.requestQueueURL, EnableDeadline: time.Hour, SessionName: cliSession(env)}, s.home, env.stderr)
	if err != nil {
		env.errorf("invoke: %v", err)
		return exitProblem
	}
	return writeJSON(env, proc.Handle(ctx, ev))
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

func invokeVerifier(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "invoke verifier", invokeUsage)
	var d deployFlags
	d.register(fs, env)
	eventFile := fs.String("event", "", "event file (required)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	if *eventFile == "" {
		return usageErr(env, "invoke verifier: --event is required")
	}
	cfg, err := verifier.LoadConfig(getenvWith(&d, env))
	if err != nil {
		env.errorf("invoke verifier: %v", err)
		return exitUsage
	}
	ev, err := sqsEventFrom(*eventFile)
	if err != nil {
		env.errorf("invoke: %v", err)
		return exitProblem
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	proc, err := verifier.New(ctx, cfg, home, env.stderr)
	if err != nil {
		env.errorf("invoke verifier: %v", err)
		return exitProblem
	}
	resp := proc.Handle(ctx, ev)
	// A one-shot run is a whole instance's life: what the ledger writer
	// still holds is written before exit, as at a SIGTERM.
	proc.Shutdown(ctx)
	return writeJSON(env, resp)
}

func invokeWatchdog(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "invoke watchdog", invokeUsage)
	var d deployFlags
	d.register(fs, env)
	nowFlag := fs.String("now", "", "run the pass as of this time (RFC 3339; default now)")
	if _, err := parse(fs, args); err != nil {
		return flagErr(err)
	}
	now := time.Now()
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			return usageErr(env, "invoke watchdog: --now: %v", err)
		}
		now = t
	}
	cfg, err := watchdog.LoadConfig(getenvWith(&d, env))
	if err != nil {
		env.errorf("invoke watchdog: %v", err)
		return exitUsage
	}
	home, err := awsenv.Load(ctx, d.region)
	if err != nil {
		env.errorf("%v", err)
		return exitProblem
	}
	w, err := watchdog.New(ctx, cfg, home, env.stderr)
	if err != nil {
		env.errorf("invoke watchdog: %v", err)
		return exitProblem
	}
	rep, err := w.Run(ctx, now)
	if err != nil {
		env.errorf("invoke watchdog: %v", err)
		return exitProblem
	}
	return writeJSON(env, rep)
}
