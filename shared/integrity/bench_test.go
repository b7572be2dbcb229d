package integrity_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

// logFileBytes is an uncompressed log file of n records shaped like
// CloudTrail's (about 1.2 KB each).
func logFileBytes(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.11","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE%06d:session","arn":"arn:aws:sts::111122223333:assumed-role/app/session","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE%09d","sessionContext":{"attributes":{"creationDate":"2026-03-14T10:00:00Z","mfaAuthenticated":"false"}}},"eventTime":"2026-03-14T10:%02d:%02dZ","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.%d","userAgent":"aws-sdk-go-v2/1.36.0 os/linux lang/go#1.26","requestParameters":{"bucketName":"app-data","key":"objects/%08d.json"},"responseElements":null,"requestID":"%016X","eventID":"6f3b1c2e-%04d-4a5b-8c9d-0e1f2a3b4c5d","readOnly":true,"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"111122223333","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"app-data.s3.us-east-1.amazonaws.com"}}`,
			i, i, i%60, i%60, i%250, i, i*7919, i%10000)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// BenchmarkLogFileHash is HashGzip on a 1,000-record log file: inflate and
// SHA-256, per uncompressed byte (b.SetBytes).
func BenchmarkLogFileHash(b *testing.B) {
	raw := logFileBytes(1000)
	stored := gz(b, raw)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := integrity.HashGzip(bytes.NewReader(stored)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLogFileSHA256Floor is SHA-256 alone over the same uncompressed
// bytes: the floor HashGzip cannot beat.
func BenchmarkLogFileSHA256Floor(b *testing.B) {
	raw := logFileBytes(1000)
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for b.Loop() {
		sha256.Sum256(raw)
	}
}

// BenchmarkDigestVerify verifies one hour's digests of one account ×
// Region (a chain of 24 in the window, log files not read): listing,
// inflate, parse, key lookup, RSA verification, chain links. Reported per
// digest.
func BenchmarkDigestVerify(b *testing.B) {
	w := newWorld(b)
	w.hours(1, 24)
	keys := w.keys()
	opts := integrity.Options{Start: T0, End: hour(24).Add(time.Minute), LogFiles: integrity.LogFilesNone}
	b.ResetTimer()
	for b.Loop() {
		r, err := integrity.Verify(context.Background(), w.b, keys, opts)
		if err != nil || r.Summary.Digests[integrity.Valid] != 24 {
			b.Fatalf("%v %+v", err, r.Summary)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*24), "ns/digest")
}

// BenchmarkDigestFloor is SHA-256 of the same uncompressed digests plus one
// RSA-2048 verification each: the cryptographic floor of digest checking.
func BenchmarkDigestFloor(b *testing.B) {
	w := newWorld(b)
	w.hours(1, 24)
	pub := w.d.PublicKey()
	var raws [][]byte
	var digests []*integrity.Digest
	var sigs []string
	for _, k := range w.digests {
		o := w.b.objects[k]
		raw := gunzip(b, o.Body)
		d, err := integrity.ParseDigest(raw)
		if err != nil {
			b.Fatal(err)
		}
		raws, digests, sigs = append(raws, raw), append(digests, d), append(sigs, o.Metadata["signature"])
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range raws {
			if err := integrity.VerifySignature(pub, digests[i], raws[i], sigs[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*24), "ns/digest")
}
