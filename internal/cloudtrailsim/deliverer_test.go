package cloudtrailsim_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

// testKey is one signing key for the whole test binary (generation is slow).
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			t.Fatalf("generate key: %v", err)
		}
	})
	return key
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeS3 and fakeSNS record what a Deliverer writes.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]*s3.PutObjectInput
	bodies  map[string][]byte
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.objects == nil {
		f.objects, f.bodies = map[string]*s3.PutObjectInput{}, map[string][]byte{}
	}
	f.objects[*in.Key], f.bodies[*in.Key] = in, b
	return &s3.PutObjectOutput{}, nil
}

// fakeSNS is safe for concurrent use: TestDelivererConcurrent publishes from
// eight goroutines, as a Deliverer shared by a simulation does.
type fakeSNS struct {
	mu       sync.Mutex
	messages []string
}

func (f *fakeSNS) Publish(_ context.Context, in *sns.PublishInput, _ ...func(*sns.Options)) (*sns.PublishOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.messages = append(f.messages, aws.ToString(in.Message))
	return &sns.PublishOutput{MessageId: aws.String("m")}, nil
}

var testTrail = cloudtrailsim.Trail{
	Name: "my_trail.v2", HomeRegion: "us-east-1", Bucket: "logs", Prefix: "p/q",
	KMSKeyARN: "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	TopicARN:  "arn:aws:sns:us-east-1:222222222222:deliveries", BucketAccount: "222222222222", BucketRegion: "us-east-1",
}

func TestKeys(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"log file", cloudtrailsim.LogFileKey(cloudtrailsim.KeyParts{PathAccount: "111122223333", Region: "us-east-2", At: at, Unique: "Mu0KsOhtH1ar15ZZ"}),
			"AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/02/111122223333_CloudTrail_us-east-2_20260102T0204Z_Mu0KsOhtH1ar15ZZ.json.gz"},
		{"log file, organization path, prefix", cloudtrailsim.LogFileKey(cloudtrailsim.KeyParts{Prefix: "o-x/", OrgID: "o-x", PathAccount: "111122223333", Region: "us-east-2", At: at, Unique: "U"}),
			"o-x/AWSLogs/o-x/111122223333/CloudTrail/us-east-2/2026/01/02/111122223333_CloudTrail_us-east-2_20260102T0204Z_U.json.gz"},
		{"file account differs", cloudtrailsim.LogFileKey(cloudtrailsim.KeyParts{PathAccount: "111122223333", FileAccount: "444455556666", Region: "us-east-2", At: at, Unique: "U"}),
			"AWSLogs/111122223333/CloudTrail/us-east-2/2026/01/02/444455556666_CloudTrail_us-east-2_20260102T0204Z_U.json.gz"},
		{"digest", cloudtrailsim.DigestKey(cloudtrailsim.KeyParts{PathAccount: "111122223333", Region: "us-east-2", At: at, TrailName: "your_trail", HomeRegion: "us-east-1"}),
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/01/02/111122223333_CloudTrail-Digest_us-east-2_your_trail_us-east-1_20260102T020405Z.json.gz"},
		{"backfill digest", cloudtrailsim.DigestKey(cloudtrailsim.KeyParts{PathAccount: "111122223333", Region: "us-east-2", At: at, TrailName: "t", HomeRegion: "us-east-1", Backfill: true}),
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/01/02/111122223333_CloudTrail-Digest_us-east-2_t_us-east-1_20260102T020405Z_backfill.json.gz"},
		{"insight", cloudtrailsim.InsightKey(cloudtrailsim.KeyParts{PathAccount: "111122223333", Region: "us-east-2", At: at, Unique: "U"}),
			"AWSLogs/111122223333/CloudTrail-Insight/us-east-2/2026/01/02/111122223333_CloudTrail-Insight_us-east-2_20260102T0204Z_U.json.gz"},
		{"marker", cloudtrailsim.MarkerKey("", "111122223333"), "AWSLogs/111122223333/CloudTrail/"},
		{"marker with prefix", cloudtrailsim.MarkerKey("p/", "111122223333"), "p/AWSLogs/111122223333/CloudTrail/"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, c.got, c.want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	_, err := cloudtrailsim.New(nil, nil, cloudtrailsim.Trail{TopicARN: "arn"}, cloudtrailsim.Options{Key: testKey(t)})
	if err == nil {
		t.Fatal("New accepted an empty trail")
	}
	for _, want := range []string{"S3 client", "SNS client", "Bucket", "Name", "HomeRegion"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func newFakeDeliverer(t *testing.T, opts cloudtrailsim.Options) (*cloudtrailsim.Deliverer, *fakeS3, *fakeSNS) {
	t.Helper()
	s3c, snsc := &fakeS3{}, &fakeSNS{}
	opts.Key = testKey(t)
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	d, err := cloudtrailsim.New(s3c, snsc, testTrail, opts)
	if err != nil {
		t.Fatal(err)
	}
	return d, s3c, snsc
}

func TestDigestChainSignsAndVerifies(t *testing.T) {
	d, s3c, snsc := newFakeDeliverer(t, cloudtrailsim.Options{})
	ctx := t.Context()
	t0 := time.Date(2026, 5, 1, 10, 0, 31, 0, time.UTC)
	if _, err := d.DeliverLogFiles(ctx, "111122223333", "eu-west-1", t0.Add(-10*time.Minute), 2); err != nil {
		t.Fatal(err)
	}
	var prev cloudtrailsim.DigestFile
	for i := range 3 {
		df, err := d.DeliverDigest(ctx, "111122223333", "eu-west-1", t0.Add(time.Duration(i)*time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		in := s3c.objects[df.Key]
		if in.Metadata["signature"] != df.Signature || in.Metadata["signature-algorithm"] != "SHA256withRSA" {
			t.Errorf("digest %d metadata = %v", i, in.Metadata)
		}
		// Digests are SSE-S3 even when log files use SSE-KMS.
		if in.ServerSideEncryption != "AES256" || aws.ToString(in.SSEKMSKeyId) != "" || in.ACL != "bucket-owner-full-control" {
			t.Errorf("digest %d written with SSE %q key %q ACL %q", i, in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId), in.ACL)
		}
		if err := cloudtrailsim.VerifyDigest(d.PublicKey(), df.JSON, df.Signature); err != nil {
			t.Errorf("digest %d: %v", i, err)
		}
		tampered := strings.Replace(string(df.JSON), "111122223333", "111122223334", 1)
		if cloudtrailsim.VerifyDigest(d.PublicKey(), []byte(tampered), df.Signature) == nil {
			t.Errorf("digest %d: tampered digest verifies", i)
		}
		switch i {
		case 0:
			if len(df.Digest.LogFiles) != 2 || df.Digest.PreviousDigestSignature != nil {
				t.Errorf("first digest: %d log files, previous signature %v", len(df.Digest.LogFiles), df.Digest.PreviousDigestSignature)
			}
			if !strings.Contains(string(df.JSON), `"previousDigestSignature":null`) {
				t.Errorf("first digest lacks null previousDigestSignature: %s", df.JSON)
			}
		default:
			if aws.ToString(df.Digest.PreviousDigestSignature) != prev.Signature || aws.ToString(df.Digest.PreviousDigestS3Object) != prev.Key {
				t.Errorf("digest %d does not chain", i)
			}
			if !strings.Contains(string(df.JSON), `"logFiles":[]`) || !strings.Contains(string(df.JSON), `"newestEventTime":null`) {
				t.Errorf("empty digest %d: %s", i, df.JSON)
			}
		}
		prev = df
	}
	if len(snsc.messages) != 1 {
		t.Errorf("SNS messages = %d, want 1 (digests are not announced)", len(snsc.messages))
	}
	d.RestartChain("111122223333", "eu-west-1")
	df, err := d.DeliverDigest(ctx, "111122223333", "eu-west-1", t0.Add(5*time.Hour), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if df.Digest.PreviousDigestS3Object != nil || df.Digest.DigestStartTime != t0.Add(4*time.Hour).Format(time.RFC3339) {
		t.Errorf("restarted chain: %+v", df.Digest)
	}
	if _, err := d.DeliverDigest(ctx, "111122223333", "eu-west-1", t0.Add(6*time.Hour), []string{"AWSLogs/nope.json.gz"}); err == nil {
		t.Error("digest of an unknown log file accepted")
	}
}

// StringToSign must match AWS's documented layout exactly.
func TestStringToSign(t *testing.T) {
	body := []byte(`{"x":1}`)
	sig := "abcd"
	got := cloudtrailsim.StringToSign(cloudtrailsim.Digest{
		DigestEndTime: "2015-08-12T04:01:31Z", DigestS3Bucket: "b", DigestS3Object: "AWSLogs/k.json.gz",
		PreviousDigestSignature: &sig,
	}, body)
	want := "2015-08-12T04:01:31Z\nb/AWSLogs/k.json.gz\n" + sha256Hex(body) + "\nabcd"
	if got != want {
		t.Errorf("StringToSign = %q, want %q", got, want)
	}
	if got := cloudtrailsim.StringToSign(cloudtrailsim.Digest{DigestEndTime: "t", DigestS3Bucket: "b", DigestS3Object: "o"}, body); !strings.HasSuffix(got, "\nnull") {
		t.Errorf("first digest string to sign = %q, want trailing null", got)
	}
}

func TestDeliverRecordsStatusAndUsesClock(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != cloudtrailsim.ControlPath || r.Method != http.MethodPost {
			http.Error(w, "bad route", http.StatusNotFound)
			return
		}
		var req map[string]any
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, req)
		mu.Unlock()
		_, _ = w.Write([]byte(`{"status":{}}`))
	}))
	defer srv.Close()
	clock := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	d, _, _ := newFakeDeliverer(t, cloudtrailsim.Options{ControlURL: srv.URL, Now: func() time.Time { return clock }})
	key, err := d.DeliverLogFile(t.Context(), "111122223333", "us-east-1", time.Time{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(key, "_20260701T1200Z_") {
		t.Errorf("zero time did not use the clock: %s", key)
	}
	if len(got) != 1 {
		t.Fatalf("status requests = %d, want 1", len(got))
	}
	fields := got[0]["fields"].(map[string]any)
	if got[0]["trailName"] != testTrail.Name || got[0]["account"] != "111122223333" || got[0]["region"] != "us-east-1" ||
		fields["LatestDeliveryTime"] != float64(clock.Unix()) || fields["LatestNotificationTime"] != float64(clock.Unix()) {
		t.Errorf("status request = %v", got[0])
	}
	if s := d.Status("111122223333", "us-east-1"); !s.LatestDeliveryTime.Equal(clock) || !s.LatestNotificationTime.Equal(clock) {
		t.Errorf("Status = %+v", s)
	}
}

func TestDeliverSeededIsRepeatable(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var keys [2]string
	var bodies [2][]byte
	for i := range 2 {
		d, s3c, _ := newFakeDeliverer(t, cloudtrailsim.Options{Seed: 42})
		k, err := d.DeliverLogFile(t.Context(), "111122223333", "us-east-1", at, 3)
		if err != nil {
			t.Fatal(err)
		}
		keys[i], bodies[i] = k, s3c.bodies[k]
	}
	if keys[0] != keys[1] || string(bodies[0]) != string(bodies[1]) {
		t.Errorf("same seed gave different files: %s / %s", keys[0], keys[1])
	}
}

func TestDigestEventShape(t *testing.T) {
	d, _, _ := newFakeDeliverer(t, cloudtrailsim.Options{})
	at := time.Date(2021, 11, 12, 0, 0, 0, 0, time.UTC)
	var ev map[string]any
	if err := json.Unmarshal(d.DigestEvent("AWSLogs/k.json.gz", 5, at), &ev); err != nil {
		t.Fatal(err)
	}
	for f, want := range map[string]any{
		"version": "0", "detail-type": "Object Created", "source": "aws.s3", "account": "222222222222",
		"time": "2021-11-12T00:00:00Z", "region": "us-east-1",
	} {
		if ev[f] != want {
			t.Errorf("%s = %v, want %v", f, ev[f], want)
		}
	}
	if r := ev["resources"].([]any); len(r) != 1 || r[0] != "arn:aws:s3:::logs" {
		t.Errorf("resources = %v", r)
	}
	detail := ev["detail"].(map[string]any)
	obj := detail["object"].(map[string]any)
	if detail["version"] != "0" || detail["bucket"].(map[string]any)["name"] != "logs" || obj["key"] != "AWSLogs/k.json.gz" ||
		obj["size"] != float64(5) || obj["etag"] == "" || obj["sequencer"] == "" || detail["reason"] != "PutObject" ||
		detail["request-id"] == "" || detail["requester"] == "" || detail["source-ip-address"] == "" {
		t.Errorf("detail = %v", detail)
	}
}

func TestDelivererConcurrent(t *testing.T) {
	d, s3c, _ := newFakeDeliverer(t, cloudtrailsim.Options{})
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			region := cloudtrailsim.CommercialRegions[i]
			if _, err := d.DeliverLogFiles(t.Context(), "111122223333", region, at, 3); err != nil {
				t.Error(err)
			}
			if _, err := d.DeliverDigest(t.Context(), "111122223333", region, at.Add(time.Hour), nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(s3c.objects) != 8*4 {
		t.Errorf("objects = %d, want 32", len(s3c.objects))
	}
}

// VerifyDigest reads untrusted bytes: it must fail cleanly, never panic.
func FuzzVerifyDigest(f *testing.F) {
	f.Add([]byte(`{"digestEndTime":"2015-08-17T15:01:31Z","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":null}`), "00ff")
	f.Add([]byte(`{"previousDigestSignature":"abc"}`), "zz")
	f.Add([]byte(`[]`), "")
	f.Fuzz(func(t *testing.T, body []byte, sig string) {
		if cloudtrailsim.VerifyDigest(&testKey(t).PublicKey, body, sig) == nil {
			t.Errorf("random digest verified: %q %q", body, sig)
		}
	})
}

// The Object Deleted event is what the deletion watch parses and judges.
func TestDeleteObjectEvent(t *testing.T) {
	d, err := cloudtrailsim.New(s3.New(s3.Options{Region: "us-east-1"}), nil, cloudtrailsim.Trail{Name: "org-audit", HomeRegion: "us-east-1", Bucket: "central", Prefix: "cloudtrail",
		BucketAccount: "222222222222", BucketRegion: "us-east-1"}, cloudtrailsim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	key := "cloudtrail/AWSLogs/333333333333/CloudTrail/eu-west-1/2026/03/14/333333333333_CloudTrail_eu-west-1_20260314T1205Z_aBcDeFgHiJkLmNoP.json.gz"
	at := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
	c, err := integritywatch.ParseChange(d.DeleteObjectEvent(key, "333333333333", "203.0.113.9", at))
	if err != nil {
		t.Fatal(err)
	}
	if c.Key != key || c.Bucket != "central" || c.Account != "222222222222" || c.Requester != "333333333333" || c.SourceIP != "203.0.113.9" ||
		c.Reason != integritywatch.ReasonDeleteObject || c.DeletionType != integritywatch.DeletionPermanentlyDeleted || !c.Time.Equal(at) {
		t.Errorf("change %+v", c)
	}
	lc := cloudtrailsim.ObjectDeleted{ID: "x", Bucket: "central", Key: key, Requester: "s3.amazonaws.com", Reason: integritywatch.ReasonLifecycleExpiration,
		VersionID: "v1", Time: at, Region: "us-east-1"}
	c, err = integritywatch.ParseChange(lc.Bytes())
	if err != nil || c.DeletionType != integritywatch.DeletionMarkerCreated || c.SourceIP != "" {
		t.Errorf("lifecycle change %+v, %v", c, err)
	}
}
