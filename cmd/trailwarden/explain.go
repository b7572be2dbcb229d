package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

const explainUsage = `Usage:
  trailwarden explain [--policy FILE] [--members ID,ID,...] FILE|-

Reads an Organizations or trail tamper EventBridge event (bare, or an SQS
event wrapping them) and prints
  {"input": "organizations-event", "decisions": [{messageId, event, action, account, reason}]}
where action is enable | reevaluate | record | ignore | reject | drift |
converge (reject: malformed, it would go to the DLQ; converge: one of
trailwarden's own work items). With --policy, Organizations events are
verified against the policy's management account and organization as the
enabler verifies them (ignore, "unverified origin: …").

Or reads a CloudTrail delivery notification (an SQS event, one SNS envelope,
a bare CloudTrail notification, the validation text, or an S3 EventBridge
event) and prints
  {"input": "delivery-notification", "messages": [...], "objects": [...]}
--policy turns on the bucket, prefix and organization checks; --members turns
on membership (without it membership is not judged).

Exit code 0 whenever the result could be printed.

Example:
  trailwarden explain events/organizations/create-account-result-succeeded.json
  trailwarden explain --policy examples/policy.yaml --members 333333333333 events/delivery/sqs-foreign-account.json
`

var explainCommand = command{
	summary: "say what trailwarden would do with an event or a delivery notification (no AWS calls)",
	usage:   explainUsage,
	run:     runExplain,
}

// orgDecision is one line of the organizations-event explanation.
type orgDecision struct {
	MessageID string `json:"messageId"`
	Event     string `json:"event"`
	Action    string `json:"action"`
	Account   string `json:"account"`
	Reason    string `json:"reason"`
}

func runExplain(ctx context.Context, env *cmdEnv, args []string) int {
	fs := newFlags(env, "explain", explainUsage)
	policyFile := fs.String("policy", "", "policy file: turns on bucket, prefix and organization checks for deliveries")
	members := fs.String("members", "", "comma-separated member account ids: turns on membership checks for deliveries")
	pos, err := parse(fs, args)
	if err != nil {
		return flagErr(err)
	}
	if len(pos) != 1 {
		return usageErr(env, "explain: want exactly one FILE (or - for stdin)")
	}
	var payload []byte
	if pos[0] == "-" {
		payload, err = io.ReadAll(io.LimitReader(env.stdin, 8<<20))
	} else {
		payload, err = os.ReadFile(pos[0])
	}
	if err != nil {
		env.errorf("explain: %v", err)
		return exitProblem
	}
	if isOrganizationsInput(payload) {
		return explainOrganizations(env, payload, *policyFile)
	}
	return explainDelivery(env, payload, *policyFile, *members)
}

func explainOrganizations(env *cmdEnv, payload []byte, policyFile string) int {
	var trailNames []string
	var origin orgevent.Origin
	if policyFile != "" {
		pol, err := policy.Load(policyFile)
		if err != nil {
			printProblems(env, policyFile, err)
			return exitProblem
		}
		trailNames = verifier.TrailNames(pol)
		origin = enabler.OriginOf(pol)
	}
	out := struct {
		Input     string        `json:"input"`
		Decisions []orgDecision `json:"decisions"`
		Error     string        `json:"error,omitempty"`
	}{Input: "organizations-event", Decisions: []orgDecision{}}
	recs, err := requestRecords(payload)
	if err != nil {
		out.Error = err.Error()
	}
	for _, r := range recs {
		var dec orgevent.Decision
		if r.err != nil {
			dec, _ = orgevent.Rejected(r.err.Error())
		} else {
			req, _ := enabler.DecideRecord(r.rec, origin)
			dec = req.Decision
		}
		d := orgDecision{MessageID: r.rec.MessageId, Event: dec.Event, Action: string(dec.Action), Account: dec.Account, Reason: dec.Reason}
		// With the policy, a trail change is drift only for trailwarden's
		// trail, as the enabler decides.
		if dec.Action == orgevent.ActionDrift && len(trailNames) > 0 {
			ours := false
			for _, n := range trailNames {
				ours = ours || orgevent.MatchesTrail(dec, n)
			}
			if !ours {
				d.Action, d.Account = string(orgevent.ActionIgnore), ""
				d.Reason = fmt.Sprintf("%s on trail %s, which is not trailwarden's trail", dec.Event, dec.TrailName)
			}
		}
		out.Decisions = append(out.Decisions, d)
	}
	return writeJSON(env, out)
}

// requestRecord is one record of the request queue as explain reads it; err
// says why a record of an SQS event could not be read at all.
type requestRecord struct {
	rec events.SQSMessage
	err error
}

// requestRecords reads a Lambda SQS event record by record (one unreadable
// record does not hide the others), or a bare body as one record.
func requestRecords(payload []byte) ([]requestRecord, error) {
	if orgevent.DetectKind(payload) != orgevent.KindSQS {
		return []requestRecord{{rec: events.SQSMessage{Body: string(payload)}}}, nil
	}
	var ev struct {
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, fmt.Errorf("malformed SQS event: %w", err)
	}
	out := make([]requestRecord, 0, len(ev.Records))
	for i, raw := range ev.Records {
		var r events.SQSMessage
		if err := json.Unmarshal(raw, &r); err != nil {
			out = append(out, requestRecord{err: fmt.Errorf("SQS record %d is malformed: %w", i, err)})
			continue
		}
		out = append(out, requestRecord{rec: r})
	}
	return out, nil
}

// isOrganizationsInput tells request-queue input (Organizations and tamper
// events, trailwarden's own work items; bare or in SQS records) from
// delivery notifications.
func isOrganizationsInput(payload []byte) bool {
	var probe struct {
		Source  string `json:"source"`
		Records []struct {
			Body string `json:"body"`
		} `json:"Records"`
	}
	if json.Unmarshal(bytes.TrimSpace(payload), &probe) != nil {
		return false
	}
	if workitem.IsWorkItem(payload) {
		return true
	}
	eventSource := func(s string) bool { return s == orgevent.SourceOrganizations || s == orgevent.SourceCloudTrail }
	if probe.Source != "" {
		return eventSource(probe.Source)
	}
	for _, r := range probe.Records {
		if workitem.IsWorkItem([]byte(r.Body)) {
			return true
		}
		var body struct {
			Source     string `json:"source"`
			DetailType string `json:"detail-type"`
		}
		if json.Unmarshal([]byte(r.Body), &body) == nil && body.DetailType != "" {
			return eventSource(body.Source)
		}
	}
	return false
}
