package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

func TestTailKeepsLastLines(t *testing.T) {
	tl := newTail(3)
	m0 := tl.mark()
	_, _ = tl.Write([]byte("one\ntwo\nthr"))
	_, _ = tl.Write([]byte("ee\nfour\nfive"))
	if got, want := tl.String(), "two\nthree\nfour\nfive"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := tl.since(m0); strings.Join(got, ",") != "two,three,four" {
		t.Errorf("since(start) = %v, want the kept lines", got)
	}
	m := tl.mark()
	_, _ = tl.Write([]byte("\nsix\n"))
	if got := tl.since(m); strings.Join(got, ",") != "five,six" {
		t.Errorf("since(mark) = %v, want [five six]", got)
	}
}

func TestIAMPrefix(t *testing.T) {
	tests := map[string]string{
		"CloudTrail":      "cloudtrail",
		"Organizations":   "organizations",
		"CloudWatch Logs": "logs",
		"EventBridge":     "events",
		"DynamoDB":        "dynamodb",
		"S3":              "s3",
	}
	for in, want := range tests {
		if got := iamPrefix(in); got != want {
			t.Errorf("iamPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestChildEnvDropsMotoAccount(t *testing.T) {
	t.Setenv("MOTO_ACCOUNT_ID", "111111111111")
	t.Setenv("TZ", "Europe/Paris")
	env := childEnv()
	tz := 0
	for _, kv := range env {
		if strings.HasPrefix(kv, "MOTO_ACCOUNT_ID=") {
			t.Errorf("child env has %s", kv)
		}
		if strings.HasPrefix(kv, "TZ=") {
			tz++
			if kv != "TZ=UTC" {
				t.Errorf("child env has %s, want TZ=UTC", kv)
			}
		}
	}
	if tz != 1 {
		t.Errorf("child env has %d TZ entries, want 1", tz)
	}
}

func TestRepoRoot(t *testing.T) {
	t.Setenv(EnvRepo, "")
	root, err := RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, launcherPath)); err != nil {
		t.Errorf("RepoRoot = %s, which has no launcher: %v", root, err)
	}
	t.Setenv(EnvRepo, "/somewhere")
	if root, _ := RepoRoot(); root != "/somewhere" {
		t.Errorf("RepoRoot with %s set = %s", EnvRepo, root)
	}
}

func TestStartWithoutPythonSaysHowToInstall(t *testing.T) {
	t.Setenv(EnvURL, "")
	t.Setenv(EnvPython, filepath.Join(t.TempDir(), "no-python"))
	_, err := Start(t.Context(), Options{})
	if err == nil || !strings.Contains(err.Error(), "make venv") {
		t.Fatalf("Start without python: err = %v, want a hint to run make venv", err)
	}
	if msg := startFailure(err); !strings.Contains(msg, "make venv") {
		t.Errorf("startFailure = %q, want the install hint", msg)
	}
	t.Setenv("CI", "true")
	if msg := startFailure(err); !strings.Contains(msg, "CI=true") {
		t.Errorf("startFailure in CI = %q, want it to say the emulator is required", msg)
	}
}

// TestCloseLeavesNoProcess starts a second, private server (the shared one
// stays up) and checks Close ends its process group.
func TestCloseLeavesNoProcess(t *testing.T) {
	if os.Getenv(EnvURL) != "" {
		t.Skipf("%s is set: this binary starts no server of its own", EnvURL)
	}
	logFile := filepath.Join(t.TempDir(), "moto.log")
	srv, err := Start(t.Context(), Options{Unpatched: true, LogFile: logFile})
	if err != nil {
		t.Fatal(startFailure(err))
	}
	pid := srv.cmd.Process.Pid
	if err := srv.ping(t.Context()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still exists after Close (kill 0: %v)", pid, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := srv.ping(context.Background()); err == nil {
		t.Error("server still answers after Close")
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatalf("read log file: %v", err)
	}
	if !strings.Contains(string(b), "GET /moto-api/") {
		t.Errorf("log file lacks moto's request log:\n%s", b)
	}
}

// TestHTML500 checks, against a fake moto, that only moto's HTML 500 becomes
// a NotEmulatedError (with the crash line when moto crashed) and that an AWS
// error answered with 500 is still an ordinary, retried API error.
func TestHTML500(t *testing.T) {
	tests := []struct {
		name         string
		logLine      string // what "moto" logs before answering
		contentType  string
		body         string
		wantNotEmu   bool
		wantMsg      string
		wantAttempts int32
	}{
		{
			name: "not implemented", logLine: "NotImplementedError: The describe_trails action has not been implemented",
			contentType: "text/html; charset=utf-8", body: "<!doctype html><title>500 Internal Server Error</title>",
			wantNotEmu: true, wantMsg: "emulator: moto does not implement cloudtrail:DescribeTrails", wantAttempts: 1,
		},
		{
			name: "crash", logLine: "KeyError: 'TrailName'",
			contentType: "text/html; charset=utf-8", body: "<!doctype html><title>500 Internal Server Error</title>",
			wantNotEmu: true, wantMsg: "emulator: moto failed on cloudtrail:DescribeTrails (HTTP 500): KeyError: 'TrailName'", wantAttempts: 1,
		},
		{
			name: "aws error", contentType: "application/x-amz-json-1.1",
			body:       `{"__type":"InternalFailure","message":"boom"}`,
			wantNotEmu: false, wantMsg: "InternalFailure", wantAttempts: maxAttempts,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := &Server{http: newHTTPClient(), out: newTail(80)}
			var attempts atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				if tc.logLine != "" {
					fmt.Fprintf(srv.out, "Traceback (most recent call last):\n  File \"x.py\"\n%s\n", tc.logLine)
				}
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			srv.url = ts.URL
			_, err := cloudtrail.NewFromConfig(srv.ManagementConfig("")).DescribeTrails(t.Context(), &cloudtrail.DescribeTrailsInput{})
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsNotEmulated(err); got != tc.wantNotEmu {
				t.Errorf("IsNotEmulated = %v, want %v (err %v)", got, tc.wantNotEmu, err)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to contain %q", err, tc.wantMsg)
			}
			if got := attempts.Load(); got != tc.wantAttempts {
				t.Errorf("%d attempts, want %d", got, tc.wantAttempts)
			}
		})
	}
}
