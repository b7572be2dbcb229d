package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestExampleIsValid(t *testing.T) {
	p, err := Load("../../examples/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	warns, err := p.Validate(ValidateOptions{KnownOUs: []string{"ou-ab12-cdef3456"}, KnownAccounts: []string{"444444444444"}})
	if err != nil || len(warns) > 0 {
		t.Fatalf("example: %v %v", warns, err)
	}
	if p.Deployment == nil || p.Deployment.AutomationAccount != "222222222222" || p.Deployment.LogLevel != "info" {
		t.Errorf("deployment not read with its defaults: %+v", p.Deployment)
	}
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantPath string // "" for success
		wantMsg  string
		wantLine int
	}{
		{"empty", ``, "", "empty", 0},
		{"not yaml", "version: [1", "", "not valid YAML", 0},
		{"two documents", baseYAML + "---\nversion: 1\n", "", "exactly one YAML document", 0},
		{"top-level list", "- a\n", "", "must be a mapping", 0},
		{"unknown top-level key", baseYAML + "overides: []\n", "overides", `did you mean "overrides"`, 0},
		{"deployment checked", baseYAML + "deployment:\n  objectChek: all\n", "deployment.objectChek", `did you mean "objectCheck"`, 13},
		{"typo in trail", "trail:\n  name: x\n  logFileValidaton: true\n", "trail.logFileValidaton", `did you mean "logFileValidation"`, 3},
		{"case typo", "trail:\n  multiregion: true\n", "trail.multiregion", `did you mean "multiRegion"`, 2},
		{"typo in override", "overrides:\n  - match: {ou: ou-ab12-cdef3456}\n    trail:\n      insights: {apiCalRate: true}\n", "overrides[0].trail.insights.apiCalRate", "unknown field", 4},
		{"typo in match", "overrides:\n  - match: {acount: \"444444444444\"}\n", "overrides[0].match.acount", "unknown field", 2},
		{"typo in organization", "organization:\n  homeregion: us-east-1\n", "organization.homeregion", `did you mean "homeRegion"`, 2},
		{"bool wanted", "trail:\n  multiRegion: \"yes\"\n", "trail.multiRegion", "true or false", 2},
		{"int wanted", "trail:\n  cloudWatchLogs: {retentionDays: forever}\n", "trail.cloudWatchLogs.retentionDays", "whole number", 2},
		{"mapping wanted", "trail:\n  s3: acme\n", "trail.s3", "must be a mapping", 2},
		{"list wanted", "trail:\n  dataEvents: {s3: {buckets: arn:aws:s3:::x}}\n", "trail.dataEvents.s3.buckets", "must be a list", 2},
		{"duplicate key", "trail:\n  name: a\n  name: b\n", "trail.name", "given twice", 3},
		{"isOrganizationTrail not a field", "trail:\n  isOrganizationTrail: true\n", "trail.isOrganizationTrail", "unknown field", 2},
		{"merge key", "x: &x {name: a}\ntrail:\n  <<: *x\n", "x", "unknown field", 1},
		{"unquoted account ids", strings.ReplaceAll(baseYAML, `"111111111111"`, `111111111111`), "", "", 0},
		{"aliases resolve", baseYAML + "overrides:\n  - match: {account: \"444444444444\"}\n    trail: &o {tamperResponse: ignore}\n  - match: {account: \"555555555555\"}\n    trail: *o\n", "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse([]byte(tc.src))
			if tc.wantPath == "" && tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				if p == nil {
					t.Fatal("nil policy")
				}
				return
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, pr := range probs {
				if pr.Path == tc.wantPath && strings.Contains(pr.Message, tc.wantMsg) && (tc.wantLine == 0 || pr.Line == tc.wantLine) {
					return
				}
			}
			t.Fatalf("want %s (line %d): …%s…, got %+v", tc.wantPath, tc.wantLine, tc.wantMsg, probs)
		})
	}
}

func TestDefaults(t *testing.T) {
	p := mustParse(t, []byte(baseYAML))
	tr := p.Trail
	if p.Mode != ModeAccountTrails || p.Organization.MemberRole != DefaultMemberRole {
		t.Errorf("mode %q role %q", p.Mode, p.Organization.MemberRole)
	}
	if !tr.LogFileValidation || !tr.MultiRegion || !tr.GlobalServiceEvents {
		t.Errorf("console defaults not applied: %+v", tr)
	}
	if tr.ManagementEvents.ReadWrite != All || tr.DataEvents.S3.AllBuckets != None || tr.TamperResponse != TamperRepair {
		t.Errorf("enum defaults: %+v", tr)
	}
	if tr.CloudWatchLogs.Enabled || tr.CloudWatchLogs.RetentionDays != DefaultRetentionDays || tr.CloudWatchLogs.LogGroup != "/trailwarden/cloudtrail/org-audit" {
		t.Errorf("cloudWatchLogs defaults: %+v", tr.CloudWatchLogs)
	}
	if tr.Insights.any() || tr.SNS.TopicArn != "" {
		t.Errorf("off by default: %+v", tr)
	}
	p = mustParse(t, patched(t, `trail: {logFileValidation: false, managementEvents: {excludeKms: true}}`))
	if p.Trail.LogFileValidation || p.Trail.ManagementEvents.ReadWrite != All || !p.Trail.ManagementEvents.ExcludeKMS {
		t.Errorf("explicit false / partial map: %+v", p.Trail)
	}
}

const overridesYAML = `
version: 1
organization: {id: o-a1b2c3d4e5, managementAccount: "111111111111", loggingAccount: "222222222222", homeRegion: us-east-1}
trail:
  name: org-audit
  s3: {bucket: acme-org-cloudtrail, keyPrefix: cloudtrail}
  kms: {keyArn: none}
  sns: {topicArn: "arn:aws:sns:us-east-1:222222222222:deliveries"}
  tags: {owner: security, cost: audit}
  dataEvents:
    s3: {buckets: ["arn:aws:s3:::payroll", "arn:aws:s3:::hrdata"]}
overrides:
  - match: {account: "444444444444"}          # account wins over OUs, whatever the order
    trail: {tamperResponse: ignore, tags: {owner: team-a}}
  - match: {ou: ou-leaf-22222222}             # nearest ancestor
    trail: {tamperResponse: alert-only, dataEvents: {s3: {buckets: ["arn:aws:s3:::leafdata"]}}}
  - match: {ou: ou-root-11111111}             # farther ancestor
    trail: {tamperResponse: repair, logFileValidation: false, dataEvents: {s3: {allBuckets: write}}}
  - match: {ou: ou-other-33333333}
    trail: {tamperResponse: ignore}
  - match: {account: "555555555555"}
    trail: {sns: null, tags: {cost: null}}
`

func TestEffective(t *testing.T) {
	p := mustParse(t, []byte(overridesYAML))
	if _, err := p.Validate(ValidateOptions{}); err != nil {
		t.Fatal(err)
	}
	path := []string{"r-ab12", "ou-root-11111111", "ou-leaf-22222222"}

	t.Run("base for an account outside every override", func(t *testing.T) {
		tr, err := p.Effective("666666666666", []string{"ou-none-44444444"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.Hash() != p.Trail.Hash() {
			t.Errorf("got %+v, want base", tr)
		}
	})
	t.Run("nearest ancestor OU wins", func(t *testing.T) {
		tr, err := p.Effective("666666666666", path)
		if err != nil {
			t.Fatal(err)
		}
		if tr.TamperResponse != TamperAlertOnly {
			t.Errorf("tamperResponse = %s, want alert-only (leaf OU)", tr.TamperResponse)
		}
		// Fields only the farther OU set still apply (deep merge).
		if tr.LogFileValidation || tr.DataEvents.S3.AllBuckets != Write {
			t.Errorf("root OU fields lost: %+v", tr)
		}
		// Lists replace: the leaf OU's bucket list, not a union.
		if len(tr.DataEvents.S3.Buckets) != 1 || tr.DataEvents.S3.Buckets[0].ARN != "arn:aws:s3:::leafdata" {
			t.Errorf("buckets = %+v, want only leafdata", tr.DataEvents.S3.Buckets)
		}
	})
	t.Run("OU path order decides, not file order", func(t *testing.T) {
		tr, err := p.Effective("666666666666", []string{"ou-leaf-22222222", "ou-root-11111111"})
		if err != nil {
			t.Fatal(err)
		}
		if tr.TamperResponse != TamperRepair {
			t.Errorf("tamperResponse = %s, want repair (last OU on the path)", tr.TamperResponse)
		}
	})
	t.Run("account wins over OUs; maps deep-merge", func(t *testing.T) {
		tr, err := p.Effective("444444444444", path)
		if err != nil {
			t.Fatal(err)
		}
		if tr.TamperResponse != TamperIgnore {
			t.Errorf("tamperResponse = %s, want ignore", tr.TamperResponse)
		}
		if tr.Tags["owner"] != "team-a" || tr.Tags["cost"] != "audit" {
			t.Errorf("tags = %v, want owner overridden and cost kept", tr.Tags)
		}
		if tr.LogFileValidation {
			t.Error("OU override lost under account override")
		}
	})
	t.Run("null resets to the default", func(t *testing.T) {
		tr, err := p.Effective("555555555555", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tr.SNS.TopicArn != "" {
			t.Errorf("sns = %q, want unset", tr.SNS.TopicArn)
		}
		if _, ok := tr.Tags["cost"]; ok || tr.Tags["owner"] != "security" {
			t.Errorf("tags = %v", tr.Tags)
		}
	})
	t.Run("base is not modified", func(t *testing.T) {
		if _, err := p.Effective("444444444444", path); err != nil {
			t.Fatal(err)
		}
		tr, _ := p.Effective("666666666666", nil)
		if tr.Tags["owner"] != "security" || tr.TamperResponse != TamperRepair {
			t.Errorf("base changed: %+v", tr)
		}
	})
	t.Run("excluded", func(t *testing.T) {
		q := mustParse(t, patched(t, `organization: {exclude: {accounts: ["777777777777"], ous: [ou-skip-55555555]}}`))
		if _, err := q.Effective("777777777777", nil); !errors.Is(err, ErrExcluded) {
			t.Errorf("account: %v", err)
		}
		if _, err := q.Effective("888888888888", []string{"ou-skip-55555555", "ou-deep-66666666"}); !errors.Is(err, ErrExcluded) {
			t.Errorf("OU: %v", err)
		}
	})
	t.Run("invalid combination", func(t *testing.T) {
		q := mustParse(t, patched(t, `{trail: {managementEvents: {readWrite: read}}, overrides: [{match: {ou: ou-ab12-cdef3456}, trail: {managementEvents: {readWrite: all}}}, {match: {account: "444444444444"}, trail: {insights: {apiCallRate: true}}}]}`))
		if _, err := q.Effective("444444444444", []string{"ou-ab12-cdef3456"}); err != nil {
			t.Errorf("valid with the OU: %v", err)
		}
		_, err := q.Effective("444444444444", nil)
		var probs Problems
		if !errors.As(err, &probs) || probs[0].Path != "trail.insights.apiCallRate" {
			t.Errorf("want insights problem, got %v", err)
		}
	})
	t.Run("organization mode sets the flag", func(t *testing.T) {
		q := mustParse(t, patched(t, `mode: organization-trail`))
		tr, err := q.Effective("111111111111", nil)
		if err != nil || !tr.IsOrganizationTrail {
			t.Fatalf("%v %+v", err, tr)
		}
	})
}

func TestHash(t *testing.T) {
	a := mustParse(t, []byte(baseYAML+"  tags: {a: '1', b: '2'}\n  logFileValidation: true\n"))
	b := mustParse(t, []byte(strings.Replace(baseYAML, "trail:\n", "trail:\n  logFileValidation: true\n  tags: {b: '2', a: '1'}\n", 1)))
	if a.Trail.Hash() != b.Trail.Hash() {
		t.Error("key order changed the hash")
	}
	if !strings.HasPrefix(a.Trail.Hash(), "sha256:") || len(a.Trail.Hash()) != 71 {
		t.Errorf("hash form: %s", a.Trail.Hash())
	}
	c := mustParse(t, patched(t, `trail: {tamperResponse: ignore}`))
	if c.Trail.Hash() == mustParse(t, []byte(baseYAML)).Trail.Hash() {
		t.Error("different trails hash equally")
	}
}
