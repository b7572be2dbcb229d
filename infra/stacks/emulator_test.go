package stacks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

func init() {
	runTests = func(m *testing.M) int {
		code := m.Run()
		if err := emulator.CloseShared(); err != nil {
			fmt.Fprintln(os.Stderr, "emulator:", err)
		}
		return code
	}
}

// cdkCLI runs the repository's pinned CDK CLI against the emulator.
func cdkCLI(t *testing.T, srv *emulator.Server, dir string, args ...string) {
	t.Helper()
	repo, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(repo, "node_modules", ".bin", "cdk")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the CDK CLI is not installed (%v): run `make node` in %s", err, repo)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "CDK_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		// The CLI and moto's CloudFormation need "localhost", not 127.0.0.1.
		"AWS_ENDPOINT_URL="+srv.LocalhostURL(),
		// Placeholder keys: moto checks no signature and maps them to its
		// default account. They are not credentials.
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true", "CDK_DISABLE_CLI_TELEMETRY=true", "CI=true",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cdk %s: %v\n%s\nmoto's last output:\n%s", strings.Join(args, " "), err, out, srv.Output())
	}
}

// TestDeployToEmulator deploys the single-account stacks to the emulator
// with the real CDK CLI (bootstrap, asset publishing, change sets) and checks
// what the emulator created. The CLI reports success even when moto skipped
// a resource type (docs/deploy.md, "The emulator"), so every resource that
// matters is looked up.
func TestDeployToEmulator(t *testing.T) {
	srv := emulator.Reset(t)
	b := single(t)
	dir := filepath.Dir(b.outdir)
	cdkCLI(t, srv, dir, "bootstrap", "aws://123456789012/us-east-1", "--app", b.outdir)
	// As deploy-local: CreateStack/UpdateStack, the path on which moto sets
	// stack outputs (its change-set path sets none).
	cdkCLI(t, srv, dir, "deploy", "--app", b.outdir, "--all", "--require-approval", "never", "--progress", "events", "--method", "direct")

	ctx := t.Context()
	cfg := srv.ManagementConfig("us-east-1")

	// Outputs: the names the CLI reads to find the deployment.
	st, err := cloudformation.NewFromConfig(cfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(AutomationStackName)})
	if err != nil || len(st.Stacks) != 1 {
		t.Fatalf("DescribeStacks: %v", err)
	}
	outs := map[string]string{}
	for _, o := range st.Stacks[0].Outputs {
		outs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	for _, k := range []string{stackout.AccountsTable, stackout.LedgerTable, stackout.JournalTable, stackout.IncidentsTable} {
		if !strings.HasPrefix(outs[k], AutomationStackName+"-") {
			t.Errorf("output %s = %q, want a table of the stack", k, outs[k])
		}
	}
	if outs[stackout.HomeRegion] != "us-east-1" || !strings.HasPrefix(outs[stackout.RequestQueueURL], "http") {
		t.Errorf("outputs: %v", outs)
	}

	// Queues: three pairs (the delivery queue named), SSE-SQS, the request queue's redrive and visibility.
	sq := sqs.NewFromConfig(cfg)
	ql, err := sq.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(AutomationStackName + "-")})
	if err != nil {
		t.Fatal(err)
	}
	if len(ql.QueueUrls) != 5 {
		t.Errorf("queues: %v, want 5 with generated names", ql.QueueUrls)
	}
	// The delivery queue has a fixed name (the logging account's digest
	// rule targets it by ARN).
	if _, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(b.cfg.DeliveryQueueName())}); err != nil {
		t.Errorf("delivery queue %s: %v", b.cfg.DeliveryQueueName(), err)
	}
	for _, u := range ql.QueueUrls {
		if !strings.Contains(u, "-Requests") || strings.Contains(u, "DLQ") {
			continue
		}
		attrs, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		a := attrs.Attributes
		if a["VisibilityTimeout"] != "1800" || !strings.Contains(a["RedrivePolicy"], `"maxReceiveCount": 10`) && !strings.Contains(a["RedrivePolicy"], `"maxReceiveCount":10`) || a["SqsManagedSseEnabled"] != "true" {
			t.Errorf("request queue attributes: %v", a)
		}
	}

	// Tables.
	tl, err := dynamodb.NewFromConfig(cfg).ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"Accounts", "Ledger", "Incidents"} {
		if !slices.ContainsFunc(tl.TableNames, func(n string) bool { return strings.HasPrefix(n, AutomationStackName+"-"+prefix) }) {
			t.Errorf("no %s table in %v", prefix, tl.TableNames)
		}
	}

	// Topics: the deliveries topic under its configured name, and alerts.
	topics, err := sns.NewFromConfig(cfg).ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, tp := range topics.Topics {
		arns = append(arns, aws.ToString(tp.TopicArn))
	}
	if !slices.Contains(arns, b.cfg.TopicARN) || !slices.ContainsFunc(arns, func(a string) bool { return strings.Contains(a, "Alerts") }) {
		t.Errorf("topics: %v", arns)
	}

	// The central bucket under its configured name. (moto's CloudFormation
	// ignores VersioningConfiguration and NotificationConfiguration: the
	// template assertions check those.)
	s3c := s3.NewFromConfig(cfg, emulator.S3Options)
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.cfg.Bucket)}); err != nil {
		t.Errorf("central bucket %s: %v", b.cfg.Bucket, err)
	}

	// Event buses and rules.
	eb := eventbridge.NewFromConfig(cfg)
	rules := func(bus string) []string {
		out, err := eb.ListRules(ctx, &eventbridge.ListRulesInput{EventBusName: aws.String(bus)})
		if err != nil {
			t.Fatalf("rules of %s: %v", bus, err)
		}
		var names []string
		for _, r := range out.Rules {
			names = append(names, aws.ToString(r.Name))
		}
		return names
	}
	// Digests and log deletions go from the default bus straight to the delivery queue.
	if got := rules(b.cfg.Deployment.Names.EventBus); len(got) != 1 {
		t.Errorf("central bus rules: %v, want the request rule", got)
	}
	if got := rules("default"); len(got) != 5 {
		t.Errorf("default bus rules: %v, want digest and log-deletion forwarding, two schedules, tamper guard", got)
	}

	// Roles: the member role trusts the enabler and watchdog paths; the
	// function roles carry their paths.
	ic := iam.NewFromConfig(cfg)
	mr, err := ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(b.cfg.MemberRole)})
	if err != nil {
		t.Fatalf("member role: %v", err)
	}
	if doc := aws.ToString(mr.Role.AssumeRolePolicyDocument); !strings.Contains(doc, "trailwarden/enabler") && !strings.Contains(doc, "trailwarden%2Fenabler") {
		t.Errorf("member role trust: %s", doc)
	}
	fr, err := ic.ListRoles(ctx, &iam.ListRolesInput{PathPrefix: aws.String("/trailwarden/")})
	if err != nil {
		t.Fatal(err)
	}
	fnRoles, fwds := 0, 0
	for _, r := range fr.Roles {
		if aws.ToString(r.Path) == ForwarderRolePath {
			fwds++
		} else {
			fnRoles++
		}
	}
	if fnRoles != 5 || fwds != 2 {
		t.Errorf("%d function roles (want 5) and %d forwarder roles (want 2: digests, tamper) under /trailwarden/", fnRoles, fwds)
	}

	// Log groups with retention.
	lg, err := cloudwatchlogs.NewFromConfig(cfg).DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	withRetention := 0
	for _, g := range lg.LogGroups {
		if aws.ToInt32(g.RetentionInDays) == 90 {
			withRetention++
		}
	}
	if withRetention != 5 {
		t.Errorf("%d log groups with 90-day retention, want 5", withRetention)
	}

	// Functions and event sources (no Lambda client in go.mod: the REST API
	// signed by hand).
	var fns struct {
		Functions []struct {
			FunctionName  string
			Runtime       string
			Architectures []string
			Environment   struct{ Variables map[string]string }
		}
	}
	lambdaGET(t, srv, cfg, "/2015-03-31/functions/", &fns)
	if len(fns.Functions) != 5 {
		t.Errorf("%d functions, want 5", len(fns.Functions))
	}
	for _, f := range fns.Functions {
		// moto's CloudFormation ignores Architectures (it reports x86_64);
		// TestFunctions checks arm64 in the template.
		if f.Runtime != "provided.al2023" || f.Environment.Variables["TRAILWARDEN_POLICY_FILE"] != PolicyFileName {
			t.Errorf("function %s: %s %v %v", f.FunctionName, f.Runtime, f.Architectures, f.Environment.Variables)
		}
	}
	var esm struct {
		EventSourceMappings []struct {
			EventSourceArn        string
			FunctionResponseTypes []string
		}
	}
	lambdaGET(t, srv, cfg, "/2015-03-31/event-source-mappings/", &esm)
	if len(esm.EventSourceMappings) != 3 {
		t.Errorf("%d event source mappings, want 3", len(esm.EventSourceMappings))
	}
	for _, m := range esm.EventSourceMappings {
		if !slices.Equal(m.FunctionResponseTypes, []string{"ReportBatchItemFailures"}) {
			t.Errorf("event source %s: %v", m.EventSourceArn, m.FunctionResponseTypes)
		}
	}
}

func lambdaGET(t *testing.T, srv *emulator.Server, cfg aws.Config, path string, out any) {
	t.Helper()
	ctx := t.Context()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", cfg.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d: %s", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}
