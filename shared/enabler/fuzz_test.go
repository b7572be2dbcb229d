package enabler_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/orgevent"
)

// FuzzDecideRecord: the record decision never panics, a reject is always a
// poison error and nothing else is, and an acting decision names a
// 12-digit account.
func FuzzDecideRecord(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b), "aws:sqs")
		}
	}
	f.Add(`{"trailwarden":"converge","version":1,"account":"333333333333","reason":"cli"}`, "aws:sqs")
	f.Add(`{}`, "aws:sns")
	origin := orgevent.Origin{ManagementAccount: "111111111111", OrganizationID: "o-a1b2c3d4e5"}
	f.Fuzz(func(t *testing.T, body, source string) {
		req, err := enabler.DecideRecord(events.SQSMessage{Body: body, EventSource: source}, origin)
		d := req.Decision
		if (d.Action == orgevent.ActionReject) != (err != nil) {
			t.Fatalf("action %s with error %v", d.Action, err)
		}
		if err != nil && fault.KindOf(err) != fault.Poison {
			t.Fatalf("reject is not poison: %v", err)
		}
		if acts(d) && len(d.Account) != 12 {
			t.Fatalf("acting decision %s without an account id: %q", d.Action, d.Account)
		}
	})
}
