package cloudtrailsim

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// SNSEnvelope is an SNS notification as SQS receives it with raw message
// delivery off (SNS Developer Guide, "Amazon SNS message and JSON formats"). Note SigningCertURL: the Lambda-SNS shape
// spells it differently.
type SNSEnvelope struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	TopicARN         string `json:"TopicArn"`
	Message          string `json:"Message"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
	UnsubscribeURL   string `json:"UnsubscribeURL"`
}

// Bytes renders the envelope as SQS carries it.
func (e SNSEnvelope) Bytes() []byte { return marshalNoEscape(e) }

// newSNSEnvelope wraps message as topicARN's SNS notification at t. The
// signature is 256 random bytes (the size of an RSA-2048 signature), not a
// real SNS signature: nothing outside AWS can verify one against AWS's
// certificate anyway.
func newSNSEnvelope(r *rand.Rand, topicARN, message string, t time.Time) SNSEnvelope {
	region := arnRegion(topicARN)
	host := "https://sns." + region + ".amazonaws.com"
	sig := make([]byte, 256)
	for i := 0; i < len(sig); i += 8 {
		v := r.Uint64()
		for j := range 8 {
			sig[i+j] = byte(v >> (8 * j))
		}
	}
	return SNSEnvelope{
		Type:             "Notification",
		MessageID:        newUUID(r),
		TopicARN:         topicARN,
		Message:          message,
		Timestamp:        t.UTC().Format("2006-01-02T15:04:05.000Z"),
		SignatureVersion: "1",
		Signature:        base64.StdEncoding.EncodeToString(sig),
		SigningCertURL:   fmt.Sprintf("%s/SimpleNotificationService-%016x%016x.pem", host, r.Uint64(), r.Uint64()),
		UnsubscribeURL:   host + "/?Action=Unsubscribe&SubscriptionArn=" + topicARN + ":" + newUUID(r),
	}
}

// arnRegion returns the Region field of an ARN ("us-east-1" if absent).
func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[3] != "" {
		return parts[3]
	}
	return "us-east-1"
}
