package cloudtrailsim_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func TestModelSigma(t *testing.T) {
	m := cloudtrailsim.NewModel(1, 1)
	want := math.Log(60.0/12) / 1.2816
	if got := m.Sigma(); math.Abs(got-want) > 1e-4 {
		t.Errorf("Sigma = %v, want %v", got, want)
	}
	if got := m.MeanLogFilesPerHour(); math.Abs(got-12*math.Exp(want*want/2)) > 1e-2 {
		t.Errorf("MeanLogFilesPerHour = %v", got)
	}
}

func TestModelValidate(t *testing.T) {
	m := cloudtrailsim.NewModel(0, 1)
	m.MultiKeyMin, m.Hours, m.Bucket = 1, 0, ""
	err := m.Validate()
	if err == nil {
		t.Fatal("invalid model accepted")
	}
	for _, want := range []string{"Accounts", "MultiKeyMin", "Hours", "Bucket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if err := m.Run(func(cloudtrailsim.Message) error { return nil }); err == nil {
		t.Error("Run accepted an invalid model")
	}
}

func TestModelCountsMatchExpectations(t *testing.T) {
	m := cloudtrailsim.NewModel(300, 11)
	c, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(300 * 17 * 24); c.Digests != want {
		t.Errorf("Digests = %d, want %d", c.Digests, want)
	}
	if c.ActiveAccountRegions != 300*3 {
		t.Errorf("ActiveAccountRegions = %d, want 900", c.ActiveAccountRegions)
	}
	wantFiles := 300 * 3 * 24 * m.MeanLogFilesPerHour()
	if r := float64(c.LogFiles) / wantFiles; r < 0.75 || r > 1.25 {
		t.Errorf("LogFiles = %d, expected about %.0f (ratio %.2f)", c.LogFiles, wantFiles, r)
	}
	// 10% of notifications carry 2–5 keys (3.5 on average).
	if r := float64(c.MultiKeyNotifications) / float64(c.Notifications); r < 0.08 || r > 0.11 {
		t.Errorf("multi-key share = %.3f, want about 0.10", r)
	}
	if r := float64(c.LogFiles) / float64(c.Notifications); r < 1.2 || r > 1.3 {
		t.Errorf("keys per notification = %.3f, want about 1.25", r)
	}
	if c.Messages != c.Notifications+c.Digests {
		t.Errorf("Messages = %d, want %d", c.Messages, c.Notifications+c.Digests)
	}
}

func TestModelDistribution(t *testing.T) {
	m := cloudtrailsim.NewModel(3000, 5)
	m.Hours = 1
	var n []int
	if err := m.HourlyLogFiles(func(_, _ string, _, files int) { n = append(n, files) }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(n)
	median, p90 := n[len(n)/2], n[len(n)*9/10]
	t.Logf("%d account-Region-hours: median %d, p90 %d", len(n), median, p90)
	if median < 11 || median > 13 {
		t.Errorf("median files per hour = %d, want about 12", median)
	}
	if p90 < 52 || p90 > 68 {
		t.Errorf("p90 files per hour = %d, want about 60", p90)
	}
}

type runSummary struct {
	counts cloudtrailsim.Counts
	hash   [32]byte
}

func runModel(t *testing.T, m cloudtrailsim.Model) runSummary {
	t.Helper()
	var s runSummary
	h := sha256.New()
	var last int64
	err := m.Run(func(msg cloudtrailsim.Message) error {
		if ts := msg.At.UnixNano(); ts < last {
			t.Fatalf("messages out of order: %v after %v", msg.At, last)
		} else {
			last = ts
		}
		h.Write(msg.Body)
		s.counts.Messages++
		switch msg.Kind {
		case cloudtrailsim.LogNotification:
			s.counts.Notifications++
			s.counts.LogFiles += int64(len(msg.Keys))
			if len(msg.Keys) > 1 {
				s.counts.MultiKeyNotifications++
			}
			checkEnvelope(t, msg, m)
		case cloudtrailsim.DigestObjectCreated:
			s.counts.Digests++
			checkDigestEvent(t, msg, m)
		default:
			t.Fatalf("unknown kind %v", msg.Kind)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	copy(s.hash[:], h.Sum(nil))
	return s
}

func checkEnvelope(t *testing.T, msg cloudtrailsim.Message, m cloudtrailsim.Model) {
	t.Helper()
	var env map[string]string
	if err := json.Unmarshal(msg.Body, &env); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	for _, f := range []string{"Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"} {
		if env[f] == "" {
			t.Fatalf("envelope lacks %s: %s", f, msg.Body)
		}
	}
	var n cloudtrailsim.Notification
	if err := json.Unmarshal([]byte(env["Message"]), &n); err != nil {
		t.Fatalf("Message: %v", err)
	}
	if env["Type"] != "Notification" || env["SignatureVersion"] != "1" || env["TopicArn"] != m.TopicARN ||
		n.S3Bucket != m.Bucket || !slices.Equal(n.S3ObjectKey, msg.Keys) {
		t.Fatalf("notification %s does not match %v", msg.Body, msg.Keys)
	}
	for _, k := range msg.Keys {
		if !strings.HasPrefix(k, "AWSLogs/"+msg.Account+"/CloudTrail/"+msg.Region+"/") {
			t.Fatalf("key %s not under %s/%s", k, msg.Account, msg.Region)
		}
	}
}

func checkDigestEvent(t *testing.T, msg cloudtrailsim.Message, m cloudtrailsim.Model) {
	t.Helper()
	var ev struct {
		Source string `json:"source"`
		Detail struct {
			Object struct{ Key string } `json:"object"`
		} `json:"detail"`
	}
	if err := json.Unmarshal(msg.Body, &ev); err != nil {
		t.Fatalf("digest event: %v", err)
	}
	if ev.Source != "aws.s3" || len(msg.Keys) != 1 || ev.Detail.Object.Key != msg.Keys[0] ||
		!strings.Contains(msg.Keys[0], "_CloudTrail-Digest_"+msg.Region+"_"+m.TrailName+"_"+m.HomeRegion+"_") {
		t.Fatalf("digest event %s", msg.Body)
	}
}

func TestModelRunMatchesCountsAndIsDeterministic(t *testing.T) {
	m := cloudtrailsim.NewModel(25, 3)
	m.Hours = 3
	want, err := m.Counts()
	if err != nil {
		t.Fatal(err)
	}
	a, b := runModel(t, m), runModel(t, m)
	want.ActiveAccountRegions = 0
	if a.counts != want {
		t.Errorf("Run counts %+v, Counts() %+v", a.counts, want)
	}
	if a.hash != b.hash {
		t.Error("two runs with the same seed differ")
	}
	m.Seed = 4
	if c := runModel(t, m); c.hash == a.hash {
		t.Error("different seeds gave the same stream")
	}
}

func TestModelGolden(t *testing.T) {
	m := cloudtrailsim.NewModel(2, 1)
	m.Hours = 1
	// The first three messages, and the first notification listing several keys.
	var out bytes.Buffer
	written, multi := 0, false
	err := m.Run(func(msg cloudtrailsim.Message) error {
		isMulti := msg.Kind == cloudtrailsim.LogNotification && len(msg.Keys) > 1
		if written < 3 || isMulti && !multi {
			out.WriteString(msg.Kind.String() + " " + msg.At.Format("15:04:05.000") + "\n")
			out.Write(msg.Body)
			out.WriteString("\n")
			written++
			multi = multi || isMulti
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "model-first-messages.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("model output differs from %s (run with -update if intended):\n%s", path, out.String())
	}
}

func BenchmarkModelRun(b *testing.B) {
	m := cloudtrailsim.NewModel(100, 1)
	m.Hours = 2
	c, err := m.Counts()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Run(func(cloudtrailsim.Message) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(int64(b.N)*c.Messages), "ns/message")
}
