package cloudtrailsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// S3API is the part of the S3 client a Deliverer uses. Give it a client of
// the bucket owner's account (CloudTrail writes as a service principal; moto
// does not evaluate bucket policies).
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// SNSAPI is the part of the SNS client a Deliverer uses, in the topic's
// account and Region.
type SNSAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// SQSAPI is the part of the SQS client SendDigestEvent uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

var (
	_ S3API  = (*s3.Client)(nil)
	_ SNSAPI = (*sns.Client)(nil)
	_ SQSAPI = (*sqs.Client)(nil)
)

// ErrDeliveryFailed is returned (wrapped) by deliveries to an account and
// Region for which SetDeliveryError set an error: CloudTrail writes nothing
// while the bucket refuses it.
var ErrDeliveryFailed = errors.New("cloudtrailsim: delivery failed")

// Trail is the member account's trail whose deliveries a Deliverer makes.
type Trail struct {
	Name       string // trail name (in digest file names and trail status)
	HomeRegion string // the trail's home Region (in digest file names)
	Bucket     string
	Prefix     string // S3KeyPrefix; "" for none
	OrgID      string // organization id for organization-trail paths; "" for per-account trails
	KMSKeyARN  string // SSE-KMS key; "" writes without SSE-KMS
	TopicARN   string // SNS topic for log-file notifications; "" for none

	// For S3 "Object Created" events (DigestEvent): the bucket owner's
	// account and the bucket's Region.
	BucketAccount string
	BucketRegion  string
}

// Options tune a Deliverer. The zero value is usable.
type Options struct {
	// ControlURL is the emulator's base URL (e.g. emulator.Server.URL());
	// deliveries are then recorded in its trail status. "" skips recording.
	ControlURL string
	HTTPClient *http.Client // for the control endpoint; nil for a client without proxy
	// Now supplies the time when a delivery is given a zero time; nil for
	// time.Now. Deliveries never read the clock otherwise.
	Now func() time.Time
	// Seed makes unique strings, UUIDs and records repeatable; 0 picks a
	// random seed.
	Seed uint64
	// Key signs digest files; nil generates a 2048-bit key.
	Key *rsa.PrivateKey
	// KeyValidFrom starts Key's validity in PublicKeys; zero means
	// DefaultKeyValidFrom.
	KeyValidFrom time.Time
	// EventsPerFile is the number of records in each log file written by
	// DeliverLogFiles; 0 means 5.
	EventsPerFile int
}

// Deliverer writes what CloudTrail writes for one trail. Its methods are
// safe for concurrent use.
type Deliverer struct {
	s3    S3API
	sns   SNSAPI
	trail Trail
	opts  Options
	http  *http.Client
	key   *rsa.PrivateKey
	fp    string

	mu      sync.Mutex
	rng     *mrand.Rand
	files   map[string]logFileInfo // delivered log files by key
	pending map[scope][]string     // log files not yet in a digest
	chains  map[scope]*digestLink  // last digest per account and Region
	// backfillChains: last backfill digest per account and Region.
	backfillChains map[scope]*digestLink
	keys           []KeyInfo        // signing keys, oldest first; the last is d.key
	blocked        map[scope]string // delivery error text
	status         map[scope]TrailStatusTimes
}

type scope struct{ account, region string }

type logFileInfo struct {
	key            string
	hash           string // hex SHA-256 of the uncompressed file
	oldest, newest time.Time
}

// TrailStatusTimes is what a Deliverer last recorded for an account and Region.
type TrailStatusTimes struct {
	LatestDeliveryTime       time.Time
	LatestNotificationTime   time.Time
	LatestDigestDeliveryTime time.Time
}

// New returns a Deliverer for trail. snsClient may be nil when trail has no
// topic.
func New(s3Client S3API, snsClient SNSAPI, trail Trail, opts Options) (*Deliverer, error) {
	var problems []string
	if s3Client == nil {
		problems = append(problems, "S3 client is nil")
	}
	if trail.TopicARN != "" && snsClient == nil {
		problems = append(problems, "trail has a topic but the SNS client is nil")
	}
	if trail.Bucket == "" {
		problems = append(problems, "Trail.Bucket is empty")
	}
	if trail.Name == "" {
		problems = append(problems, "Trail.Name is empty")
	}
	if trail.HomeRegion == "" {
		problems = append(problems, "Trail.HomeRegion is empty")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("cloudtrailsim: %s", strings.Join(problems, "; "))
	}
	seed := opts.Seed
	if seed == 0 {
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("cloudtrailsim: seed: %w", err)
		}
		seed = binary.LittleEndian.Uint64(b[:])
	}
	key := opts.Key
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, fmt.Errorf("cloudtrailsim: generate signing key: %w", err)
		}
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil}}
	}
	if opts.EventsPerFile <= 0 {
		opts.EventsPerFile = 5
	}
	return &Deliverer{
		s3: s3Client, sns: snsClient, trail: trail, opts: opts, http: hc,
		key: key, fp: Fingerprint(&key.PublicKey),
		rng:            mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		files:          map[string]logFileInfo{},
		pending:        map[scope][]string{},
		chains:         map[scope]*digestLink{},
		blocked:        map[scope]string{},
		backfillChains: map[scope]*digestLink{},
		keys:           []KeyInfo{keyInfo(key, opts.KeyValidFrom, time.Time{})},
		status:         map[scope]TrailStatusTimes{},
	}, nil
}

// Trail returns the trail the Deliverer delivers for.
func (d *Deliverer) Trail() Trail { return d.trail }

// PublicKey returns the public half of the digest signing key.
func (d *Deliverer) PublicKey() *rsa.PublicKey {
	d.mu.Lock()
	defer d.mu.Unlock()
	return &d.key.PublicKey
}

// Status returns the delivery times the Deliverer recorded for account and
// region (also when no control endpoint is configured).
func (d *Deliverer) Status(account, region string) TrailStatusTimes {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.status[scope{account, region}]
}

func (d *Deliverer) when(at time.Time) time.Time {
	if at.IsZero() {
		if d.opts.Now != nil {
			return d.opts.Now().UTC()
		}
		return time.Now().UTC()
	}
	return at.UTC()
}

func (d *Deliverer) checkBlocked(sc scope) error {
	d.mu.Lock()
	msg, ok := d.blocked[sc]
	d.mu.Unlock()
	if ok {
		return fmt.Errorf("%w: %s in %s: %s", ErrDeliveryFailed, sc.account, sc.region, msg)
	}
	return nil
}

func (d *Deliverer) parts(account, region string, at time.Time, unique string) KeyParts {
	return KeyParts{
		Prefix: d.trail.Prefix, OrgID: d.trail.OrgID, PathAccount: account,
		Region: region, At: at, Unique: unique,
		TrailName: d.trail.Name, HomeRegion: d.trail.HomeRegion,
	}
}

// DeliverLogFile writes one log file of events records for account in region,
// delivered at at, and publishes its notification. It returns the key.
func (d *Deliverer) DeliverLogFile(ctx context.Context, account, region string, at time.Time, events int) (string, error) {
	keys, err := d.deliverLogFiles(ctx, account, region, at, 1, events)
	if len(keys) == 0 {
		return "", err
	}
	return keys[0], err
}

// DeliverLogFiles writes n log files (Options.EventsPerFile records each) for
// account in region at at, and publishes one notification listing all n keys.
func (d *Deliverer) DeliverLogFiles(ctx context.Context, account, region string, at time.Time, n int) ([]string, error) {
	return d.deliverLogFiles(ctx, account, region, at, n, d.opts.EventsPerFile)
}

func (d *Deliverer) deliverLogFiles(ctx context.Context, account, region string, at time.Time, n, events int) ([]string, error) {
	if n < 1 {
		return nil, fmt.Errorf("cloudtrailsim: deliver %d log files: need at least one", n)
	}
	if events < 1 {
		return nil, fmt.Errorf("cloudtrailsim: log file with %d events: need at least one", events)
	}
	at = d.when(at)
	sc := scope{account, region}
	if err := d.checkBlocked(sc); err != nil {
		return nil, err
	}
	keys := make([]string, 0, n)
	for range n {
		d.mu.Lock()
		key := LogFileKey(d.parts(account, region, at, uniqueString(d.rng)))
		recs := newRecords(d.rng, account, region, at, events)
		d.mu.Unlock()
		info, err := d.putLogFile(ctx, key, LogFile{Records: recs})
		if err != nil {
			return keys, err
		}
		d.mu.Lock()
		d.files[key] = info
		d.pending[sc] = append(d.pending[sc], key)
		d.mu.Unlock()
		keys = append(keys, key)
	}
	fields := map[string]any{"LatestDeliveryTime": at.Unix()}
	d.noteStatus(sc, func(s *TrailStatusTimes) { s.LatestDeliveryTime = at })
	if d.trail.TopicARN != "" {
		if err := d.publish(ctx, keys); err != nil {
			return keys, err
		}
		fields["LatestNotificationTime"] = at.Unix()
		d.noteStatus(sc, func(s *TrailStatusTimes) { s.LatestNotificationTime = at })
	}
	return keys, d.RecordStatus(ctx, account, region, fields)
}

func (d *Deliverer) putLogFile(ctx context.Context, key string, lf LogFile) (logFileInfo, error) {
	raw, err := json.Marshal(lf)
	if err != nil {
		return logFileInfo{}, fmt.Errorf("cloudtrailsim: encode log file: %w", err)
	}
	sum := sha256.Sum256(raw)
	info := logFileInfo{key: key, hash: hex.EncodeToString(sum[:])}
	for i, r := range lf.Records {
		t, err := time.Parse(isoSeconds, r.EventTime)
		if err != nil {
			return logFileInfo{}, fmt.Errorf("cloudtrailsim: record %d time: %w", i, err)
		}
		if info.oldest.IsZero() || t.Before(info.oldest) {
			info.oldest = t
		}
		if t.After(info.newest) {
			info.newest = t
		}
	}
	if err := d.put(ctx, key, gzipBytes(raw), nil, true); err != nil {
		return logFileInfo{}, err
	}
	return info, nil
}

// Notification is the SNS message CloudTrail publishes for delivered log files.
type Notification struct {
	S3Bucket    string   `json:"s3Bucket"`
	S3ObjectKey []string `json:"s3ObjectKey"`
}

func (d *Deliverer) publish(ctx context.Context, keys []string) error {
	msg, err := json.Marshal(Notification{S3Bucket: d.trail.Bucket, S3ObjectKey: keys})
	if err != nil {
		return fmt.Errorf("cloudtrailsim: encode notification: %w", err)
	}
	if _, err := d.sns.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(d.trail.TopicARN),
		Message:  aws.String(string(msg)),
	}); err != nil {
		return fmt.Errorf("cloudtrailsim: publish to %s: %w", d.trail.TopicARN, err)
	}
	return nil
}

// put writes an object as CloudTrail does: bucket-owner-full-control and,
// with a key configured, SSE-KMS.
func (d *Deliverer) put(ctx context.Context, key string, body []byte, meta map[string]string, gz bool) error {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(d.trail.Bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ACL:           s3types.ObjectCannedACLBucketOwnerFullControl,
		Metadata:      meta,
	}
	if gz {
		in.ContentType = aws.String("application/json")
		in.ContentEncoding = aws.String("gzip")
	}
	switch {
	case strings.Contains(key, "/CloudTrail-Digest/"):
		// AWS's guide to encrypting CloudTrail files with KMS keys: digest
		// files are encrypted with SSE-S3 even when log files use SSE-KMS.
		in.ServerSideEncryption = s3types.ServerSideEncryptionAes256
	case d.trail.KMSKeyARN != "":
		in.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
		in.SSEKMSKeyId = aws.String(d.trail.KMSKeyARN)
	}
	if _, err := d.s3.PutObject(ctx, in); err != nil {
		return fmt.Errorf("cloudtrailsim: put s3://%s/%s: %w", d.trail.Bucket, key, err)
	}
	return nil
}

func gzipBytes(raw []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(raw) // writes to a bytes.Buffer do not fail
	_ = zw.Close()
	return buf.Bytes()
}

// DeliverInsight writes one Insights file for account in region at at,
// holding the Start and End records of an ApiCallRateInsight that began 20
// minutes earlier. Whether CloudTrail announces Insights files on SNS is not
// documented; notify chooses.
func (d *Deliverer) DeliverInsight(ctx context.Context, account, region string, at time.Time, notify bool) (string, error) {
	at = d.when(at)
	sc := scope{account, region}
	if err := d.checkBlocked(sc); err != nil {
		return "", err
	}
	d.mu.Lock()
	key := InsightKey(d.parts(account, region, at, uniqueString(d.rng)))
	recs := newInsightPair(d.rng, account, region, at.Add(-20*time.Minute), at)
	d.mu.Unlock()
	raw, err := json.Marshal(struct {
		Records []InsightRecord `json:"Records"`
	}{recs})
	if err != nil {
		return "", fmt.Errorf("cloudtrailsim: encode insights file: %w", err)
	}
	if err := d.put(ctx, key, gzipBytes(raw), nil, true); err != nil {
		return "", err
	}
	if notify && d.trail.TopicARN != "" {
		if err := d.publish(ctx, []string{key}); err != nil {
			return key, err
		}
	}
	return key, nil
}

// WriteMarker writes the zero-byte [prefix/]AWSLogs/<account>/CloudTrail/
// object CloudTrail may write when a trail is created or updated
// (CloudTrail User Guide, "Finding your CloudTrail log files"). It is not announced.
func (d *Deliverer) WriteMarker(ctx context.Context, account string) (string, error) {
	key := MarkerKey(d.trail.Prefix, account)
	return key, d.put(ctx, key, nil, nil, false)
}

// Forgery describes a log file that did not come from the configured trail,
// for the verifier's security findings. Empty fields take the Deliverer's
// values.
type Forgery struct {
	PathAccount string // account id in the key's path
	FileAccount string // account id in the file name; "" = PathAccount
	// RecordAccount is recipientAccountId and userIdentity.accountId in the
	// records; "" = FileAccount (or PathAccount).
	RecordAccount string
	Region        string
	At            time.Time
	Prefix        *string // nil = the trail's prefix
	OrgID         *string // nil = the trail's organization id
	Events        int     // 0 means 1
}

// ForeignAccount is a log file whose path, name and records all claim
// account, an account outside the organization.
func ForeignAccount(account, region string, at time.Time) Forgery {
	return Forgery{PathAccount: account, Region: region, At: at}
}

// MismatchedFileAccount is a log file under pathAccount's folder whose file
// name (and records) claim fileAccount.
func MismatchedFileAccount(pathAccount, fileAccount, region string, at time.Time) Forgery {
	return Forgery{PathAccount: pathAccount, FileAccount: fileAccount, Region: region, At: at}
}

// WrongPrefix is account's log file under prefix instead of the trail's.
func WrongPrefix(account, prefix, region string, at time.Time) Forgery {
	return Forgery{PathAccount: account, Region: region, At: at, Prefix: &prefix}
}

// Foreign delivers the forged log file f and publishes its notification, as
// a trail outside trailwarden's control writing to the same bucket and topic
// would. It records no trail status.
func (d *Deliverer) Foreign(ctx context.Context, f Forgery) (string, error) {
	if f.PathAccount == "" || f.Region == "" {
		return "", errors.New("cloudtrailsim: forgery needs PathAccount and Region")
	}
	at := d.when(f.At)
	p := d.parts(f.PathAccount, f.Region, at, "")
	p.FileAccount = f.FileAccount
	if f.Prefix != nil {
		p.Prefix = *f.Prefix
	}
	if f.OrgID != nil {
		p.OrgID = *f.OrgID
	}
	recAccount := f.RecordAccount
	if recAccount == "" {
		recAccount = p.fileAccount()
	}
	events := max(f.Events, 1)
	d.mu.Lock()
	p.Unique = uniqueString(d.rng)
	key := LogFileKey(p)
	recs := newRecords(d.rng, recAccount, f.Region, at, events)
	d.mu.Unlock()
	if _, err := d.putLogFile(ctx, key, LogFile{Records: recs}); err != nil {
		return "", err
	}
	if d.trail.TopicARN != "" {
		if err := d.publish(ctx, []string{key}); err != nil {
			return key, err
		}
	}
	return key, nil
}
