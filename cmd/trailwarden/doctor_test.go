package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"github.com/spf13/cobra"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/doctor"
	"github.com/trailwarden/trailwarden/shared/ledger"
)

// update rewrites the golden files under testdata/ (doctor, integrity).
var update = flag.Bool("update", false, "rewrite golden files")

// fakeLambdaSettings stands in for lambda:GetAccountSettings, which the
// emulator (moto) does not implement.
type fakeLambdaSettings struct {
	limit, unreserved int32
	err               error
}

func (f fakeLambdaSettings) GetAccountSettings(context.Context, *lambda.GetAccountSettingsInput, ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &lambda.GetAccountSettingsOutput{AccountLimit: &lambdatypes.AccountLimit{ConcurrentExecutions: f.limit,
		UnreservedConcurrentExecutions: aws.Int32(f.unreserved)}}, nil
}

// refusingRole fails to assume the member role in one account, as STS does
// when the StackSet instance is missing there.
type refusingRole struct {
	doctor.RoleProber
	account string
}

func (r refusingRole) Probe(ctx context.Context, account string) error {
	if account == r.account {
		return errors.New("AccessDenied: not authorized to perform: sts:AssumeRole")
	}
	return r.RoleProber.Probe(ctx, account)
}

// doctorEnv is a healthy emulated deployment: central resources, StackSets
// trusted access, and a Lambda quota of 1,000.
func doctorEnv(t *testing.T, wire func(*doctor.Checker)) (*emulator.Env, *central.Resources, map[string]string, []string) {
	env, res, vars := emulatorEnv(t)
	if _, err := organizations.NewFromConfig(env.Management).EnableAWSServiceAccess(t.Context(), &organizations.EnableAWSServiceAccessInput{
		ServicePrincipal: aws.String(doctor.StackSetsPrincipal)}); err != nil {
		t.Fatal(err)
	}
	old := doctorWiring
	doctorWiring = func(c *doctor.Checker) {
		c.Lambda = fakeLambdaSettings{limit: 1000, unreserved: 1000}
		if wire != nil {
			wire(c)
		}
	}
	t.Cleanup(func() { doctorWiring = old })
	args := []string{"doctor", "--logging-role-arn", awsenv.RoleARN(env.Region, env.Logging.ID, emulator.AccessRoleName)}
	return env, res, vars, args
}

func TestDoctorHealthyGolden(t *testing.T) {
	env, res, vars, args := doctorEnv(t, nil)
	r := runCLI(t, vars, append(args, "-o", "json")...)
	if r.code != exitOK {
		t.Fatalf("healthy deployment: %+v", r)
	}
	// The emulator's account ids are random, so which member sorts first
	// (and is used for the policies' trail ARN) varies: both read <member>.
	got := strings.NewReplacer(env.MustMember("member-1").ID, "<member>", env.Logging.ID, "<member>",
		env.OrganizationID, "<org-id>", res.KMSKeyARN, "<key-arn>", res.DeliveriesTopicARN, "<topic-arn>").Replace(r.stdout)
	golden := repoFile("cmd", "trailwarden", "testdata", "doctor-healthy.json")
	if *update {
		os.MkdirAll(repoFile("cmd", "trailwarden", "testdata"), 0o755)
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("doctor -o json differs from %s (rerun with -update):\n%s", golden, got)
	}
	if r := runCLI(t, vars, args...); r.code != exitOK || !strings.Contains(r.stdout, "0 failed") {
		t.Fatalf("table: %+v", r)
	}
}

func TestDoctorFailures(t *testing.T) {
	cases := []struct {
		name  string
		wire  func(env *emulator.Env, res *central.Resources) func(*doctor.Checker)
		setup func(t *testing.T, env *emulator.Env, res *central.Resources)
		code  int
		want  string
	}{
		{name: "bucket policy lacks CloudTrail's write statement", code: exitProblem,
			setup: func(t *testing.T, env *emulator.Env, res *central.Resources) {
				dropStatement(t, env, res, "CloudTrailWrite")
			},
			want: "no statement allows cloudtrail.amazonaws.com s3:PutObject"},
		{name: "member role not assumable", code: exitProblem,
			wire: func(env *emulator.Env, _ *central.Resources) func(*doctor.Checker) {
				return func(c *doctor.Checker) { c.Roles = refusingRole{c.Roles, env.MustMember("member-1").ID} }
			},
			want: "not assumable in 1 of"},
		{name: "quota below need", code: exitProblem,
			wire: func(*emulator.Env, *central.Resources) func(*doctor.Checker) {
				return func(c *doctor.Checker) { c.Lambda = fakeLambdaSettings{limit: 10, unreserved: 4} }
			},
			want: "Service Quotas"},
		{name: "quota unreadable", code: exitUsage,
			wire: func(*emulator.Env, *central.Resources) func(*doctor.Checker) {
				return func(c *doctor.Checker) { c.Lambda = fakeLambdaSettings{err: errors.New("AccessDeniedException")} }
			},
			want: "lambda:GetAccountSettings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var wire func(*doctor.Checker) // set once the environment exists
			env, res, vars, args := doctorEnv(t, func(c *doctor.Checker) {
				if wire != nil {
					wire(c)
				}
			})
			if tc.wire != nil {
				wire = tc.wire(env, res)
			}
			if tc.setup != nil {
				tc.setup(t, env, res)
			}
			r := runCLI(t, vars, args...)
			if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
				t.Fatalf("want exit %d and %q: %+v", tc.code, tc.want, r)
			}
		})
	}
}

func dropStatement(t *testing.T, env *emulator.Env, res *central.Resources, sid string) {
	t.Helper()
	s3c := s3.NewFromConfig(env.Logging.Config, awsenv.S3Options(env.Logging.Config))
	out, err := s3c.GetBucketPolicy(t.Context(), &s3.GetBucketPolicyInput{Bucket: aws.String(res.Bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal([]byte(aws.ToString(out.Policy)), &doc)
	var keep []any
	for _, s := range doc["Statement"].([]any) {
		if s.(map[string]any)["Sid"] != sid {
			keep = append(keep, s)
		}
	}
	doc["Statement"] = keep
	b, _ := json.Marshal(doc)
	if _, err := s3c.PutBucketPolicy(t.Context(), &s3.PutBucketPolicyInput{Bucket: aws.String(res.Bucket), Policy: aws.String(string(b))}); err != nil {
		t.Fatal(err)
	}
}

func TestDoctorUsageAndTrustedAccess(t *testing.T) {
	env, _, vars, args := doctorEnv(t, nil)
	if r := runCLI(t, vars, append(args, "-o", "xml")...); r.code != exitUsage {
		t.Fatalf("-o xml: %+v", r)
	}
	if r := runCLI(t, nil, "doctor"); r.code != exitUsage {
		t.Fatalf("no policy: %+v", r)
	}
	if r := runCLI(t, vars, append(args, "--canary", env.MustMember("member-1").ID)...); r.code != exitUsage || !strings.Contains(r.stderr, "--ledger-table") {
		t.Fatalf("--canary without the ledger table: %+v", r)
	}
	if _, err := organizations.NewFromConfig(env.Management).DisableAWSServiceAccess(t.Context(), &organizations.DisableAWSServiceAccessInput{
		ServicePrincipal: aws.String(doctor.StackSetsPrincipal)}); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, vars, args...)
	if r.code != exitProblem || !strings.Contains(r.stdout, "enable-aws-service-access --service-principal "+doctor.StackSetsPrincipal) {
		t.Fatalf("StackSets trusted access off: %+v", r)
	}
}

// TestDoctorCanary converges the member's trail, then plays CloudTrail
// (cloudtrailsim) and the verifier's ledger write one hop per poll.
func TestDoctorCanary(t *testing.T) {
	env, res, vars, args := doctorEnv(t, nil)
	member := env.MustMember("member-1").ID
	sim, err := cloudtrailsim.New(s3.NewFromConfig(env.Logging.Config, awsenv.S3Options(env.Logging.Config)), nil,
		cloudtrailsim.Trail{Name: "org-audit", HomeRegion: env.Region, Bucket: res.Bucket, Prefix: res.KeyPrefix, KMSKeyARN: res.KMSKeyARN},
		cloudtrailsim.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(env.Management)
	ledgerSet := func(ctx context.Context, attr string) error {
		_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(flow.LedgerTable),
			Key:                       map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: member}},
			UpdateExpression:          aws.String("SET #a = :t"),
			ExpressionAttributeNames:  map[string]string{"#a": attr + env.Region},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":t": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Unix(), 10)}}})
		return err
	}
	var logKey string
	steps := []func(ctx context.Context) error{
		func(ctx context.Context) (err error) {
			logKey, err = sim.DeliverLogFile(ctx, member, env.Region, time.Now(), 3)
			return err
		},
		func(ctx context.Context) error { return ledgerSet(ctx, ledger.PrefixLog) },
		func(ctx context.Context) error {
			_, err := sim.DeliverDigest(ctx, member, env.Region, time.Now(), []string{logKey})
			return err
		},
		func(ctx context.Context) error { return ledgerSet(ctx, ledger.PrefixDigest) },
	}
	old := canaryWiring
	t.Cleanup(func() { canaryWiring = old })
	var polls int
	canaryWiring = func(c *doctor.Canary) {
		c.Sleep = func(ctx context.Context, _ time.Duration) error {
			polls++
			if polls <= len(steps) {
				return steps[polls-1](ctx)
			}
			return errors.New("the canary kept polling after every hop was delivered")
		}
	}
	base := append(args, "--canary", member, "--ledger-table", flow.LedgerTable, "-o", "json")
	r := runCLI(t, vars, append(base, "--timeout", "1h")...)
	if r.code != exitOK {
		t.Fatalf("canary: %+v", r)
	}
	var rep doctor.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Canary == nil || !rep.Canary.OK || len(rep.Canary.Hops) != 5 || !strings.HasSuffix(rep.Canary.Trail, ":trail/org-audit") {
		t.Fatalf("canary report: %s", r.stdout)
	}
	for _, h := range rep.Canary.Hops {
		if !h.Done || h.Evidence == "" {
			t.Errorf("hop %s not proven: %+v", h.Name, h)
		}
	}
	if !strings.Contains(rep.Canary.Hops[3].Evidence, "CloudTrail-Digest/"+env.Region) {
		t.Errorf("digest hop evidence: %+v", rep.Canary.Hops[3])
	}
}

func TestDoctorCanaryTimeout(t *testing.T) {
	env, _, vars, args := doctorEnv(t, nil)
	old := canaryWiring
	t.Cleanup(func() { canaryWiring = old })
	canaryWiring = func(c *doctor.Canary) {
		c.Sleep = func(context.Context, time.Duration) error { time.Sleep(20 * time.Millisecond); return nil }
	}
	r := runCLI(t, vars, append(args, "--canary", env.MustMember("member-1").ID, "--ledger-table", flow.LedgerTable,
		"--timeout", "100ms", "--poll", "10ms")...)
	if r.code != exitProblem || !strings.Contains(r.stdout, "timed out after 100ms waiting for log-file-in-bucket") {
		t.Fatalf("timeout: %+v", r)
	}
}

// TestDoctorMemberAccess: doctor reaches members as status and plan do,
// through the read-only operator role with the CLI's session name (the
// only one the operator roles trust), and the canary through the converge
// role; --member-via-role-arn switches to the policy's member role under
// doctor's own session name. STS's GetCallerIdentity with the assumed
// credentials names the role and the session.
func TestDoctorMemberAccess(t *testing.T) {
	env, _, vars, args := doctorEnv(t, nil)
	vars["USER"] = "alice"
	member := env.MustMember("member-1").ID
	whoAmI := func(t *testing.T, extra []string, write bool) string {
		t.Helper()
		var out, errb strings.Builder
		cenv := &cmdEnv{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }}
		var f doctorFlags
		c := &cobra.Command{Use: "doctor"}
		f.register(c, cenv)
		if err := c.ParseFlags(append(args[1:], extra...)); err != nil {
			t.Fatalf("parse: %v", err)
		}
		if err := f.check(cenv); err != nil {
			t.Fatalf("check: %v", err)
		}
		s, err := f.open(t.Context(), cenv)
		if err != nil {
			t.Fatalf("open: %v %s", err, errb.String())
		}
		f.memberAccess(s)
		cfg, err := s.op.Config(t.Context(), member, env.Region, write)
		if err != nil {
			t.Fatal(err)
		}
		id, err := sts.NewFromConfig(cfg).GetCallerIdentity(t.Context(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(id.Arn)
	}
	for _, tc := range []struct {
		name  string
		extra []string
		write bool
		want  string
	}{
		{"checks", nil, false, ":assumed-role/trailwarden-operator-read/trailwarden-cli-alice"},
		{"canary", nil, true, ":assumed-role/trailwarden-operator-converge/trailwarden-cli-alice"},
		{"--role", []string{"--role", "AuditRead"}, false, ":assumed-role/AuditRead/trailwarden-cli-alice"},
		{"--member-via-role-arn", []string{"--member-via-role-arn", awsenv.RoleARN(env.Region, emulator.ManagementAccountID, "trailwarden/enabler/ops")},
			false, ":assumed-role/TrailwardenMember/trailwarden-doctor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := whoAmI(t, tc.extra, tc.write); !strings.HasSuffix(got, tc.want) || !strings.Contains(got, member) {
				t.Errorf("doctor reaches %s as %s, want …%s…%s", member, got, member, tc.want)
			}
		})
	}
}
