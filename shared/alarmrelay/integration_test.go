package alarmrelay

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/eventsource"
	"github.com/trailwarden/trailwarden/shared/alert"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

type world struct {
	sn          *sns.Client
	q           *sqs.Client
	relay       eventsource.Mapping
	pager, rest string // queue URLs subscribed to the alerts topic
}

func queue(t *testing.T, q *sqs.Client, name string) (url, arn string) {
	t.Helper()
	out, err := q.CreateQueue(t.Context(), &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(t.Context(), &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl), attrs.Attributes["QueueArn"]
}

// newWorld builds the deployment's path on the emulator: alarms topic →
// relay queue (raw delivery off); alerts topic → a pager queue filtering
// {"severity": ["high"]} and a queue taking the rest.
func newWorld(t *testing.T) world {
	srv := emulator.Reset(t)
	ctx := t.Context()
	cfg, err := srv.Config(ctx, testAccount, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	w := world{sn: sns.NewFromConfig(cfg), q: sqs.NewFromConfig(cfg)}
	alarms, err := w.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("TrailwardenAutomation-AlarmNotifications4F2C1D7E-Xq3HcY1bWmZs")})
	if err != nil || aws.ToString(alarms.TopicArn) != testTopic {
		t.Fatalf("%v %v", alarms, err)
	}
	relayURL, relayARN := queue(t, w.q, "alarm-relay")
	w.relay = eventsource.Mapping{SQS: w.q, QueueURL: relayURL, QueueARN: relayARN, Region: "us-east-1"}
	subscribe := func(topic *string, arn string, attrs map[string]string) {
		if _, err := w.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic, Protocol: aws.String("sqs"), Endpoint: aws.String(arn), Attributes: attrs}); err != nil {
			t.Fatal(err)
		}
	}
	subscribe(alarms.TopicArn, relayARN, nil)
	alerts, err := w.sn.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	var pagerARN, restARN string
	w.pager, pagerARN = queue(t, w.q, "pager")
	w.rest, restARN = queue(t, w.q, "rest")
	subscribe(alerts.TopicArn, pagerARN, map[string]string{"FilterPolicy": `{"severity": ["high"]}`})
	subscribe(alerts.TopicArn, restARN, map[string]string{"FilterPolicy": `{"severity": [{"anything-but": ["critical", "high"]}]}`})
	return w
}

// cloudWatchPublish publishes an alarm notification as CloudWatch does: the
// sample's Message and Subject, no message attributes.
func (w world) cloudWatchPublish(t *testing.T, body string) {
	var env struct{ Subject, Message string }
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sn.Publish(t.Context(), &sns.PublishInput{TopicArn: aws.String(testTopic), Subject: aws.String(env.Subject), Message: aws.String(env.Message)}); err != nil {
		t.Fatal(err)
	}
}

func receive(t *testing.T, q *sqs.Client, url string) []alert.Document {
	out, err := q.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var docs []alert.Document
	for _, m := range out.Messages {
		var env struct{ Message string }
		var d alert.Document
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(env.Message), &d); err != nil {
			t.Fatalf("not an alert document: %v\n%s", err, env.Message)
		}
		docs = append(docs, d)
	}
	return docs
}

// TestAlarmReachesFilteredSubscriber: a high alarm's ALARM and then its OK,
// published on the alarms topic as CloudWatch publishes them, reach the
// alerts topic's subscriber whose filter policy is {"severity": ["high"]}
// through the relay, as an opening and its resolution; an info alarm
// reaches only the subscriber of the rest.
func TestAlarmReachesFilteredSubscriber(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	pub := &alert.Publisher{SNS: w.sn, TopicARN: alertsARN(t, w), RunbookBase: testBase}
	r := &Relay{Source: testSource, Publisher: pub, Now: func() time.Time { return at }}
	h := func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse {
		resp, _ := r.Handle(ctx, ev)
		return resp
	}
	for i, name := range []string{"sns-alarm.json", "sns-ok.json"} {
		w.cloudWatchPublish(t, sample(t, name))
		st, err := w.relay.Drain(ctx, h, 5)
		if err != nil || st.Records != 1 || st.Deleted != 1 {
			t.Fatalf("%s: relay %+v %v", name, st, err)
		}
		docs := receive(t, w.q, w.pager)
		want := []string{alert.TransitionOpened, alert.TransitionResolved}[i]
		if len(docs) != 1 || docs[0].Kind != alert.KindAlarm || docs[0].Transition != want || docs[0].Alarm == nil ||
			docs[0].Alarm.Name != "TrailwardenAutomation-DeliveriesDLQDepth" || docs[0].Account != testAccount {
			t.Fatalf("%s: pager received %+v", name, docs)
		}
		if rest := receive(t, w.q, w.rest); len(rest) != 0 {
			t.Fatalf("%s: the rest received %+v", name, rest)
		}
	}
	// An info alarm (each stale pair has its own alert): not the pager's.
	info := edit(t, sample(t, "sns-alarm.json"), func(m map[string]any) {
		m["AlarmName"] = "TrailwardenAutomation-StaleAccountRegions"
		m["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:TrailwardenAutomation-StaleAccountRegions"
	})
	w.cloudWatchPublish(t, info)
	if st, err := w.relay.Drain(ctx, h, 5); err != nil || st.Deleted != 1 {
		t.Fatalf("relay %+v %v", st, err)
	}
	if docs := receive(t, w.q, w.pager); len(docs) != 0 {
		t.Fatalf("pager received an info alarm: %+v", docs)
	}
	if docs := receive(t, w.q, w.rest); len(docs) != 1 || docs[0].Severity != SeverityInfo {
		t.Fatalf("the rest received %+v", docs)
	}
}

func alertsARN(t *testing.T, w world) string {
	out, err := w.sn.CreateTopic(t.Context(), &sns.CreateTopicInput{Name: aws.String("alerts")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.TopicArn)
}

// TestDirectRelayAlarmReachesBodyPolicy: a relay alarm's direct copy on the
// alerts topic (CloudWatch's message, no attributes) passes no attribute
// policy, anything-but included (as AWS documents and the emulator
// enforces), and reaches the subscription docs/alerts.md suggests for it: a
// message-body policy on AlarmName; a relayed alert does not reach that one.
func TestDirectRelayAlarmReachesBodyPolicy(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	alerts := alertsARN(t, w)
	watchURL, watchARN := queue(t, w.q, "relay-watch")
	if _, err := w.sn.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(alerts), Protocol: aws.String("sqs"), Endpoint: aws.String(watchARN),
		Attributes: map[string]string{"FilterPolicyScope": "MessageBody",
			"FilterPolicy": `{"AlarmName": [{"prefix": "TrailwardenAutomation-AlarmRelay"}]}`}}); err != nil {
		t.Fatal(err)
	}
	direct := edit(t, sample(t, "sns-alarm.json"), func(m map[string]any) {
		m["AlarmName"] = "TrailwardenAutomation-AlarmRelayQueueDLQDepth"
		m["AlarmArn"] = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:TrailwardenAutomation-AlarmRelayQueueDLQDepth"
	})
	var env struct{ Message string }
	if err := json.Unmarshal([]byte(direct), &env); err != nil {
		t.Fatal(err)
	}
	if _, err := w.sn.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(alerts), Message: aws.String(env.Message)}); err != nil {
		t.Fatal(err)
	}
	n, rule, err := Parse(direct, testSource)
	if err != nil || !rule.Direct {
		t.Fatalf("%+v %v", rule, err)
	}
	a, _ := ToAlert(n, rule, at)
	if err := (&alert.Publisher{SNS: w.sn, TopicARN: alerts, RunbookBase: testBase}).Publish(ctx, a); err != nil {
		t.Fatal(err)
	}
	out, err := w.q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(watchURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 1 || !strings.Contains(aws.ToString(out.Messages[0].Body), `AlarmRelayQueueDLQDepth`) ||
		strings.Contains(aws.ToString(out.Messages[0].Body), `schemaVersion`) {
		t.Fatalf("body-policy subscriber: %v, %d messages", err, len(out.Messages))
	}
	// The attribute policies take the relayed alert only.
	if docs := receive(t, w.q, w.pager); len(docs) != 1 || docs[0].Kind != alert.KindAlarm {
		t.Fatalf("pager received %+v", docs)
	}
	if docs := receive(t, w.q, w.rest); len(docs) != 0 {
		t.Fatalf("the rest received %+v", docs)
	}
}
