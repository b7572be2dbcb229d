// Package demo tells trailwarden's whole story on the local emulator, with
// the real handlers and real-format events: an organization with OUs, the
// central resources, three accounts joining (two created, one invited),
// their trails enabled, CloudTrail's deliveries verified, a foreign delivery
// flagged, a stopped trail detected, diagnosed, alerted and repaired, and the
// recovery. It prints a timeline and fails unless every step happened.
//
// Time: the emulator runs on the wall clock; CloudTrail's deliveries, the
// verifier's coalescing and the watchdog run on a simulated clock that
// starts now and advances in five-minute ticks, so an hour of deliveries
// takes seconds.
package demo

import (
	"context"
	"encoding/json"
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
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/incident"
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
	requests *eventsource.Mapping
	deliver  *eventsource.Mapping
	sim      *cloudtrailsim.Deliverer
	clock    time.Time
	start    time.Time
	members  map[string]string // name → account id
	logs     io.Writer
	failed   bool
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
		{"CloudTrail delivers; the verifier checks every file and fills the ledger", r.deliveries},
		{"A delivery from an account outside the organization", r.foreign},
		{"Someone stops logging in a member account; the watchdog notices", r.stopAndDetect},
		{"The repair converges the trail again; deliveries resume; recovery", r.repairAndRecover},
		{"trailwarden status", r.status},
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
	r.verifier = verifier.NewFromPolicy(r.pol, verifier.Config{
		AccountsTable: flow.AccountsTable, LedgerTable: flow.LedgerTable, JournalTable: flow.JournalTable, IncidentsTable: flow.IncidentsTable,
		AlertsTopicARN: r.central.AlertsTopicARN, ObjectCheck: verifier.CheckAll,
		MetricsNamespace: "Trailwarden", LogLevel: "debug",
	}, verifier.Clients{DynamoDB: db, S3: s3.NewFromConfig(logging, awsenv.S3Options(logging)),
		Alerts: &alert.Publisher{SNS: sns.NewFromConfig(mgmt), TopicARN: r.central.AlertsTopicARN}}, r.logs, now)
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
	wd, err := watchdog.New(r.ctx, watchdog.Config{
		PolicyFile: r.res.PolicyFile, AlertsTopicARN: r.central.AlertsTopicARN, MetricsNamespace: "Trailwarden", LogLevel: "debug",
		AccountsTable: flow.AccountsTable, LedgerTable: flow.LedgerTable, JournalTable: flow.JournalTable, IncidentsTable: flow.IncidentsTable,
		RequestQueueURL: r.central.RequestQueueURL, Repair: true,
		EnabledRegions: append(append([]string{}, activeRegions...), quietRegion),
	}, mgmt, r.logs)
	if err != nil {
		return err
	}
	r.watchdog = wd
	return nil
}

// logging reports whether the member's trail is logging: CloudTrail
// delivers only then.
func (r *run) logging(account string) (bool, error) {
	cfg, err := r.world.Assume(r.ctx, account, "")
	if err != nil {
		return false, err
	}
	st, err := cloudtrail.NewFromConfig(cfg).GetTrailStatus(r.ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("org-audit")})
	if err != nil {
		return false, err
	}
	return aws.ToBool(st.IsLogging), nil
}

// tick advances the simulated clock to t and delivers what CloudTrail
// delivers then: a log file per busy Region, and on the hour a digest per
// Region; the verifier then drains the delivery queue.
func (r *run) tick(t time.Time) (files, digests int, err error) {
	r.clock = t
	for _, name := range []string{"payments", "analytics", "partner"} {
		acct := r.members[name]
		on, err := r.logging(acct)
		if err != nil {
			return files, digests, err
		}
		if !on {
			continue
		}
		for _, region := range activeRegions {
			if _, err := r.sim.DeliverLogFiles(r.ctx, acct, region, t, 1); err != nil {
				return files, digests, err
			}
			files++
		}
		if t.Sub(r.simStart())%time.Hour == 0 {
			for _, region := range append(append([]string{}, activeRegions...), quietRegion) {
				df, err := r.sim.DeliverDigest(r.ctx, acct, region, t, nil)
				if err != nil {
					return files, digests, err
				}
				if err := r.sim.SendDigestEvent(r.ctx, r.deliver.SQS, r.central.DeliveryQueueURL, df); err != nil {
					return files, digests, err
				}
				digests++
			}
		}
	}
	st, err := r.deliver.Drain(r.ctx, r.verifier.Handle, 50)
	if err != nil {
		return files, digests, err
	}
	if st.Failed != 0 {
		return files, digests, fmt.Errorf("verifier failed %d records (see functions.log)", st.Failed)
	}
	return files, digests, nil
}

func (r *run) deliveries(s *Step) error {
	if err := r.wire(); err != nil {
		return err
	}
	files, digests := 0, 0
	for k := 0; k <= 13; k++ { // 65 simulated minutes
		f, d, err := r.tick(r.simStart().Add(time.Duration(k) * 5 * time.Minute))
		if err != nil {
			return err
		}
		files, digests = files+f, digests+d
	}
	s.add("%d log files (SNS → SQS) and %d signed digests (S3 event → SQS) over 65 simulated minutes, every object HEAD-checked (log files: SSE-KMS under the key)", files, digests)
	rd := flow.LedgerReader(dynamodb.NewFromConfig(r.world.Management))
	for _, name := range []string{"payments", "analytics", "partner"} {
		it, err := rd.Get(r.ctx, r.clock, r.members[name])
		if err != nil {
			return err
		}
		var parts []string
		for _, region := range it.SortedRegions() {
			rs := it.Regions[region]
			parts = append(parts, fmt.Sprintf("%s log %s digest %s", region, ago(r.clock, rs.LastLog), ago(r.clock, rs.LastDigest)))
		}
		if len(it.Regions) != 3 {
			return fmt.Errorf("ledger of %s has %d Regions, want 3", name, len(it.Regions))
		}
		s.add("ledger %s: %s", name, strings.Join(parts, "; "))
	}
	if alerts, err := r.alerts(); err != nil || len(alerts) != 0 {
		return fmt.Errorf("unexpected alerts (%v): %+v", err, alerts)
	}
	s.add("no alerts")
	return nil
}

func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return now.Sub(t).Round(time.Minute).String() + " ago"
}

// alerts reads and removes what arrived on the alerts topic.
func (r *run) alerts() ([]alert.Alert, error) {
	q := sqs.NewFromConfig(r.world.Management)
	var out []alert.Alert
	for {
		msgs, err := q.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.central.AlertsQueueURL), MaxNumberOfMessages: 10})
		if err != nil {
			return nil, err
		}
		if len(msgs.Messages) == 0 {
			return out, nil
		}
		for _, m := range msgs.Messages {
			var a alert.Alert
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &a); err != nil {
				return nil, fmt.Errorf("alert is not JSON: %w", err)
			}
			out = append(out, a)
			if _, err := q.DeleteMessage(r.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.central.AlertsQueueURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return nil, err
			}
		}
	}
}

func (r *run) foreign(s *Step) error {
	key, err := r.sim.Foreign(r.ctx, cloudtrailsim.ForeignAccount("999999999999", "us-east-1", r.clock))
	if err != nil {
		return err
	}
	s.add("a log file for account 999999999999 lands in the central bucket: %s", key)
	if _, err := r.deliver.Drain(r.ctx, r.verifier.Handle, 10); err != nil {
		return err
	}
	alerts, err := r.alerts()
	if err != nil {
		return err
	}
	for _, a := range alerts {
		if a.Kind == alert.KindSecurityFinding && strings.Contains(a.Summary+a.Reason+a.Detail+a.Account, "999999999999") {
			s.add("ALERT %s", a.Summary)
			return nil
		}
	}
	return fmt.Errorf("no security finding for the foreign delivery (alerts: %+v)", alerts)
}

func (r *run) stopAndDetect(s *Step) error {
	victim := r.members["analytics"]
	cfg, err := r.world.Assume(r.ctx, victim, "")
	if err != nil {
		return err
	}
	if _, err := cloudtrail.NewFromConfig(cfg).StopLogging(r.ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")}); err != nil {
		return err
	}
	stoppedAt := r.clock
	s.add("StopLogging on org-audit in analytics %s at sim +%s; its deliveries stop, the others go on", victim, stoppedAt.Sub(r.simStart()).Round(time.Minute))
	s.add("(the emulator stamps StopLoggingTime with its wall clock, %s; deliveries and the watchdog run on the simulated clock)", time.Now().UTC().Format(time.RFC3339))
	for k := 1; k <= 8; k++ {
		t := stoppedAt.Add(time.Duration(k) * 5 * time.Minute)
		if _, _, err := r.tick(t); err != nil {
			return err
		}
		rep, err := r.watchdog.Run(r.ctx, t)
		if err != nil {
			return err
		}
		alerts, err := r.alerts()
		if err != nil {
			return err
		}
		s.add("sim +%s watchdog pass: %d pairs, %d stale, %d suspect, %d opened, %d repair request(s)",
			t.Sub(r.simStart()).Round(time.Minute), rep.Pairs, rep.Stale, rep.Suspect, len(rep.Opened), rep.RepairRequests)
		for _, a := range alerts {
			if a.Kind == alert.KindDeliveryStopped && a.Account == victim {
				s.add("ALERT %s", a.Summary)
				s.add("detected %s after the last delivery", t.Sub(stoppedAt).Round(time.Minute))
				if !strings.Contains(strings.ToLower(a.Reason+a.Summary), "logging stopped") {
					return fmt.Errorf("alert does not say logging stopped: %+v", a)
				}
				if rep.RepairRequests == 0 {
					return fmt.Errorf("no repair request sent")
				}
				return nil
			}
			s.add("other alert: %s", a.Summary)
		}
	}
	return fmt.Errorf("the watchdog did not alert on the stopped trail")
}

func (r *run) repairAndRecover(s *Step) error {
	st, err := r.requests.Drain(r.ctx, r.enabler.Handle, 5)
	if err != nil {
		return err
	}
	if st.Records == 0 || st.Failed != 0 {
		return fmt.Errorf("repair request: %+v", st)
	}
	victim := r.members["analytics"]
	line, err := r.describeTrail(victim)
	if err != nil {
		return fmt.Errorf("after repair: %w", err)
	}
	a, err := r.enabler.Accounts.Get(r.ctx, victim)
	if err != nil {
		return fmt.Errorf("after repair: %w", err)
	}
	rep, err := a.Report()
	if err != nil {
		return fmt.Errorf("after repair: %w", err)
	}
	for _, c := range rep.Changes {
		s.add("repair changed %s: %s → %s", c.Field, c.From, c.To)
	}
	s.add("analytics %s: %s", victim, line)
	start := r.clock
	for k := 1; k <= 6; k++ {
		t := start.Add(time.Duration(k) * 5 * time.Minute)
		if _, _, err := r.tick(t); err != nil {
			return err
		}
		if _, err := r.watchdog.Run(r.ctx, t); err != nil {
			return err
		}
		alerts, err := r.alerts()
		if err != nil {
			return err
		}
		for _, a := range alerts {
			if a.Kind == alert.KindRecovered && a.Account == victim {
				s.add("sim +%s deliveries resumed", t.Sub(r.simStart()).Round(time.Minute))
				s.add("ALERT %s", a.Summary)
				return nil
			}
			s.add("other alert: %s", a.Summary)
		}
	}
	return fmt.Errorf("no recovery message")
}

func (r *run) status(s *Step) error {
	db := dynamodb.NewFromConfig(r.world.Management)
	v, err := status.Build(r.ctx, status.Sources{
		Accounts:  &accounts.Store{DB: db, Table: flow.AccountsTable},
		Ledger:    flow.LedgerReader(db),
		Incidents: &incident.Store{DB: db, Table: flow.IncidentsTable},
	}, r.clock)
	if err != nil {
		return err
	}
	r.res.Status = v
	var b strings.Builder
	if err := status.WriteTable(&b, v); err != nil {
		return err
	}
	s.Detail = append(s.Detail, strings.Split(strings.TrimRight(b.String(), "\n"), "\n")...)
	r.res.Env = map[string]string{
		"AWS_ENDPOINT_URL": r.srv.URL(), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": r.world.Region,
		"TRAILWARDEN_ACCOUNTS_TABLE": flow.AccountsTable, "TRAILWARDEN_LEDGER_TABLE": flow.LedgerTable,
		"TRAILWARDEN_JOURNAL_TABLE":   flow.JournalTable,
		"TRAILWARDEN_INCIDENTS_TABLE": flow.IncidentsTable,
	}
	enabled := 0
	for _, row := range v.Rows {
		if row.Status == accounts.StatusEnabled {
			enabled++
		}
	}
	if enabled != 3 {
		return fmt.Errorf("status shows %d enabled accounts, want 3", enabled)
	}
	return nil
}
