// Package notification turns one SQS message body from trailwarden's
// delivery queue into object references: the bucket and keys CloudTrail (or
// S3, through EventBridge) announced.
//
// Accepted bodies (see events/delivery/README.md for samples and sources):
//   - an SNS envelope as SQS receives it with raw message delivery off
//     (Type "Notification"; the CloudTrail JSON is the string in "Message";
//     note "SigningCertURL", not aws-lambda-go's "SigningCertUrl");
//   - raw delivery: the CloudTrail JSON {"s3Bucket": …, "s3ObjectKey": […]};
//   - the literal "CloudTrail validation message." (raw or as the SNS
//     Message), which CloudTrail publishes when a topic is configured;
//   - an S3 "Object Created" event delivered by EventBridge (source aws.s3),
//     whose detail.object.key is URL-encoded; both "etag" (AWS) and "eTag"
//     (moto) are read.
//
// Everything else is classified, never a panic: other valid JSON and SNS
// subscription messages are OutcomeNotCloudTrail; empty, truncated or
// non-JSON bodies and CloudTrail-shaped messages with wrong types are
// OutcomeMalformed, returned with a fault.Poison error wrapping ErrMalformed.
// Unknown fields are ignored in CloudTrail and EventBridge bodies (AWS adds
// fields), but an SNS envelope holds exactly SNS's documented members: one
// more is malformed. Duplicate fields this package reads are malformed (a
// second "s3ObjectKey" or detail.object.key is a smuggling attempt, not a
// format change), and so is an SNS-shaped body whose Type is null or not a
// string.
//
// The JSON reader is hand-written: one pass, no reflection, substrings of the
// body for every value without escapes. It accepts exactly what json.Valid
// accepts, up to a nesting depth of 64.
package notification

import (
	"errors"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/jsondup"
	"github.com/trailwarden/trailwarden/shared/logkey"
)

const (
	// MaxBodySize is SQS's maximum message size (256 KiB); a larger body
	// cannot have come from SQS and is malformed.
	MaxBodySize = 256 * 1024
	// MaxKeys caps the keys kept from one notification. CloudTrail lists a
	// handful; a longer list is kept up to the cap, marked Truncated, and
	// the verifier reports it (KeyCount holds the full count).
	MaxKeys = 1000
	// MaxKeyLen is S3's limit on key length.
	MaxKeyLen = 1024
	// ValidationMessage is the text CloudTrail publishes to check a topic.
	ValidationMessage = "CloudTrail validation message."
	// FaultCode is the fault code of malformed bodies.
	FaultCode = "MalformedNotification"
)

// ErrMalformed is wrapped by every error Parse returns.
var ErrMalformed = errors.New("malformed notification")

// Outcome is what a body turned out to be.
type Outcome uint8

const (
	// OutcomeMalformed: empty, truncated, not JSON, or CloudTrail-shaped with
	// wrong types. The zero value, so a forgotten Outcome is never "ok".
	OutcomeMalformed Outcome = iota
	// OutcomeOK: Bucket and Keys are set.
	OutcomeOK
	// OutcomeValidation: CloudTrail's topic validation message.
	OutcomeValidation
	// OutcomeNotCloudTrail: well-formed, but something else (another
	// publisher on the topic, an SNS subscription message, another S3 event).
	OutcomeNotCloudTrail
)

func (o Outcome) String() string {
	switch o {
	case OutcomeOK:
		return "ok"
	case OutcomeValidation:
		return "validation"
	case OutcomeNotCloudTrail:
		return "not-cloudtrail"
	default:
		return "malformed"
	}
}

// Source is the shape the body arrived in.
type Source uint8

const (
	// SourceUnknown: not recognised (malformed or foreign bodies).
	SourceUnknown Source = iota
	// SourceSNSEnvelope: SNS → SQS with raw message delivery off.
	SourceSNSEnvelope
	// SourceRaw: SNS → SQS with raw message delivery on.
	SourceRaw
	// SourceS3EventBridge: S3 "Object Created" through EventBridge.
	SourceS3EventBridge
)

func (s Source) String() string {
	switch s {
	case SourceSNSEnvelope:
		return "sns-envelope"
	case SourceRaw:
		return "raw"
	case SourceS3EventBridge:
		return "s3-eventbridge"
	default:
		return "unknown"
	}
}

// Message is one parsed SQS body.
type Message struct {
	Outcome Outcome
	// Reason explains a non-ok outcome (and a truncated key list).
	Reason string
	Source Source

	// SNS envelope fields (SourceSNSEnvelope).
	TopicArn     string
	SNSMessageID string
	Subject      string
	// Timestamp is the SNS Timestamp or the EventBridge event time.
	Timestamp time.Time

	// Bucket and Keys are the announced objects. Keys are exactly as S3
	// stores them: EventBridge keys are URL-decoded here, SNS keys are not
	// encoded.
	Bucket string
	Keys   []string
	// KeyCount is the number of keys listed; larger than len(Keys) only when
	// Truncated.
	KeyCount  int
	Truncated bool

	// S3 event fields (SourceS3EventBridge): the event id, the bucket
	// owner's account and Region, the object's size (-1 when absent) and
	// ETag.
	EventID    string
	Account    string
	Region     string
	ObjectSize int64
	ETag       string
}

// Parse parses one SQS message body. A malformed body gives a Message with
// OutcomeMalformed and its Reason, and an error of kind fault.Poison
// wrapping ErrMalformed; every other outcome has a nil error.
func Parse(body string) (Message, error) {
	p := Parser{single: true}
	return p.Parse(body)
}

// Parser parses bodies one after another, sharing one backing array for
// the key lists of many messages (the batch fast path: about one allocation
// per batch for keys instead of one per message). Messages it returns stay
// valid after later calls. The zero Parser is ready; it is not safe for
// concurrent use.
type Parser struct {
	arena  []string
	single bool // one message: size the key list to fit
}

// arenaCap bounds the shared key array before a fresh one is started.
const arenaCap = 512

// Parse parses one body; see the package-level Parse.
func (p *Parser) Parse(body string) (Message, error) {
	if len(p.arena) >= arenaCap {
		p.arena = nil
	}
	if p.arena == nil && !p.single {
		p.arena = make([]string, 0, 64)
	}
	start := len(p.arena)
	m := p.parse(body)
	if m.Outcome != OutcomeOK {
		p.arena = p.arena[:start] // nothing handed out; reuse the slots
		m.Keys = nil
	}
	if m.Outcome == OutcomeMalformed {
		return m, Malformed(m.Reason)
	}
	return m, nil
}

// Malformed is the error of a malformed body: poison, wrapping ErrMalformed.
func Malformed(reason string) error {
	return fault.New(fault.Poison, FaultCode, fmt.Errorf("%w: %s", ErrMalformed, reason))
}

func malformed(src Source, reason string) Message {
	return Message{Outcome: OutcomeMalformed, Source: src, Reason: reason, ObjectSize: -1}
}

func notCloudTrail(src Source, reason string) Message {
	return Message{Outcome: OutcomeNotCloudTrail, Source: src, Reason: reason, ObjectSize: -1}
}

// isValidationText reports whether s is the validation message, allowing
// surrounding white space.
func isValidationText(s string) bool {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j] == ValidationMessage
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func (p *Parser) parse(body string) Message {
	if len(body) > MaxBodySize {
		return malformed(SourceUnknown, fmt.Sprintf("body of %d bytes exceeds the SQS maximum of %d", len(body), MaxBodySize))
	}
	if isValidationText(body) {
		return Message{Outcome: OutcomeValidation, Source: SourceRaw, ObjectSize: -1}
	}
	sc := scanner{s: body}
	if sc.atEnd() {
		return malformed(SourceUnknown, "empty body")
	}
	switch sc.s[sc.i] {
	case '{':
	default:
		if sc.skip(0) && sc.atEnd() {
			return notCloudTrail(SourceUnknown, "body is JSON but not an object")
		}
		if sc.err == "" {
			sc.fail("data after the top-level value")
		}
		return malformed(SourceUnknown, sc.err)
	}
	var f fields
	if !p.readObject(&sc, &f) {
		return malformed(SourceUnknown, sc.err)
	}
	if !sc.atEnd() {
		sc.fail("data after the top-level value")
		return malformed(SourceUnknown, sc.err)
	}
	if f.dupShape {
		return malformed(SourceUnknown, f.problem)
	}
	if f.seen&(1<<fType) != 0 && !f.has(fType) && (f.seen&(1<<fMessage|1<<fTopicArn|1<<fMessageID) != 0 || f.cloudTrailShaped()) {
		// SNS-shaped (or CloudTrail-shaped) with a Type that is null or not
		// a string: ours, broken; the DLQ keeps it.
		return malformed(SourceSNSEnvelope, "SNS envelope whose Type is not a string")
	}
	if f.problem != "" && !f.has(fSource) && !f.has(fType) && !f.cloudTrailShaped() {
		// A duplicate or mistyped field in JSON that is none of ours.
		return notCloudTrail(SourceUnknown, "JSON of another shape ("+f.problem+")")
	}
	switch {
	case f.has(fType):
		return p.fromSNS(&f)
	case f.cloudTrailShaped():
		m := p.fromCloudTrail(&f, SourceRaw)
		return m
	case f.has(fSource):
		return fromEventBridge(&f)
	case f.has(fRecords):
		return notCloudTrail(SourceUnknown, "S3 event notification (Records), not a CloudTrail notification")
	}
	return notCloudTrail(SourceUnknown, "JSON object of another shape")
}

func (p *Parser) fromSNS(f *fields) Message {
	const src = SourceSNSEnvelope
	typ := f.str(fType)
	switch typ {
	case "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation":
	default:
		return notCloudTrail(SourceUnknown, fmt.Sprintf("JSON with Type %q is not an SNS notification", typ))
	}
	if f.problem != "" {
		return malformed(src, f.problem)
	}
	if f.extra != "" {
		return malformed(src, fmt.Sprintf("SNS envelope with unexpected member %q", clipName(f.extra)))
	}
	if typ != "Notification" {
		m := notCloudTrail(src, "SNS "+typ+" message")
		m.TopicArn, m.SNSMessageID = f.str(fTopicArn), f.str(fMessageID)
		m.Timestamp, _ = time.Parse(time.RFC3339Nano, f.str(fTimestamp))
		return m
	}
	for _, req := range [...]field{fMessageID, fTopicArn, fMessage, fTimestamp} {
		if !f.has(req) {
			return malformed(src, "SNS notification without "+fieldNames[req])
		}
	}
	ts, err := time.Parse(time.RFC3339Nano, f.str(fTimestamp))
	if err != nil {
		return malformed(src, fmt.Sprintf("SNS Timestamp %q is not RFC 3339", f.str(fTimestamp)))
	}
	envelope := Message{
		Source:       src,
		TopicArn:     f.str(fTopicArn),
		SNSMessageID: f.str(fMessageID),
		Subject:      f.str(fSubject),
		Timestamp:    ts,
		ObjectSize:   -1,
	}
	text := f.str(fMessage)
	if isValidationText(text) {
		envelope.Outcome = OutcomeValidation
		return envelope
	}
	sc := scanner{s: text}
	var inner fields
	var m Message
	switch sc.peek() {
	case '{':
		if !p.readObject(&sc, &inner) || !sc.atEnd() {
			if sc.err == "" {
				sc.fail("data after the top-level value")
			}
			m = malformed(src, "SNS Message: "+sc.err)
		} else if inner.cloudTrailShaped() {
			m = p.fromCloudTrail(&inner, src)
		} else {
			m = notCloudTrail(src, "SNS Message is JSON of another shape")
		}
	case 0:
		m = notCloudTrail(src, "SNS Message is empty")
	default:
		m = notCloudTrail(src, "SNS Message is neither JSON nor the validation message")
	}
	m.TopicArn, m.SNSMessageID, m.Subject, m.Timestamp = envelope.TopicArn, envelope.SNSMessageID, envelope.Subject, envelope.Timestamp
	return m
}

// fromCloudTrail builds the result from {"s3Bucket", "s3ObjectKey"}; the
// keys are already in the arena.
func (p *Parser) fromCloudTrail(f *fields, src Source) Message {
	if f.problem != "" {
		return malformed(src, f.problem)
	}
	if !f.has(fBucket) {
		return malformed(src, "CloudTrail notification without s3Bucket")
	}
	if !f.has(fKeys) {
		return malformed(src, "CloudTrail notification without s3ObjectKey")
	}
	bucket := f.str(fBucket)
	if !validBucket(bucket) {
		return malformed(src, fmt.Sprintf("s3Bucket %q is not a bucket name", bucket))
	}
	if f.keyCount == 0 {
		return malformed(src, "s3ObjectKey is empty")
	}
	m := Message{
		Outcome:    OutcomeOK,
		Source:     src,
		Bucket:     bucket,
		Keys:       p.arena[f.keyStart:len(p.arena):len(p.arena)],
		KeyCount:   f.keyCount,
		ObjectSize: -1,
	}
	if f.keyCount > MaxKeys {
		m.Truncated = true
		m.Reason = fmt.Sprintf("s3ObjectKey lists %d keys; kept the first %d", f.keyCount, MaxKeys)
	}
	return m
}

func fromEventBridge(f *fields) Message {
	source, dt := f.str(fSource), f.str(fDetailType)
	if source != "aws.s3" {
		return notCloudTrail(SourceUnknown, fmt.Sprintf("EventBridge event from %q", source))
	}
	const src = SourceS3EventBridge
	if f.problem != "" {
		return malformed(src, f.problem)
	}
	if dt != "Object Created" {
		return notCloudTrail(src, fmt.Sprintf("S3 %q event", dt))
	}
	if !f.has(fDetail) {
		return malformed(src, "S3 event without detail")
	}
	m := Message{
		Source:     src,
		EventID:    f.str(fID),
		Account:    f.str(fAccount),
		Region:     f.str(fRegion),
		ObjectSize: -1,
	}
	if f.has(fTime) {
		ts, err := time.Parse(time.RFC3339Nano, f.str(fTime))
		if err != nil {
			return malformed(src, fmt.Sprintf("event time %q is not RFC 3339", f.str(fTime)))
		}
		m.Timestamp = ts
	}
	if err := jsondup.Check([]byte(f.detail)); err != nil {
		return malformed(src, "detail: "+err.Error())
	}
	var d s3Detail
	sc := scanner{s: f.detail}
	if !d.read(&sc) {
		if sc.err != "" {
			return malformed(src, "detail: "+sc.err)
		}
		return malformed(src, d.problem)
	}
	if d.bucket == "" {
		return malformed(src, "S3 event without detail.bucket.name")
	}
	if !validBucket(d.bucket) {
		return malformed(src, fmt.Sprintf("detail.bucket.name %q is not a bucket name", d.bucket))
	}
	if !d.hasKey {
		return malformed(src, "S3 event without detail.object.key")
	}
	key, err := logkey.DecodeS3EventKey(d.key)
	if err != nil {
		return malformed(src, "detail.object.key: invalid URL encoding")
	}
	if key == "" || len(key) > MaxKeyLen {
		return malformed(src, "detail.object.key is empty or longer than 1024 bytes")
	}
	m.Outcome = OutcomeOK
	m.Bucket = d.bucket
	m.Keys = []string{key}
	m.KeyCount = 1
	m.ObjectSize = d.size
	m.ETag = d.etag
	return m
}

func clipName(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// validBucket applies the S3 bucket naming rules CloudTrail buckets meet:
// 3 to 63 characters; lowercase letters, digits, '.' and '-'; starting and
// ending with a letter or digit.
func validBucket(s string) bool {
	if len(s) < 3 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
		if !alnum && ((c != '.' && c != '-') || i == 0 || i == len(s)-1) {
			return false
		}
	}
	return true
}
