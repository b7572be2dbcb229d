package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/trailwarden/trailwarden/internal/cloudtrailsim"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/accounts"
	"github.com/trailwarden/trailwarden/shared/alert"
	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/status"
	"github.com/trailwarden/trailwarden/shared/watchdog"
)

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
				if r.onDigest != nil { // someone acting on new digests (integrity steps)
					if err := r.onDigest(acct, region, df); err != nil {
						return files, digests, err
					}
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

// activeRegionsSorted are the busy Regions as an incident lists them.
func activeRegionsSorted() []string {
	rs := slices.Clone(activeRegions)
	slices.Sort(rs)
	return rs
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
		if len(alerts) == 0 {
			continue
		}
		// One incident: one alert that lists every silent Region.
		if len(alerts) != 1 {
			return fmt.Errorf("the stopped trail raised %d alerts in one pass, want 1: %+v", len(alerts), alerts)
		}
		a := alerts[0]
		if a.Kind != alert.KindDeliveryStopped || a.Account != victim || a.Transition != alert.TransitionOpened {
			return fmt.Errorf("unexpected alert: %+v", a)
		}
		if !slices.Equal(a.Regions, activeRegionsSorted()) {
			return fmt.Errorf("the alert lists Regions %v, want every busy Region %v", a.Regions, activeRegionsSorted())
		}
		if !strings.Contains(strings.ToLower(a.Reason+a.Summary), "logging stopped") {
			return fmt.Errorf("alert does not say logging stopped: %+v", a)
		}
		if rep.RepairRequests == 0 {
			return fmt.Errorf("no repair request sent")
		}
		s.add("ALERT %s", a.Summary)
		s.add("detected %s after the last delivery", t.Sub(stoppedAt).Round(time.Minute))
		s.add("the e-mail subscribers read:")
		s.add("  Subject: %s", alert.Subject(a))
		for _, line := range strings.Split(strings.TrimRight(alert.Email(a, deployment.DefaultRunbookBaseURL), "\n"), "\n") {
			s.add("  | %s", line)
		}
		r.storyAlerts = 1
		return nil
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
	for k := 1; k <= 14; k++ {
		t := start.Add(time.Duration(k) * 5 * time.Minute)
		if _, _, err := r.tick(t); err != nil {
			return err
		}
		rep, err := r.watchdog.Run(r.ctx, t)
		if err != nil {
			return err
		}
		if len(rep.Recovered) > 0 {
			s.add("sim +%s deliveries resumed in %s; the incident stays open for the quiet time (%s)", t.Sub(r.simStart()).Round(time.Minute),
				strings.Join(rep.Recovered, ", "), watchdog.DefaultResolveQuiet)
		}
		alerts, err := r.alerts()
		if err != nil {
			return err
		}
		// The story's messages: the opening and one resolution, nothing else.
		if r.storyAlerts += len(alerts); r.storyAlerts > 2 {
			return fmt.Errorf("the StopLogging story published %d alert messages, want 2 (one alert, one resolution): %+v", r.storyAlerts, alerts)
		}
		for _, a := range alerts {
			if a.Kind != alert.KindRecovered || a.Account != victim || a.Transition != alert.TransitionResolved ||
				!slices.Equal(a.Regions, activeRegionsSorted()) || !strings.Contains(a.Repair, "trail repaired at") {
				return fmt.Errorf("unexpected message: %+v", a)
			}
			s.add("sim +%s incident resolved", t.Sub(r.simStart()).Round(time.Minute))
			s.add("RESOLVED %s", a.Summary)
			s.add("  Subject: %s", alert.Subject(a))
			return nil
		}
	}
	return fmt.Errorf("no resolution message")
}

func (r *run) status(s *Step) error {
	db := dynamodb.NewFromConfig(r.world.Management)
	v, err := status.Build(r.ctx, status.Sources{
		Accounts:  &accounts.Store{DB: db, Table: flow.AccountsTable},
		Ledger:    flow.LedgerReader(db),
		Incidents: &incident.Store{DB: db, Table: flow.IncidentsTable},
		Findings:  &status.FindingsReader{DB: db, Table: flow.IncidentsTable},
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
