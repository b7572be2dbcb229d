package main

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
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

// dirBucket is an S3API for the simulator that writes the --dir layout.
type dirBucket struct{ dir string }

func (b dirBucket) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	path := filepath.Join(b.dir, filepath.FromSlash(*in.Key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	body := []byte{}
	if in.Body != nil {
		body, _ = io.ReadAll(in.Body)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return nil, err
	}
	if len(in.Metadata) > 0 {
		meta, _ := json.Marshal(in.Metadata)
		if err := os.WriteFile(path+metadataSuffix, meta, 0o644); err != nil {
			return nil, err
		}
	}
	return &s3.PutObjectOutput{}, nil
}

var (
	cliKeyOnce sync.Once
	cliKey     *rsa.PrivateKey
)

func integrityKey(t testing.TB) *rsa.PrivateKey {
	cliKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		cliKey = k
	})
	return cliKey
}

const (
	itAccount = "111122223333"
	itRegion  = "eu-west-1"
	itBucket  = "central-logs"
)

var itT0 = time.Date(2026, 3, 14, 10, 0, 0, 0, time.UTC)

func itHour(n int) time.Time { return itT0.Add(time.Duration(n)*time.Hour + 12*time.Second) }

// simulate writes hours [1, n] of a trail into a fresh mirror directory
// and returns it, the public keys file, and the log files of each hour.
func simulate(t *testing.T, n int, restartAfter int) (string, string, [][]string, []string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	d, err := cloudtrailsim.New(dirBucket{dir}, nil, cloudtrailsim.Trail{Name: "org-trail", HomeRegion: itRegion, Bucket: itBucket},
		cloudtrailsim.Options{Seed: 11, Key: integrityKey(t), KeyValidFrom: itT0.Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var logs [][]string
	var digests []string
	for h := 1; h <= n; h++ {
		if restartAfter > 0 && h == restartAfter+1 {
			d.RestartChain(itAccount, itRegion)
			continue // an hour without logging
		}
		keys, err := d.DeliverLogFiles(ctx, itAccount, itRegion, itHour(h).Add(-20*time.Minute), 2)
		if err != nil {
			t.Fatal(err)
		}
		df, err := d.DeliverDigest(ctx, itAccount, itRegion, itHour(h), nil)
		if err != nil {
			t.Fatal(err)
		}
		logs, digests = append(logs, keys), append(digests, df.Key)
	}
	var list []map[string]any
	for _, k := range d.PublicKeys() {
		list = append(list, k.ListPublicKeysEntry())
	}
	keysFile := filepath.Join(t.TempDir(), "keys.json")
	b, _ := json.Marshal(map[string]any{"PublicKeyList": list})
	if err := os.WriteFile(keysFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, keysFile, logs, digests
}

func rm(t *testing.T, dir, key string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(key))); err != nil {
		t.Fatal(err)
	}
}

func TestIntegrityVerifyGolden(t *testing.T) {
	window := []string{"--start", itT0.Format(time.RFC3339), "--end", itHour(6).Add(20 * time.Minute).Format(time.RFC3339)}
	tests := []struct {
		name   string
		tamper func(t *testing.T, dir string, logs [][]string, digests []string)
		args   []string
		code   int
	}{
		{name: "valid", code: exitOK},
		{name: "restart", code: exitOK},
		{name: "tampered", code: exitProblem, tamper: func(t *testing.T, dir string, logs [][]string, digests []string) {
			rm(t, dir, logs[0][1]) // a deleted log file
			rm(t, dir, digests[4]) // the newest digests
			rm(t, dir, digests[5]) //
			f, _ := os.OpenFile(filepath.Join(dir, filepath.FromSlash(logs[1][0])), os.O_APPEND|os.O_WRONLY, 0)
			zw := gzip.NewWriter(f) // a second gzip member
			zw.Write([]byte(`{"Records":[]}`))
			zw.Close()
			f.Close()
		}},
		{name: "sample", code: exitOK, args: []string{"--log-files", "sample"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			restart := 0
			if tc.name == "restart" {
				restart = 3
			}
			dir, keys, logs, digests := simulate(t, 6, restart)
			if tc.tamper != nil {
				tc.tamper(t, dir, logs, digests)
			}
			args := append([]string{"integrity", "verify", "--dir", dir, "--bucket", itBucket, "--public-keys", keys, "-o", "json"}, window...)
			r := runCLI(t, nil, append(args, tc.args...)...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %s", r.code, tc.code, r.stderr)
			}
			golden(t, filepath.Join("testdata", "integrity", tc.name+".golden.json"), r.stdout)
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Fatalf("output differs from %s (run with -update to accept):\n%s", path, got)
	}
}

func TestIntegrityReadableReport(t *testing.T) {
	dir, keys, logs, _ := simulate(t, 3, 0)
	rm(t, dir, logs[2][0])
	r := runCLI(t, nil, "integrity", "verify", "--dir", dir, "--public-keys", keys,
		"--start", itT0.Format(time.RFC3339), "--end", itHour(3).Add(time.Minute).Format(time.RFC3339))
	if r.code != exitProblem || !strings.Contains(r.stdout, "MISSING: not found") || !strings.Contains(r.stdout, "FAILED") {
		t.Fatalf("%+v", r)
	}
	r = runCLI(t, nil, "integrity", "verify", "--dir", dir, "--public-keys", keys, "--start", itHour(5).Format(time.RFC3339),
		"--end", itHour(6).Format(time.RFC3339))
	if r.code != exitProblem || !strings.Contains(r.stdout, "no digest found") {
		t.Fatalf("empty window: %+v", r)
	}
}

func TestIntegrityUsageErrors(t *testing.T) {
	dir, keys, _, _ := simulate(t, 1, 0)
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"PublicKeyList":[{"Value":"!!"}]}`), 0o600)
	start := "--start=" + itT0.Format(time.RFC3339)
	for _, args := range [][]string{
		{"integrity"},
		{"integrity", "frob"},
		{"integrity", "verify", "--dir", dir, "--public-keys", keys},
		{"integrity", "verify", start, "--public-keys", keys},
		{"integrity", "verify", "--dir", dir, "--public-keys", keys, start, "--log-files", "some"},
		{"integrity", "verify", "--dir", dir, "--public-keys", keys, start, "-o", "yaml"},
		{"integrity", "verify", "--dir", dir, "--public-keys", keys, start, "--account", "12"},
		{"integrity", "verify", "--dir", dir, "--public-keys", keys, "--start", "yesterday"},
		{"integrity", "verify", "--dir", dir, "--public-keys", bad, start},
		{"integrity", "mirror", "--dir", dir},
	} {
		if r := runCLI(t, nil, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d (%s)", args, r.code, exitUsage, r.stderr)
		}
	}
}

func TestDirSourceRefusesEscapes(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "secret"), []byte("x"), 0o600)
	src := dirSource{dir: filepath.Join(dir, "mirror")}
	for _, key := range []string{"../secret", "AWSLogs/../../secret", "a.json.gz.metadata.json"} {
		if _, err := src.Get(context.Background(), key); err == nil || !strings.Contains(err.Error(), integrity.ErrNotFound.Error()) {
			t.Errorf("Get(%q) = %v, want not found", key, err)
		}
	}
	var buf bytes.Buffer
	printIntegrity(&buf, &integrity.Report{})
	if !strings.Contains(buf.String(), "no digest found") {
		t.Fatal(buf.String())
	}
}

// deniedS3 answers every GetObject with HTTP 403, as S3 does without
// s3:GetObject (or for a missing key without s3:ListBucket).
type deniedS3 struct{}

func (deniedS3) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusForbidden}}, Err: errors.New("AccessDenied"),
	}}
}

func (deniedS3) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	key := "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2026/03/14/111122223333_CloudTrail-Digest_eu-west-1_org-trail_eu-west-1_20260314T110012Z.json.gz"
	return &s3.ListObjectsV2Output{Contents: []s3types.Object{{Key: &key}}}, nil
}

func TestIntegrityAccessDeniedExits2(t *testing.T) {
	old := integrityS3
	integrityS3 = func(aws.Config) s3API { return deniedS3{} }
	t.Cleanup(func() { integrityS3 = old })
	_, keys, _, _ := simulate(t, 1, 0)
	t.Setenv("AWS_REGION", "eu-west-1")
	r := runCLI(t, nil, "integrity", "verify", "--bucket", itBucket, "--public-keys", keys, "--start", itT0.Format(time.RFC3339), "--end", itHour(2).Format(time.RFC3339))
	if r.code != exitUsage || !strings.Contains(r.stderr, "access denied") || strings.Contains(r.stdout, "MISSING") {
		t.Fatalf("a 403 must exit 2 as an access error, never missing: %+v", r)
	}
}
