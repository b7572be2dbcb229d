package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/workitem"
)

const explainLong = `Reads an Organizations or trail tamper EventBridge event (bare, or an SQS
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

It makes no AWS call. Exit codes: 0 when every message would be accepted,
1 when one is refused (a malformed message, a rejected delivery), 2 when
the input cannot be read.`

const explainExample = `  trailwarden explain events/organizations/create-account-result-succeeded.json
  trailwarden explain --policy examples/policy.yaml --members 333333333333 events/delivery/sqs-foreign-account.json`

type explainOptions struct {
	policyFile, members string
}

func newExplainCmd(env *cmdEnv) *cobra.Command {
	var o explainOptions
	c := &cobra.Command{Use: "explain FILE|-", Short: "say what trailwarden would do with an event or a delivery notification (no AWS calls)",
		Long: explainLong, Example: explainExample,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErrorf("explain: want exactly one FILE (or - for stdin)")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error { return runExplain(env, o, args[0]) }}
	c.Flags().StringVar(&o.policyFile, "policy", "", "policy file: turns on bucket, prefix and organization checks for deliveries")
	c.Flags().StringVar(&o.members, "members", "", "comma-separated member account ids: turns on membership checks for deliveries")
	return c
}

// orgDecision is one line of the organizations-event explanation.
type orgDecision struct {
	MessageID string `json:"messageId"`
	Event     string `json:"event"`
	Action    string `json:"action"`
	Account   string `json:"account"`
	Reason    string `json:"reason"`
}

func runExplain(env *cmdEnv, o explainOptions, file string) error {
	var payload []byte
	var err error
	if file == "-" {
		payload, err = io.ReadAll(io.LimitReader(env.stdin, 8<<20))
	} else {
		payload, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	if isOrganizationsInput(payload) {
		return explainOrganizations(env, payload, o.policyFile)
	}
	return explainDelivery(env, payload, o.policyFile, o.members)
}

// explainOrganizations prints the decisions; a rejected record (or an
// unreadable SQS event) is a refused input (exit 1).
func explainOrganizations(env *cmdEnv, payload []byte, policyFile string) error {
	var trailNames []string
	var origin orgevent.Origin
	if policyFile != "" {
		pol, err := policy.Load(policyFile)
		if err != nil {
			printProblems(env, policyFile, err)
			return exitUsageSilent
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
	refused := err != nil
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
		refused = refused || dec.Action == orgevent.ActionReject
		out.Decisions = append(out.Decisions, d)
	}
	if err := writeJSON(env, out); err != nil {
		return err
	}
	if refused {
		return errProblemSilent
	}
	return nil
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
