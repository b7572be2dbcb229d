package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/shared/didyoumean"
)

// Problem is one finding, named by its field path ("trail.name",
// "overrides[1].trail.insights") and, when known, its line and column in
// the file.
type Problem struct {
	Path    string `json:"path"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Path != "" {
		b.WriteString(p.Path)
	} else {
		b.WriteString("policy")
	}
	if p.Line > 0 {
		b.WriteString(" (line " + strconv.Itoa(p.Line))
		if p.Column > 0 {
			b.WriteString(", column " + strconv.Itoa(p.Column))
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// Problems are errors: a policy with any is not used.
type Problems []Problem

func (ps Problems) Error() string {
	switch len(ps) {
	case 0:
		return "no problems"
	case 1:
		return "invalid policy: " + ps[0].String()
	}
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  " + p.String()
	}
	return fmt.Sprintf("invalid policy: %d problems:\n%s", len(ps), strings.Join(lines, "\n"))
}

// Warnings are findings that do not stop the policy from being used.
type Warnings []Problem

// ValidateOptions gives Validate what it knows of the organization. When
// KnownAccounts or KnownOUs is nil, overrides of that kind are not checked
// against it.
type ValidateOptions struct {
	KnownAccounts []string
	KnownOUs      []string
	// RequireDeployment makes a missing deployment section a problem (the
	// CDK app); otherwise the section is validated when present.
	RequireDeployment bool
}

// trailEnv is what trail validation needs from the rest of the policy.
type trailEnv struct {
	homeRegion       string
	partition        string
	mode             Mode
	existingOrgTrail bool
}

func (p *Policy) env() trailEnv {
	part, _ := PartitionOf(p.Organization.HomeRegion)
	return trailEnv{
		homeRegion:       p.Organization.HomeRegion,
		partition:        part,
		mode:             p.Mode,
		existingOrgTrail: p.Organization.ExistingOrganizationTrail,
	}
}

type validator struct {
	problems Problems
	warnings Warnings
}

func (v *validator) errf(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (v *validator) err(path string, err error) {
	if err != nil {
		v.problems = append(v.problems, Problem{Path: path, Message: err.Error()})
	}
}

func (v *validator) warnf(path, format string, args ...any) {
	v.warnings = append(v.warnings, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

// Validate checks every rule of docs/policy.md and returns all problems at
// once (as Problems) plus warnings. It makes no AWS call.
func (p *Policy) Validate(opts ValidateOptions) (Warnings, error) {
	if p == nil || p.trailNode == nil {
		return nil, Problems{{Message: "policy not parsed"}}
	}
	var v validator
	if p.Version != Version {
		if p.Version == 0 {
			v.errf("version", "is required; set version: %d", Version)
		} else {
			v.errf("version", "%d is not supported; this trailwarden reads version %d", p.Version, Version)
		}
	}
	p.validateOrganization(&v)
	switch p.Mode {
	case ModeAccountTrails, ModeOrganizationTrail:
	default:
		v.errf("mode", "%q is not a mode; use %q or %q%s", p.Mode, ModeAccountTrails, ModeOrganizationTrail,
			hint(p.Mode, ModeAccountTrails, ModeOrganizationTrail))
	}
	env := p.env()
	var base validator
	base.trail(&p.Trail, env, "trail", p.trailNode)
	v.problems = append(v.problems, base.problems...)
	v.warnings = append(v.warnings, base.warnings...)
	p.validateOverrides(&v, opts, env, base)
	p.validateDeployment(&v, opts)
	p.locate(v.problems)
	p.locate(v.warnings)
	return v.warnings, v.result()
}

// hint suggests the allowed value nearest to got.
func hint[T ~string](got T, allowed ...T) string {
	words := make([]string, len(allowed))
	for i, a := range allowed {
		words[i] = string(a)
	}
	return didyoumean.Hint(string(got), words)
}

// locate gives every finding the position of its path in the file.
func (p *Policy) locate(ps []Problem) {
	if p.root == nil {
		return
	}
	for i := range ps {
		ps[i].Line, ps[i].Column = posAt(p.root, "", ps[i].Path)
	}
}

func (v *validator) result() error {
	if len(v.problems) == 0 {
		return nil
	}
	return v.problems
}

func (p *Policy) validateOrganization(v *validator) {
	o := p.Organization
	if o.ID == "" {
		v.errf("organization.id", "is required")
	} else {
		v.err("organization.id", checkOrgID(o.ID))
	}
	if o.ManagementAccount == "" {
		v.errf("organization.managementAccount", "is required")
	} else {
		v.err("organization.managementAccount", checkAccountID(o.ManagementAccount))
	}
	if o.LoggingAccount == "" {
		v.errf("organization.loggingAccount", "is required")
	} else {
		v.err("organization.loggingAccount", checkAccountID(o.LoggingAccount))
	}
	v.err("organization.memberRole", CheckMemberRoleName(o.MemberRole))
	v.err("organization.homeRegion", checkRegion(o.HomeRegion))
	for i, a := range o.Exclude.Accounts {
		v.err(fmt.Sprintf("organization.exclude.accounts[%d]", i), checkAccountID(a))
		// EventBridge receives "AWS API Call via CloudTrail" events only
		// while a trail logs in that account (EventBridge User Guide, events
		// from AWS services): without a trail in the management account the
		// Organizations events that announce new accounts stop.
		if a == o.ManagementAccount && p.Mode == ModeAccountTrails && !o.ExistingOrganizationTrail {
			v.errf(fmt.Sprintf("organization.exclude.accounts[%d]", i), "excludes the management account: EventBridge gets the Organizations events trailwarden reacts to only while a trail logs there; keep it, or declare existingOrganizationTrail: true if an organization trail logs it")
		}
	}
	for i, ou := range o.Exclude.OUs {
		v.err(fmt.Sprintf("organization.exclude.ous[%d]", i), checkOUID(ou))
	}
	if p.Mode == ModeOrganizationTrail && (len(o.Exclude.Accounts) > 0 || len(o.Exclude.OUs) > 0) {
		v.errf("organization.exclude", "an organization trail logs every member account; it cannot exclude accounts or OUs (use mode: account-trails)")
	}
}

func (p *Policy) validateOverrides(v *validator, opts ValidateOptions, env trailEnv, base validator) {
	baseKeys := map[string]bool{}
	for _, pr := range base.problems {
		baseKeys[pr.Path+"\x00"+pr.Message] = true
	}
	for _, w := range base.warnings {
		baseKeys["w"+w.Path+"\x00"+w.Message] = true
	}
	for i, o := range p.Overrides {
		path := fmt.Sprintf("overrides[%d]", i)
		if p.Mode == ModeOrganizationTrail {
			v.errf(path, "an organization trail is one trail for every account; overrides by OU or account need mode: account-trails")
		}
		m := o.Match
		switch {
		case m.OU != "" && m.Account != "":
			v.errf(path+".match", "must have exactly one of ou or account, not both")
		case m.OU == "" && m.Account == "":
			v.errf(path+".match", "must have exactly one of ou or account")
		case m.OU != "":
			if err := checkOUID(m.OU); err != nil {
				v.err(path+".match.ou", err)
			} else if opts.KnownOUs != nil && !slices.Contains(opts.KnownOUs, m.OU) {
				v.warnf(path+".match.ou", "OU %s is not in the organization; this override matches nothing", m.OU)
			} else if slices.Contains(p.Organization.Exclude.OUs, m.OU) {
				v.warnf(path+".match.ou", "OU %s is excluded; this override never applies", m.OU)
			}
		default:
			if err := checkAccountID(m.Account); err != nil {
				v.err(path+".match.account", err)
			} else if opts.KnownAccounts != nil && !slices.Contains(opts.KnownAccounts, m.Account) {
				v.warnf(path+".match.account", "account %s is not in the organization; this override matches nothing", m.Account)
			} else if slices.Contains(p.Organization.Exclude.Accounts, m.Account) {
				v.warnf(path+".match.account", "account %s is excluded; this override never applies", m.Account)
			}
		}
		if o.Trail.Kind != yaml.MappingNode || len(o.Trail.Content) == 0 {
			v.warnf(path+".trail", "changes nothing")
			continue
		}
		// Validate the base with this override applied; report only what the
		// override adds, under the override's path.
		merged := mergeNodes(cloneNode(p.trailNode), &o.Trail)
		t, err := decodeTrail(merged)
		if err != nil {
			v.errf(path+".trail", "%v", err)
			continue
		}
		t.IsOrganizationTrail = p.Mode == ModeOrganizationTrail
		var ov validator
		ov.trail(t, env, "trail", merged)
		for _, pr := range ov.problems {
			if baseKeys[pr.Path+"\x00"+pr.Message] {
				continue
			}
			pr.Path = path + "." + pr.Path
			pr.Line, pr.Column = posAt(&o.Trail, path+".trail", pr.Path)
			v.problems = append(v.problems, pr)
		}
		for _, w := range ov.warnings {
			if baseKeys["w"+w.Path+"\x00"+w.Message] {
				continue
			}
			w.Path = path + "." + w.Path
			w.Line, w.Column = posAt(&o.Trail, path+".trail", w.Path)
			v.warnings = append(v.warnings, w)
		}
	}
}

// trail validates one (base or effective) trail; path is "trail" and root is
// the YAML the trail was decoded from, used to find lines.
func (v *validator) trail(t *Trail, env trailEnv, path string, root *yaml.Node) {
	p0, w0 := len(v.problems), len(v.warnings)
	defer func() {
		for i := p0; i < len(v.problems); i++ {
			v.problems[i].Line, v.problems[i].Column = posAt(root, path, v.problems[i].Path)
		}
		for i := w0; i < len(v.warnings); i++ {
			v.warnings[i].Line, v.warnings[i].Column = posAt(root, path, v.warnings[i].Path)
		}
	}()
	at := func(s string) string { return path + "." + s }

	v.err(at("name"), CheckTrailName(t.Name))
	v.err(at("s3.bucket"), CheckBucketName(t.S3.Bucket))
	v.err(at("s3.keyPrefix"), CheckKeyPrefix(t.S3.KeyPrefix))
	if orgIDRe.MatchString(t.S3.KeyPrefix) {
		v.warnf(at("s3.keyPrefix"), "a prefix equal to an organization id gives doubled paths (o-x/AWSLogs/o-x/…) for organization trails")
	}

	switch k := t.KMS.KeyArn; {
	case k == "":
		v.errf(at("kms.keyArn"), "is required: the console's default is SSE-KMS; give the key ARN, or %q for SSE-S3", KMSNone)
	case k == KMSNone:
	case env.partition != "":
		a, err := checkARN(k, arnRules{service: "kms", partition: env.partition, region: env.homeRegion, account: true})
		switch {
		case err != nil:
			v.err(at("kms.keyArn"), fmt.Errorf("%w (the key must be in the bucket's Region, the home Region)", err))
		case strings.HasPrefix(a.Resource, "alias/"):
			v.errf(at("kms.keyArn"), "%q is an alias; give the key ARN (key/…): CloudTrail reports the key ARN, and an alias would look like drift forever", k)
		case !strings.HasPrefix(a.Resource, "key/") || !kmsKeyIDRe.MatchString(strings.TrimPrefix(a.Resource, "key/")):
			v.errf(at("kms.keyArn"), "%q is not a KMS key ARN (…:key/<key id or mrk-…>)", k)
		}
	}

	if s := t.SNS.TopicArn; s != "" && env.partition != "" {
		a, err := checkARN(s, arnRules{service: "sns", partition: env.partition, account: true})
		if err != nil {
			v.err(at("sns.topicArn"), err)
		} else if !snsTopicRe.MatchString(a.Resource) {
			v.errf(at("sns.topicArn"), "%q does not end in a topic name (1 to 256 letters, digits, '-' or '_')", s)
		}
	}

	cw := t.CloudWatchLogs
	if cw.Enabled || cw.LogGroup != "" && cw.LogGroup != DefaultLogGroupPrefix+t.Name {
		v.err(at("cloudWatchLogs.logGroup"), CheckLogGroupName(cw.LogGroup))
	}
	v.err(at("cloudWatchLogs.retentionDays"), checkRetention(cw.RetentionDays))

	if t.MultiRegion && !t.GlobalServiceEvents {
		v.errf(at("globalServiceEvents"), "must be true for a multi-Region trail (CloudTrail rejects the combination)")
	}

	v.tags(t.Tags, at("tags"))

	me := t.ManagementEvents
	if !me.ReadWrite.valid() {
		v.errf(at("managementEvents.readWrite"), "%q is not one of all, read, write, none%s", me.ReadWrite, hint(me.ReadWrite, All, Read, Write, None))
	}
	if me.ReadWrite == None && (me.ExcludeKMS || me.ExcludeRDSData) {
		v.warnf(at("managementEvents"), "excludeKms and excludeRdsData have no effect when no management events are logged")
	}
	if env.existingOrgTrail && me.ReadWrite != None && me.ReadWrite.valid() {
		v.warnf(at("managementEvents.readWrite"), "an organization trail already logs management events in every account; this trail is a paid second copy (set readWrite: none to log only data or Insights events)")
	}
	// PutInsightSelectors: ApiCallRateInsight needs write management events,
	// ApiErrorRateInsight read or write ones (CloudTrail API Reference).
	if t.Insights.APICallRate && me.ReadWrite.valid() && !me.ReadWrite.includesWrite() {
		v.errf(at("insights.apiCallRate"), "API call rate Insights need write management events; managementEvents.readWrite is %q (use all or write)", me.ReadWrite)
	}
	if t.Insights.APIErrorRate && me.ReadWrite == None {
		v.errf(at("insights.apiErrorRate"), "API error rate Insights need read or write management events; managementEvents.readWrite is none")
	}

	de := t.DataEvents
	v.resources("s3", de.S3.AllBuckets, de.S3.Buckets, at("dataEvents.s3"), "allBuckets", "buckets", env, t.MultiRegion)
	v.resources("lambda", de.Lambda.AllFunctions, de.Lambda.Functions, at("dataEvents.lambda"), "allFunctions", "functions", env, t.MultiRegion)
	v.resources("dynamodb", de.DynamoDB.AllTables, de.DynamoDB.Tables, at("dataEvents.dynamodb"), "allTables", "tables", env, t.MultiRegion)

	if me.ReadWrite == None && !logsData(t) && !t.Insights.any() {
		v.errf(at("managementEvents.readWrite"), "the trail would log no events: log management events or at least one kind of data event")
	}

	switch t.TamperResponse {
	case TamperRepair, TamperAlertOnly, TamperIgnore:
	default:
		v.errf(at("tamperResponse"), "%q is not one of repair, alert-only, ignore%s", t.TamperResponse, hint(t.TamperResponse, TamperRepair, TamperAlertOnly, TamperIgnore))
	}

	if n := countConditions(t); n > MaxSelectorValues {
		v.errf(at("dataEvents"), "the advanced event selectors would hold %d values; CloudTrail allows at most %d per trail", n, MaxSelectorValues)
	}
}

func logsData(t *Trail) bool {
	d := t.DataEvents
	return d.S3.AllBuckets != None || len(d.S3.Buckets) > 0 ||
		d.Lambda.AllFunctions != None || len(d.Lambda.Functions) > 0 ||
		d.DynamoDB.AllTables != None || len(d.DynamoDB.Tables) > 0
}

func (v *validator) tags(tags map[string]string, path string) {
	if len(tags) > MaxTags {
		v.errf(path, "has %d tags; at most %d (CloudTrail allows %d and trailwarden uses one)", len(tags), MaxTags, MaxTrailTags)
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v.err(path+"."+k, CheckTag(k, tags[k]))
	}
}

// resources validates one data-event type: the "all" choice and the chosen
// resources.
func (v *validator) resources(kind string, all ReadWrite, list []Resource, path, allKey, listKey string, env trailEnv, multiRegion bool) {
	if !all.valid() {
		v.errf(path+"."+allKey, "%q is not one of all, read, write, none%s", all, hint(all, All, Read, Write, None))
	}
	seen := map[string]int{}
	for i, r := range list {
		rp := fmt.Sprintf("%s.%s[%d]", path, listKey, i)
		if !r.ReadWrite.valid() || r.ReadWrite == None {
			v.errf(rp+".readWrite", "%q is not one of all, read, write%s", r.ReadWrite, hint(r.ReadWrite, All, Read, Write))
			continue
		}
		if j, dup := seen[r.ARN]; dup {
			v.errf(rp+".arn", "%q is already listed at %s[%d]", r.ARN, listKey, j)
			continue
		}
		seen[r.ARN] = i
		if env.partition == "" {
			continue
		}
		if err := checkResourceARN(kind, r.ARN, env.partition); err != nil {
			v.err(rp+".arn", err)
			continue
		}
		if all.valid() && covers(all, r.ReadWrite) {
			v.warnf(rp, "is already covered by %s: %s", allKey, all)
		}
		if kind != "s3" && !multiRegion {
			if a, _ := ParseARN(r.ARN); a.Region != env.homeRegion {
				v.warnf(rp+".arn", "is in Region %s but the trail is single-Region in %s; no events will be logged for it", a.Region, env.homeRegion)
			}
		}
	}
}

func checkResourceARN(kind, s, partition string) error {
	switch kind {
	case "s3":
		a, err := checkARN(s, arnRules{service: "s3", partition: partition, region: "-"})
		if err != nil {
			return err
		}
		bucket, _, _ := strings.Cut(a.Resource, "/")
		if err := CheckBucketName(bucket); err != nil {
			return fmt.Errorf("%q: %w", s, err)
		}
	case "lambda":
		a, err := checkARN(s, arnRules{service: "lambda", partition: partition, account: true})
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(a.Resource, "function:")
		if !ok || !lambdaNameRe.MatchString(name) {
			return fmt.Errorf("%q is not a Lambda function ARN (…:function:<name>, without a version or alias)", s)
		}
	case "dynamodb":
		a, err := checkARN(s, arnRules{service: "dynamodb", partition: partition, account: true})
		if err != nil {
			return err
		}
		name, ok := strings.CutPrefix(a.Resource, "table/")
		if !ok || !tableNameRe.MatchString(name) {
			return fmt.Errorf("%q is not a DynamoDB table ARN (…:table/<name>)", s)
		}
	}
	return nil
}

// covers reports whether the "all resources" choice already logs everything
// a chosen resource asks for.
func covers(all, rw ReadWrite) bool {
	return all == All || all == rw
}
