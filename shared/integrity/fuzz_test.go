package integrity_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

const sampleDigest = `{"awsAccountId":"111122223333","digestStartTime":"2015-08-17T14:01:31Z","digestEndTime":"2015-08-17T15:01:31Z",` +
	`"digestS3Bucket":"amzn-s3-demo-bucket","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",` +
	`"digestPublicKeyFingerprint":"31e8b5433410dfb61a9dc45cc65b22ff","digestSignatureAlgorithm":"SHA256withRSA",` +
	`"newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z","previousDigestS3Bucket":null,` +
	`"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,` +
	`"logFiles":[{"s3Bucket":"amzn-s3-demo-bucket","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz","hashValue":"9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6","hashAlgorithm":"SHA-256","newestEventTime":"2015-08-17T14:52:27Z","oldestEventTime":"2015-08-17T14:42:27Z"}]}`

// FuzzParseDigest: ParseDigest never panics; an accepted digest has its
// required fields and a consistent chain start; every error is ErrFormat.
// Seeds: testdata/fuzz/FuzzParseDigest.
func FuzzParseDigest(f *testing.F) {
	f.Add([]byte(sampleDigest))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := integrity.ParseDigest(raw)
		if err != nil {
			if !errors.Is(err, integrity.ErrFormat) || d != nil {
				t.Fatalf("error %v (digest %v) is not ErrFormat alone", err, d)
			}
			return
		}
		if d.S3Bucket == "" || d.S3Object == "" || d.PublicKeyFingerprint == "" || d.EndTime.IsZero() && d.RawEndTime == "" {
			t.Fatalf("accepted without required fields: %+v", d)
		}
		if d.Restart() != (d.PreviousDigestSignature == nil) {
			t.Fatalf("partly null chain accepted: %+v", d)
		}
		_ = integrity.StringToSign(d, raw)
	})
}

// FuzzGunzip: Gunzip and HashGzip never panic and agree; the output never
// exceeds the limit; whatever Gunzip accepts re-gzips to an accepted stream.
// Seeds: testdata/fuzz/FuzzGunzip.
func FuzzGunzip(f *testing.F) {
	f.Add(gz(f, []byte(`{"Records":[]}`)))
	f.Add(append(gz(f, []byte("a")), gz(f, []byte("b"))...))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, stored []byte) {
		out, err := integrity.Gunzip(stored, 1<<20)
		h, herr := integrity.HashGzip(bytes.NewReader(stored))
		if err != nil {
			if !errors.Is(err, integrity.ErrNotGzip) && !errors.Is(err, integrity.ErrTrailingData) && !errors.Is(err, integrity.ErrTooLarge) {
				t.Fatalf("untyped error %v", err)
			}
			if herr == nil && !errors.Is(err, integrity.ErrTooLarge) {
				t.Fatalf("Gunzip refused (%v), HashGzip accepted", err)
			}
			return
		}
		if len(out) > 1<<20 {
			t.Fatalf("%d bytes over the limit", len(out))
		}
		if herr != nil || h != integrity.HashHex(out) {
			t.Fatalf("HashGzip %q %v, want %q", h, herr, integrity.HashHex(out))
		}
		if again, err := integrity.Gunzip(gz(t, out), 1<<20); err != nil || !bytes.Equal(again, out) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzParsePublicKeys: ParsePublicKeys never panics and every error is
// ErrKeys. Seeds: testdata/fuzz/FuzzParsePublicKeys.
func FuzzParsePublicKeys(f *testing.F) {
	f.Add([]byte(`{"PublicKeyList":[]}`))
	f.Add([]byte(`{"PublicKeyList":[{"Value":"MAA=","ValidityStartTime":1700000000,"ValidityEndTime":"2026-01-01T00:00:00+00:00","Fingerprint":"ab"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		keys, err := integrity.ParsePublicKeys(b)
		if err != nil {
			if !errors.Is(err, integrity.ErrKeys) || keys != nil {
				t.Fatalf("error %v is not ErrKeys alone", err)
			}
			return
		}
		for _, k := range keys {
			if k.Key == nil || k.Fingerprint == "" {
				t.Fatalf("accepted an incomplete key: %+v", k)
			}
		}
	})
}
