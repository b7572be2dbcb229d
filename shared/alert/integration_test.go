package alert

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

// TestTopicDeliversPerProtocol: through the emulator's SNS (which enforces
// the MessageStructure json rules), an SQS subscriber receives the JSON
// document in the notification's Message and the subject; a Message
// without "default" is refused.
func TestTopicDeliversPerProtocol(t *testing.T) {
	srv := emulator.Reset(t)
	ctx := t.Context()
	cfg, err := srv.Config(ctx, "111111111111", "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	sn, q := sns.NewFromConfig(cfg), sqs.NewFromConfig(cfg)
	topic, err := sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("pager")})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	a := cases["delivery-stopped-opened"]
	if err := (&Publisher{SNS: sn, TopicARN: aws.ToString(topic.TopicArn), RunbookBase: base}).Publish(ctx, a); err != nil {
		t.Fatal(err)
	}
	out, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: queue.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("%v, %d messages", err, len(out.Messages))
	}
	var env struct{ Subject, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(out.Messages[0].Body)), &env); err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal([]byte(env.Message), &doc); err != nil {
		t.Fatalf("sqs body is not the document: %v\n%s", err, env.Message)
	}
	if env.Subject != Subject(a) || doc.SchemaVersion != SchemaVersion || doc.IncidentID != a.IncidentID || len(doc.Regions) != 2 {
		t.Fatalf("subject %q, document %+v", env.Subject, doc)
	}
	if _, err := sn.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, MessageStructure: aws.String("json"),
		Message: aws.String(`{"email": "no default"}`)}); err == nil {
		t.Fatal("a structured message without default was accepted")
	}
}
