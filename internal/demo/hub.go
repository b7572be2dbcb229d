package demo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"gopkg.in/yaml.v3"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/alertbus"
	"github.com/trailwarden/trailwarden/shared/asff"
	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/report"
)

// demoDeployment is the demo's deployment configuration: Security Hub
// import on (docs/securityhub.md); the rest takes its defaults.
const demoDeployment = "deployment:\n  securityHub: {enabled: true}\n"

// hubSetup is where the demo's alerts also go: the central bus, with the
// documented example rule feeding a ticket queue, and Security Hub CSPM in
// the automation account (here the management account, as the tables).
type hubSetup struct {
	productARN, bus, runbooks, ticketsURL string
}

// sinks are the alert sinks the functions get with this deployment.
func (r *run) sinks() ([]alert.Sink, error) {
	if r.hub.bus == "" {
		return nil, nil
	}
	mgmt := r.world.Management
	hub, err := asff.NewAlertSink(securityhub.NewFromConfig(mgmt), r.hub.productARN, r.hub.runbooks)
	return []alert.Sink{alertbus.New(eventbridge.NewFromConfig(mgmt), r.hub.bus), hub}, err
}

// demoSection decodes the demo's deployment section with its defaults. It
// is the demo's own constant, not an operator's file, so the whole-file
// validation (policy.Check), which needs the accounts a real deployment
// names, has nothing to add.
func demoSection() (*deployment.Deployment, error) {
	var doc struct {
		D deployment.Deployment `yaml:"deployment"`
	}
	if err := yaml.Unmarshal([]byte(demoDeployment), &doc); err != nil {
		return nil, err
	}
	doc.D.ApplyDefaults()
	return &doc.D, nil
}

func (r *run) securityHubAndBus(s *Step) error {
	path := filepath.Join(r.o.Dir, "deployment.yaml")
	if err := os.WriteFile(path, []byte(demoDeployment), 0o600); err != nil {
		return err
	}
	d, err := demoSection()
	if err != nil {
		return err
	}
	if !d.SecurityHub.Enabled {
		return errors.New("the demo's deployment does not enable Security Hub")
	}
	mgmt := r.world.Management
	if _, err := securityhub.NewFromConfig(mgmt).EnableSecurityHub(r.ctx, &securityhub.EnableSecurityHubInput{}); err != nil {
		return err
	}
	imp := asff.Config{Partition: "aws", Region: r.world.Region, Account: emulator.ManagementAccountID, RunbookBase: d.RunbookBaseURL}
	r.hub = hubSetup{productARN: imp.ProductArn(), bus: d.Names.EventBus, runbooks: d.RunbookBaseURL}
	s.add("%s: securityHub.enabled → findings imported under %s", path, r.hub.productARN)
	pattern, err := exampleRule()
	if err != nil {
		return err
	}
	url, err := r.ticketQueue(pattern)
	if err != nil {
		return err
	}
	r.hub.ticketsURL = url
	s.add("central bus %s; docs/alerts.md's example rule %s → queue tickets", r.hub.bus, pattern)
	return nil
}

// exampleRule is the event pattern docs/alerts.md documents ("Example
// rule"): the demo runs the documented rule, not a copy.
func exampleRule() (string, error) {
	repo, err := emulator.RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(repo, "docs", "alerts.md"))
	if err != nil {
		return "", err
	}
	_, section, ok := strings.Cut(string(b), "### Example rule")
	if ok {
		_, section, ok = strings.Cut(section, "```json\n")
	}
	if block, _, found := strings.Cut(section, "```"); ok && found && json.Valid([]byte(block)) {
		var compact bytes.Buffer
		err := json.Compact(&compact, []byte(block))
		return compact.String(), err
	}
	return "", errors.New("docs/alerts.md has no JSON example rule under \"### Example rule\"")
}

// ticketQueue creates the queue and the rule on the central bus, with the
// queue policy EventBridge needs (aws:SourceArn the rule).
func (r *run) ticketQueue(pattern string) (string, error) {
	mgmt := r.world.Management
	eb, q := eventbridge.NewFromConfig(mgmt), sqs.NewFromConfig(mgmt)
	if _, err := eb.CreateEventBus(r.ctx, &eventbridge.CreateEventBusInput{Name: aws.String(r.hub.bus)}); err != nil {
		return "", err
	}
	queue, err := q.CreateQueue(r.ctx, &sqs.CreateQueueInput{QueueName: aws.String("tickets")})
	if err != nil {
		return "", err
	}
	attrs, err := q.GetQueueAttributes(r.ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	queueARN := attrs.Attributes["QueueArn"]
	rule, err := eb.PutRule(r.ctx, &eventbridge.PutRuleInput{Name: aws.String("tickets"), EventBusName: aws.String(r.hub.bus), EventPattern: aws.String(pattern)})
	if err != nil {
		return "", err
	}
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"events.amazonaws.com"},`+
		`"Action":"sqs:SendMessage","Resource":%q,"Condition":{"ArnEquals":{"aws:SourceArn":%q}}}]}`, queueARN, aws.ToString(rule.RuleArn))
	if _, err := q.SetQueueAttributes(r.ctx, &sqs.SetQueueAttributesInput{QueueUrl: queue.QueueUrl,
		Attributes: map[string]string{"Policy": policy}}); err != nil {
		return "", err
	}
	_, err = eb.PutTargets(r.ctx, &eventbridge.PutTargetsInput{Rule: aws.String("tickets"), EventBusName: aws.String(r.hub.bus),
		Targets: []ebtypes.Target{{Id: aws.String("tickets"), Arn: aws.String(queueARN)}}})
	return aws.ToString(queue.QueueUrl), err
}

// findingsInSecurityHub reads this product's findings back: the stopped
// trail's incident (resolved, so ARCHIVED) and the foreign delivery's
// finding (ACTIVE, HIGH), each imported by the automation account with
// the member in Resources.
func (r *run) findingsInSecurityHub(s *Step) error {
	out, err := securityhub.NewFromConfig(r.world.Management).GetFindings(r.ctx, &securityhub.GetFindingsInput{
		Filters: &shtypes.AwsSecurityFindingFilters{ProductArn: []shtypes.StringFilter{
			{Comparison: shtypes.StringFilterComparisonEquals, Value: aws.String(r.hub.productARN)}}},
		MaxResults: aws.Int32(100)})
	if err != nil {
		return err
	}
	want := []struct {
		generator, member string
		state             shtypes.RecordState
		severity          shtypes.SeverityLabel // "": any, as long as the provider's matches
	}{
		{"trailwarden/watchdog/", r.members["analytics"], shtypes.RecordStateArchived, ""},
		{"trailwarden/verifier/security-finding/foreign-account", "999999999999", shtypes.RecordStateActive, shtypes.SeverityLabelHigh},
	}
	for _, w := range want {
		f, ok := findingAbout(out.Findings, w.generator, w.member, w.state)
		if !ok {
			return fmt.Errorf("no %s %s finding about %s in Security Hub (%d findings)", w.state, w.generator, w.member, len(out.Findings))
		}
		sev := f.Severity.Label
		if aws.ToString(f.AwsAccountId) != emulator.ManagementAccountID ||
			(w.severity != "" && sev != w.severity) || f.FindingProviderFields == nil || f.FindingProviderFields.Severity.Label != sev {
			return fmt.Errorf("finding %s: account %s, severity %s (provider's %v); want account %s, severity %s",
				aws.ToString(f.Id), aws.ToString(f.AwsAccountId), sev, f.FindingProviderFields, emulator.ManagementAccountID, w.severity)
		}
		s.add("GetFindings: %s [%s, %s] in %s about AWS::::Account:%s — %s", aws.ToString(f.Id), sev, f.RecordState,
			aws.ToString(f.AwsAccountId), w.member, aws.ToString(f.Title))
	}
	return nil
}

func findingAbout(fs []shtypes.AwsSecurityFinding, generator, member string, state shtypes.RecordState) (shtypes.AwsSecurityFinding, bool) {
	for _, f := range fs {
		if !strings.HasPrefix(aws.ToString(f.GeneratorId), generator) || f.RecordState != state {
			continue
		}
		for _, res := range f.Resources {
			if aws.ToString(res.Type) == "AwsAccount" && aws.ToString(res.Id) == "AWS::::Account:"+member {
				return f, true
			}
		}
	}
	return shtypes.AwsSecurityFinding{}, false
}

// eventOnBus reads the ticket queue: the documented rule passed the high
// and critical alerts about the stopped trail and kept the rest out.
func (r *run) eventOnBus(s *Step) error {
	q := sqs.NewFromConfig(r.world.Management)
	victim, seen := r.members["analytics"], 0
	for {
		out, err := q.ReceiveMessage(r.ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(r.hub.ticketsURL), MaxNumberOfMessages: 10})
		if err != nil {
			return err
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			var ev struct {
				Source     string          `json:"source"`
				DetailType string          `json:"detail-type"`
				Detail     alertbus.Detail `json:"detail"`
			}
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &ev); err != nil {
				return fmt.Errorf("ticket is not an EventBridge event: %w", err)
			}
			if ev.Source != alertbus.Source || (ev.Detail.Severity != "high" && ev.Detail.Severity != "critical") {
				return fmt.Errorf("the example rule let through %s %q severity %s", ev.Source, ev.DetailType, ev.Detail.Severity)
			}
			if ev.Detail.Account == victim {
				seen++
				s.add("tickets ← %s %q (%s, account %s): %s", ev.Source, ev.DetailType, ev.Detail.Severity, ev.Detail.Account, ev.Detail.Summary)
			}
			if _, err := q.DeleteMessage(r.ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(r.hub.ticketsURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				return err
			}
		}
	}
	if seen == 0 {
		return fmt.Errorf("no event about %s reached the ticket queue through the example rule", victim)
	}
	return nil
}

// organizationMap writes `trailwarden report --html`'s page from the same
// status view and incidents, and checks it holds the account matrix.
func (r *run) organizationMap(s *Step) error {
	db := dynamodb.NewFromConfig(r.world.Management)
	open, err := (&incident.Store{DB: db, Table: flow.IncidentsTable}).Active(r.ctx, 2)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := report.Render(&b, report.FromStatus(r.res.Status, open, nil)); err != nil {
		return err
	}
	r.res.MapFile = filepath.Join(r.o.Dir, "organization-map.html")
	if err := os.WriteFile(r.res.MapFile, b.Bytes(), 0o644); err != nil {
		return err
	}
	page := b.String()
	need := []string{`id="matrix"`, quietRegion}
	need = append(need, activeRegions...)
	for _, name := range []string{"payments", "analytics", "partner"} {
		need = append(need, r.members[name])
	}
	for _, n := range need {
		if !strings.Contains(page, n) {
			return fmt.Errorf("the map lacks %q", n)
		}
	}
	s.add("wrote %s (%d KB, self-contained): %d accounts × %d Regions", r.res.MapFile, len(page)/1024, len(r.res.Status.Rows), len(activeRegions)+1)
	return nil
}
