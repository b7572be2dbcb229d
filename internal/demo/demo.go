// Package demo tells trailwarden's whole story on the local emulator, with
// the real handlers and real-format events: an organization with OUs, the
// central resources, three accounts joining (two created, one invited),
// their trails enabled, CloudTrail's deliveries verified, a foreign delivery
// flagged, a stopped trail detected, diagnosed, alerted and repaired, and the
// recovery; the findings in Security Hub, the alerts on the central bus and
// the organization's map. It prints a timeline and fails unless every step
// happened.
//
// Time: the emulator runs on the wall clock; CloudTrail's deliveries, the
// verifier's coalescing and the watchdog run on a simulated clock that
// starts now and advances in five-minute ticks, so an hour of deliveries
// takes seconds.
package demo

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/eventsource"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/status"
	"github.com/trailwarden/trailwarden/shared/verifier"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

// Options tune a run.
type Options struct {
	Out io.Writer
	// Server is an emulator to use; nil starts one (and stops it at the end).
	Server *emulator.Server
	// Dir receives the policy file and the functions' logs (default: a
	// temporary directory).
	Dir string
}

// Result is what a run leaves behind, for `trailwarden status` and tests.
type Result struct {
	Steps      []Step
	Server     *emulator.Server
	Env        map[string]string // the environment for `trailwarden status`
	Simulated  time.Time         // the simulated clock at the end (`trailwarden status --at`)
	Status     status.View
	Elapsed    time.Duration
	PolicyFile string
	MapFile    string // the organization's map (trailwarden report --html)
}

// Step is one line of the timeline.
type Step struct {
	N      int
	Title  string
	OK     bool
	Detail []string
}

// Regions the demo's trails deliver from: two busy, one quiet (digests only).
var (
	activeRegions = []string{"us-east-1", "eu-west-1"}
	quietRegion   = "ap-southeast-2"
)

const invitedAccount = "555555555555"

type run struct {
	o        Options
	ctx      context.Context
	out      io.Writer
	res      *Result
	srv      *emulator.Server
	world    *emulator.World
	central  *central.Resources
	pol      *policy.Policy
	enabler  *enabler.Processor
	verifier *verifier.Processor
	watchdog *watchdog.Watchdog
	// storyAlerts counts the StopLogging story's alert messages (want 2).
	storyAlerts int
	requests    *eventsource.Mapping
	deliver     *eventsource.Mapping
	sim         *cloudtrailsim.Deliverer
	clock       time.Time
	start       time.Time
	members     map[string]string // name → account id
	logs        io.Writer
	failed      bool
	hub         hubSetup
	// onDigest, when set, runs after each digest CloudTrail delivers (and
	// announces), before the verifier drains the queue.
	onDigest func(account, region string, df cloudtrailsim.DigestFile) error
	integ    *integrityDemo
}

// Run tells the story. It returns an error if any step did not happen.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	r := &run{o: o, ctx: ctx, out: o.Out, res: &Result{}, members: map[string]string{}, start: time.Now()}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "trailwarden-demo-")
		if err != nil {
			return nil, err
		}
		r.o.Dir = dir
	}
	logFile, err := os.Create(filepath.Join(r.o.Dir, "functions.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	r.logs = logFile
	steps := []struct {
		title string
		fn    func(*Step) error
	}{
		{"Start the emulator (moto, with trailwarden's fidelity patches)", r.startEmulator},
		{"Create the organization, with OUs", r.organization},
		{"Create the logging account's central resources", r.centralResources},
		{"Three accounts join: two created, one invited", r.join},
		{"The enabler handles their events through the request queue", r.enable},
		{"Security Hub import is on; a ticket rule listens on the central bus", r.securityHubAndBus},
		{"CloudTrail delivers; the verifier checks every file and fills the ledger", r.deliveries},
		{"A delivery from an account outside the organization", r.foreign},
		{"Someone stops logging in a member account; the watchdog notices", r.stopAndDetect},
		{"The repair converges the trail again; deliveries resume; recovery", r.repairAndRecover},
		{"trailwarden status", r.status},
		{"Someone deletes a log file; S3's deletion event makes it a finding", r.deleteLogFile},
		{"Someone truncates a digest chain; the watchdog finds the missing digests, and integrity verify agrees", r.truncateChain},
		{"Security Hub CSPM holds the findings", r.findingsInSecurityHub},
		{"The central bus delivered the alerts through the documented rule", r.eventOnBus},
		{"trailwarden report --html: the organization's map", r.organizationMap},
	}
	fmt.Fprintf(r.out, "trailwarden demo — logs of the functions: %s\n\n", filepath.Join(r.o.Dir, "functions.log"))
	for i, s := range steps {
		step := Step{N: i + 1, Title: s.title}
		err := s.fn(&step)
		step.OK = err == nil
		r.res.Steps = append(r.res.Steps, step)
		r.print(step, err)
		if err != nil {
			r.failed = true
			break
		}
	}
	r.res.Elapsed = time.Since(r.start)
	r.res.Simulated = r.clock
	if r.failed {
		fmt.Fprintf(r.out, "\nDEMO FAILED after %s\n", r.res.Elapsed.Round(100*time.Millisecond))
		return r.res, fmt.Errorf("demo failed at step %d", len(r.res.Steps))
	}
	fmt.Fprintf(r.out, "\nAll %d steps happened as expected in %s (simulated time: %s).\n", len(steps),
		r.res.Elapsed.Round(100*time.Millisecond), r.clock.Sub(r.simStart()).Round(time.Minute))
	return r.res, nil
}

func (r *run) simStart() time.Time { return r.start.UTC().Truncate(time.Minute) }

func (r *run) print(s Step, err error) {
	mark := "✓"
	if err != nil {
		mark = "✗"
	}
	when := ""
	if !r.clock.IsZero() {
		when = fmt.Sprintf(" [sim +%s]", r.clock.Sub(r.simStart()).Round(time.Minute))
	}
	fmt.Fprintf(r.out, "%s %2d. %s%s\n", mark, s.N, s.Title, when)
	for _, d := range s.Detail {
		fmt.Fprintf(r.out, "      %s\n", d)
	}
	if err != nil {
		fmt.Fprintf(r.out, "      ERROR: %v\n", err)
	}
}

func (s *Step) add(format string, a ...any) { s.Detail = append(s.Detail, fmt.Sprintf(format, a...)) }

func (r *run) startEmulator(s *Step) error {
	r.srv = r.o.Server
	if r.srv == nil {
		srv, err := emulator.Start(r.ctx, emulator.Options{LogFile: filepath.Join(r.o.Dir, "moto.log")})
		if err != nil {
			return err
		}
		r.srv = srv
	}
	r.res.Server = r.srv
	if err := r.srv.Reset(r.ctx); err != nil {
		return err
	}
	s.add("moto at %s (state reset)", r.srv.URL())
	return nil
}

func (r *run) organization(s *Step) error {
	w, err := r.srv.BuildWorld(r.ctx, emulator.WorldSpec{OUs: []string{"security", "workloads"}, LoggingOU: "security", NoMembers: true})
	if err != nil {
		return err
	}
	r.world = w
	s.add("organization %s, root %s, management account %s", w.OrganizationID, w.RootID, emulator.ManagementAccountID)
	s.add("OUs: security %s, workloads %s; logging account %s (in security)", w.OUs["security"], w.OUs["workloads"], w.Logging.ID)
	return nil
}

func (r *run) centralResources(s *Step) error {
	// The automation side (queues, tables, alerts) runs in the management
	// account here so that `trailwarden status` reads it with the same
	// credentials; production puts it in an automation account (docs/deploy.md).
	res, err := central.Provision(r.ctx, r.world.Logging.Config, r.world.Management, r.world.Logging.ID, emulator.ManagementAccountID, central.Spec{
		OrganizationID: r.world.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit",
		Tables: flow.Tables(), MaxReceiveCount: 3,
	})
	if err != nil {
		return err
	}
	r.central = res
	yaml := res.PolicyYAML(central.PolicyOptions{
		OrganizationID: r.world.OrganizationID, ManagementAccount: emulator.ManagementAccountID, LoggingAccount: r.world.Logging.ID,
		Overrides: "  - match: {ou: " + r.world.OUs["workloads"] + "}\n    trail: {insights: {apiCallRate: true}, dataEvents: {s3: {allBuckets: write}}}\n",
	})
	pol, err := policy.Parse([]byte(yaml))
	if err == nil {
		_, err = pol.Validate(policy.ValidateOptions{})
	}
	if err != nil {
		return fmt.Errorf("demo policy: %w", err)
	}
	r.pol = pol
	r.res.PolicyFile = filepath.Join(r.o.Dir, "policy.yaml")
	if err := os.WriteFile(r.res.PolicyFile, []byte(yaml), 0o600); err != nil {
		return err
	}
	s.add("bucket %s (policy: CloudTrail writes under cloudtrail/AWSLogs/*, org %s; public access blocked)", res.Bucket, r.world.OrganizationID)
	s.add("KMS key %s", res.KMSKeyARN)
	s.add("deliveries topic %s → delivery queue (+DLQ)", res.DeliveriesTopicARN)
	s.add("request queue (+DLQ), alerts topic, tables %s, %s, %s, %s", flow.AccountsTable, flow.LedgerTable, flow.JournalTable, flow.IncidentsTable)
	s.add("policy %s (workloads OU override: Insights on API call rate, S3 write data events)", r.res.PolicyFile)
	return nil
}

func (r *run) join(s *Step) error {
	for _, m := range []struct{ name, ou string }{{"payments", "workloads"}, {"analytics", ""}} {
		a, err := r.world.AddMember(r.ctx, m.name, m.ou)
		if err != nil {
			return err
		}
		r.members[m.name] = a.ID
		where := "root"
		if m.ou != "" {
			where = m.ou + " OU"
		}
		s.add("CreateAccount %s → %s (%s)", m.name, a.ID, where)
	}
	// The invitation: the management account invites, the account accepts,
	// and its administrator creates the access role (AWS creates none for
	// invited accounts).
	orgs := organizations.NewFromConfig(r.world.Management)
	hs, err := orgs.InviteAccountToOrganization(r.ctx, &organizations.InviteAccountToOrganizationInput{
		Target: &orgtypes.HandshakeParty{Type: orgtypes.HandshakePartyTypeAccount, Id: aws.String(invitedAccount)}})
	if err != nil {
		return err
	}
	invited, err := r.srv.Config(r.ctx, invitedAccount, r.world.Region)
	if err != nil {
		return err
	}
	if _, err := organizations.NewFromConfig(invited).AcceptHandshake(r.ctx, &organizations.AcceptHandshakeInput{HandshakeId: hs.Handshake.Id}); err != nil {
		return err
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + emulator.ManagementAccountID + `:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := iam.NewFromConfig(invited).CreateRole(r.ctx, &iam.CreateRoleInput{RoleName: aws.String(emulator.AccessRoleName),
		AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		return err
	}
	r.members["partner"] = invitedAccount
	s.add("InviteAccountToOrganization %s (%s) → AcceptHandshake by %s; its admin creates %s", invitedAccount, aws.ToString(hs.Handshake.Id), invitedAccount, emulator.AccessRoleName)
	return nil
}

func (r *run) enable(s *Step) error {
	r.enabler = flow.Enabler(r.world.Management, r.world.Management, r.central, r.pol, flow.EnablerOptions{Out: r.logs})
	mgmtSQS := sqs.NewFromConfig(r.world.Management)
	r.requests = &eventsource.Mapping{SQS: mgmtSQS, QueueURL: r.central.RequestQueueURL, QueueARN: r.central.RequestQueueARN, Region: r.world.Region, RetryNow: true}
	repo, err := emulator.RepoRoot()
	if err != nil {
		return err
	}
	// The samples' member, management account and organization become the
	// emulated organization's: the enabler verifies an event's origin.
	fixture := func(name, from, to string) (string, error) {
		b, err := os.ReadFile(filepath.Join(repo, "events", "organizations", name))
		return strings.NewReplacer(from, to, "111111111111", emulator.ManagementAccountID, "o-a1b2c3d4e5", r.world.OrganizationID).Replace(string(b)), err
	}
	var bodies []string
	for _, m := range []string{"payments", "analytics"} {
		b, err := fixture("create-account-result-succeeded.json", "333333333333", r.members[m])
		if err != nil {
			return err
		}
		bodies = append(bodies, b)
	}
	b, err := fixture("accept-handshake-invite-account.json", "444444444444", invitedAccount)
	if err != nil {
		return err
	}
	bodies = append(bodies, b, bodies[0]) // and a duplicate delivery of the first event
	for _, body := range bodies {
		if _, err := mgmtSQS.SendMessage(r.ctx, &sqs.SendMessageInput{QueueUrl: aws.String(r.central.RequestQueueURL), MessageBody: aws.String(body)}); err != nil {
			return err
		}
	}
	s.add("events/organizations: CreateAccountResult ×2 (+1 duplicate), AcceptHandshake ×1 → request queue")
	st, err := r.requests.Drain(r.ctx, r.enabler.Handle, 10)
	if err != nil {
		return err
	}
	if st.Failed != 0 {
		return fmt.Errorf("enabler reported %d failed records (see functions.log)", st.Failed)
	}
	for _, name := range []string{"payments", "analytics", "partner"} {
		line, err := r.describeTrail(r.members[name])
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s.add("%s %s: %s", name, r.members[name], line)
	}
	return nil
}

// describeTrail reads the member's trail as CloudTrail reports it.
func (r *run) describeTrail(account string) (string, error) {
	cfg, err := r.world.Assume(r.ctx, account, "")
	if err != nil {
		return "", err
	}
	ct := cloudtrail.NewFromConfig(cfg)
	t, err := ct.GetTrail(r.ctx, &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
	if err != nil {
		return "", err
	}
	st, err := ct.GetTrailStatus(r.ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
	if err != nil {
		return "", err
	}
	if !aws.ToBool(st.IsLogging) {
		return "", fmt.Errorf("trail is not logging")
	}
	tr := t.Trail
	parts := []string{"logging", "s3://" + aws.ToString(tr.S3BucketName) + "/" + aws.ToString(tr.S3KeyPrefix)}
	if aws.ToString(tr.KmsKeyId) == r.central.KMSKeyARN {
		parts = append(parts, "SSE-KMS")
	}
	if aws.ToBool(tr.LogFileValidationEnabled) {
		parts = append(parts, "validation")
	}
	if aws.ToString(tr.SnsTopicARN) == r.central.DeliveriesTopicARN {
		parts = append(parts, "SNS→central topic")
	}
	if aws.ToBool(tr.IsMultiRegionTrail) {
		parts = append(parts, "multi-Region")
	}
	sel, err := ct.GetEventSelectors(r.ctx, &cloudtrail.GetEventSelectorsInput{TrailName: tr.TrailARN})
	if err != nil {
		return "", err
	}
	var names []string
	for _, a := range sel.AdvancedEventSelectors {
		names = append(names, aws.ToString(a.Name))
	}
	parts = append(parts, "selectors ["+strings.Join(names, "; ")+"]")
	if ins, err := ct.GetInsightSelectors(r.ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: tr.TrailARN}); err == nil && len(ins.InsightSelectors) > 0 {
		parts = append(parts, "Insights "+string(ins.InsightSelectors[0].InsightType))
	}
	return strings.Join(parts, ", "), nil
}

// ---- deliveries, verification, detection -----------------------------------

func (r *run) wire() error {
	mgmt := r.world.Management
	logging := r.world.Logging.Config
	db := dynamodb.NewFromConfig(mgmt)
	now := func() time.Time { return r.clock }
	sinks, err := r.sinks()
	if err != nil {
		return err
	}
	r.verifier = verifier.NewFromPolicy(r.pol, verifier.Config{
		AccountsTable: flow.AccountsTable, JournalTable: flow.JournalTable, IncidentsTable: flow.IncidentsTable,
		AlertsTopicARN: r.central.AlertsTopicARN, ObjectCheck: verifier.CheckAll,
		IntegrityTable: flow.IntegrityTable, IntegrityHeadsTable: flow.IntegrityHeadsTable, IntegrityLogFiles: integrity.LogFilesNone,
		MetricsNamespace: "Trailwarden", LogLevel: "debug",
	}, verifier.Clients{DynamoDB: db, S3: s3.NewFromConfig(logging, awsenv.S3Options(logging)),
		GetObject: s3.NewFromConfig(logging, awsenv.S3Options(logging)), Keys: integritywatch.CloudTrailKeys{Config: mgmt},
		Alerts: &alert.Publisher{SNS: sns.NewFromConfig(mgmt), TopicARN: r.central.AlertsTopicARN, Sinks: sinks}}, r.logs, now)
	r.deliver = &eventsource.Mapping{SQS: sqs.NewFromConfig(mgmt), QueueURL: r.central.DeliveryQueueURL, QueueARN: r.central.DeliveryQueueARN,
		Region: r.world.Region, RetryNow: true}
	sim, err := cloudtrailsim.New(s3.NewFromConfig(logging, awsenv.S3Options(logging)), sns.NewFromConfig(logging), cloudtrailsim.Trail{
		Name: "org-audit", HomeRegion: r.world.Region, Bucket: r.central.Bucket, Prefix: r.central.KeyPrefix,
		KMSKeyARN: r.central.KMSKeyARN, TopicARN: r.central.DeliveriesTopicARN, BucketAccount: r.world.Logging.ID, BucketRegion: r.world.Region,
	}, cloudtrailsim.Options{ControlURL: r.srv.URL(), Seed: 42})
	if err != nil {
		return err
	}
	r.sim = sim
	// ListPublicKeys (emulator) returns the keys the simulator signs with:
	// the verifier checks every digest's signature.
	if err := sim.RegisterPublicKeys(r.ctx); err != nil {
		return err
	}
	wd, err := watchdog.New(r.ctx, watchdog.Config{
		PolicyFile: r.res.PolicyFile, AlertsTopicARN: r.central.AlertsTopicARN, MetricsNamespace: "Trailwarden", LogLevel: "debug",
		AccountsTable: flow.AccountsTable, LedgerTable: flow.LedgerTable, JournalTable: flow.JournalTable, IncidentsTable: flow.IncidentsTable,
		RequestQueueURL: r.central.RequestQueueURL, Repair: true, IntegrityHeadsTable: flow.IntegrityHeadsTable,
		AlertsBus: r.hub.bus, SecurityHubARN: r.hub.productARN, RunbookBaseURL: r.hub.runbooks,
		EnabledRegions: append(append([]string{}, activeRegions...), quietRegion),
	}, mgmt, r.logs)
	if err != nil {
		return err
	}
	r.watchdog = wd
	return nil
}
