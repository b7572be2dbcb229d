package integritywatch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/jsondup"
	"github.com/trailwarden/trailwarden/shared/logkey"
)

// CodeLogObjectDeleted: an object under AWSLogs/ was deleted by an S3 API
// call (DeleteObject; not the bucket's own lifecycle expiration).
const CodeLogObjectDeleted = "log-object-deleted"

// S3 "Object Deleted" values (S3 User Guide, "EventBridge event message
// structure", event message detail field).
const (
	ReasonDeleteObject         = "DeleteObject"
	ReasonLifecycleExpiration  = "Lifecycle Expiration"
	DeletionPermanentlyDeleted = "Permanently Deleted"
	DeletionMarkerCreated      = "Delete Marker Created"
)

// ErrBadChange is wrapped by ParseChange's errors for a malformed
// deletion event; ErrNotDeletion is its error for another event.
var (
	ErrBadChange   = errors.New("malformed S3 object event")
	ErrNotDeletion = errors.New("not an S3 Object Deleted event")
)

// MaxChangeSize bounds an event body (SQS's maximum message size).
const MaxChangeSize = 256 * 1024

// Change is an S3 "Object Deleted" event as EventBridge delivers it (S3
// User Guide, "EventBridge event message structure"). Key is URL-decoded.
type Change struct {
	EventID, Account, Region string
	Time                     time.Time
	Bucket, Key              string
	VersionID, Sequencer     string
	Reason, DeletionType     string
	// Requester is the AWS account id or service principal that asked;
	// SourceIP is present only for events caused by an S3 request.
	Requester, SourceIP string
}

type changeEvent struct {
	Version    *string          `json:"version"`
	ID         *string          `json:"id"`
	DetailType *string          `json:"detail-type"`
	Source     *string          `json:"source"`
	Account    *string          `json:"account"`
	Time       *string          `json:"time"`
	Region     *string          `json:"region"`
	Detail     *json.RawMessage `json:"detail"`
}

type changeDetail struct {
	Bucket *struct {
		Name *string `json:"name"`
	} `json:"bucket"`
	Object *struct {
		Key       *string `json:"key"`
		VersionID *string `json:"version-id"`
		Sequencer *string `json:"sequencer"`
	} `json:"object"`
	Requester    *string `json:"requester"`
	SourceIP     *string `json:"source-ip-address"`
	Reason       *string `json:"reason"`
	DeletionType *string `json:"deletion-type"`
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func bad(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBadChange, fmt.Sprintf(format, a...))
}

// ParseChange reads an S3 "Object Deleted" event, strictly: duplicate
// members, wrong types, a missing id, time, bucket, key, reason, deletion
// type or requester, or values S3 does not document are ErrBadChange.
// Another event (source or detail-type) is ErrNotDeletion. Members it does
// not read are ignored (AWS adds fields, e.g. "event-version").
func ParseChange(body []byte) (Change, error) {
	if len(body) > MaxChangeSize {
		return Change{}, bad("body of %d bytes exceeds %d", len(body), MaxChangeSize)
	}
	if err := jsondup.Check(body); err != nil {
		return Change{}, bad("%v", err)
	}
	var ev changeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return Change{}, bad("%v", err)
	}
	switch {
	case deref(ev.Source) != "aws.s3" || deref(ev.DetailType) != "Object Deleted":
		return Change{}, fmt.Errorf("%w: source %q, detail-type %q", ErrNotDeletion, clip(deref(ev.Source)), clip(deref(ev.DetailType)))
	case deref(ev.ID) == "" || ev.Time == nil || ev.Detail == nil:
		return Change{}, bad("id, time or detail missing")
	}
	at, err := time.Parse(time.RFC3339, *ev.Time)
	if err != nil {
		return Change{}, bad("time %q is not RFC 3339", *ev.Time)
	}
	c := Change{EventID: *ev.ID, Account: deref(ev.Account), Region: deref(ev.Region), Time: at.UTC()}
	return c, c.detail(*ev.Detail)
}

func (c *Change) detail(raw json.RawMessage) error {
	var d changeDetail
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		return bad("detail: %v", err)
	}
	if d.Bucket == nil || deref(d.Bucket.Name) == "" || d.Object == nil || deref(d.Object.Key) == "" {
		return bad("detail.bucket.name or detail.object.key missing")
	}
	key, err := logkey.DecodeS3EventKey(*d.Object.Key)
	if err != nil || key == "" || len(key) > 1024 {
		return bad("detail.object.key is not a URL-encoded S3 key")
	}
	c.Bucket, c.Key = *d.Bucket.Name, key
	c.VersionID, c.Sequencer = deref(d.Object.VersionID), deref(d.Object.Sequencer)
	c.Requester, c.SourceIP = deref(d.Requester), deref(d.SourceIP)
	c.Reason, c.DeletionType = deref(d.Reason), deref(d.DeletionType)
	switch {
	case c.Reason != ReasonDeleteObject && c.Reason != ReasonLifecycleExpiration:
		return bad("reason %q is neither %s nor %s", c.Reason, ReasonDeleteObject, ReasonLifecycleExpiration)
	case c.DeletionType != DeletionPermanentlyDeleted && c.DeletionType != DeletionMarkerCreated:
		return bad("deletion-type %q is neither %s nor %s", c.DeletionType, DeletionPermanentlyDeleted, DeletionMarkerCreated)
	case c.Requester == "":
		return bad("requester missing")
	}
	return nil
}

// JudgeChange turns a deletion in bucket under [prefix/]AWSLogs/ into a
// finding. It returns ok false, with why, for what is not one: another
// bucket, a key outside AWSLogs/, or a lifecycle expiration (the bucket
// owner's own retention rule deleting old logs is not tampering; S3 marks
// it reason "Lifecycle Expiration", requester s3.amazonaws.com).
func JudgeChange(c Change, bucket, prefix string) (f Finding, ok bool, why string) {
	logs := "AWSLogs/"
	if prefix != "" {
		logs = prefix + "/AWSLogs/"
	}
	switch {
	case bucket != "" && c.Bucket != bucket:
		return f, false, fmt.Sprintf("bucket %q is not the central bucket", c.Bucket)
	case !strings.HasPrefix(c.Key, logs):
		return f, false, "key outside " + logs
	case c.Reason == ReasonLifecycleExpiration:
		return f, false, "lifecycle expiration (the bucket's own retention)"
	}
	actor := c.Requester
	if c.SourceIP != "" {
		actor += " from " + c.SourceIP
	}
	f = Finding{Code: CodeLogObjectDeleted, Bucket: c.Bucket, Key: c.Key,
		Reason: fmt.Sprintf("deleted by %s at %s (%s, %s)", actor, c.Time.Format(time.RFC3339), c.Reason, c.DeletionType)}
	if k, err := logkey.Parse(c.Key); err == nil {
		f.Account, f.Region = k.Account, k.Region
	}
	return f, true, ""
}
