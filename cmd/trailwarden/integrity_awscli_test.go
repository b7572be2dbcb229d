package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

// awsCLI is the AWS CLI from its own venv (make venv-awscli), or "" when
// that venv is absent.
func awsCLI(t *testing.T) string {
	t.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".venv-awscli", "bin", "aws")
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("the AWS CLI venv is absent (%s): run 'make venv-awscli' to compare with 'aws cloudtrail validate-logs'", bin)
	}
	return bin
}

// agreementCase is one bucket state both validators judge.
type agreementCase struct {
	name   string
	tamper func(t *testing.T, w *cliWorld)
	// trailwardenFindsMore names what trailwarden reports and validate-logs
	// cannot see; "" means both must agree exactly.
	trailwardenFindsMore string
	wantFailed           bool
}

// cliWorld is one trail's deliveries into its own emulated bucket.
type cliWorld struct {
	s3      *s3.Client
	d       *cloudtrailsim.Deliverer
	bucket  string
	trail   string
	region  string
	digests []string
	logs    [][]string
}

var cliT0 = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func cliHour(n int) time.Time { return cliT0.Add(time.Duration(n)*time.Hour + 5*time.Second) }

func (w *cliWorld) hours(t *testing.T, from, to int) {
	t.Helper()
	ctx := context.Background()
	for h := from; h <= to; h++ {
		keys, err := w.d.DeliverLogFiles(ctx, emulator.ManagementAccountID, w.region, cliHour(h).Add(-25*time.Minute), 2)
		if err != nil {
			t.Fatal(err)
		}
		df, err := w.d.DeliverDigest(ctx, emulator.ManagementAccountID, w.region, cliHour(h), nil)
		if err != nil {
			t.Fatal(err)
		}
		w.digests, w.logs = append(w.digests, df.Key), append(w.logs, keys)
	}
}

func (w *cliWorld) del(t *testing.T, keys ...string) {
	t.Helper()
	if err := cloudtrailsim.DeleteObjects(context.Background(), w.s3, w.bucket, keys...); err != nil {
		t.Fatal(err)
	}
}

func (w *cliWorld) alter(t *testing.T, key string, edit func([]byte) []byte) {
	t.Helper()
	if err := cloudtrailsim.AlterObject(context.Background(), w.s3, w.bucket, key, edit); err != nil {
		t.Fatal(err)
	}
}

var agreementCases = []agreementCase{
	{name: "valid"},
	{name: "deleted-log-file", wantFailed: true, tamper: func(t *testing.T, w *cliWorld) { w.del(t, w.logs[2][0]) }},
	{name: "altered-log-file", wantFailed: true, tamper: func(t *testing.T, w *cliWorld) { w.alter(t, w.logs[1][1], cloudtrailsim.ChangeFirstEvent) }},
	{name: "appended-gzip-member", wantFailed: true, tamper: func(t *testing.T, w *cliWorld) {
		if err := cloudtrailsim.AppendGzipMember(context.Background(), w.s3, w.bucket, w.logs[0][0], []byte(`{"Records":[]}`)); err != nil {
			t.Fatal(err)
		}
	}},
	{name: "deleted-mid-digests", wantFailed: true, tamper: func(t *testing.T, w *cliWorld) { w.del(t, w.digests[2], w.digests[3]) }},
	{name: "truncated-tail", wantFailed: true, trailwardenFindsMore: "missing-digests gap after the newest remaining digest (validate-logs starts from the newest digest it finds)",
		tamper: func(t *testing.T, w *cliWorld) { w.del(t, w.digests[4], w.digests[5]) }},
	{name: "altered-digest", wantFailed: true, trailwardenFindsMore: "the successor's previousDigestHashValue no longer matches (validate-logs does not compare it)",
		tamper: func(t *testing.T, w *cliWorld) {
			w.alter(t, w.digests[2], func(r []byte) []byte { return bytes.Replace(r, []byte(`"logFiles":[{`), []byte(`"logFiles":[ {`), 1) })
		}},
	{name: "restart-after-stop", tamper: func(t *testing.T, w *cliWorld) {}},
	{name: "backfill-after-key-rotation", tamper: func(t *testing.T, w *cliWorld) {}},
}

func TestIntegrityAgreesWithAWSCLI(t *testing.T) {
	bin := awsCLI(t)
	env := emulator.NewEnv(t)
	cfg := env.Server.ManagementConfig(env.Region)
	client := s3.NewFromConfig(cfg, emulator.S3Options)
	t.Setenv("AWS_ENDPOINT_URL", env.Server.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", env.Region)
	t.Setenv("AWS_MAX_ATTEMPTS", "2")
	for i, tc := range agreementCases {
		t.Run(tc.name, func(t *testing.T) {
			w := newCLIWorld(t, env, client, i)
			switch tc.name {
			case "restart-after-stop":
				w.hours(t, 1, 2)
				w.d.RestartChain(emulator.ManagementAccountID, w.region)
				w.hours(t, 5, 6)
			case "backfill-after-key-rotation":
				w.backfillAfterRotation(t)
			default:
				w.hours(t, 1, 6)
			}
			if tc.tamper != nil {
				tc.tamper(t, w)
			}
			start, end := cliT0, cliHour(6).Add(30*time.Minute)
			cli := runValidateLogs(t, bin, w, start, end)
			tw := runCLI(t, nil, "integrity", "verify", "--bucket", w.bucket, "-o", "json",
				"--start", start.Format(time.RFC3339), "--end", end.Format(time.RFC3339))
			var rep integrity.Report
			if err := json.Unmarshal([]byte(tw.stdout), &rep); err != nil {
				t.Fatalf("trailwarden output: %v\n%s\n%s", err, tw.stdout, tw.stderr)
			}
			compareWithCLI(t, tc, cli, &rep, tw.code)
		})
	}
}

func newCLIWorld(t *testing.T, env *emulator.Env, client *s3.Client, i int) *cliWorld {
	t.Helper()
	ctx := context.Background()
	w := &cliWorld{s3: client, bucket: fmt.Sprintf("integrity-%d-%s", i, strings.ToLower(strings.ReplaceAll(filepath.Base(t.Name()), "_", "-"))), region: env.Region}
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(w.bucket)}); err != nil {
		t.Fatal(err)
	}
	// The trail exists so that the simulator can record its status.
	w.trail = fmt.Sprintf("trail-%d", i)
	ct := cloudtrail.NewFromConfig(env.Server.ManagementConfig(env.Region))
	// A retried CreateTrail (the SDK retries a 5xx of a loaded emulator)
	// can find the trail its first attempt made: that trail is the one
	// wanted.
	var exists *cttypes.TrailAlreadyExistsException
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(w.trail), S3BucketName: aws.String(w.bucket),
		EnableLogFileValidation: aws.Bool(true)}); err != nil && !errors.As(err, &exists) {
		t.Fatal(err)
	}
	t.Cleanup(func() { ct.DeleteTrail(context.Background(), &cloudtrail.DeleteTrailInput{Name: aws.String(w.trail)}) }) // five trails per Region
	d, err := cloudtrailsim.New(client, nil, cloudtrailsim.Trail{Name: w.trail, HomeRegion: env.Region, Bucket: w.bucket},
		cloudtrailsim.Options{ControlURL: env.Server.URL(), Seed: uint64(100 + i), Key: integrityKey(t), KeyValidFrom: cliT0.Add(-48 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	w.d = d
	if err := d.RegisterPublicKeys(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// backfillAfterRotation: hourly digests, a key rotation after hour 3, and a
// backfill digest for hour 2 generated (and signed) after the rotation.
func (w *cliWorld) backfillAfterRotation(t *testing.T) {
	ctx := context.Background()
	w.hours(t, 1, 3)
	next, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.d.RotateKey(cliHour(3).Add(10*time.Minute), next); err != nil {
		t.Fatal(err)
	}
	w.hours(t, 4, 6)
	late, err := w.d.DeliverLogFile(ctx, emulator.ManagementAccountID, w.region, cliHour(2).Add(-5*time.Minute), 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.d.DeliverBackfillDigest(ctx, emulator.ManagementAccountID, w.region, cliHour(2), cliHour(5).Add(20*time.Minute), []string{late}); err != nil {
		t.Fatal(err)
	}
	if err := w.d.RegisterPublicKeys(ctx); err != nil {
		t.Fatal(err)
	}
}

// cliResult is what validate-logs said.
type cliResult struct {
	code                    int
	invalidDigests, invalid []string // keys reported INVALID (digests, log files)
	gaps                    int
	validDigests            int
}

var cliLine = regexp.MustCompile(`^(?:\(backfill\) )?(Digest|Log) file\ts3://[^/]+/(\S+)\t(INVALID|valid)`)

func runValidateLogs(t *testing.T, bin string, w *cliWorld, start, end time.Time) cliResult {
	t.Helper()
	arn := "arn:aws:cloudtrail:" + w.region + ":" + emulator.ManagementAccountID + ":trail/" + w.trail
	cmd := exec.Command(bin, "cloudtrail", "validate-logs", "--trail-arn", arn, "--s3-bucket", w.bucket,
		"--start-time", start.Format(time.RFC3339), "--end-time", end.Format(time.RFC3339), "--verbose", "--region", w.region)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", bin, err)
	}
	for _, line := range strings.Split(out.String()+"\n"+errb.String(), "\n") {
		if strings.Contains(line, "No log files were delivered by CloudTrail between") {
			res.gaps++
		}
		m := cliLine.FindStringSubmatch(line)
		switch {
		case m == nil:
		case m[1] == "Digest" && m[3] == "INVALID":
			res.invalidDigests = append(res.invalidDigests, m[2])
		case m[1] == "Log" && m[3] == "INVALID":
			res.invalid = append(res.invalid, m[2])
		case m[1] == "Digest":
			res.validDigests++
		}
	}
	if res.code > 1 {
		t.Fatalf("validate-logs exit %d:\n%s\n%s", res.code, out.String(), errb.String())
	}
	t.Logf("validate-logs exit %d:\n%s\n%s", res.code, out.String(), errb.String())
	return res
}

func compareWithCLI(t *testing.T, tc agreementCase, cli cliResult, rep *integrity.Report, code int) {
	t.Helper()
	var badDigests, badLogs []string
	valid := 0
	for _, d := range rep.Digests {
		if d.Verdict != integrity.Valid {
			badDigests = append(badDigests, d.Key)
		} else {
			valid++
		}
	}
	for _, l := range rep.LogFiles {
		if l.Verdict == integrity.Invalid || l.Verdict == integrity.Missing {
			badLogs = append(badLogs, l.Key)
		}
	}
	slices.Sort(cli.invalidDigests)
	slices.Sort(cli.invalid)
	same := slices.Equal(badDigests, cli.invalidDigests) && slices.Equal(badLogs, cli.invalid) && valid == cli.validDigests
	if tc.trailwardenFindsMore == "" && !same {
		t.Errorf("verdicts differ:\ntrailwarden digests %v (%d valid), log files %v\nvalidate-logs digests %v (%d valid), log files %v",
			badDigests, valid, badLogs, cli.invalidDigests, cli.validDigests, cli.invalid)
	}
	if tc.trailwardenFindsMore != "" {
		// Everything validate-logs rejects, trailwarden rejects too, and more.
		if !subset(cli.invalidDigests, badDigests) || !subset(cli.invalid, badLogs) ||
			same && rep.Summary.Gaps[integrity.GapMissingDigests] == 0 {
			t.Errorf("expected trailwarden to find more (%s): trailwarden digests %v, log files %v, gaps %+v; validate-logs digests %v, log files %v",
				tc.trailwardenFindsMore, badDigests, badLogs, rep.Gaps, cli.invalidDigests, cli.invalid)
		}
	}
	if rep.Summary.Gaps[integrity.GapChainRestart] != cli.gaps {
		t.Errorf("chain restarts: trailwarden %d, validate-logs %d", rep.Summary.Gaps[integrity.GapChainRestart], cli.gaps)
	}
	if rep.Failed() != tc.wantFailed || (code == exitProblem) != tc.wantFailed {
		t.Errorf("trailwarden failed=%v exit %d, want failed=%v", rep.Failed(), code, tc.wantFailed)
	}
	if cliFailed := cli.code == 1; tc.trailwardenFindsMore == "" && cliFailed != tc.wantFailed {
		t.Errorf("validate-logs exit %d, want failed=%v", cli.code, tc.wantFailed)
	}
}

func subset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

// TestIntegrityMirrorRoundTrip: a bucket verified through the SDK and its
// mirror verified from disk (metadata included) give the same report.
func TestIntegrityMirrorRoundTrip(t *testing.T) {
	env := emulator.NewEnv(t)
	client := s3.NewFromConfig(env.Server.ManagementConfig(env.Region), emulator.S3Options)
	t.Setenv("AWS_ENDPOINT_URL", env.Server.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", env.Region)
	w := newCLIWorld(t, env, client, 9)
	w.hours(t, 1, 3)
	w.del(t, w.logs[1][0])
	window := []string{"--start", cliT0.Format(time.RFC3339), "--end", cliHour(3).Add(time.Minute).Format(time.RFC3339)}
	fromBucket := runCLI(t, nil, append([]string{"integrity", "verify", "--bucket", w.bucket, "-o", "json"}, window...)...)
	dir := t.TempDir()
	if r := runCLI(t, nil, append([]string{"integrity", "mirror", "--bucket", w.bucket, "--dir", dir}, window...)...); r.code != exitOK {
		t.Fatalf("mirror: %+v", r)
	}
	fromDir := runCLI(t, nil, append([]string{"integrity", "verify", "--dir", dir, "-o", "json"}, window...)...)
	if fromBucket.code != exitProblem || fromDir.code != exitProblem || fromBucket.stdout != fromDir.stdout {
		t.Fatalf("bucket (exit %d):\n%s\ndir (exit %d):\n%s%s", fromBucket.code, fromBucket.stdout, fromDir.code, fromDir.stdout, fromDir.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(w.digests[0])+metadataSuffix)); err != nil {
		t.Fatalf("digest metadata not mirrored: %v", err)
	}
}

// TestIntegrityStoppedTrail: in --bucket mode the trail's status is read,
// so digests that stop because the trail was stopped are a "stopped" gap
// (exit 0), and the same silence while the trail logs is missing-digests.
func TestIntegrityStoppedTrail(t *testing.T) {
	ctx := context.Background()
	env := emulator.NewEnv(t)
	cfg := env.Server.ManagementConfig(env.Region)
	client := s3.NewFromConfig(cfg, emulator.S3Options)
	t.Setenv("AWS_ENDPOINT_URL", env.Server.URL())
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_REGION", env.Region)
	w := newCLIWorld(t, env, client, 8)
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(w.trail)}); err != nil {
		t.Fatal(err)
	}
	// Two hourly digests, the last ending 10 minutes ago; the window ends
	// three hours after it.
	last := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	for _, at := range []time.Time{last.Add(-time.Hour), last} {
		if _, err := w.d.DeliverLogFiles(ctx, emulator.ManagementAccountID, w.region, at.Add(-20*time.Minute), 1); err != nil {
			t.Fatal(err)
		}
		if _, err := w.d.DeliverDigest(ctx, emulator.ManagementAccountID, w.region, at, nil); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"integrity", "verify", "--bucket", w.bucket, "-o", "json", "--start", last.Add(-2 * time.Hour).Format(time.RFC3339),
		"--end", last.Add(3 * time.Hour).Format(time.RFC3339)}
	kinds := func() (int, []string) {
		r := runCLI(t, nil, args...)
		var rep integrity.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("%v: %s %s", err, r.stdout, r.stderr)
		}
		var k []string
		for _, g := range rep.Gaps {
			k = append(k, g.Kind)
		}
		return r.code, k
	}
	if code, k := kinds(); code != exitProblem || !slices.Equal(k, []string{integrity.GapMissingDigests}) {
		t.Fatalf("logging trail: exit %d gaps %v, want 1 and missing-digests", code, k)
	}
	if _, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(w.trail)}); err != nil {
		t.Fatal(err)
	}
	if code, k := kinds(); code != exitOK || !slices.Equal(k, []string{integrity.GapStopped}) {
		t.Fatalf("stopped trail: exit %d gaps %v, want 0 and stopped", code, k)
	}
}
