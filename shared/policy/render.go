package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// MaxSelectorValues is CloudTrail's limit on values across all conditions of
// all advanced event selectors of a trail.
const MaxSelectorValues = 500

// RenderContext is where a trail is rendered for.
type RenderContext struct {
	// Account is the account the trail is created in: the member account, or
	// the management account for an organization trail.
	Account string
	// HomeRegion is the trail's home Region.
	HomeRegion string
	// Partition is the ARN partition; "" derives it from HomeRegion.
	Partition string
	// LogGroupArn and RoleArn override the deterministic CloudWatch Logs log
	// group and role ARNs (LogGroupARN, LogsRoleARN); both must be in Account.
	LogGroupArn string
	RoleArn     string
}

// Requests are the CloudTrail API inputs for one trail, as plain data. JSON
// uses AWS's field names; Logs is trailwarden's own (not an AWS request).
type Requests struct {
	CreateTrail         CreateTrailRequest         `json:"CreateTrail"`
	PutEventSelectors   PutEventSelectorsRequest   `json:"PutEventSelectors"`
	PutInsightSelectors PutInsightSelectorsRequest `json:"PutInsightSelectors"`
	// Logs is the log group and role to create in Account before the trail
	// points at them; nil when CloudWatch Logs is off.
	Logs *LogsSetup `json:"Logs,omitempty"`
}

// CreateTrailRequest mirrors CloudTrail's CreateTrail request.
type CreateTrailRequest struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	EnableLogFileValidation    bool   `json:"EnableLogFileValidation"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyId                   string `json:"KmsKeyId,omitempty"` //nolint:revive // AWS's name
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
	TagsList                   []Tag  `json:"TagsList,omitempty"`
}

// Tag is a trail tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// PutEventSelectorsRequest mirrors CloudTrail's PutEventSelectors request.
type PutEventSelectorsRequest struct {
	TrailName              string                  `json:"TrailName"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors"`
}

// AdvancedEventSelector mirrors CloudTrail's AdvancedEventSelector.
type AdvancedEventSelector struct {
	Name           string                  `json:"Name"`
	FieldSelectors []AdvancedFieldSelector `json:"FieldSelectors"`
}

// AdvancedFieldSelector mirrors CloudTrail's AdvancedFieldSelector.
type AdvancedFieldSelector struct {
	Field         string   `json:"Field"`
	Equals        []string `json:"Equals,omitempty"`
	StartsWith    []string `json:"StartsWith,omitempty"`
	EndsWith      []string `json:"EndsWith,omitempty"`
	NotEquals     []string `json:"NotEquals,omitempty"`
	NotStartsWith []string `json:"NotStartsWith,omitempty"`
	NotEndsWith   []string `json:"NotEndsWith,omitempty"`
}

func (f AdvancedFieldSelector) values() int {
	return len(f.Equals) + len(f.StartsWith) + len(f.EndsWith) + len(f.NotEquals) + len(f.NotStartsWith) + len(f.NotEndsWith)
}

// PutInsightSelectorsRequest mirrors CloudTrail's PutInsightSelectors request;
// an empty InsightSelectors list turns Insights off.
type PutInsightSelectorsRequest struct {
	TrailName        string            `json:"TrailName"`
	InsightSelectors []InsightSelector `json:"InsightSelectors"`
}

// InsightSelector mirrors CloudTrail's InsightSelector.
type InsightSelector struct {
	InsightType string `json:"InsightType"`
}

// Insight types.
const (
	APICallRateInsight  = "ApiCallRateInsight"
	APIErrorRateInsight = "ApiErrorRateInsight"
)

// LogsSetup is the CloudWatch Logs log group CloudTrail delivers to and the
// IAM role it assumes to write there, both in the trail's own account. The
// engine creates the group; the role is created by the member template
// (never by the engine, so the member role needs no IAM write).
type LogsSetup struct {
	LogGroupName  string `json:"LogGroupName"`
	LogGroupArn   string `json:"LogGroupArn"`             // as CloudTrail takes it: …:log-group:<name>:*
	RetentionDays int32  `json:"RetentionDays,omitempty"` // 0: never expire
	RoleArn       string `json:"RoleArn"`
}

// LogsRoleName is the role CloudTrail assumes to write to CloudWatch Logs,
// one per account, created by the member template.
const LogsRoleName = "TrailwardenCloudTrailLogs"

// LogsRoleARN is the ARN of LogsRoleName in an account.
func LogsRoleARN(partition, account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, LogsRoleName)
}

// LogGroupARN is a log group's ARN in the form CloudTrail takes and reports
// (with the trailing ":*").
func LogGroupARN(partition, region, account, group string) string {
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", partition, region, account, group)
}

// Render turns an effective trail into the CloudTrail API inputs.
func Render(t *Trail, ctx RenderContext) (*Requests, error) {
	if t == nil {
		return nil, fmt.Errorf("render: no trail")
	}
	if err := checkAccountID(ctx.Account); err != nil {
		return nil, fmt.Errorf("render: account: %w", err)
	}
	part, ok := PartitionOf(ctx.HomeRegion)
	if !ok {
		return nil, fmt.Errorf("render: home Region: %w", checkRegion(ctx.HomeRegion))
	}
	if ctx.Partition != "" && ctx.Partition != part {
		return nil, fmt.Errorf("render: partition %q does not match home Region %s (%s)", ctx.Partition, ctx.HomeRegion, part)
	}
	ct := CreateTrailRequest{
		Name:                       t.Name,
		S3BucketName:               t.S3.Bucket,
		S3KeyPrefix:                t.S3.KeyPrefix,
		SnsTopicName:               t.SNS.TopicArn,
		IncludeGlobalServiceEvents: t.GlobalServiceEvents,
		IsMultiRegionTrail:         t.MultiRegion,
		EnableLogFileValidation:    t.LogFileValidation,
		IsOrganizationTrail:        t.IsOrganizationTrail,
	}
	if t.KMS.KeyArn != KMSNone {
		ct.KmsKeyId = t.KMS.KeyArn
	}
	ct.TagsList = trailTags(t.Tags)
	r := &Requests{CreateTrail: ct}
	if t.CloudWatchLogs.Enabled {
		logs, err := logsSetup(t, ctx, part)
		if err != nil {
			return nil, err
		}
		r.Logs = logs
		r.CreateTrail.CloudWatchLogsLogGroupArn = logs.LogGroupArn
		r.CreateTrail.CloudWatchLogsRoleArn = logs.RoleArn
	}
	sels := selectors(t, part)
	n := 0
	for _, s := range sels {
		for _, f := range s.FieldSelectors {
			n += f.values()
		}
	}
	if n > MaxSelectorValues {
		return nil, fmt.Errorf("render: advanced event selectors hold %d values; CloudTrail allows %d", n, MaxSelectorValues)
	}
	if len(sels) == 0 {
		return nil, fmt.Errorf("render: the trail logs no events")
	}
	r.PutEventSelectors = PutEventSelectorsRequest{TrailName: t.Name, AdvancedEventSelectors: sels}
	r.PutInsightSelectors = PutInsightSelectorsRequest{TrailName: t.Name, InsightSelectors: []InsightSelector{}}
	if t.Insights.APICallRate {
		r.PutInsightSelectors.InsightSelectors = append(r.PutInsightSelectors.InsightSelectors, InsightSelector{InsightType: APICallRateInsight})
	}
	if t.Insights.APIErrorRate {
		r.PutInsightSelectors.InsightSelectors = append(r.PutInsightSelectors.InsightSelectors, InsightSelector{InsightType: APIErrorRateInsight})
	}
	return r, nil
}

func logsSetup(t *Trail, ctx RenderContext, part string) (*LogsSetup, error) {
	cw := t.CloudWatchLogs
	if err := CheckLogGroupName(cw.LogGroup); err != nil {
		return nil, fmt.Errorf("render: cloudWatchLogs.logGroup: %w", err)
	}
	l := &LogsSetup{
		LogGroupName:  cw.LogGroup,
		LogGroupArn:   LogGroupARN(part, ctx.HomeRegion, ctx.Account, cw.LogGroup),
		RetentionDays: int32(cw.RetentionDays), //nolint:gosec // validated against RetentionDays
		RoleArn:       LogsRoleARN(part, ctx.Account),
	}
	if ctx.LogGroupArn != "" {
		a, err := checkARN(ctx.LogGroupArn, arnRules{service: "logs", partition: part, region: ctx.HomeRegion, account: true})
		if err != nil {
			return nil, fmt.Errorf("render: log group ARN: %w", err)
		}
		if a.Account != ctx.Account {
			return nil, fmt.Errorf("render: log group ARN %q is in account %s; CloudTrail delivers only to a log group in the trail's own account %s", ctx.LogGroupArn, a.Account, ctx.Account)
		}
		name, ok := strings.CutPrefix(a.Resource, "log-group:")
		if !ok {
			return nil, fmt.Errorf("render: %q is not a log group ARN", ctx.LogGroupArn)
		}
		name = strings.TrimSuffix(name, ":*")
		l.LogGroupName = name
		l.LogGroupArn = LogGroupARN(part, ctx.HomeRegion, ctx.Account, name)
	}
	if ctx.RoleArn != "" {
		a, err := checkARN(ctx.RoleArn, arnRules{service: "iam", partition: part, region: "-", account: true})
		if err != nil {
			return nil, fmt.Errorf("render: role ARN: %w", err)
		}
		if a.Account != ctx.Account {
			return nil, fmt.Errorf("render: role ARN %q is in account %s; the role must be in the trail's own account %s", ctx.RoleArn, a.Account, ctx.Account)
		}
		if !strings.HasPrefix(a.Resource, "role/") {
			return nil, fmt.Errorf("render: %q is not a role ARN", ctx.RoleArn)
		}
		l.RoleArn = ctx.RoleArn
	}
	return l, nil
}

// Selector names: stable, descriptive, one per purpose.
const (
	SelectorManagement = "Management events"
	selectorAllFmt     = "%s data events: all %s"
	selectorChosenFmt  = "%s data events: chosen %s (%s)"
)

// Resource types of the data events the console offers.
const (
	ResourceTypeS3Object       = "AWS::S3::Object"
	ResourceTypeLambdaFunction = "AWS::Lambda::Function"
	ResourceTypeDynamoDBTable  = "AWS::DynamoDB::Table"
)

// selectors renders the console's choices as advanced event selectors, in the
// forms the CloudTrail user guide documents: eventCategory Equals Management
// or Data; readOnly Equals "true" (read) or "false" (write), absent for both;
// eventSource NotEquals kms.amazonaws.com / rdsdata.amazonaws.com for the
// console's exclusions; resources.type Equals the resource type; resources.ARN
// StartsWith "arn:…:s3:::bucket/" for chosen buckets and Equals the ARN for
// chosen functions and tables.
//
// The all-buckets selector excludes the trail's own bucket (resources.ARN
// NotStartsWith "arn:…:s3:::<bucket>/"): otherwise every log file CloudTrail
// delivers is itself an S3 data event, logged in the next file, without end
// (CloudTrail User Guide, "Filtering data events by using advanced event
// selectors": exclude logging for the S3 bucket for your trail).
func selectors(t *Trail, partition string) []AdvancedEventSelector {
	var out []AdvancedEventSelector
	me := t.ManagementEvents
	if me.ReadWrite != None && me.ReadWrite.valid() {
		fs := []AdvancedFieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}
		fs = append(fs, readOnly(me.ReadWrite)...)
		var excl []string
		if me.ExcludeKMS {
			excl = append(excl, "kms.amazonaws.com")
		}
		if me.ExcludeRDSData {
			excl = append(excl, "rdsdata.amazonaws.com")
		}
		if len(excl) > 0 {
			fs = append(fs, AdvancedFieldSelector{Field: "eventSource", NotEquals: excl})
		}
		out = append(out, AdvancedEventSelector{Name: SelectorManagement, FieldSelectors: fs})
	}
	de := t.DataEvents
	s3 := dataSelectors("S3", "buckets", ResourceTypeS3Object, de.S3.AllBuckets, de.S3.Buckets, "StartsWith", s3Value)
	if len(s3) > 0 && de.S3.AllBuckets != None && de.S3.AllBuckets.valid() && t.S3.Bucket != "" {
		// dataSelectors puts the all-buckets selector first.
		s3[0].FieldSelectors = append(s3[0].FieldSelectors, AdvancedFieldSelector{
			Field: "resources.ARN", NotStartsWith: []string{fmt.Sprintf("arn:%s:s3:::%s/", partition, t.S3.Bucket)},
		})
	}
	out = append(out, s3...)
	out = append(out, dataSelectors("Lambda", "functions", ResourceTypeLambdaFunction, de.Lambda.AllFunctions, de.Lambda.Functions, "Equals", nil)...)
	out = append(out, dataSelectors("DynamoDB", "tables", ResourceTypeDynamoDBTable, de.DynamoDB.AllTables, de.DynamoDB.Tables, "Equals", nil)...)
	return out
}

// s3Value turns a bucket ARN into the object-ARN prefix CloudTrail matches
// ("arn:aws:s3:::bucket/"); an ARN that already names a key prefix is kept.
func s3Value(arn string) string {
	a, err := ParseARN(arn)
	if err == nil && !strings.Contains(a.Resource, "/") {
		return arn + "/"
	}
	return arn
}

func readOnly(rw ReadWrite) []AdvancedFieldSelector {
	switch rw {
	case Read:
		return []AdvancedFieldSelector{{Field: "readOnly", Equals: []string{"true"}}}
	case Write:
		return []AdvancedFieldSelector{{Field: "readOnly", Equals: []string{"false"}}}
	}
	return nil
}

// remaining is what a chosen resource adds to the "all" choice: the console's
// "all" setting takes precedence, so only the rest is rendered.
func remaining(all, rw ReadWrite) ReadWrite {
	switch {
	case all == None || !all.valid():
		return rw
	case covers(all, rw):
		return None
	case all == Read:
		return Write // rw is write or all
	default: // all == Write
		return Read
	}
}

func dataSelectors(service, noun, resType string, all ReadWrite, list []Resource, op string, value func(string) string) []AdvancedEventSelector {
	var out []AdvancedEventSelector
	base := []AdvancedFieldSelector{
		{Field: "eventCategory", Equals: []string{"Data"}},
		{Field: "resources.type", Equals: []string{resType}},
	}
	if all != None && all.valid() {
		fs := append(slices.Clone(base), readOnly(all)...)
		out = append(out, AdvancedEventSelector{Name: fmt.Sprintf(selectorAllFmt, service, noun), FieldSelectors: fs})
	}
	groups := map[ReadWrite][]string{}
	for _, r := range list {
		rw := remaining(all, r.ReadWrite)
		if rw == None || !rw.valid() {
			continue
		}
		v := r.ARN
		if value != nil {
			v = value(v)
		}
		if !slices.Contains(groups[rw], v) {
			groups[rw] = append(groups[rw], v)
		}
	}
	for _, g := range []struct {
		rw    ReadWrite
		label string
	}{{All, "read and write"}, {Read, "read"}, {Write, "write"}} {
		vals := groups[g.rw]
		if len(vals) == 0 {
			continue
		}
		slices.Sort(vals)
		fs := append(slices.Clone(base), readOnly(g.rw)...)
		arn := AdvancedFieldSelector{Field: "resources.ARN"}
		if op == "StartsWith" {
			arn.StartsWith = vals
		} else {
			arn.Equals = vals
		}
		fs = append(fs, arn)
		out = append(out, AdvancedEventSelector{Name: fmt.Sprintf(selectorChosenFmt, service, noun, g.label), FieldSelectors: fs})
	}
	return out
}

func countConditions(t *Trail) int {
	n := 0
	for _, s := range selectors(t, "aws") { // the partition changes no count
		for _, f := range s.FieldSelectors {
			n += f.values()
		}
	}
	return n
}

// CreateTrailInput converts to the SDK's CreateTrail input.
func (r *Requests) CreateTrailInput() *cloudtrail.CreateTrailInput {
	c := r.CreateTrail
	in := &cloudtrail.CreateTrailInput{
		Name:                       aws.String(c.Name),
		S3BucketName:               aws.String(c.S3BucketName),
		S3KeyPrefix:                optional(c.S3KeyPrefix),
		SnsTopicName:               optional(c.SnsTopicName),
		IncludeGlobalServiceEvents: aws.Bool(c.IncludeGlobalServiceEvents),
		IsMultiRegionTrail:         aws.Bool(c.IsMultiRegionTrail),
		EnableLogFileValidation:    aws.Bool(c.EnableLogFileValidation),
		CloudWatchLogsLogGroupArn:  optional(c.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleArn:      optional(c.CloudWatchLogsRoleArn),
		KmsKeyId:                   optional(c.KmsKeyId),
		IsOrganizationTrail:        aws.Bool(c.IsOrganizationTrail),
	}
	for _, t := range c.TagsList {
		in.TagsList = append(in.TagsList, cttypes.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return in
}

// UpdateTrailInput converts to the SDK's UpdateTrail input. Every setting is
// sent; an empty string asks CloudTrail to remove that setting (prefix, SNS
// topic, KMS key, CloudWatch Logs), so the trail ends up exactly as rendered.
// Tags are not part of UpdateTrail (use AddTags/RemoveTags).
func (r *Requests) UpdateTrailInput() *cloudtrail.UpdateTrailInput {
	c := r.CreateTrail
	return &cloudtrail.UpdateTrailInput{
		Name:                       aws.String(c.Name),
		S3BucketName:               aws.String(c.S3BucketName),
		S3KeyPrefix:                aws.String(c.S3KeyPrefix),
		SnsTopicName:               aws.String(c.SnsTopicName),
		IncludeGlobalServiceEvents: aws.Bool(c.IncludeGlobalServiceEvents),
		IsMultiRegionTrail:         aws.Bool(c.IsMultiRegionTrail),
		EnableLogFileValidation:    aws.Bool(c.EnableLogFileValidation),
		CloudWatchLogsLogGroupArn:  aws.String(c.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleArn:      aws.String(c.CloudWatchLogsRoleArn),
		KmsKeyId:                   aws.String(c.KmsKeyId),
		IsOrganizationTrail:        aws.Bool(c.IsOrganizationTrail),
	}
}

// SDKAdvancedEventSelectors converts the selectors to the SDK's types.
func (r *Requests) SDKAdvancedEventSelectors() []cttypes.AdvancedEventSelector {
	out := make([]cttypes.AdvancedEventSelector, 0, len(r.PutEventSelectors.AdvancedEventSelectors))
	for _, s := range r.PutEventSelectors.AdvancedEventSelectors {
		sel := cttypes.AdvancedEventSelector{Name: aws.String(s.Name)}
		for _, f := range s.FieldSelectors {
			sel.FieldSelectors = append(sel.FieldSelectors, cttypes.AdvancedFieldSelector{
				Field:         aws.String(f.Field),
				Equals:        slices.Clone(f.Equals),
				StartsWith:    slices.Clone(f.StartsWith),
				EndsWith:      slices.Clone(f.EndsWith),
				NotEquals:     slices.Clone(f.NotEquals),
				NotStartsWith: slices.Clone(f.NotStartsWith),
				NotEndsWith:   slices.Clone(f.NotEndsWith),
			})
		}
		out = append(out, sel)
	}
	return out
}

// PutEventSelectorsInput converts to the SDK's PutEventSelectors input.
func (r *Requests) PutEventSelectorsInput() *cloudtrail.PutEventSelectorsInput {
	return &cloudtrail.PutEventSelectorsInput{
		TrailName:              aws.String(r.PutEventSelectors.TrailName),
		AdvancedEventSelectors: r.SDKAdvancedEventSelectors(),
	}
}

// InsightTypes lists the SDK insight types; empty when Insights are off.
func (r *Requests) InsightTypes() []cttypes.InsightType {
	out := []cttypes.InsightType{}
	for _, s := range r.PutInsightSelectors.InsightSelectors {
		out = append(out, cttypes.InsightType(s.InsightType))
	}
	return out
}

// PutInsightSelectorsInput converts to the SDK's PutInsightSelectors input;
// with Insights off its InsightSelectors is an empty list, which turns them
// off.
func (r *Requests) PutInsightSelectorsInput() *cloudtrail.PutInsightSelectorsInput {
	in := &cloudtrail.PutInsightSelectorsInput{
		TrailName:        aws.String(r.PutInsightSelectors.TrailName),
		InsightSelectors: []cttypes.InsightSelector{},
	}
	for _, it := range r.InsightTypes() {
		in.InsightSelectors = append(in.InsightSelectors, cttypes.InsightSelector{InsightType: it})
	}
	return in
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
