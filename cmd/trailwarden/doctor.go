package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/doctor"
	"github.com/trailwarden/trailwarden/shared/ledger"
	"github.com/trailwarden/trailwarden/shared/policy"
)

const doctorLong = `Checks, against the real organization, what the emulator cannot prove: trusted
access for StackSets (and for CloudTrail in organization-trail mode), member
accounts reachable in a sample of ACTIVE members, the Lambda concurrency quota
of the automation account, and the central bucket, key and topic policies as
deployed. Run it with the automation account's credentials (as 'status');
--org-reader-role-arn reads Organizations and --logging-role-arn reads the
logging account's policies and bucket.

Members are reached as 'status' and 'plan' reach them: through the read-only
operator role (trailwarden-operator-read; the converge role for the canary),
with the CLI's session name; --role names another role. --member-via-role-arn
instead assumes the policy's memberRole from that role (one the member role
trusts: under the enabler's IAM path in the automation account).

--canary ACCOUNT then converges that account's trail (the policy's own trail,
as 'enable --yes' does) and waits for its first log file and first digest in
the bucket and in the ledger, reporting each hop's latency.

Exits 0 when every check passes (warnings included), 1 when a check or the
canary fails, 2 on a usage error or when a check could not read what it needs.`

const doctorExample = `  trailwarden doctor --policy policy.yaml --logging-role-arn arn:aws:iam::222222222222:role/trailwarden-doctor-read
  trailwarden doctor --policy policy.yaml --canary 333333333333 --ledger-table trailwarden-ledger -o json`

func newDoctorCmd(env *cmdEnv) *cobra.Command {
	var f doctorFlags
	c := &cobra.Command{Use: "doctor", Short: "check a real deployment's prerequisites; --canary proves delivery in one account",
		Long: doctorLong, Example: doctorExample, Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runDoctor(c.Context(), env, &f) }}
	f.register(c, env)
	return c
}

// doctorSessionName is the doctor's session in the policy's member role
// (--member-via-role-arn): distinct in CloudTrail, and not the functions'
// own (enabler.OwnRoles), so a change the canary's converge makes is judged
// as an operator's.
const doctorSessionName = "trailwarden-doctor"

// enablerMaxConcurrency mirrors infra's enabler event source
// MaximumConcurrency (infra/stacks.EnablerMaxConcurrency; the CLI does not
// link the CDK packages).
const enablerMaxConcurrency = 5

type doctorFlags struct {
	deployFlags
	loggingRoleARN, viaRoleARN string
	output                     outputFlag
	canary                     string
	sample, needConcurrency    int
	timeout, poll              time.Duration
}

func (f *doctorFlags) register(c *cobra.Command, env *cmdEnv) {
	fs := c.Flags()
	f.deployFlags.register(fs, env)
	fs.StringVar(&f.loggingRoleARN, "logging-role-arn", "", "role in the logging account to read the bucket, key and topic policies and list the bucket (empty: own credentials)")
	fs.StringVar(&f.viaRoleARN, "member-via-role-arn", "", "role in the automation account, on the enabler's IAM path, to assume the policy's member role from (empty: the operator roles, as status and plan)")
	addOutput(c, &f.output)
	fs.IntVar(&f.sample, "sample", 5, "member accounts to assume the member role in")
	fs.IntVar(&f.needConcurrency, "need-concurrency", 0, "unreserved Lambda concurrency the deployment needs (default: enabler 5 + deployment.verifierConcurrency)")
	fs.StringVar(&f.canary, "canary", "", "member account to prove the delivery path in")
	fs.DurationVar(&f.timeout, "timeout", 90*time.Minute, "how long the canary waits for the first log file and digest")
	fs.DurationVar(&f.poll, "poll", time.Minute, "how often the canary looks")
}

// check validates the flags and resolves the deployment.
func (f *doctorFlags) check(env *cmdEnv) error {
	if err := f.need(env, "policy"); err != nil {
		return err
	}
	switch {
	case f.sample < 1:
		return usageErrorf("doctor: --sample must be at least 1")
	case f.canary == "":
		return nil
	case f.timeout <= 0 || f.poll <= 0:
		return usageErrorf("doctor: --timeout and --poll must be positive")
	}
	return f.need(env, "ledger-table")
}

func runDoctor(ctx context.Context, env *cmdEnv, f *doctorFlags) error {
	if err := f.check(env); err != nil {
		return err
	}
	s, err := f.open(ctx, env)
	if err != nil {
		return err
	}
	if f.canary != "" && s.pol.Mode == policy.ModeOrganizationTrail {
		return usageErrorf("doctor: --canary converges one account's own trail; the policy is in organization-trail mode")
	}
	f.memberAccess(s)
	checker, central, logging := f.wire(s)
	rep, err := checker.Run(ctx, f.config(s, central))
	if err == nil && f.canary != "" {
		rep.Canary, err = f.runCanary(ctx, s, central, logging)
	}
	if err != nil {
		return fmt.Errorf("doctor: %w", err)
	}
	if err := writeDoctor(env, string(f.output), rep); err != nil {
		return err
	}
	if rep.Failed() {
		return errProblemSilent
	}
	return nil
}

// memberAccess is how doctor reaches members: the session's operator
// access (the read-only operator role, as status and plan; the converge
// role for the canary), or with --member-via-role-arn the policy's member
// role assumed from that role under doctor's own session name.
func (f *doctorFlags) memberAccess(s *session) {
	if f.viaRoleARN == "" {
		return
	}
	via := assumed(s.home, f.viaRoleARN)
	s.op = &awsenv.Operator{Assumer: awsenv.NewAssumer(via, sts.NewFromConfig(via), doctorSessionName), Role: s.pol.Organization.MemberRole}
}

// assumed is cfg acting through roleARN (cfg itself when roleARN is empty).
func assumed(cfg aws.Config, roleARN string) aws.Config {
	if roleARN == "" {
		return cfg
	}
	c := cfg.Copy()
	c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(cfg), roleARN,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = doctorSessionName }))
	return c
}

// doctorWiring and canaryWiring let tests replace one AWS call the
// emulator lacks, and the canary's clock.
var (
	doctorWiring = func(*doctor.Checker) {}
	canaryWiring = func(*doctor.Canary) {}
)

func (f *doctorFlags) wire(s *session) (*doctor.Checker, doctor.Central, aws.Config) {
	logging := assumed(s.home, f.loggingRoleARN)
	c := &doctor.Checker{
		Org:    organizations.NewFromConfig(assumed(s.home, f.orgReaderRoleARN)),
		Roles:  memberProber{s},
		Lambda: lambda.NewFromConfig(s.home),
		Policies: doctor.PolicyReaders{S3: s3.NewFromConfig(logging, awsenv.S3Options(logging)),
			KMS: kms.NewFromConfig(logging), SNS: sns.NewFromConfig(logging)},
	}
	doctorWiring(c)
	pol := s.pol
	home := pol.Organization.HomeRegion
	central := doctor.Central{Partition: awsenv.Partition(home), Region: home, OrganizationID: pol.Organization.ID,
		Bucket: pol.Trail.S3.Bucket, KeyPrefix: pol.Trail.S3.KeyPrefix, KeyARN: pol.Trail.KMS.KeyArn, TopicARN: pol.Trail.SNS.TopicArn,
		TrailNames: pol.TrailNames(), OrganizationTrail: pol.Mode == policy.ModeOrganizationTrail}
	if central.OrganizationTrail {
		central.Account = pol.Organization.ManagementAccount
	} else {
		central.Account = f.canary // "": the first sampled member
	}
	return c, central, logging
}

func (f *doctorFlags) config(s *session, central doctor.Central) doctor.Config {
	need := f.needConcurrency
	if need == 0 {
		v := deployment.DefaultVerifierConcurrency
		if d := s.pol.Deployment; d != nil {
			v = d.VerifierConcurrency
		}
		need = enablerMaxConcurrency + v
	}
	return doctor.Config{OrganizationTrail: central.OrganizationTrail, ManagementAccount: s.pol.Organization.ManagementAccount,
		Excluded: s.pol.Organization.Exclude.Accounts, MemberRole: s.op.RoleFor(false), Sample: f.sample,
		NeedConcurrency: need, Central: central}
}

func (f *doctorFlags) runCanary(ctx context.Context, s *session, central doctor.Central, logging aws.Config) (*doctor.CanaryReport, error) {
	c := &doctor.Canary{Converge: canaryConverger{s}, Bucket: s3.NewFromConfig(logging, awsenv.S3Options(logging)),
		Ledger: ledgerArrivals{db: newDynamoDB(s.home), table: f.ledgerTable}}
	canaryWiring(c)
	return c.Run(ctx, doctor.CanaryOptions{Account: f.canary, Region: s.pol.Organization.HomeRegion, Central: central,
		Timeout: f.timeout, Poll: f.poll})
}

// memberProber assumes the read-only operator role in a member, as status
// and plan do (or, with --member-via-role-arn, the policy's member role).
type memberProber struct{ s *session }

func (m memberProber) Probe(ctx context.Context, account string) error {
	_, err := m.s.op.Config(ctx, account, m.s.pol.Organization.HomeRegion, false)
	return err
}

// canaryConverger converges through the enabler's engine, like enable --yes.
type canaryConverger struct{ s *session }

func (c canaryConverger) Converge(ctx context.Context, account string) (string, int, error) {
	want, _, err := c.s.desired(ctx, account)
	if err != nil {
		return "", 0, err
	}
	eng, err := c.s.engine(ctx, account, true)
	if err != nil {
		return "", 0, err
	}
	rep, err := eng.Converge(ctx, want, converge.Options{})
	if err != nil {
		return "", 0, err
	}
	arn := ""
	if rep.Result != nil {
		arn = aws.ToString(rep.Result.TrailARN)
	}
	return arn, len(rep.Changes), nil
}

// ledgerArrivals reads one account item of the ledger table (either
// layout: ledger.Decode). Items are written by the watchdog once per item
// interval; the journal holds fresher times that this read does not fold
// in.
type ledgerArrivals struct {
	db    *dynamodb.Client
	table string
}

func (l ledgerArrivals) Newest(ctx context.Context, account, region string) (time.Time, time.Time, error) {
	out, err := l.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(l.table), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}}})
	if err != nil || len(out.Item) == 0 {
		return time.Time{}, time.Time{}, err
	}
	it, err := ledger.Decode(out.Item)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("ledger %s: %w", account, err)
	}
	rs := it.Regions[region]
	return rs.LastLog, rs.LastDigest, nil
}

func writeDoctor(env *cmdEnv, output string, rep *doctor.Report) error {
	if output == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	w := tabwriter.NewWriter(env.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "STATUS\tCHECK\tDETAIL")
	for _, c := range rep.Checks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", c.Status, c.Name, c.Detail)
		if c.Next != "" {
			fmt.Fprintf(w, "\t\tnext: %s\n", c.Next)
		}
	}
	if c := rep.Canary; c != nil {
		fmt.Fprintf(w, "\nCANARY %s %s\ttrail %s\t\n", c.Account, c.Region, c.Trail)
		for _, h := range c.Hops {
			state := "waiting"
			if h.Done {
				state = fmt.Sprintf("after %s", time.Duration(h.LatencyS*float64(time.Second)).Round(time.Second))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\n", h.Name, state, h.Evidence)
		}
		if c.Detail != "" {
			fmt.Fprintln(w, c.Detail)
		}
	}
	fmt.Fprintf(w, "\n%d passed, %d warned, %d failed\n", rep.Counts[doctor.Pass], rep.Counts[doctor.Warn], rep.Counts[doctor.Fail])
	return errors.Join(w.Flush())
}
