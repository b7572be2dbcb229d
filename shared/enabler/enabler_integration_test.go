package enabler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/trailwarden/trailwarden/shared/settings"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/eventsource"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/telemetry"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

type harness struct {
	t        *testing.T
	env      *emulator.Env
	res      *central.Resources
	proc     *enabler.Processor
	mapping  *eventsource.Mapping
	sessions *flakySessions
	metrics  *telemetry.Metrics
	logs     *bytes.Buffer
}

// flakySessions is a fake for what moto cannot do: a new account's role that
// is not assumable for the first Failures attempts (STS answers AccessDenied).
type flakySessions struct {
	inner    *awsenv.Assumer
	Failures atomic.Int32
	Attempts atomic.Int32
}

func (f *flakySessions) Config(ctx context.Context, account, role, region string) (aws.Config, error) {
	f.Attempts.Add(1)
	if f.Failures.Load() > 0 {
		f.Failures.Add(-1)
		return aws.Config{}, &awsenv.RoleError{Account: account, Role: awsenv.RoleARN(region, account, role),
			Err: errors.New("fake: AccessDenied: not authorized to perform sts:AssumeRole")}
	}
	return f.inner.Config(ctx, account, role, region)
}

func newHarness(t *testing.T, spec emulator.WorldSpec, opts central.PolicyOptions) *harness {
	t.Helper()
	env := emulator.NewEnvWith(t, spec)
	ctx := t.Context()
	res, err := central.Provision(ctx, env.Logging.Config, env.Logging.Config, env.Logging.ID, env.Logging.ID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit",
		Tables: flow.Tables(), MaxReceiveCount: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.OrganizationID, opts.ManagementAccount, opts.LoggingAccount = env.OrganizationID, emulator.ManagementAccountID, env.Logging.ID
	pol, err := policy.Parse([]byte(res.PolicyYAML(opts)))
	if err != nil {
		t.Fatalf("policy: %v\n%s", err, res.PolicyYAML(opts))
	}
	if _, err := pol.Validate(policy.ValidateOptions{}); err != nil {
		t.Fatalf("policy invalid: %v", err)
	}
	auto := env.Logging.Config
	logs := &bytes.Buffer{}
	sessions := &flakySessions{inner: awsenv.NewAssumer(env.Management, sts.NewFromConfig(env.Management), settings.RoleSessionName)}
	sq := sqs.NewFromConfig(auto)
	h := &harness{t: t, env: env, res: res, sessions: sessions, logs: logs}
	h.proc = flow.Enabler(env.Management, auto, res, pol, flow.EnablerOptions{Sessions: sessions, Out: logs})
	h.metrics = h.proc.Metrics
	h.mapping = &eventsource.Mapping{SQS: sq, QueueURL: res.RequestQueueURL, QueueARN: res.RequestQueueARN, Region: auto.Region, RetryNow: true}
	return h
}

// fixture reads an events/ file and replaces example ids.
func fixture(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(replace...).Replace(string(b))
}

// send puts bodies on the request queue, with the fixtures' management
// account and organization id replaced by the emulated organization's.
func (h *harness) send(bodies ...string) {
	h.t.Helper()
	sq := sqs.NewFromConfig(h.env.Logging.Config)
	ours := strings.NewReplacer("111111111111", emulator.ManagementAccountID, "o-a1b2c3d4e5", h.env.OrganizationID)
	for _, b := range bodies {
		b = ours.Replace(b)
		if _, err := sq.SendMessage(h.t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(h.res.RequestQueueURL), MessageBody: aws.String(b)}); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) drain(max int) eventsource.Stats {
	h.t.Helper()
	st, err := h.mapping.Drain(h.t.Context(), h.proc.Handle, max)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

func (h *harness) trail(account string) (*cloudtrail.GetTrailOutput, *cloudtrail.GetTrailStatusOutput) {
	h.t.Helper()
	cfg, err := h.env.Assume(h.t.Context(), account, "")
	if err != nil {
		h.t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(cfg)
	tr, err := ct.GetTrail(h.t.Context(), &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
	if err != nil {
		return nil, nil
	}
	st, err := ct.GetTrailStatus(h.t.Context(), &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
	if err != nil {
		h.t.Fatal(err)
	}
	return tr, st
}

func (h *harness) account(id string) *accounts.Account {
	h.t.Helper()
	a, err := h.proc.Accounts.(*accounts.Store).Get(h.t.Context(), id)
	if err != nil {
		h.t.Fatalf("account %s: %v", id, err)
	}
	return a
}

func (h *harness) assertEnabled(id string) {
	h.t.Helper()
	tr, st := h.trail(id)
	if tr == nil {
		h.t.Fatalf("account %s has no trail; logs:\n%s", id, h.logs.String())
	}
	if aws.ToString(tr.Trail.S3BucketName) != h.res.Bucket || aws.ToString(tr.Trail.SnsTopicARN) != h.res.DeliveriesTopicARN ||
		aws.ToString(tr.Trail.KmsKeyId) != h.res.KMSKeyARN || !aws.ToBool(tr.Trail.LogFileValidationEnabled) || !aws.ToBool(st.IsLogging) {
		b, _ := json.Marshal(tr.Trail)
		h.t.Fatalf("trail of %s not as the policy says (logging=%v): %s", id, aws.ToBool(st.IsLogging), b)
	}
	if a := h.account(id); a.Status != accounts.StatusEnabled || a.TrailARN == "" || a.PolicyHash == "" {
		h.t.Fatalf("accounts table: %+v", a)
	}
}

func TestCreateAccountResultEnablesTrail(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{NoMembers: true}, central.PolicyOptions{})
	member, err := h.env.AddMember(t.Context(), "new-team", "")
	if err != nil {
		t.Fatal(err)
	}
	ev := fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member.ID)
	h.send(ev, ev) // a duplicate delivery
	st := h.drain(5)
	if st.Failed != 0 {
		t.Fatalf("failures: %+v\n%s", st, h.logs.String())
	}
	h.assertEnabled(member.ID)
	if a := h.account(member.ID); a.JoinedVia != "created" {
		t.Errorf("joinedVia = %q", a.JoinedVia)
	}
	// Duplicates leave exactly one trail.
	cfg, _ := h.env.Assume(t.Context(), member.ID, "")
	out, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(t.Context(), &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(out.TrailList) != 1 {
		t.Fatalf("trails: %d, %v", len(out.TrailList), err)
	}
	if strings.Contains(h.logs.String(), "@") {
		t.Errorf("logs contain an e-mail address:\n%s", h.logs.String())
	}
}

func TestInvitedAccountEnabledThroughAcceptHandshake(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{NoMembers: true}, central.PolicyOptions{})
	ctx := t.Context()
	const invited = "555555555555"
	orgs := organizations.NewFromConfig(h.env.Management)
	hs, err := orgs.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Type: orgtypes.HandshakePartyTypeAccount, Id: aws.String(invited)}})
	if err != nil {
		t.Fatal(err)
	}
	invitedCfg, err := h.env.Server.Config(ctx, invited, h.env.Region)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := organizations.NewFromConfig(invitedCfg).AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: hs.Handshake.Id}); err != nil {
		t.Fatal(err)
	}
	// AWS does not create the access role for invited accounts: its admin does.
	if _, err := iam.NewFromConfig(invitedCfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(emulator.AccessRoleName),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + emulator.ManagementAccountID + `:root"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	h.send(fixture(t, "organizations/accept-handshake-invite-account.json", "444444444444", invited))
	if st := h.drain(3); st.Failed != 0 {
		t.Fatalf("failures: %+v\n%s", st, h.logs.String())
	}
	h.assertEnabled(invited)
	if a := h.account(invited); a.JoinedVia != "invited" {
		t.Errorf("joinedVia = %q", a.JoinedVia)
	}
}

func TestRoleNotYetAssumableRetriesUntilEnabled(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{NoMembers: true}, central.PolicyOptions{})
	member, err := h.env.AddMember(t.Context(), "slow-role", "")
	if err != nil {
		t.Fatal(err)
	}
	h.sessions.Failures.Store(2)
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member.ID))
	for i := 0; i < 2; i++ {
		st := h.drain(1)
		if st.Failed != 1 {
			t.Fatalf("attempt %d: want a retryable failure, got %+v", i+1, st)
		}
		if a := h.account(member.ID); a.Status != accounts.StatusPending || a.LastErrorCode != "RoleNotAssumable" {
			t.Fatalf("while retrying: %+v", a)
		}
	}
	if st := h.drain(1); st.Failed != 0 || st.Records != 1 {
		t.Fatalf("third attempt: %+v", st)
	}
	h.assertEnabled(member.ID)
}

func TestMalformedGoesToDLQWithoutHurtingTheBatch(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{}, central.PolicyOptions{})
	member := h.env.MustMember("member-1")
	good := fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member.ID)
	bad := fixture(t, "organizations/malformed-truncated.json")
	h.send(bad, good, `not json at all`)
	for i := 0; i < 5; i++ {
		h.drain(3)
	}
	h.assertEnabled(member.ID)
	dlq, err := sqs.NewFromConfig(h.env.Logging.Config).ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(h.res.RequestDLQURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(dlq.Messages) != 2 {
		t.Fatalf("DLQ holds %d messages, want the 2 malformed ones", len(dlq.Messages))
	}
	if !strings.Contains(h.logs.String(), `"kind":"poison"`) || h.metrics.Total("MalformedRequests") == 0 && !strings.Contains(h.logs.String(), "MalformedRequests") {
		t.Errorf("poison not logged/counted:\n%s", h.logs.String())
	}
}

func TestExcludedAccountIsNotTouched(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{OUs: []string{"sandbox"}, Members: []emulator.MemberSpec{{Name: "lab", OU: "sandbox"}}}, central.PolicyOptions{})
	// Exclude the sandbox OU: rebuild the processor's policy with its id.
	sandbox := h.env.OUs["sandbox"]
	pol, err := policy.Parse([]byte(h.res.PolicyYAML(central.PolicyOptions{OrganizationID: h.env.OrganizationID,
		ManagementAccount: emulator.ManagementAccountID, LoggingAccount: h.env.Logging.ID, ExcludeOUs: []string{sandbox}})))
	if err != nil {
		t.Fatal(err)
	}
	h.proc.Policy = pol
	lab := h.env.MustMember("lab")
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", lab.ID))
	h.drain(2)
	if tr, _ := h.trail(lab.ID); tr != nil {
		t.Fatal("an excluded account got a trail")
	}
	if a := h.account(lab.ID); a.Status != accounts.StatusExcluded {
		t.Fatalf("status = %s", a.Status)
	}
}

func TestMovedAccountGetsNewOUPolicy(t *testing.T) {
	spec := emulator.WorldSpec{OUs: []string{"workloads"}, Members: []emulator.MemberSpec{{Name: "app"}}}
	env := emulator.NewEnvWith(t, spec) // to learn the OU id before writing the policy
	ou := env.OUs["workloads"]
	h := newHarness(t, spec, central.PolicyOptions{Overrides: "  - match: {ou: " + ou + "}\n    trail: {insights: {apiCallRate: true}}\n"})
	ou = h.env.OUs["workloads"] // same seed, same id
	app := h.env.MustMember("app")
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", app.ID))
	h.drain(2)
	h.assertEnabled(app.ID)
	cfg, _ := h.env.Assume(t.Context(), app.ID, "")
	ct := cloudtrail.NewFromConfig(cfg)
	if _, err := ct.GetInsightSelectors(t.Context(), &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("org-audit")}); err == nil {
		t.Fatal("insights on before the move")
	}
	orgs := organizations.NewFromConfig(h.env.Management)
	if _, err := orgs.MoveAccount(t.Context(), &organizations.MoveAccountInput{AccountId: aws.String(app.ID),
		SourceParentId: aws.String(h.env.RootID), DestinationParentId: aws.String(ou)}); err != nil {
		t.Fatal(err)
	}
	h.send(fixture(t, "organizations/move-account.json", "333333333333", app.ID))
	if st := h.drain(2); st.Failed != 0 {
		t.Fatalf("%+v\n%s", st, h.logs.String())
	}
	ins, err := ct.GetInsightSelectors(t.Context(), &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String("org-audit")})
	if err != nil || len(ins.InsightSelectors) != 1 {
		t.Fatalf("after the move, insights = %+v, %v\n%s", ins, err, h.logs.String())
	}
	if a := h.account(app.ID); len(a.OUPath) != 1 || a.OUPath[0] != ou {
		t.Fatalf("OU path = %v", a.OUPath)
	}
}

// TestOrganizationTrailMode: members are covered by the management
// account's organization trail (no member trail); converging the
// management account creates that organization trail.
func TestOrganizationTrailMode(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{}, central.PolicyOptions{Mode: "organization-trail"})
	member := h.env.MustMember("member-1").ID
	h.send(fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member))
	if st := h.drain(2); st.Failed != 0 {
		t.Fatalf("%+v\n%s", st, h.logs.String())
	}
	if tr, _ := h.trail(member); tr != nil {
		t.Fatal("organization-trail mode created a trail in the member")
	}
	a := h.account(member)
	if a.Status != accounts.StatusEnabled || !strings.Contains(a.TrailARN, ":"+emulator.ManagementAccountID+":trail/org-audit") {
		t.Fatalf("member row: %+v", a)
	}
	out, err := h.proc.ConvergeAccount(t.Context(), emulator.ManagementAccountID, "", "cli")
	if err != nil || out.Status != accounts.StatusEnabled {
		t.Fatalf("management: %+v %v\n%s", out, err, h.logs.String())
	}
	tr, st := h.trail(emulator.ManagementAccountID)
	if tr == nil || !aws.ToBool(tr.Trail.IsOrganizationTrail) || !aws.ToBool(st.IsLogging) {
		t.Fatalf("organization trail: %+v", tr)
	}
}
