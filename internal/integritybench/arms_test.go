package integritybench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/countingproxy"
	"github.com/trailwarden/trailwarden/internal/cputime"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/ledgertest"
)

// proxyTargetEnv makes the test binary a counting proxy to its value.
const proxyTargetEnv = "TRAILWARDEN_COUNTING_PROXY_TARGET"

func TestMain(m *testing.M) {
	if target := os.Getenv(proxyTargetEnv); target != "" {
		stop := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(stop) }() // the parent's end closes stdin
		if err := countingproxy.Serve(target, classify, os.Stdout, stop); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	emulator.RunTests(m)
}

// classify is countingproxy.Operation, with S3 GETs split into digests and
// log files.
func classify(r *http.Request) string {
	op := countingproxy.Operation(r)
	if op == "s3:GetObject" {
		if isDigest(r.URL.Path) {
			return op + " digest"
		}
		return op + " log file"
	}
	return op
}

// startProxy runs the counting proxy to target in a child process (this
// test binary) and returns its URL; it stops with the test.
func startProxy(tb testing.TB, target string) string {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), proxyTargetEnv+"="+target)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		tb.Fatalf("counting proxy: %v", err)
	}
	return strings.TrimSpace(line)
}

// result is one arm's measurement.
type result struct {
	name   string
	counts countingproxy.Counts
	cpu    time.Duration
	wall   time.Duration
	// validated digests and log files: as validate-logs and integrity
	// verify print them; for the continuous mode, the digests fed and the
	// log files its setting selects (each run fails on any finding).
	digests, logFiles int
}

func measure(tb testing.TB, proxy string, name string, f func() (cpu time.Duration, digests, logFiles int)) result {
	tb.Helper()
	ctx := context.Background()
	if err := countingproxy.Reset(ctx, proxy); err != nil {
		tb.Fatal(err)
	}
	t0 := time.Now()
	cpu, d, l := f()
	wall := time.Since(t0)
	c, err := countingproxy.Fetch(ctx, proxy)
	if err != nil {
		tb.Fatal(err)
	}
	return result{name: name, counts: c, cpu: cpu, wall: wall, digests: d, logFiles: l}
}

// childEnv points a client process at the proxy, with placeholder
// credentials and no user configuration.
func childEnv(proxy string) []string {
	return append(os.Environ(), "AWS_ENDPOINT_URL="+proxy, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION="+home, "AWS_MAX_ATTEMPTS=2", "AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)
}

// childCPU is a finished child's user + system CPU time (its rusage).
func childCPU(cmd *exec.Cmd) time.Duration {
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// awsCLI is the AWS CLI of the repository's .venv-awscli; the test or
// benchmark is skipped without it.
func awsCLI(tb testing.TB) string {
	tb.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(root, ".venv-awscli", "bin", "aws")
	if _, err := os.Stat(bin); err != nil {
		tb.Skipf("the AWS CLI venv is absent (%s): run 'make venv-awscli'", bin)
	}
	return bin
}

var (
	cliDigests = regexp.MustCompile(`(?m)^(\d+)/(\d+) digest files valid$`)
	cliLogs    = regexp.MustCompile(`(?m)^(\d+)/(\d+) log files valid$`)
)

// runValidateLogs runs `aws cloudtrail validate-logs` once per Region (it
// validates one source Region per run: its --region) over the window.
func runValidateLogs(tb testing.TB, bin, proxy string, w *world) (time.Duration, int, int) {
	tb.Helper()
	var cpu time.Duration
	digests, logs := 0, 0
	for _, region := range w.regions {
		cmd := exec.Command(bin, "cloudtrail", "validate-logs", "--trail-arn", w.trailARN(), "--s3-bucket", bucket,
			"--start-time", w.start.Format(time.RFC3339), "--end-time", w.end.Format(time.RFC3339), "--region", region)
		cmd.Env = childEnv(proxy)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			tb.Fatalf("validate-logs in %s: %v\n%s", region, err, out.String())
		}
		cpu += childCPU(cmd)
		md, ml := cliDigests.FindStringSubmatch(out.String()), cliLogs.FindStringSubmatch(out.String())
		if md == nil || md[1] != md[2] || ml != nil && ml[1] != ml[2] {
			tb.Fatalf("validate-logs in %s did not find everything valid:\n%s", region, out.String())
		}
		n, _ := strconv.Atoi(md[1])
		digests += n
		if ml != nil { // absent when no digest listed a log file
			l, _ := strconv.Atoi(ml[1])
			logs += l
		}
	}
	return cpu, digests, logs
}

// buildTrailwarden builds the trailwarden command into a temporary
// directory.
func buildTrailwarden(tb testing.TB) string {
	tb.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(tb.TempDir(), "trailwarden")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/trailwarden")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// runVerify runs `trailwarden integrity verify --bucket` over the window,
// every log file hashed (the default, as validate-logs does).
func runVerify(tb testing.TB, bin, proxy string, w *world) (time.Duration, int, int) {
	tb.Helper()
	cmd := exec.Command(bin, "integrity", "verify", "--bucket", bucket, "-o", "json",
		"--start", w.start.Format(time.RFC3339), "--end", w.end.Format(time.RFC3339))
	cmd.Env = childEnv(proxy)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("integrity verify: %v\n%s", err, errb.String())
	}
	var rep integrity.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		tb.Fatal(err)
	}
	if rep.Failed() || rep.Summary.LogFiles[integrity.Valid] != len(w.listed) {
		tb.Fatalf("integrity verify: %+v", rep.Summary)
	}
	return childCPU(cmd), rep.Summary.Digests[integrity.Valid], rep.Summary.LogFiles[integrity.Valid]
}

// continuous is the continuous mode's state after a run: its table.
type continuous struct {
	db    *dynamodb.Client
	table string
	mode  integrity.LogFileMode
}

// runContinuous feeds every digest, once, in order of arrival, to a
// Watcher whose S3, DynamoDB and CloudTrail clients go through the proxy;
// its CPU is this process's (the proxy and the emulator run apart).
func runContinuous(tb testing.TB, proxy string, w *world, mode integrity.LogFileMode) (time.Duration, int, int, continuous) {
	tb.Helper()
	ctx := context.Background()
	direct := dynamodb.NewFromConfig(w.srv.ManagementConfig(home))
	table := "integrity-" + string(mode)
	for name, key := range map[string]string{table: "id", table + "-heads": integritywatch.HeadsKey} {
		if _, err := direct.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: ddbtypes.ScalarAttributeTypeS}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(key), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
			tb.Fatal(err)
		}
	}
	var now time.Time
	wt := newWatcher(proxy, w, table, mode, func() time.Time { return now })
	runtime.GC()
	c0 := cputime.Now()
	for _, a := range w.digests {
		now = a.at.Add(5 * time.Minute) // the queue's batching and the verifier's turn
		fs, err := wt.Digest(ctx, bucket, a.key, "")
		if err != nil || len(fs) > 0 {
			tb.Fatalf("%s: %v %+v", a.key, err, fs)
		}
	}
	cpu := cputime.Now() - c0
	gets, _ := w.expectedReads(mode)
	return cpu, len(w.digests), int(gets) - len(w.digests), continuous{db: direct, table: table, mode: mode}
}

// newWatcher is a verifier instance's Watcher, its clients through the
// proxy.
func newWatcher(proxy string, w *world, table string, mode integrity.LogFileMode, clock func() time.Time) *integritywatch.Watcher {
	cfg := w.srv.ManagementConfig(home)
	cfg.BaseEndpoint = aws.String(proxy)
	return &integritywatch.Watcher{
		S3:       s3.NewFromConfig(cfg, emulator.S3Options),
		Keys:     &integritywatch.CachedKeys{Source: integritywatch.CloudTrailKeys{Config: cfg}, Now: clock},
		State:    &integritywatch.Table{DB: dynamodb.NewFromConfig(cfg), Name: table, Heads: table + "-heads"},
		LogFiles: mode,
		Now:      clock,
	}
}

// redeliver hands every digest again, an hour later, to another instance
// (a fresh Watcher on the same state table), as an at-least-once queue
// may; it returns what that costs.
func (c continuous) redeliver(tb testing.TB, proxy string, w *world) countingproxy.Counts {
	tb.Helper()
	ctx := context.Background()
	if err := countingproxy.Reset(ctx, proxy); err != nil {
		tb.Fatal(err)
	}
	var now time.Time
	wt := newWatcher(proxy, w, c.table, c.mode, func() time.Time { return now })
	for _, a := range w.digests {
		now = a.at.Add(time.Hour)
		if fs, err := wt.Digest(ctx, bucket, a.key, ""); err != nil || len(fs) > 0 {
			tb.Fatalf("redelivered %s: %v %+v", a.key, err, fs)
		}
	}
	counts, err := countingproxy.Fetch(ctx, proxy)
	if err != nil {
		tb.Fatal(err)
	}
	return counts
}

// items is what the state tables hold after a run, sizes as DynamoDB
// bills them.
type items struct {
	digestMax int // largest digest item: its own side and its successor's expectation
	ownMax    int // largest digest item with its own side only (a chain's newest)
	headMax   int // largest head item
	digests   int
	heads     int
}

// largest is the largest item of either table.
func (it items) largest() int { return max(it.digestMax, it.ownMax, it.headMax) }

// itemSizes scans the state tables (directly, not counted).
func (c continuous) itemSizes(tb testing.TB) items {
	tb.Helper()
	var out items
	for _, table := range []string{c.table, c.table + "-heads"} {
		p := dynamodb.NewScanPaginator(c.db, &dynamodb.ScanInput{TableName: aws.String(table)})
		for p.HasMorePages() {
			page, err := p.NextPage(context.Background())
			if err != nil {
				tb.Fatal(err)
			}
			for _, it := range page.Items {
				n := ledgertest.ItemSize(it)
				_, hasSuccessor := it["successor"]
				_, isHead := it[integritywatch.HeadsKey]
				switch {
				case isHead:
					out.headMax, out.heads = max(out.headMax, n), out.heads+1
				case hasSuccessor:
					out.digestMax, out.digests = max(out.digestMax, n), out.digests+1
				default:
					out.ownMax, out.digests = max(out.ownMax, n), out.digests+1
				}
			}
		}
	}
	return out
}
