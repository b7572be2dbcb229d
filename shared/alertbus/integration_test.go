package alertbus

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

// TestRuleReceivesAlert: a subscriber's rule on the bus (the documented
// example pattern) with an SQS target receives the alert event.
func TestRuleReceivesAlert(t *testing.T) {
	srv := emulator.Reset(t)
	ctx := t.Context()
	cfg, err := srv.Config(ctx, "111111111111", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	eb, q := eventbridge.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	if _, err := eb.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String("trailwarden-central")}); err != nil {
		t.Fatal(err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tickets")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	pattern := `{"source": ["trailwarden.alerts"], "detail-type": [{"prefix": "trailwarden alert "}], "detail": {"severity": ["critical", "high"]}}`
	if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String("tickets"), EventBusName: aws.String("trailwarden-central"),
		EventPattern: aws.String(pattern)}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("tickets"), EventBusName: aws.String("trailwarden-central"),
		Targets: []ebtypes.Target{{Id: aws.String("q"), Arn: aws.String(attrs.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	p := &Publisher{Events: eb, Bus: "trailwarden-central"}
	low := sample
	low.Severity, low.Kind = "info", "recovered"
	if err := p.Publish(ctx, low); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(ctx, sample); err != nil {
		t.Fatal(err)
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%d messages, want the critical one only", len(out.Messages))
	}
	var ev struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Detail     Detail `json:"detail"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Source != Source || ev.DetailType != DetailType(sample.Kind) || ev.Detail.SchemaVersion != SchemaVersion ||
		ev.Detail.IncidentID != sample.IncidentID || ev.Detail.Account != sample.Account {
		t.Fatalf("event %+v", ev)
	}
}
