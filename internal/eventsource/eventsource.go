// Package eventsource is a small stand-in for Lambda's SQS event source
// mapping, which the emulator cannot run (invoking a Lambda function needs
// Docker there). It receives messages from a real (emulated) SQS queue,
// builds the exact events.SQSEvent Lambda would pass, calls the handler in
// process, and deletes the records the handler did not report as failed —
// what Lambda does with ReportBatchItemFailures. Failed records stay on the
// queue, become visible again, and move to the DLQ after maxReceiveCount
// receives, through SQS's own redrive.
package eventsource

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Handler is an SQS Lambda handler with partial batch responses.
type Handler func(ctx context.Context, ev events.SQSEvent) events.SQSEventResponse

// Mapping polls one queue for one handler.
type Mapping struct {
	SQS      *sqs.Client
	QueueURL string
	QueueARN string
	Region   string
	// BatchSize is at most 10 (default 10).
	BatchSize int32
	// VisibilityTimeout for received messages, in seconds (0: the queue's).
	VisibilityTimeout int32
	// RetryNow makes failed records visible again at once (fast tests), as
	// if their visibility timeout had passed.
	RetryNow bool
}

// Stats sums what Drain did.
type Stats struct {
	Batches, Records, Failed, Deleted int
}

// PollOnce receives one batch and handles it. It returns the number of
// records received (0 when the queue was empty).
func (m *Mapping) PollOnce(ctx context.Context, h Handler, st *Stats) (int, error) {
	size := m.BatchSize
	if size <= 0 || size > 10 {
		size = 10
	}
	out, err := m.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(m.QueueURL), MaxNumberOfMessages: size, VisibilityTimeout: m.VisibilityTimeout,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return 0, fmt.Errorf("receive from %s: %w", m.QueueURL, err)
	}
	if len(out.Messages) == 0 {
		return 0, nil
	}
	ev := events.SQSEvent{}
	for _, msg := range out.Messages {
		ev.Records = append(ev.Records, m.record(msg))
	}
	resp := h(ctx, ev)
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	if st != nil {
		st.Batches++
		st.Records += len(ev.Records)
		st.Failed += len(failed)
	}
	for _, msg := range out.Messages {
		if failed[aws.ToString(msg.MessageId)] {
			if m.RetryNow {
				if _, err := m.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(m.QueueURL),
					ReceiptHandle: msg.ReceiptHandle, VisibilityTimeout: 0}); err != nil {
					return len(out.Messages), fmt.Errorf("make failed message visible: %w", err)
				}
			}
			continue
		}
		if _, err := m.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.QueueURL), ReceiptHandle: msg.ReceiptHandle}); err != nil {
			return len(out.Messages), fmt.Errorf("delete handled message: %w", err)
		}
		if st != nil {
			st.Deleted++
		}
	}
	return len(out.Messages), nil
}

// Drain polls until the queue answers empty or maxBatches were handled.
func (m *Mapping) Drain(ctx context.Context, h Handler, maxBatches int) (Stats, error) {
	var st Stats
	for i := 0; i < maxBatches; i++ {
		n, err := m.PollOnce(ctx, h, &st)
		if err != nil || n == 0 {
			return st, err
		}
	}
	return st, nil
}

func (m *Mapping) record(msg sqstypes.Message) events.SQSMessage {
	attrs := map[string]string{}
	for k, v := range msg.Attributes {
		attrs[k] = v
	}
	if _, ok := attrs["ApproximateReceiveCount"]; !ok {
		attrs["ApproximateReceiveCount"] = strconv.Itoa(1)
	}
	mattrs := map[string]events.SQSMessageAttribute{}
	for k, v := range msg.MessageAttributes {
		mattrs[k] = events.SQSMessageAttribute{StringValue: v.StringValue, DataType: aws.ToString(v.DataType), BinaryValue: v.BinaryValue}
	}
	return events.SQSMessage{
		MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle), Body: aws.ToString(msg.Body),
		Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: attrs, MessageAttributes: mattrs,
		EventSource: "aws:sqs", EventSourceARN: m.QueueARN, AWSRegion: m.Region,
	}
}
