package enabler_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/orgdir"
	"github.com/trailwarden/trailwarden/shared/orgevent"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// CorpusDir holds hostile request-queue inputs: NNN-name.json (a record's
// body, or with .record.json a whole SQS record) and NNN-name.want (the
// decision's action, written before the code ran).
const corpusDir = "testdata/hostile"

// CorpusInput is one hostile input and its recorded decision.
type corpusInput struct {
	Name string
	Rec  events.SQSMessage
	Want orgevent.Action
}

func loadCorpus(t *testing.T) []corpusInput {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusInput
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		base := strings.TrimSuffix(strings.TrimSuffix(f, ".json"), ".record")
		want, err := os.ReadFile(base + ".want")
		if err != nil {
			t.Fatalf("%s has no recorded decision: %v", f, err)
		}
		in := corpusInput{Name: filepath.Base(base), Want: orgevent.Action(strings.TrimSpace(string(want))),
			Rec: events.SQSMessage{MessageId: filepath.Base(base), Body: string(b), EventSource: "aws:sqs"}}
		if strings.HasSuffix(f, ".record.json") {
			in.Rec = events.SQSMessage{}
			if err := json.Unmarshal(b, &in.Rec); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		out = append(out, in)
	}
	if len(out) < 150 {
		t.Fatalf("corpus has %d inputs, want at least 150", len(out))
	}
	return out
}

func examplePolicy(t *testing.T) *policy.Policy {
	t.Helper()
	pol, err := policy.Load(filepath.Join("..", "..", "examples", "policy.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return pol
}

// stopDirectory records that the handler acted on a record (everything it
// acts on starts with DescribeAccount) and stops it there.
type stopDirectory struct{ calls atomic.Int32 }

var errStop = errors.New("corpus: stop after the decision")

func (d *stopDirectory) Describe(context.Context, string) (orgdir.Account, error) {
	d.calls.Add(1)
	return orgdir.Account{}, fault.New(fault.Retryable, "CorpusStop", errStop)
}
func (d *stopDirectory) Path(context.Context, string) ([]string, error) { return nil, errStop }
func (d *stopDirectory) Forget(string)                                  {}

// acts reports whether the enabler acts on (describes the account of) a
// decision of this action.
func acts(d orgevent.Decision) bool {
	switch d.Action {
	case orgevent.ActionEnable, orgevent.ActionReevaluate, orgevent.ActionDrift, enabler.ActionConverge:
		return true
	}
	return orgevent.IsDeparture(d)
}

// TestHostileCorpus runs every hostile input through the enabler's decision
// and its handler: no panic, the recorded decision, a poison error exactly
// for rejects, and the handler acts exactly on acting decisions.
func TestHostileCorpus(t *testing.T) {
	pol := examplePolicy(t)
	for _, in := range loadCorpus(t) {
		t.Run(in.Name, func(t *testing.T) {
			req, err := enabler.DecideRecord(in.Rec, enabler.OriginOf(pol))
			if req.Decision.Action != in.Want {
				t.Fatalf("decision %s (%s), recorded %s", req.Decision.Action, req.Decision.Reason, in.Want)
			}
			if (err != nil) != (in.Want == orgevent.ActionReject) || (err != nil && fault.KindOf(err) != fault.Poison) {
				t.Fatalf("error %v for %s", err, in.Want)
			}
			dir := &stopDirectory{}
			p := &enabler.Processor{Policy: pol, Directory: dir, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}
			herr := p.Record(t.Context(), in.Rec)
			if in.Want == orgevent.ActionReject {
				if fault.KindOf(herr) != fault.Poison || dir.calls.Load() != 0 {
					t.Fatalf("handler: %v after %d call(s); want poison before any call", herr, dir.calls.Load())
				}
				return
			}
			if acted := dir.calls.Load() > 0; acted != acts(req.Decision) {
				t.Fatalf("handler acted=%v (%v) on %s", acted, herr, req.Decision.Action)
			}
			if !acts(req.Decision) && herr != nil {
				t.Fatalf("handler error %v on %s", herr, req.Decision.Action)
			}
		})
	}
}
