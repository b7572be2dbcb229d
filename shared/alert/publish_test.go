package alert

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

type fakeSNS struct{ in []*sns.PublishInput }

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.in = append(f.in, in)
	return &sns.PublishOutput{}, nil
}

// TestPublishAttributes: every message carries severity, kind and account
// as SNS message attributes (String), so subscribers filter with a
// subscription filter policy; an alert about no one account says so.
func TestPublishAttributes(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Alert
		want map[string]string
	}{
		{"account", Alert{Kind: KindDeliveryStopped, Severity: "critical", Account: "111122223333", Reason: "r"},
			map[string]string{"severity": "critical", "kind": KindDeliveryStopped, "account": "111122223333"}},
		{"organization-wide, no severity", Alert{Kind: KindRecovered, Reason: "r"},
			map[string]string{"severity": "info", "kind": KindRecovered, "account": AccountNone}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeSNS{}
			if err := (&Publisher{SNS: f, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts"}).Publish(t.Context(), tc.in); err != nil {
				t.Fatal(err)
			}
			got := f.in[0].MessageAttributes
			if len(got) != len(tc.want) {
				t.Errorf("attributes %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if a, ok := got[k]; !ok || aws.ToString(a.DataType) != "String" || aws.ToString(a.StringValue) != v {
					t.Errorf("attribute %s = %+v, want String %q", k, a, v)
				}
			}
		})
	}
}

type fakeBus struct {
	err error
	got []Alert
}

func (f *fakeBus) Publish(_ context.Context, a Alert) error {
	f.got = append(f.got, a)
	return f.err
}

// TestPublishBus: the bus receives the alert (with its summary) before the
// topic; a bus failure fails Publish and nothing goes to the topic, so the
// retry delivers both.
func TestPublishBus(t *testing.T) {
	a := Alert{Kind: KindTampered, Severity: "high", Account: "111122223333", Reason: "StopLogging"}
	f, bus := &fakeSNS{}, &fakeBus{}
	p := &Publisher{SNS: f, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts", Sinks: []Sink{nil, bus}}
	if err := p.Publish(t.Context(), a); err != nil || len(bus.got) != 1 || len(f.in) != 1 || bus.got[0].Summary == "" {
		t.Fatalf("err %v, bus %d, sns %d", err, len(bus.got), len(f.in))
	}
	bus.err = context.DeadlineExceeded
	if err := p.Publish(t.Context(), a); err == nil || len(f.in) != 1 {
		t.Fatalf("bus failed: err %v, sns %d", err, len(f.in))
	}
}

// TestPublishPerProtocol: one Publish carries every protocol's body
// (MessageStructure json) and an ASCII subject; sinks and subscribers get
// no e-mail address.
func TestPublishPerProtocol(t *testing.T) {
	f, bus := &fakeSNS{}, &fakeBus{}
	a := cases["trail-tampered-opened"]
	a.Summarize()
	if err := (&Publisher{SNS: f, TopicARN: "arn:aws:sns:us-east-1:111111111111:alerts", Sinks: []Sink{bus}, RunbookBase: base}).Publish(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	in := f.in[0]
	if aws.ToString(in.MessageStructure) != "json" || aws.ToString(in.Subject) != Subject(a) {
		t.Fatalf("structure %q subject %q", aws.ToString(in.MessageStructure), aws.ToString(in.Subject))
	}
	want, _ := Message(a, base)
	if aws.ToString(in.Message) != want {
		t.Errorf("message differs from Message(a)")
	}
	if strings.Contains(aws.ToString(in.Message), "alice@") || strings.Contains(bus.got[0].Event.Actor, "@") {
		t.Errorf("an e-mail address went out: %s / %s", aws.ToString(in.Message), bus.got[0].Event.Actor)
	}
}
