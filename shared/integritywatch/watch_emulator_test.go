package integritywatch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

const (
	bucket  = "central-logs"
	account = "111122223333"
	region  = "eu-west-1"
)

// countingS3 counts GETs per key.
type countingS3 struct {
	*s3.Client
	mu   sync.Mutex
	gets map[string]int
}

func (c *countingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, o ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	c.mu.Lock()
	c.gets[*in.Key]++
	c.mu.Unlock()
	return c.Client.GetObject(ctx, in, o...)
}

type world struct {
	db  *dynamodb.Client
	s3  *countingS3
	sim *cloudtrailsim.Deliverer
	w   *integritywatch.Watcher
}

func newWorld(t *testing.T, mode integrity.LogFileMode) *world {
	t.Helper()
	emulator.Reset(t)
	cfg := emulator.Shared(t).ManagementConfig(emulator.DefaultRegion)
	sc := s3.NewFromConfig(cfg, emulator.S3Options)
	if _, err := sc.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(cfg)
	for name, key := range map[string]string{"integrity": "id", "heads": integritywatch.HeadsKey} {
		if _, err := db.CreateTable(t.Context(), &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
			t.Fatal(err)
		}
	}
	sim, err := cloudtrailsim.New(sc, nil, cloudtrailsim.Trail{Name: "org-trail", HomeRegion: "us-east-1", Bucket: bucket}, cloudtrailsim.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	var keys integrity.StaticKeys
	for _, k := range sim.PublicKeys() {
		pub, err := integrity.ParseDERKey(k.DER)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, integrity.PublicKey{Fingerprint: k.Fingerprint, Key: pub, Start: k.Start, End: k.End})
	}
	cs := &countingS3{Client: sc, gets: map[string]int{}}
	w := &integritywatch.Watcher{S3: cs, Keys: &integritywatch.CachedKeys{Source: keys}, State: &integritywatch.Table{DB: db, Name: "integrity", Heads: "heads"},
		LogFiles: mode, Now: func() time.Time { return start.Add(6 * time.Hour) }}
	return &world{s3: cs, sim: sim, w: w, db: db}
}

var start = time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)

// chain delivers n hourly digests, each listing one fresh log file, and
// returns the digest keys and the log file keys.
func (wd *world) chain(t *testing.T, n int) (digests, logs []string) {
	t.Helper()
	return wd.chainFrom(t, 0, n)
}

// chainFrom delivers n hourly digests from hour first on.
func (wd *world) chainFrom(t *testing.T, first, n int) (digests, logs []string) {
	t.Helper()
	for i := first; i < first+n; i++ {
		at := start.Add(time.Duration(i) * time.Hour)
		lk, err := wd.sim.DeliverLogFile(t.Context(), account, region, at.Add(-20*time.Minute), 2)
		if err != nil {
			t.Fatal(err)
		}
		df, err := wd.sim.DeliverDigest(t.Context(), account, region, at, []string{lk})
		if err != nil {
			t.Fatal(err)
		}
		digests, logs = append(digests, df.Key), append(logs, lk)
	}
	return digests, logs
}

func (wd *world) verify(t *testing.T, keys ...string) []string {
	t.Helper()
	var got []string
	for _, k := range keys {
		fs, err := wd.w.Digest(t.Context(), bucket, k, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if f.Account != account || f.Region != region || f.Bucket != bucket || f.Reason == "" {
				t.Errorf("finding without account, Region, bucket or reason: %+v", f)
			}
			got = append(got, f.Code+" "+f.Key)
		}
	}
	sort.Strings(got)
	return got
}

func TestValidChainInAnyOrderHasNoFinding(t *testing.T) {
	for name, order := range map[string][]int{"in order": {0, 1, 2, 3}, "reversed": {3, 2, 1, 0}, "shuffled": {2, 0, 3, 1}} {
		t.Run(name, func(t *testing.T) {
			wd := newWorld(t, integrity.LogFilesAll)
			digests, logs := wd.chain(t, 4)
			var keys []string
			for _, i := range order {
				keys = append(keys, digests[i])
			}
			if got := wd.verify(t, keys...); len(got) != 0 {
				t.Fatalf("findings on a valid chain: %v", got)
			}
			// Redelivered: nothing is read again.
			if got := wd.verify(t, digests...); len(got) != 0 {
				t.Fatalf("findings on redelivery: %v", got)
			}
			for _, k := range append(digests, logs...) {
				if n := wd.s3.gets[k]; n != 1 {
					t.Errorf("%s read %d times, want once", k, n)
				}
			}
		})
	}
}

func TestAlteredDigestAndBrokenLink(t *testing.T) {
	for name, order := range map[string][]int{"in order": {0, 1, 2}, "successor first": {2, 1, 0}} {
		t.Run(name, func(t *testing.T) {
			wd := newWorld(t, integrity.LogFilesNone)
			digests, _ := wd.chain(t, 3)
			// The middle digest is altered, its signature metadata kept.
			edit := func(b []byte) []byte { return append(bytes.Clone(b), '\n') }
			if err := cloudtrailsim.AlterObject(t.Context(), wd.s3.Client, bucket, digests[1], edit); err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, i := range order {
				keys = append(keys, digests[i])
			}
			got := wd.verify(t, keys...)
			want := []string{"digest-invalid " + digests[1], "digest-link-broken " + digests[2]}
			if !equal(got, want) {
				t.Fatalf("findings %v, want %v", got, want)
			}
		})
	}
}

func TestLogFilesPerSetting(t *testing.T) {
	for _, mode := range []integrity.LogFileMode{integrity.LogFilesAll, integrity.LogFilesNone} {
		t.Run(string(mode), func(t *testing.T) {
			wd := newWorld(t, mode)
			digests, logs := wd.chain(t, 2)
			if err := cloudtrailsim.AlterObject(t.Context(), wd.s3.Client, bucket, logs[0], cloudtrailsim.ChangeFirstEvent); err != nil {
				t.Fatal(err)
			}
			if err := cloudtrailsim.DeleteObjects(t.Context(), wd.s3.Client, bucket, logs[1]); err != nil {
				t.Fatal(err)
			}
			got := wd.verify(t, digests...)
			var want []string
			if mode == integrity.LogFilesAll {
				want = []string{"log-file-invalid " + logs[0], "log-file-missing " + logs[1]}
			}
			if !equal(got, want) {
				t.Fatalf("findings %v, want %v", got, want)
			}
		})
	}
}

func TestConcurrentDeliveriesReadADigestOnce(t *testing.T) {
	wd := newWorld(t, integrity.LogFilesNone)
	digests, _ := wd.chain(t, 2)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, k := range []string{digests[1], digests[0]} {
				if fs, err := wd.w.Digest(context.Background(), bucket, k, ""); err != nil || len(fs) != 0 {
					t.Errorf("%s: findings %v, error %v", k, fs, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, k := range digests {
		if n := wd.s3.gets[k]; n != 1 {
			t.Errorf("%s read %d times, want once", k, n)
		}
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// liveKeys lists the simulator's keys when asked, as ListPublicKeys does.
type liveKeys struct {
	sim   *cloudtrailsim.Deliverer
	calls int
}

func (l *liveKeys) PublicKeys(_ context.Context, _ string, start, end time.Time) ([]integrity.PublicKey, error) {
	l.calls++
	var out []integrity.PublicKey
	for _, k := range l.sim.PublicKeys() {
		pub, err := integrity.ParseDERKey(k.DER)
		if err != nil {
			return nil, err
		}
		if !k.Start.After(end) && !k.End.Before(start) {
			out = append(out, integrity.PublicKey{Fingerprint: k.Fingerprint, Key: pub, Start: k.Start, End: k.End})
		}
	}
	return out, nil
}

// A key rotation after the keys were cached: the digest signed with the
// new key is valid (the cache is refreshed), and keys are not listed per
// digest.
func TestKeyRotationAfterCaching(t *testing.T) {
	wd := newWorld(t, integrity.LogFilesNone)
	clock := start.Add(6 * time.Hour)
	live := &liveKeys{sim: wd.sim}
	wd.w.Keys = &integritywatch.CachedKeys{Source: live, Now: func() time.Time { return clock }}
	digests, _ := wd.chain(t, 3)
	if got := wd.verify(t, digests...); len(got) != 0 {
		t.Fatalf("findings before rotation: %v", got)
	}
	if live.calls != 1 {
		t.Fatalf("ListPublicKeys called %d times for one Region's digests, want 1", live.calls)
	}
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := wd.sim.RotateKey(start.Add(2*time.Hour+10*time.Minute), next); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * time.Minute)
	more, _ := wd.chainFrom(t, 3, 2)
	if got := wd.verify(t, more...); len(got) != 0 {
		t.Fatalf("findings after rotation: %v", got)
	}
}

// A forged digest naming a real predecessor, read before that predecessor,
// does not replace what the real successor expects of it.
func TestForgedDigestDoesNotHideALink(t *testing.T) {
	wd := newWorld(t, integrity.LogFilesNone)
	digests, _ := wd.chain(t, 3)
	forged := strings.Replace(digests[2], "T120030Z", "T123030Z", 1)
	out, err := wd.s3.Client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests[2])})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	out.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(raw, []byte(`"previousDigestHashValue":"`), []byte(`"previousDigestHashValue":"00`), 1)
	if bytes.Equal(edited, raw) {
		t.Fatal("no previousDigestHashValue to edit")
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(edited)
	zw.Close()
	if _, err := wd.s3.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(forged),
		Body: bytes.NewReader(buf.Bytes()), Metadata: out.Metadata}); err != nil {
		t.Fatal(err)
	}
	got := wd.verify(t, digests[2], forged, digests[1], digests[0])
	if want := []string{"digest-invalid " + forged}; !equal(got, want) {
		t.Fatalf("findings %v, want %v", got, want)
	}
}
