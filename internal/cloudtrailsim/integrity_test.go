package cloudtrailsim_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
)

func TestBackfillDigestAndKeyRotation(t *testing.T) {
	ctx := context.Background()
	s3c := &fakeS3{}
	d, err := cloudtrailsim.New(s3c, nil, cloudtrailsim.Trail{Name: "t", HomeRegion: "us-east-1", Bucket: "b"}, cloudtrailsim.Options{Key: testKey(t), Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 30, 0, time.UTC)
	late, err := d.DeliverLogFile(ctx, "111122223333", "us-east-1", at.Add(-10*time.Minute), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.DeliverDigest(ctx, "111122223333", "us-east-1", at, []string{}); err != nil {
		t.Fatal(err)
	}
	if err := d.RotateKey(at.Add(-48*time.Hour*365*20), testKey(t)); err == nil {
		t.Fatal("rotation before the current key's start accepted")
	}
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rotated := at.Add(30 * time.Minute)
	if err := d.RotateKey(rotated, next); err != nil {
		t.Fatal(err)
	}
	gen := at.Add(2 * time.Hour)
	bf, err := d.DeliverBackfillDigest(ctx, "111122223333", "us-east-1", at, gen, []string{late})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(bf.Key, "_20260501T100030Z_backfill.json.gz") || bf.Digest.PreviousDigestSignature != nil {
		t.Fatalf("backfill key %s or chain %v", bf.Key, bf.Digest.PreviousDigestSignature)
	}
	meta := s3c.objects[bf.Key].Metadata
	if meta["backfill-generation-timestamp"] != "2026-05-01T12:00:30Z" || bf.Digest.DigestPublicKeyFingerprint != cloudtrailsim.Fingerprint(&next.PublicKey) {
		t.Fatalf("metadata %v fingerprint %s", meta, bf.Digest.DigestPublicKeyFingerprint)
	}
	if err := cloudtrailsim.VerifyDigest(&next.PublicKey, bf.JSON, bf.Signature); err != nil {
		t.Fatalf("backfill not signed with the new key: %v", err)
	}
	keys := d.PublicKeys()
	if len(keys) != 2 || !keys[0].End.Equal(rotated) || !keys[1].Start.Equal(rotated) || keys[0].Start != cloudtrailsim.DefaultKeyValidFrom {
		t.Fatalf("keys %+v", keys)
	}
	if _, err := d.DeliverBackfillDigest(ctx, "111122223333", "us-east-1", at, time.Time{}, nil); err == nil {
		t.Fatal("backfill without generation time accepted")
	}
}

func TestRegisterPublicKeys(t *testing.T) {
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != cloudtrailsim.KeysPath {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got)
		w.Write([]byte(`{"count": 1}`))
	}))
	defer srv.Close()
	d, err := cloudtrailsim.New(&fakeS3{}, nil, cloudtrailsim.Trail{Name: "t", HomeRegion: "eu-west-1", Bucket: "b"},
		cloudtrailsim.Options{Key: testKey(t), ControlURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.RegisterPublicKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	keys, _ := got["keys"].([]any)
	if got["region"] != "eu-west-1" || len(keys) != 1 || keys[0].(map[string]any)["Fingerprint"] != cloudtrailsim.Fingerprint(&testKey(t).PublicKey) {
		t.Fatalf("posted %v", got)
	}
}

// memS3 is a bucket for the tampering helpers.
type memS3 struct {
	body map[string][]byte
	meta map[string]map[string]string
}

func (m *memS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	b, ok := m.body[*in.Key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(b)), Metadata: m.meta[*in.Key]}, nil
}

func (m *memS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	b, _ := io.ReadAll(in.Body)
	m.body[*in.Key], m.meta[*in.Key] = b, in.Metadata
	return &s3.PutObjectOutput{}, nil
}

func (m *memS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	delete(m.body, *in.Key)
	return &s3.DeleteObjectOutput{}, nil
}

func TestTamperingHelpers(t *testing.T) {
	ctx := context.Background()
	m := &memS3{body: map[string][]byte{}, meta: map[string]map[string]string{}}
	d, err := cloudtrailsim.New(m, nil, cloudtrailsim.Trail{Name: "t", HomeRegion: "us-east-1", Bucket: "b"}, cloudtrailsim.Options{Key: testKey(t), Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	logKey, _ := d.DeliverLogFile(ctx, "111122223333", "us-east-1", at, 2)
	df, err := d.DeliverDigest(ctx, "111122223333", "us-east-1", at.Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	before := m.body[logKey]
	if err := cloudtrailsim.AlterObject(ctx, m, "b", logKey, cloudtrailsim.ChangeFirstEvent); err != nil {
		t.Fatal(err)
	}
	zr, _ := gzip.NewReader(bytes.NewReader(m.body[logKey]))
	raw, _ := io.ReadAll(zr)
	if !bytes.Contains(raw, []byte(`"eventName":"Tampered`)) || sha256Hex(raw) == df.Digest.LogFiles[0].HashValue {
		t.Fatal("log file not altered")
	}
	if err := cloudtrailsim.AlterObject(ctx, m, "b", df.Key, func(b []byte) []byte { return b }); err != nil || m.meta[df.Key]["signature"] != df.Signature {
		t.Fatalf("digest metadata not kept: %v %v", err, m.meta[df.Key])
	}
	m.body[logKey] = before
	if err := cloudtrailsim.AppendGzipMember(ctx, m, "b", logKey, []byte("x")); err != nil || !bytes.HasPrefix(m.body[logKey], before) || len(m.body[logKey]) <= len(before) {
		t.Fatalf("append: %v", err)
	}
	if err := cloudtrailsim.DeleteObjects(ctx, m, "b", logKey, df.Key); err != nil || len(m.body) != 0 {
		t.Fatalf("delete: %v, left %d", err, len(m.body))
	}
	if err := cloudtrailsim.AlterObject(ctx, m, "b", logKey, cloudtrailsim.ChangeFirstEvent); err == nil {
		t.Fatal("altering a missing object succeeded")
	}
}
