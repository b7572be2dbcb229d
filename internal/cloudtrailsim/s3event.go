package cloudtrailsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// ObjectCreated describes an S3 "Object Created" event as S3 sends it to
// EventBridge (S3 user guide, "EventBridge event message structure").
type ObjectCreated struct {
	ID        string // event id (UUID)
	Account   string // bucket owner
	Region    string // bucket Region
	Time      time.Time
	Bucket    string
	Key       string
	Size      int64
	ETag      string
	VersionID string // "" when the bucket is not versioned (field omitted)
	Sequencer string
	RequestID string
	Requester string // account id or service principal of the writer
	SourceIP  string
	Reason    string // "PutObject" when ""
}

type s3Event struct {
	Version    string        `json:"version"`
	ID         string        `json:"id"`
	DetailType string        `json:"detail-type"`
	Source     string        `json:"source"`
	Account    string        `json:"account"`
	Time       string        `json:"time"`
	Region     string        `json:"region"`
	Resources  []string      `json:"resources"`
	Detail     s3EventDetail `json:"detail"`
}

type s3EventDetail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		Size      int64  `json:"size"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id,omitempty"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
	RequestID string `json:"request-id"`
	Requester string `json:"requester"`
	SourceIP  string `json:"source-ip-address"`
	Reason    string `json:"reason"`
}

// Bytes renders the event JSON (compact; EventBridge delivers it to SQS as
// the message body).
func (e ObjectCreated) Bytes() []byte {
	ev := s3Event{
		Version: "0", ID: e.ID, DetailType: "Object Created", Source: "aws.s3",
		Account: e.Account, Time: e.Time.UTC().Format(isoSeconds), Region: e.Region,
		Resources: []string{"arn:" + partition(e.Region) + ":s3:::" + e.Bucket},
	}
	dt := &ev.Detail
	dt.Version = "0"
	dt.Bucket.Name = e.Bucket
	dt.Object.Key = e.Key
	dt.Object.Size = e.Size
	dt.Object.ETag = e.ETag
	dt.Object.VersionID = e.VersionID
	dt.Object.Sequencer = e.Sequencer
	dt.RequestID = e.RequestID
	dt.Requester = e.Requester
	dt.SourceIP = e.SourceIP
	dt.Reason = e.Reason
	if dt.Reason == "" {
		dt.Reason = "PutObject"
	}
	return marshalNoEscape(ev)
}

// partition derives the ARN partition from a Region code.
func partition(region string) string { return awsid.Partition(region) }

// marshalNoEscape is json.Marshal without HTML escaping (AWS does not write
// \u0026 for "&"), without the trailing newline.
func marshalNoEscape(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Only structs of strings, numbers and slices of them are encoded here:
	// encoding cannot fail.
	_ = enc.Encode(v)
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// newObjectCreated fills the random parts of an Object Created event. What
// S3 reports as requester and source-ip-address for objects an AWS service
// writes is not documented; we use the service principal.
func newObjectCreated(r *rand.Rand, account, region, bucket, key string, size int64, at time.Time) ObjectCreated {
	return ObjectCreated{
		ID: newUUID(r), Account: account, Region: region, Time: at,
		Bucket: bucket, Key: key, Size: size,
		ETag:      fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()),
		Sequencer: fmt.Sprintf("%016X", r.Uint64()),
		RequestID: upperID(r, 16),
		Requester: "cloudtrail.amazonaws.com",
		SourceIP:  "cloudtrail.amazonaws.com",
		Reason:    "PutObject",
	}
}

// DigestEvent builds the EventBridge S3 "Object Created" event for a digest
// (or any) object the Deliverer wrote, in the trail's bucket: account and
// Region are Trail.BucketAccount and Trail.BucketRegion. The requester and
// source address of objects written by an AWS service are the service
// principal, as S3 reports for service deliveries.
func (d *Deliverer) DigestEvent(key string, size int64, at time.Time) []byte {
	d.mu.Lock()
	ev := newObjectCreated(d.rng, d.trail.BucketAccount, d.trail.BucketRegion, d.trail.Bucket, key, size, d.when(at))
	d.mu.Unlock()
	return ev.Bytes()
}

// SendDigestEvent sends df's Object Created event to the SQS queue at
// queueURL as its body, as an EventBridge rule with an SQS target would,
// for tests that do not wire S3 → EventBridge → SQS.
func (d *Deliverer) SendDigestEvent(ctx context.Context, q SQSAPI, queueURL string, df DigestFile) error {
	body := d.DigestEvent(df.Key, df.Size, df.At)
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:    aws.String(queueURL),
		MessageBody: aws.String(string(body)),
	}); err != nil {
		return fmt.Errorf("cloudtrailsim: send digest event to %s: %w", queueURL, err)
	}
	return nil
}

// ObjectDeleted describes an S3 "Object Deleted" event as S3 sends it to
// EventBridge (S3 user guide, "EventBridge event message structure":
// reason DeleteObject or "Lifecycle Expiration"; deletion-type "Permanently
// Deleted" or "Delete Marker Created"; source-ip-address only for events
// caused by an S3 request).
type ObjectDeleted struct {
	ID        string
	Account   string // bucket owner
	Region    string // bucket Region
	Time      time.Time
	Bucket    string
	Key       string
	VersionID string // "" when the bucket is not versioned (field omitted)
	Sequencer string
	RequestID string
	Requester string // the deleter's account id, or s3.amazonaws.com for lifecycle
	SourceIP  string // "" for lifecycle expirations (field omitted)
	Reason    string // "DeleteObject" when ""
	// DeletionType is "Permanently Deleted" when "" and VersionID is "",
	// else "Delete Marker Created".
	DeletionType string
}

type deletedDetail struct {
	Version string `json:"version"`
	Bucket  struct {
		Name string `json:"name"`
	} `json:"bucket"`
	Object struct {
		Key       string `json:"key"`
		ETag      string `json:"etag"`
		VersionID string `json:"version-id,omitempty"`
		Sequencer string `json:"sequencer"`
	} `json:"object"`
	RequestID    string `json:"request-id"`
	Requester    string `json:"requester"`
	SourceIP     string `json:"source-ip-address,omitempty"`
	Reason       string `json:"reason"`
	DeletionType string `json:"deletion-type"`
}

// Bytes renders the event JSON. The key is written as is (S3 URL-encodes
// event keys; CloudTrail's keys have no character that encoding changes,
// as for ObjectCreated); the etag is the empty object's, as in AWS's
// example.
func (e ObjectDeleted) Bytes() []byte {
	var dt deletedDetail
	dt.Version = "0"
	dt.Bucket.Name = e.Bucket
	dt.Object.Key = e.Key
	dt.Object.ETag = "d41d8cd98f00b204e9800998ecf8427e"
	dt.Object.VersionID, dt.Object.Sequencer = e.VersionID, e.Sequencer
	dt.RequestID, dt.Requester, dt.SourceIP = e.RequestID, e.Requester, e.SourceIP
	dt.Reason, dt.DeletionType = e.Reason, e.DeletionType
	if dt.Reason == "" {
		dt.Reason = "DeleteObject"
	}
	if dt.DeletionType == "" {
		dt.DeletionType = "Delete Marker Created"
		if e.VersionID == "" {
			dt.DeletionType = "Permanently Deleted"
		}
	}
	return marshalNoEscape(struct {
		Version    string        `json:"version"`
		ID         string        `json:"id"`
		DetailType string        `json:"detail-type"`
		Source     string        `json:"source"`
		Account    string        `json:"account"`
		Time       string        `json:"time"`
		Region     string        `json:"region"`
		Resources  []string      `json:"resources"`
		Detail     deletedDetail `json:"detail"`
	}{"0", e.ID, "Object Deleted", "aws.s3", e.Account, e.Time.UTC().Format(isoSeconds), e.Region,
		[]string{"arn:" + partition(e.Region) + ":s3:::" + e.Bucket}, dt})
}

// DeleteObjectEvent builds the Object Deleted event of a DeleteObject call
// on key in the trail's bucket by requester (an account id) from sourceIP,
// unversioned (Permanently Deleted).
func (d *Deliverer) DeleteObjectEvent(key, requester, sourceIP string, at time.Time) []byte {
	d.mu.Lock()
	ev := ObjectDeleted{ID: newUUID(d.rng), Account: d.trail.BucketAccount, Region: d.trail.BucketRegion, Time: at,
		Bucket: d.trail.Bucket, Key: key, Sequencer: fmt.Sprintf("%016X", d.rng.Uint64()), RequestID: upperID(d.rng, 16),
		Requester: requester, SourceIP: sourceIP}
	d.mu.Unlock()
	return ev.Bytes()
}

// SendEvent sends an event body to the SQS queue at queueURL, as an
// EventBridge rule with an SQS target would.
func SendEvent(ctx context.Context, q SQSAPI, queueURL string, body []byte) error {
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("cloudtrailsim: send event to %s: %w", queueURL, err)
	}
	return nil
}
