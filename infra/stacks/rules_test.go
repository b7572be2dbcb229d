package stacks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/trailwarden/trailwarden/shared/alertbus"
	"github.com/trailwarden/trailwarden/shared/policy"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// No function reserves concurrency (Lambda keeps 100 unreserved, and a new
// account's quota is often 10); scheduled functions are not retried
// asynchronously, so a failed run cannot overlap the next one.
func TestNoReservedConcurrency(t *testing.T) {
	a := org(t).stacks.Automation
	for id, p := range resources(t, a.Stack, "AWS::Lambda::Function") {
		if _, ok := p["ReservedConcurrentExecutions"]; ok {
			t.Errorf("function %s reserves concurrency", id)
		}
	}
	retries := map[string]any{}
	for id, p := range resources(t, a.Stack, "AWS::Lambda::EventInvokeConfig") {
		retries[id] = p["MaximumRetryAttempts"]
	}
	for _, fn := range []string{"Reconciler", "Watchdog"} {
		found := false
		for id, r := range retries {
			if strings.HasPrefix(id, fn) {
				found = r == float64(0)
			}
		}
		if !found {
			t.Errorf("%s: no EventInvokeConfig with MaximumRetryAttempts 0 (%v)", fn, retries)
		}
	}
}

// TestSynthUsesPolicyValidation: synth refuses a configuration with
// policy validate's own problems, positions included (the rules themselves
// are tested in shared/policy and shared/deployment).
func TestSynthUsesPolicyValidation(t *testing.T) {
	data, err := os.ReadFile("testdata/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "objectCheck: sample", "objectCheck: sampel", 1)
	if bad == string(data) {
		t.Fatal("testdata/org.yaml no longer sets objectCheck: sample")
	}
	path := filepath.Join(t.TempDir(), "org.yaml")
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, synthErr := Load(path, fakeBuild(t))
	_, _, cliErr := policy.LoadWarn(path)
	var fe *policy.FileError
	if !errors.As(cliErr, &fe) || len(fe.Problems) != 1 {
		t.Fatalf("policy validate: %v", cliErr)
	}
	want := fe.Problems[0].At(path)
	if synthErr == nil || !strings.Contains(synthErr.Error(), want) || !strings.Contains(want, `did you mean "sample"`) {
		t.Fatalf("synth error %v\nwant it to hold %q", synthErr, want)
	}
}

// Cross-account forwarding rules have a dead-letter queue, and an alarm on
// it in the central and management accounts (not in every member: see
// busTarget).
func TestForwardingDeadLetters(t *testing.T) {
	s := org(t).stacks
	for _, st := range []awscdk.Stack{s.Central.Stack, s.Management.Stack, s.Member.Stack} {
		for id, p := range resources(t, st, "AWS::Events::Rule") {
			for _, tg := range p["Targets"].([]any) {
				if dl, ok := tg.(map[string]any)["DeadLetterConfig"]; !ok || !strings.Contains(js(dl), "ForwardDLQ") {
					t.Errorf("%s rule %s target has no dead-letter queue: %v", *st.StackName(), id, tg)
				}
			}
		}
		if st == s.Member.Stack {
			continue
		}
		found := false
		for _, p := range resources(t, st, "AWS::CloudWatch::Alarm") {
			found = found || (p["MetricName"] == "ApproximateNumberOfMessagesVisible" && strings.Contains(js(p["Dimensions"]), "ForwardDLQ"))
		}
		if !found {
			t.Errorf("%s: no alarm on the forwarding dead-letter queue", *st.StackName())
		}
	}
}

// TestAlertEventsLoopFree: no rule of trailwarden's can match an alert
// event (source alertbus.Source) that its functions put on the central bus:
// every event-pattern rule names its sources, and none is the alerts'.
func TestAlertEventsLoopFree(t *testing.T) {
	s := org(t).stacks
	n := 0
	sts := []awscdk.Stack{s.Automation.Stack, s.Central.Stack}
	if s.Management != nil {
		sts = append(sts, s.Management.Stack)
	}
	for _, st := range sts {
		for id, p := range resources(t, st, "AWS::Events::Rule") {
			pat, ok := p["EventPattern"].(map[string]any)
			if !ok {
				continue // a schedule
			}
			n++
			srcs, ok := pat["source"].([]any)
			if !ok || len(srcs) == 0 {
				t.Errorf("rule %s matches any source: %v", id, pat)
			}
			for _, src := range srcs {
				if src == alertbus.Source {
					t.Errorf("rule %s matches the alerts' source %s", id, src)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no event-pattern rule found")
	}
}

// Security Hub is opt-in: without deployment.securityHub.enabled
// (testdata/single.yaml) no role may import findings and no function is
// told a product ARN; with it (testdata/org.yaml), the conformance rows.
func TestSecurityHubOnlyWhenEnabled(t *testing.T) {
	b := single(t)
	if b.cfg.Deployment.SecurityHub.Enabled {
		t.Fatal("single.yaml enables Security Hub")
	}
	body := js(tpl(t, b.stacks.Automation.Stack))
	for _, s := range []string{"securityhub:", settings.EnvSecurityHubProductARN} {
		if strings.Contains(body, s) {
			t.Errorf("Security Hub disabled, yet the automation stack has %s", s)
		}
	}
	if b.stacks.Automation.Refresher != nil || strings.Contains(body, "RefreshSchedule") {
		t.Error("Security Hub disabled, yet the refresher is deployed")
	}
	o := org(t).stacks.Automation
	if !strings.Contains(js(tpl(t, o.Stack)), settings.EnvSecurityHubProductARN) {
		t.Error("Security Hub enabled, yet no function has its product ARN")
	}
	// The refresher runs daily (asff.RefreshEvery: refreshed at 30 days,
	// 59 days of margin before the 90-day retention).
	if o.Refresher == nil {
		t.Fatal("Security Hub enabled, yet no refresher")
	}
	rules := resources(t, o.Stack, "AWS::Events::Rule")
	var schedule any
	for id, p := range rules {
		if strings.HasPrefix(id, "RefreshSchedule") {
			schedule = p["ScheduleExpression"]
		}
	}
	if schedule != "rate(1 day)" {
		t.Errorf("refresh schedule %v, want rate(1 day)", schedule)
	}
}
