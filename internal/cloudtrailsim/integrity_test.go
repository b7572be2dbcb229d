package cloudtrailsim_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
