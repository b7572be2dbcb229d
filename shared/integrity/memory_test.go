package integrity_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

// bucket is an in-memory bucket: the simulator writes to it (PutObject) and
// Verify reads it (integrity.Source).
type bucket struct {
	mu      sync.Mutex
	objects map[string]integrity.Object
	denied  map[string]bool // keys whose Get fails with an access error
}

func newBucket() *bucket {
	return &bucket{objects: map[string]integrity.Object{}, denied: map[string]bool{}}
}

func (b *bucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	body := []byte{}
	if in.Body != nil {
		var err error
		if body, err = io.ReadAll(in.Body); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objects[*in.Key] = integrity.Object{Body: body, Metadata: maps.Clone(in.Metadata)}
	return &s3.PutObjectOutput{}, nil
}

func (b *bucket) List(_ context.Context, prefix string, fn func(string) error) error {
	b.mu.Lock()
	keys := slices.Sorted(maps.Keys(b.objects))
	b.mu.Unlock()
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			if err := fn(k); err != nil {
				return err
			}
		}
	}
	return nil
}

var errDenied = fmt.Errorf("AccessDenied: 403")

func (b *bucket) Get(_ context.Context, key string) (integrity.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.denied[key] {
		return integrity.Object{}, errDenied
	}
	o, ok := b.objects[key]
	if !ok {
		return integrity.Object{}, fmt.Errorf("%s: %w", key, integrity.ErrNotFound)
	}
	return integrity.Object{Body: bytes.Clone(o.Body), Metadata: maps.Clone(o.Metadata)}, nil
}

var (
	keysOnce sync.Once
	testKeys [2]*rsa.PrivateKey
)

func signingKeys(t testing.TB) [2]*rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for i := range testKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			testKeys[i] = k
		}
	})
	return testKeys
}

const (
	acct   = "111122223333"
	region = "us-east-1"
	bkt    = "central-logs"
)

// T0 is the start of every scenario: digests end at T0+1h+7s, T0+2h+7s, …
var T0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func hour(n int) time.Time { return T0.Add(time.Duration(n)*time.Hour + 7*time.Second) }

// world is one simulated trail writing to an in-memory bucket.
type world struct {
	t       testing.TB
	b       *bucket
	d       *cloudtrailsim.Deliverer
	digests []string // regular digest keys, in order
	logs    [][]string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldWith(t, cloudtrailsim.Trail{Name: "org-trail", HomeRegion: region, Bucket: bkt})
}

func newWorldWith(t testing.TB, trail cloudtrailsim.Trail) *world {
	t.Helper()
	b := newBucket()
	d, err := cloudtrailsim.New(b, nil, trail,
		cloudtrailsim.Options{Seed: 7, Key: signingKeys(t)[0], KeyValidFrom: T0.Add(-30 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, b: b, d: d}
}

// hours delivers two log files and a digest for each hour in [from, to].
func (w *world) hours(from, to int) {
	w.t.Helper()
	ctx := context.Background()
	for h := from; h <= to; h++ {
		keys, err := w.d.DeliverLogFiles(ctx, acct, region, hour(h).Add(-30*time.Minute), 2)
		if err != nil {
			w.t.Fatal(err)
		}
		df, err := w.d.DeliverDigest(ctx, acct, region, hour(h), nil)
		if err != nil {
			w.t.Fatal(err)
		}
		w.digests = append(w.digests, df.Key)
		w.logs = append(w.logs, keys)
	}
}

func (w *world) keys() integrity.StaticKeys {
	var out integrity.StaticKeys
	for _, k := range w.d.PublicKeys() {
		pub, err := integrity.ParseDERKey(k.DER)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, integrity.PublicKey{Fingerprint: k.Fingerprint, Key: pub, Start: k.Start, End: k.End})
	}
	return out
}

func (w *world) verify(opts integrity.Options) *integrity.Report {
	w.t.Helper()
	if opts.Start.IsZero() {
		opts.Start = T0
	}
	if opts.End.IsZero() {
		opts.End = hour(len(w.digests)).Add(30 * time.Minute)
	}
	r, err := integrity.Verify(context.Background(), w.b, w.keys(), opts)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) del(key string) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if _, ok := w.b.objects[key]; !ok {
		w.t.Fatalf("no object %s to delete", key)
	}
	delete(w.b.objects, key)
}

func (w *world) rewrite(key string, f func(integrity.Object) integrity.Object) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	w.b.objects[key] = f(w.b.objects[key])
}
