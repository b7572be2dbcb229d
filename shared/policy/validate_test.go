package policy

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("a", 129)
	var manyFns strings.Builder
	for i := range 500 {
		fmt.Fprintf(&manyFns, "\"arn:aws:lambda:us-east-1:333333333333:function:f%d\", ", i)
	}
	tests := []struct {
		name  string
		patch string
		// wantPath/wantMsg: one problem must have this path and contain
		// this text; empty wantPath means the policy is valid.
		wantPath, wantMsg string
	}{
		{"base", ``, "", ""},
		{"version missing", `version: null`, "version", "is required"},
		{"version 2", `version: 2`, "version", "not supported"},
		{"mode bad", `mode: per-account`, "mode", "not a mode"},
		{"org id", `organization: {id: o-abc}`, "organization.id", "not an organization id"},
		{"org id upper", `organization: {id: o-A1B2C3D4E5}`, "organization.id", "not an organization id"},
		{"account 11 digits", `organization: {managementAccount: "11111111111"}`, "organization.managementAccount", "12 digits"},
		{"logging account missing", `organization: {loggingAccount: null}`, "organization.loggingAccount", "is required"},
		{"member role", `organization: {memberRole: "bad role"}`, "organization.memberRole", "IAM role name"},
		{"region unknown", `organization: {homeRegion: us-east-9}`, "organization.homeRegion", "not a known"},
		{"region missing", `organization: {homeRegion: null}`, "organization.homeRegion", "is required"},
		{"exclude ou", `organization: {exclude: {ous: [ou-12]}}`, "organization.exclude.ous[0]", "not an OU id"},
		{"exclude account", `organization: {exclude: {accounts: ["12"]}}`, "organization.exclude.accounts[0]", "12 digits"},
		{"govcloud ok", `{organization: {homeRegion: us-gov-west-1}, trail: {kms: {keyArn: none}}}`, "", ""},
		{"china ok", `{organization: {homeRegion: cn-north-1}, trail: {kms: {keyArn: "arn:aws-cn:kms:cn-north-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}}`, "", ""},

		// CloudTrail trail naming requirements.
		{"name missing", `trail: {name: null}`, "trail.name", "is required"},
		{"name short", `trail: {name: ab}`, "trail.name", "3 to 128"},
		{"name 3 ok", `trail: {name: abc}`, "", ""},
		{"name long", `trail: {name: ` + long + `}`, "trail.name", "3 to 128"},
		{"name 128 ok", `trail: {name: ` + long[:128] + `}`, "", ""},
		{"name chars", `trail: {name: "my trail"}`, "trail.name", "only ASCII"},
		{"name unicode", `trail: {name: "trailé"}`, "trail.name", "only ASCII"},
		{"name start", `trail: {name: -trail}`, "trail.name", "start and end"},
		{"name end", `trail: {name: trail.}`, "trail.name", "start and end"},
		{"name start underscore", `trail: {name: _trail}`, "trail.name", "start and end"},
		{"name -_", `trail: {name: my-_namespace}`, "trail.name", "adjacent"},
		{"name --", `trail: {name: my--namespace}`, "trail.name", "adjacent"},
		{"name ._", `trail: {name: my._namespace}`, "trail.name", "adjacent"},
		{"name ip", `trail: {name: 192.168.5.4}`, "trail.name", "IP address"},
		{"name ip leading zero", `trail: {name: 010.1.1.1}`, "trail.name", "IP address"},
		{"name mixed ok", `trail: {name: My.Trail_1-x}`, "", ""},
		{"name dotted not ip ok", `trail: {name: 1.2.3}`, "", ""},

		// S3 bucket naming rules.
		{"bucket missing", `trail: {s3: {bucket: null}}`, "trail.s3.bucket", "is required"},
		{"bucket upper", `trail: {s3: {bucket: Acme-Logs}}`, "trail.s3.bucket", "lowercase"},
		{"bucket short", `trail: {s3: {bucket: ab}}`, "trail.s3.bucket", "3 to 63"},
		{"bucket long", `trail: {s3: {bucket: ` + strings.Repeat("b", 64) + `}}`, "trail.s3.bucket", "3 to 63"},
		{"bucket dots", `trail: {s3: {bucket: a..b}}`, "trail.s3.bucket", "adjacent periods"},
		{"bucket ip", `trail: {s3: {bucket: 192.168.1.1}}`, "trail.s3.bucket", "IP address"},
		{"bucket end", `trail: {s3: {bucket: acme-}}`, "trail.s3.bucket", "start and end"},
		{"bucket xn--", `trail: {s3: {bucket: xn--acme}}`, "trail.s3.bucket", "reserved prefix"},
		{"bucket sthree-", `trail: {s3: {bucket: sthree-acme}}`, "trail.s3.bucket", "reserved prefix"},
		{"bucket s3alias", `trail: {s3: {bucket: acme-s3alias}}`, "trail.s3.bucket", "reserved suffix"},
		{"bucket ol-s3", `trail: {s3: {bucket: acme--ol-s3}}`, "trail.s3.bucket", "reserved suffix"},
		{"bucket dotted ok", `trail: {s3: {bucket: acme.logs-1}}`, "", ""},

		// S3 key prefix.
		{"prefix absent ok", `trail: {s3: {keyPrefix: null}}`, "", ""},
		{"prefix nested ok", `trail: {s3: {keyPrefix: cloudtrail/org-1}}`, "", ""},
		{"prefix leading slash", `trail: {s3: {keyPrefix: /ct}}`, "trail.s3.keyPrefix", "start or end with '/'"},
		{"prefix trailing slash", `trail: {s3: {keyPrefix: ct/}}`, "trail.s3.keyPrefix", "start or end with '/'"},
		{"prefix double slash", `trail: {s3: {keyPrefix: a//b}}`, "trail.s3.keyPrefix", "empty segment"},
		{"prefix dotdot", `trail: {s3: {keyPrefix: a/../b}}`, "trail.s3.keyPrefix", `".." segment`},
		{"prefix AWSLogs", `trail: {s3: {keyPrefix: AWSLogs}}`, "trail.s3.keyPrefix", "AWSLogs"},
		{"prefix awslogs nested", `trail: {s3: {keyPrefix: x/awslogs/y}}`, "trail.s3.keyPrefix", "AWSLogs"},
		{"prefix long", `trail: {s3: {keyPrefix: ` + strings.Repeat("p", 201) + `}}`, "trail.s3.keyPrefix", "at most 200"},
		{"prefix 200 ok", `trail: {s3: {keyPrefix: ` + strings.Repeat("p", 200) + `}}`, "", ""},
		{"prefix space", `trail: {s3: {keyPrefix: "a b"}}`, "trail.s3.keyPrefix", "may contain only"},

		// KMS.
		{"kms missing", `trail: {kms: null}`, "trail.kms.keyArn", "is required"},
		{"kms none ok", `trail: {kms: {keyArn: none}}`, "", ""},
		{"kms mrk ok", `trail: {kms: {keyArn: "arn:aws:kms:us-east-1:222222222222:key/mrk-1234abcd12ab34cd56ef1234567890ab"}}`, "", ""},
		{"kms alias", `trail: {kms: {keyArn: "arn:aws:kms:us-east-1:222222222222:alias/trail"}}`, "trail.kms.keyArn", "alias"},
		{"kms region", `trail: {kms: {keyArn: "arn:aws:kms:us-west-2:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}`, "trail.kms.keyArn", "home Region"},
		{"kms partition", `trail: {kms: {keyArn: "arn:aws-cn:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}`, "trail.kms.keyArn", "partition"},
		{"kms service", `trail: {kms: {keyArn: "arn:aws:sns:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}}`, "trail.kms.keyArn", `"kms" ARN`},
		{"kms key id", `trail: {kms: {keyArn: "arn:aws:kms:us-east-1:222222222222:key/nope"}}`, "trail.kms.keyArn", "not a KMS key ARN"},
		{"kms bare id", `trail: {kms: {keyArn: "1234abcd-12ab-34cd-56ef-1234567890ab"}}`, "trail.kms.keyArn", "not an ARN"},

		// SNS.
		{"sns other region ok", `trail: {sns: {topicArn: "arn:aws:sns:eu-west-1:222222222222:deliveries"}}`, "", ""},
		{"sns service", `trail: {sns: {topicArn: "arn:aws:sqs:us-east-1:222222222222:deliveries"}}`, "trail.sns.topicArn", `"sns" ARN`},
		{"sns partition", `trail: {sns: {topicArn: "arn:aws-us-gov:sns:us-gov-west-1:222222222222:deliveries"}}`, "trail.sns.topicArn", "partition"},
		{"sns account", `trail: {sns: {topicArn: "arn:aws:sns:us-east-1:2222:deliveries"}}`, "trail.sns.topicArn", "12-digit"},
		{"sns name", `trail: {sns: {topicArn: "arn:aws:sns:us-east-1:222222222222:bad/name"}}`, "trail.sns.topicArn", "topic name"},

		// CloudWatch Logs.
		{"cwl ok", `trail: {cloudWatchLogs: {enabled: true}}`, "", ""},
		{"cwl never expire ok", `trail: {cloudWatchLogs: {enabled: true, retentionDays: 0}}`, "", ""},
		{"cwl retention", `trail: {cloudWatchLogs: {enabled: true, retentionDays: 366}}`, "trail.cloudWatchLogs.retentionDays", "not a CloudWatch Logs retention"},
		{"cwl aws/", `trail: {cloudWatchLogs: {enabled: true, logGroup: aws/trail}}`, "trail.cloudWatchLogs.logGroup", "reserved"},
		{"cwl chars", `trail: {cloudWatchLogs: {enabled: true, logGroup: "a b"}}`, "trail.cloudWatchLogs.logGroup", "may contain only"},
		{"cwl arn other account", `trail: {cloudWatchLogs: {enabled: true, logGroup: "arn:aws:logs:us-east-1:222222222222:log-group:x:*"}}`, "trail.cloudWatchLogs.logGroup", "own account"},

		{"multi-region needs global", `trail: {globalServiceEvents: false}`, "trail.globalServiceEvents", "multi-Region"},
		{"single-region no global ok", `trail: {globalServiceEvents: false, multiRegion: false}`, "", ""},

		// Tags.
		{"tag aws:", `trail: {tags: {"aws:x": y}}`, "trail.tags.aws:x", "reserved by AWS"},
		{"tag trailwarden:", `trail: {tags: {"trailwarden:managed-tags": y}}`, "trail.tags.trailwarden:managed-tags", "reserved by trailwarden"},
		{"tag chars", `trail: {tags: {"a*b": y}}`, "trail.tags.a*b", "may contain only"},
		{"tag value long", `trail: {tags: {a: ` + strings.Repeat("v", 257) + `}}`, "trail.tags.a", "256"},

		// Management events and Insights.
		{"readWrite enum", `trail: {managementEvents: {readWrite: both}}`, "trail.managementEvents.readWrite", "not one of"},
		{"insights with write ok", `trail: {managementEvents: {readWrite: write}, insights: {apiCallRate: true}}`, "", ""},
		{"insights with all ok", `trail: {insights: {apiCallRate: true, apiErrorRate: true}}`, "", ""},
		{"call rate insights with read", `trail: {managementEvents: {readWrite: read}, insights: {apiCallRate: true}}`, "trail.insights.apiCallRate", "need write management events"},
		{"call rate insights with none", `trail: {managementEvents: {readWrite: none}, dataEvents: {s3: {allBuckets: all}}, insights: {apiCallRate: true}}`, "trail.insights.apiCallRate", "need write management events"},
		{"error rate insights with none", `trail: {managementEvents: {readWrite: none}, dataEvents: {s3: {allBuckets: all}}, insights: {apiErrorRate: true}}`, "trail.insights.apiErrorRate", "need read or write management events"},
		{"empty tag value", `trail: {tags: {owner: ""}}`, "trail.tags.owner", "must not be empty"},
		{"tag value with comma", `trail: {tags: {owner: "a,b"}}`, "trail.tags.owner", "may contain only"},
		{"member role Organizations creates", `organization: {memberRole: OrganizationAccountAccessRole}`, "organization.memberRole", "CreateAccount"},
		{"member role Control Tower", `organization: {memberRole: AWSControlTowerExecution}`, "organization.memberRole", "Control Tower"},
		{"member role Identity Center", `organization: {memberRole: AWSReservedSSO_Admin_0123abcd}`, "organization.memberRole", "AWSReservedSSO_"},
		{"member role aws- any case", `organization: {memberRole: AWS-controltower-AdministratorRole}`, "organization.memberRole", "starts with aws-"},
		{"management account excluded", `organization: {exclude: {accounts: ["111111111111"]}}`, "organization.exclude.accounts[0]", "excludes the management account"},
		{"logs nothing", `trail: {managementEvents: {readWrite: none}}`, "trail.managementEvents.readWrite", "no events"},
		{"data only ok", `trail: {managementEvents: {readWrite: none}, dataEvents: {lambda: {allFunctions: all}}}`, "", ""},

		// Data events.
		{"s3 allBuckets enum", `trail: {dataEvents: {s3: {allBuckets: everything}}}`, "trail.dataEvents.s3.allBuckets", "not one of"},
		{"s3 bucket arn ok", `trail: {dataEvents: {s3: {buckets: ["arn:aws:s3:::payroll", {arn: "arn:aws:s3:::hrdata/reports/", readWrite: read}]}}}`, "", ""},
		{"s3 bucket arn region", `trail: {dataEvents: {s3: {buckets: ["arn:aws:s3:us-east-1::payroll"]}}}`, "trail.dataEvents.s3.buckets[0].arn", "must not name a Region"},
		{"s3 bucket arn account", `trail: {dataEvents: {s3: {buckets: ["arn:aws:s3::333333333333:payroll"]}}}`, "trail.dataEvents.s3.buckets[0].arn", "must not name an account"},
		{"s3 bucket name", `trail: {dataEvents: {s3: {buckets: ["arn:aws:s3:::Payroll"]}}}`, "trail.dataEvents.s3.buckets[0].arn", "lowercase"},
		{"s3 bucket readWrite none", `trail: {dataEvents: {s3: {buckets: [{arn: "arn:aws:s3:::payroll", readWrite: none}]}}}`, "trail.dataEvents.s3.buckets[0].readWrite", "not one of"},
		{"s3 duplicate", `trail: {dataEvents: {s3: {buckets: ["arn:aws:s3:::payroll", "arn:aws:s3:::payroll"]}}}`, "trail.dataEvents.s3.buckets[1].arn", "already listed"},
		{"lambda ok", `trail: {dataEvents: {lambda: {functions: ["arn:aws:lambda:eu-west-1:333333333333:function:pay"]}}}`, "", ""},
		{"lambda qualifier", `trail: {dataEvents: {lambda: {functions: ["arn:aws:lambda:us-east-1:333333333333:function:pay:prod"]}}}`, "trail.dataEvents.lambda.functions[0].arn", "Lambda function ARN"},
		{"lambda partition", `trail: {dataEvents: {lambda: {functions: ["arn:aws-cn:lambda:cn-north-1:333333333333:function:pay"]}}}`, "trail.dataEvents.lambda.functions[0].arn", "partition"},
		{"lambda bad region", `trail: {dataEvents: {lambda: {functions: ["arn:aws:lambda:mars-1:333333333333:function:pay"]}}}`, "trail.dataEvents.lambda.functions[0].arn", "not a known Region"},
		{"dynamodb ok", `trail: {dataEvents: {dynamodb: {tables: ["arn:aws:dynamodb:us-east-1:333333333333:table/orders"]}}}`, "", ""},
		{"dynamodb stream", `trail: {dataEvents: {dynamodb: {tables: ["arn:aws:dynamodb:us-east-1:333333333333:table/orders/stream/x"]}}}`, "trail.dataEvents.dynamodb.tables[0].arn", "DynamoDB table ARN"},
		{"selector limit", `trail: {dataEvents: {lambda: {functions: [` + manyFns.String() + `]}}}`, "trail.dataEvents", "at most 500"},

		{"tamper enum", `trail: {tamperResponse: fix}`, "trail.tamperResponse", "not one of"},
		{"tamper alert-only ok", `trail: {tamperResponse: alert-only}`, "", ""},

		// Overrides.
		{"override both", `overrides: [{match: {ou: ou-ab12-cdef3456, account: "444444444444"}, trail: {tamperResponse: ignore}}]`, "overrides[0].match", "exactly one"},
		{"override neither", `overrides: [{match: {}, trail: {tamperResponse: ignore}}]`, "overrides[0].match", "exactly one"},
		{"override bad ou", `overrides: [{match: {ou: ou-x}, trail: {tamperResponse: ignore}}]`, "overrides[0].match.ou", "not an OU id"},
		{"override bad account", `overrides: [{match: {account: "4444"}, trail: {tamperResponse: ignore}}]`, "overrides[0].match.account", "12 digits"},
		{"override bad value", `overrides: [{match: {account: "444444444444"}, trail: {name: "my--trail"}}]`, "overrides[0].trail.name", "adjacent"},
		{"override insights vs base", `{trail: {managementEvents: {readWrite: read}}, overrides: [{match: {account: "444444444444"}, trail: {insights: {apiCallRate: true}}}]}`, "overrides[0].trail.insights.apiCallRate", "need write management events"},
		{"org mode overrides", `{mode: organization-trail, overrides: [{match: {account: "444444444444"}, trail: {tamperResponse: ignore}}]}`, "overrides[0]", "organization trail"},
		{"org mode exclude", `{mode: organization-trail, organization: {exclude: {accounts: ["444444444444"]}}}`, "organization.exclude", "organization trail"},
		{"org mode ok", `mode: organization-trail`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, patched(t, tc.patch))
			_, err := p.Validate(ValidateOptions{})
			if tc.wantPath == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("want Problems, got %v", err)
			}
			for _, pr := range probs {
				if pr.Path == tc.wantPath && strings.Contains(pr.Message, tc.wantMsg) {
					return
				}
			}
			t.Fatalf("want %s: …%s…, got:\n%s", tc.wantPath, tc.wantMsg, findings(probs))
		})
	}
}

func TestValidateCollectsEveryProblem(t *testing.T) {
	p := mustParse(t, patched(t, `{version: 3, organization: {id: bad}, trail: {name: a, s3: {bucket: B}, kms: null}}`))
	_, err := p.Validate(ValidateOptions{})
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	want := []string{"version", "organization.id", "trail.name", "trail.s3.bucket", "trail.kms.keyArn"}
	got := findings(probs)
	for _, w := range want {
		if !strings.Contains(got, w+": ") {
			t.Errorf("missing %s in\n%s", w, got)
		}
	}
	if !strings.Contains(err.Error(), "5 problems") {
		t.Errorf("error text: %v", err)
	}
}

func TestValidateLines(t *testing.T) {
	src := []byte(`version: 1
organization:
  id: o-a1b2c3d4e5
  managementAccount: "111111111111"
  loggingAccount: "222222222222"
  homeRegion: us-east-1
trail:
  name: my--trail
  s3: {bucket: acme-org-cloudtrail}
  kms: {keyArn: none}
overrides:
  - match: {account: "444444444444"}
    trail:
      s3: {keyPrefix: /bad}
`)
	p := mustParse(t, src)
	_, err := p.Validate(ValidateOptions{})
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("want Problems, got %v", err)
	}
	lines := map[string]int{}
	for _, pr := range probs {
		lines[pr.Path] = pr.Line
	}
	if lines["trail.name"] != 8 {
		t.Errorf("trail.name line = %d, want 8 (%v)", lines["trail.name"], probs)
	}
	if lines["overrides[0].trail.s3.keyPrefix"] != 14 {
		t.Errorf("override prefix line = %d, want 14 (%v)", lines["overrides[0].trail.s3.keyPrefix"], probs)
	}
	if !strings.Contains(probs.Error(), "trail.name (line 8, column 9):") {
		t.Errorf("error text: %v", probs)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name, patch       string
		opts              ValidateOptions
		wantPath, wantMsg string
	}{
		{"unknown ou", `overrides: [{match: {ou: ou-ab12-cdef3456}, trail: {tamperResponse: ignore}}]`,
			ValidateOptions{KnownOUs: []string{"ou-ab12-00000000"}}, "overrides[0].match.ou", "matches nothing"},
		{"unknown account", `overrides: [{match: {account: "444444444444"}, trail: {tamperResponse: ignore}}]`,
			ValidateOptions{KnownAccounts: []string{"555555555555"}}, "overrides[0].match.account", "matches nothing"},
		{"excluded account override", `{organization: {exclude: {accounts: ["444444444444"]}}, overrides: [{match: {account: "444444444444"}, trail: {tamperResponse: ignore}}]}`,
			ValidateOptions{}, "overrides[0].match.account", "excluded"},
		{"empty override", `overrides: [{match: {account: "444444444444"}}]`, ValidateOptions{}, "overrides[0].trail", "changes nothing"},
		{"second copy", `organization: {existingOrganizationTrail: true}`, ValidateOptions{}, "trail.managementEvents.readWrite", "paid second copy"},
		{"second copy by override", `{organization: {existingOrganizationTrail: true}, trail: {managementEvents: {readWrite: none}, dataEvents: {s3: {allBuckets: all}}}, overrides: [{match: {account: "444444444444"}, trail: {managementEvents: {readWrite: write}}}]}`,
			ValidateOptions{}, "overrides[0].trail.managementEvents.readWrite", "paid second copy"},
		{"exclusions without management events", `trail: {managementEvents: {readWrite: none, excludeKms: true}, dataEvents: {s3: {allBuckets: all}}}`,
			ValidateOptions{}, "trail.managementEvents", "no effect"},
		{"bucket covered", `trail: {dataEvents: {s3: {allBuckets: all, buckets: ["arn:aws:s3:::payroll"]}}}`,
			ValidateOptions{}, "trail.dataEvents.s3.buckets[0]", "already covered"},
		{"single region lambda elsewhere", `trail: {multiRegion: false, dataEvents: {lambda: {functions: ["arn:aws:lambda:eu-west-1:333333333333:function:pay"]}}}`,
			ValidateOptions{}, "trail.dataEvents.lambda.functions[0].arn", "single-Region"},
		{"prefix is org id", `trail: {s3: {keyPrefix: o-a1b2c3d4e5}}`, ValidateOptions{}, "trail.s3.keyPrefix", "doubled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, patched(t, tc.patch))
			warns, err := p.Validate(tc.opts)
			if err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			for _, w := range warns {
				if w.Path == tc.wantPath && strings.Contains(w.Message, tc.wantMsg) {
					return
				}
			}
			t.Fatalf("want warning %s: …%s…, got:\n%s", tc.wantPath, tc.wantMsg, findings(warns))
		})
	}
	t.Run("known override no warning", func(t *testing.T) {
		p := mustParse(t, patched(t, `overrides: [{match: {ou: ou-ab12-cdef3456}, trail: {tamperResponse: ignore}}]`))
		warns, err := p.Validate(ValidateOptions{KnownOUs: []string{"ou-ab12-cdef3456"}, KnownAccounts: []string{}})
		if err != nil || len(warns) != 0 {
			t.Fatalf("got %v, %v", warns, err)
		}
	})
}
