package deployment

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestParseFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := parseSection(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"automationAccount", d.AutomationAccount, "222222222222"},
		{"regions", strings.Join(d.Regions, ","), "us-east-1,eu-west-1"},
		{"reconcile", d.Schedules.Reconcile.Duration, 6 * time.Hour},
		{"watchdog", d.Schedules.Watchdog.Duration, 5 * time.Minute},
		{"coalesce", d.Ledger.CoalesceWindow.Duration, 2 * time.Minute},
		{"objectCheck", d.ObjectCheck, ObjectCheckAll},
		{"repair", d.RepairOn(), false},
		{"retention", d.LogRetentionDays, 365},
		{"itemInterval", d.Ledger.ItemInterval.Duration, 2 * time.Hour},
		{"verifierConcurrency", d.VerifierConcurrency, 4},
		{"objectLockMode", d.Bucket.ObjectLock.Mode, "COMPLIANCE"},
		{"noncurrent", d.Bucket.Lifecycle.NoncurrentDays, 30},
		{"bus", d.Names.EventBus, "tw-bus"},
		{"reader role", d.Names.OrgReaderRole, "TwOrgReader"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseDefaults(t *testing.T) {
	d, err := parseSection([]byte("deployment:\n  automationAccount: '111111111111'\n  regions: [us-east-1]\n  singleAccount: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if d.Schedules.Reconcile.Duration != DefaultReconcileEvery || d.Schedules.Watchdog.Duration != DefaultWatchdogEvery ||
		d.ObjectCheck != DefaultObjectCheck || !d.RepairOn() || d.LogRetentionDays != DefaultLogRetentionDays ||
		d.VerifierConcurrency != DefaultVerifierConcurrency || d.Ledger.ItemInterval.Duration != DefaultItemInterval ||
		d.Bucket.WriterScope != WriterScopeAccounts || d.Names.EventBus != DefaultEventBusName ||
		d.Names.OrgReaderRole != DefaultOrgReaderRoleName || d.StaleFloor.Duration != DefaultStaleFloor ||
		d.RunbookBaseURL != DefaultRunbookBaseURL || d.SecurityHub.Enabled {
		t.Errorf("defaults not applied: %+v", d)
	}
}

// TestValidateReportsEveryProblem checks that one Validate names every bad
// field with its path.
func TestValidateReportsEveryProblem(t *testing.T) {
	in := `deployment:
  automationAccount: "12"
  regions: [us-east-1, us-east-1, mars-1]
  alerts:
    emails: ["Sec Ops <secops@example.com>"]
    https: ["http://insecure.example.com"]
  schedules: {reconcile: 30s, watchdog: 90s}
  objectCheck: some
  staleFloor: 10m
  logRetentionDays: 42
  verifierConcurrency: 1
  logLevel: loud
  runbookBaseUrl: http://wiki.example.com/runbooks
  bucket:
    objectLock: {enabled: true, mode: STRICT}
    lifecycle: {glacierInstantRetrievalDays: 10, expireDays: 5}
    readers: ["arn:aws:s3:::nope"]
    writerScope: organization
    writerAccounts: ["111111111111"]
  memberRoleStackSet: {targets: [ou-bad]}
  names: {eventBus: default, orgReaderRole: "has space"}
`
	d, err := parseSection([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v, want *ValidationError", err)
	}
	for _, path := range []string{
		"deployment.automationAccount:",
		"deployment.regions[1]:",
		"deployment.regions[2]:",
		"deployment.alerts.emails[0]:",
		"deployment.alerts.https[0]:",
		"deployment.schedules.reconcile:",
		"deployment.schedules.watchdog:",
		"deployment.objectCheck:",
		"deployment.staleFloor:",
		"deployment.logRetentionDays:",
		"deployment.verifierConcurrency:",
		"deployment.logLevel:",
		"deployment.runbookBaseUrl:",
		"deployment.bucket.objectLock.mode:",
		"deployment.bucket.objectLock.days:",
		"deployment.bucket.lifecycle.expireDays:",
		"deployment.bucket.lifecycle.glacierInstantRetrievalDays:",
		"deployment.bucket.readers[0]:",
		"deployment.bucket.writerAccounts:",
		"deployment.memberRoleStackSet.targets[0]:",
		"deployment.names.eventBus:",
		"deployment.names.orgReaderRole:",
	} {
		found := false
		for _, p := range ve.Problems {
			if strings.HasPrefix(p, path) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported for %s; got:\n%s", path, err)
		}
	}
}

func TestSingleAccountNeedsNoStackSetTargets(t *testing.T) {
	base := "deployment:\n  automationAccount: '111111111111'\n  regions: [us-east-1]\n"
	d, _ := parseSection([]byte(base))
	if err := d.Validate(); err == nil || !strings.Contains(err.Error(), "memberRoleStackSet.targets") {
		t.Errorf("organization mode without targets: %v", err)
	}
	d, _ = parseSection([]byte(base + "  singleAccount: true\n"))
	if err := d.Validate(); err != nil {
		t.Errorf("single-account mode: %v", err)
	}
}

// parseSection decodes a file's deployment section as the configuration's
// reader (shared/policy.Check) does once its shape check has passed, for
// tests of the section's own rules.
func parseSection(data []byte) (*Deployment, error) {
	var doc struct {
		D *Deployment `yaml:"deployment"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.D == nil {
		return nil, errors.New("no deployment section")
	}
	doc.D.ApplyDefaults()
	return doc.D, nil
}

// TestSchedulesAndEnums: a schedule must outlast its function's timeout,
// and an enum problem names the nearest allowed value.
func TestSchedulesAndEnums(t *testing.T) {
	base := "deployment:\n  automationAccount: '111111111111'\n  regions: [us-east-1]\n  singleAccount: true\n"
	tests := []struct {
		name, extra, want string
	}{
		{"watchdog at its timeout", "  schedules: {watchdog: 4m}\n", "deployment.schedules.watchdog: 4m0s must be longer than the watchdog's timeout (4m0s)"},
		{"reconcile at its timeout", "  schedules: {reconcile: 5m}\n", "deployment.schedules.reconcile: 5m0s must be longer than the reconciler's timeout (5m0s)"},
		{"watchdog past its timeout", "  schedules: {watchdog: 5m, reconcile: 6m}\n", ""},
		{"misspelt enum", "  objectCheck: sampel\n", `deployment.objectCheck: want none, sample or all, got "sampel" (did you mean "sample"?)`},
		{"far enum", "  logLevel: loud\n", `deployment.logLevel: want debug, info, warn or error, got "loud"` + "\n"},
		{"case of an enum", "  bucket: {objectLock: {enabled: true, mode: compliance, days: 1}}\n", `(did you mean "COMPLIANCE"?)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseSection([]byte(base + tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			var p Problems
			d.ValidateInto(&p)
			var got strings.Builder
			for _, pr := range p.List() {
				got.WriteString(pr.Path + ": " + pr.Message + "\n")
			}
			if tt.want == "" && got.Len() > 0 || !strings.Contains(got.String(), tt.want) {
				t.Errorf("problems:\n%s\nwant %q", got.String(), tt.want)
			}
		})
	}
}
