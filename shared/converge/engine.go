package converge

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// CloudTrailAPI is the part of the CloudTrail client the engine calls.
type CloudTrailAPI interface {
	GetTrail(ctx context.Context, in *cloudtrail.GetTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error)
	CreateTrail(ctx context.Context, in *cloudtrail.CreateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error)
	UpdateTrail(ctx context.Context, in *cloudtrail.UpdateTrailInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.UpdateTrailOutput, error)
	GetEventSelectors(ctx context.Context, in *cloudtrail.GetEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetEventSelectorsOutput, error)
	PutEventSelectors(ctx context.Context, in *cloudtrail.PutEventSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.PutEventSelectorsOutput, error)
	GetInsightSelectors(ctx context.Context, in *cloudtrail.GetInsightSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetInsightSelectorsOutput, error)
	PutInsightSelectors(ctx context.Context, in *cloudtrail.PutInsightSelectorsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.PutInsightSelectorsOutput, error)
	ListTags(ctx context.Context, in *cloudtrail.ListTagsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.ListTagsOutput, error)
	AddTags(ctx context.Context, in *cloudtrail.AddTagsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.AddTagsOutput, error)
	RemoveTags(ctx context.Context, in *cloudtrail.RemoveTagsInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.RemoveTagsOutput, error)
	GetTrailStatus(ctx context.Context, in *cloudtrail.GetTrailStatusInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailStatusOutput, error)
	StartLogging(ctx context.Context, in *cloudtrail.StartLoggingInput, optFns ...func(*cloudtrail.Options)) (*cloudtrail.StartLoggingOutput, error)
}

// IAMAPI is the part of the IAM client the engine calls (the CloudWatch Logs
// delivery role in the member account).
type IAMAPI interface {
	CreateRole(ctx context.Context, in *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
}

// LogsAPI is the part of the CloudWatch Logs client the engine calls.
type LogsAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

var (
	_ CloudTrailAPI = (*cloudtrail.Client)(nil)
	_ IAMAPI        = (*iam.Client)(nil)
	_ LogsAPI       = (*cloudwatchlogs.Client)(nil)
)

// Engine converges trails through the clients of one account and Region
// (the trail's home Region).
type Engine struct {
	CloudTrail CloudTrailAPI
	IAM        IAMAPI  // needed only when Desired.Logs is set
	Logs       LogsAPI // needed only when Desired.Logs is set
	// Region is the clients' Region: the trail's home Region.
	Region string
	// Sleep waits between retries while a new IAM role propagates
	// (default time.Sleep honouring ctx).
	Sleep func(ctx context.Context, d time.Duration) error
	// PropagationRetries bounds those retries (default 6: about 45 s).
	PropagationRetries int
}

// Options tune one run.
type Options struct {
	// DryRun reads and diffs but writes nothing (trailwarden plan).
	DryRun bool
}

// Change is one difference between the live trail and the desired one.
type Change struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// Report says what a run found and did.
type Report struct {
	Trail    string   `json:"trail"`
	TrailARN string   `json:"trailArn,omitempty"`
	Region   string   `json:"region"`
	Created  bool     `json:"created"`
	DryRun   bool     `json:"dryRun,omitempty"`
	Changes  []Change `json:"changes"`
	Calls    []string `json:"calls"`
	Writes   int      `json:"writes"`
	// Trail is the trail as it stands after the run (as GetTrail shows it,
	// or as CreateTrail answered).
	Result *types.Trail `json:"-"`
	// IsLogging as last seen or set.
	IsLogging bool `json:"isLogging"`
}

// Changed reports whether anything differed.
func (r *Report) Changed() bool { return len(r.Changes) > 0 }

func (r *Report) call(name string, write bool) {
	r.Calls = append(r.Calls, name)
	if write {
		r.Writes++
	}
}

func (r *Report) change(field, from, to string) {
	r.Changes = append(r.Changes, Change{Field: field, From: from, To: to})
}

// TrailInOtherRegionError: a trail with our name exists with another home
// Region; moving it is an operator's decision.
type TrailInOtherRegionError struct {
	Name, HomeRegion, WantRegion string
}

func (e *TrailInOtherRegionError) Error() string {
	return fmt.Sprintf("trail %q exists with home Region %s, policy wants %s", e.Name, e.HomeRegion, e.WantRegion)
}

func (e *TrailInOtherRegionError) Unwrap() error {
	return fault.NeedsHumanf("TrailInOtherRegion", "trail home Region differs")
}

// Converge makes the live trail match d.
func (e *Engine) Converge(ctx context.Context, d *Desired, opt Options) (*Report, error) {
	if d == nil || d.Name == "" {
		return nil, fault.Poisonf("InvalidDesired", "converge: no trail name")
	}
	rep := &Report{Trail: d.Name, Region: e.Region, DryRun: opt.DryRun, Changes: []Change{}, Calls: []string{}}

	rep.call("cloudtrail:GetTrail", false)
	got, err := e.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(d.Name)})
	var live *types.Trail
	switch {
	case err == nil:
		live = got.Trail
	case fault.IsAPIError(err, "TrailNotFoundException"):
	default:
		return rep, fmt.Errorf("get trail %s: %w", d.Name, err)
	}
	if live != nil && live.HomeRegion != nil && e.Region != "" && *live.HomeRegion != e.Region {
		return rep, &TrailInOtherRegionError{Name: d.Name, HomeRegion: *live.HomeRegion, WantRegion: e.Region}
	}

	if live == nil {
		if opt.DryRun {
			rep.Created = true
			rep.change("trail", "", "create "+d.Name)
			rep.change("logging", "", "started")
			return rep, nil
		}
		created, err := e.create(ctx, d, rep)
		if err != nil {
			return rep, err
		}
		if created {
			return rep, nil
		}
		// A concurrent converge created it first: re-read and continue.
		rep.call("cloudtrail:GetTrail", false)
		got, err = e.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(d.Name)})
		if fault.IsAPIError(err, "TrailNotFoundException") {
			// CreateTrail says the name is taken, yet this Region has no such
			// trail: a trail of that name lives in another Region.
			return rep, &TrailInOtherRegionError{Name: d.Name, HomeRegion: "another Region", WantRegion: e.Region}
		}
		if err != nil {
			return rep, fmt.Errorf("re-read trail %s after concurrent create: %w", d.Name, err)
		}
		live = got.Trail
	}
	return rep, e.update(ctx, d, live, rep, opt)
}

// create makes a new trail. It returns false (and no error) when another
// writer created the trail concurrently.
func (e *Engine) create(ctx context.Context, d *Desired, rep *Report) (bool, error) {
	rep.Created = true
	rep.change("trail", "", "create "+d.Name)
	roleCreated := false
	if d.Logs != nil {
		var err error
		if roleCreated, err = e.ensureLogs(ctx, d.Logs, rep); err != nil {
			return false, err
		}
	}
	in := &cloudtrail.CreateTrailInput{
		Name:                       aws.String(d.Name),
		S3BucketName:               aws.String(d.S3BucketName),
		IsMultiRegionTrail:         aws.Bool(d.IsMultiRegionTrail),
		IncludeGlobalServiceEvents: aws.Bool(d.IncludeGlobalServiceEvents),
		EnableLogFileValidation:    aws.Bool(d.EnableLogFileValidation),
		IsOrganizationTrail:        aws.Bool(d.IsOrganizationTrail),
		S3KeyPrefix:                nonEmpty(d.S3KeyPrefix),
		SnsTopicName:               nonEmpty(d.SnsTopicARN),
		KmsKeyId:                   nonEmpty(d.KmsKeyID),
		CloudWatchLogsLogGroupArn:  nonEmpty(d.CloudWatchLogsLogGroupArn),
		CloudWatchLogsRoleArn:      nonEmpty(d.CloudWatchLogsRoleArn),
		TagsList:                   tagList(d.tagsWithManaged()),
	}
	var out *cloudtrail.CreateTrailOutput
	err := e.withPropagation(ctx, roleCreated, func() error {
		rep.call("cloudtrail:CreateTrail", true)
		var err error
		out, err = e.CloudTrail.CreateTrail(ctx, in)
		return err
	})
	if fault.IsAPIError(err, "TrailAlreadyExistsException") {
		rep.Created = false
		rep.Changes = rep.Changes[:0]
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create trail %s: %w", d.Name, err)
	}
	rep.TrailARN = aws.ToString(out.TrailARN)
	rep.Result = &types.Trail{
		Name: out.Name, S3BucketName: out.S3BucketName, S3KeyPrefix: out.S3KeyPrefix,
		//lint:ignore SA1019 kept so the CLI can print the trail as create-trail does
		SnsTopicName: out.SnsTopicName, SnsTopicARN: out.SnsTopicARN, IncludeGlobalServiceEvents: out.IncludeGlobalServiceEvents,
		IsMultiRegionTrail: out.IsMultiRegionTrail, TrailARN: out.TrailARN, LogFileValidationEnabled: out.LogFileValidationEnabled,
		KmsKeyId: out.KmsKeyId, IsOrganizationTrail: out.IsOrganizationTrail,
		CloudWatchLogsLogGroupArn: out.CloudWatchLogsLogGroupArn, CloudWatchLogsRoleArn: out.CloudWatchLogsRoleArn,
		HomeRegion: aws.String(e.Region),
	}
	rep.call("cloudtrail:PutEventSelectors", true)
	if _, err := e.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
		TrailName: out.TrailARN, AdvancedEventSelectors: d.AdvancedEventSelectors,
	}); err != nil {
		return true, fmt.Errorf("put event selectors on %s: %w", d.Name, err)
	}
	if len(d.InsightTypes) > 0 {
		rep.call("cloudtrail:PutInsightSelectors", true)
		if _, err := e.CloudTrail.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{
			TrailName: out.TrailARN, InsightSelectors: insightSelectors(d.InsightTypes),
		}); err != nil {
			return true, fmt.Errorf("put insight selectors on %s: %w", d.Name, err)
		}
	}
	rep.call("cloudtrail:StartLogging", true)
	if _, err := e.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: out.TrailARN}); err != nil {
		return true, fmt.Errorf("start logging on %s: %w", d.Name, err)
	}
	rep.IsLogging = true
	rep.change("logging", "", "started")
	return true, nil
}

func (e *Engine) update(ctx context.Context, d *Desired, live *types.Trail, rep *Report, opt Options) error {
	arn := aws.ToString(live.TrailARN)
	rep.TrailARN = arn
	rep.Result = live

	// Reads first, so a plan shows the whole difference.
	rep.call("cloudtrail:GetEventSelectors", false)
	sel, err := e.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("get event selectors of %s: %w", d.Name, err)
	}
	rep.call("cloudtrail:GetInsightSelectors", false)
	var liveInsights []types.InsightType
	ins, err := e.CloudTrail.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String(arn)})
	switch {
	case err == nil:
		for _, s := range ins.InsightSelectors {
			liveInsights = append(liveInsights, s.InsightType)
		}
	case fault.IsAPIError(err, "InsightNotEnabledException"):
	default:
		return fmt.Errorf("get insight selectors of %s: %w", d.Name, err)
	}
	rep.call("cloudtrail:ListTags", false)
	tags, err := e.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{arn}})
	if err != nil {
		return fmt.Errorf("list tags of %s: %w", d.Name, err)
	}
	liveTags := map[string]string{}
	for _, rt := range tags.ResourceTagList {
		for _, t := range rt.TagsList {
			liveTags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	rep.call("cloudtrail:GetTrailStatus", false)
	st, err := e.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("get trail status of %s: %w", d.Name, err)
	}
	rep.IsLogging = aws.ToBool(st.IsLogging)

	// The diff.
	trailDiff := diffTrail(d, live)
	for _, c := range trailDiff {
		rep.change(c.Field, c.From, c.To)
	}
	selDiff := !selectorsEqual(d.AdvancedEventSelectors, sel.AdvancedEventSelectors) || len(sel.EventSelectors) > 0
	if selDiff {
		rep.change("eventSelectors", describeSelectors(sel.EventSelectors, sel.AdvancedEventSelectors), describeSelectors(nil, d.AdvancedEventSelectors))
	}
	insDiff := !insightsEqual(d.InsightTypes, liveInsights)
	if insDiff {
		rep.change("insightSelectors", joinInsights(liveInsights), joinInsights(d.InsightTypes))
	}
	want := d.tagsWithManaged()
	var add []types.Tag
	for _, k := range sortedKeys(want) {
		if v, ok := liveTags[k]; !ok || v != want[k] {
			add = append(add, types.Tag{Key: aws.String(k), Value: aws.String(want[k])})
			rep.change("tags."+k, liveTags[k], want[k])
		}
	}
	var remove []types.Tag
	for _, k := range strings.Split(liveTags[ManagedTagsKey], ",") {
		if _, still := want[k]; k != "" && !still {
			if v, ok := liveTags[k]; ok {
				remove = append(remove, types.Tag{Key: aws.String(k), Value: aws.String(v)})
				rep.change("tags."+k, v, "")
			}
		}
	}
	if !rep.IsLogging {
		rep.change("logging", "stopped", "started")
	}
	// CloudTrail reports a failing CloudWatch Logs delivery (a deleted group,
	// a role whose policy or trust was changed) only here: re-apply the
	// group and the role. The error stays until CloudTrail delivers again,
	// so until then each converge re-applies them (idempotent writes).
	logsBroken := d.Logs != nil && d.CloudWatchLogsLogGroupArn != "" && aws.ToString(st.LatestCloudWatchLogsDeliveryError) != ""
	if logsBroken {
		rep.change("cloudWatchLogsDelivery", aws.ToString(st.LatestCloudWatchLogsDeliveryError), "log group and role re-applied")
	}
	if opt.DryRun {
		return nil
	}
	logsEnsured := false

	// The writes, only for what differs.
	if len(trailDiff) > 0 {
		roleCreated := false
		if d.Logs != nil && (aws.ToString(live.CloudWatchLogsLogGroupArn) != d.CloudWatchLogsLogGroupArn ||
			aws.ToString(live.CloudWatchLogsRoleArn) != d.CloudWatchLogsRoleArn) {
			if roleCreated, err = e.ensureLogs(ctx, d.Logs, rep); err != nil {
				return err
			}
			logsEnsured = true
		}
		in := &cloudtrail.UpdateTrailInput{
			Name:                       aws.String(arn),
			S3BucketName:               aws.String(d.S3BucketName),
			S3KeyPrefix:                aws.String(d.S3KeyPrefix),
			SnsTopicName:               aws.String(d.SnsTopicARN),
			IsMultiRegionTrail:         aws.Bool(d.IsMultiRegionTrail),
			IncludeGlobalServiceEvents: aws.Bool(d.IncludeGlobalServiceEvents),
			EnableLogFileValidation:    aws.Bool(d.EnableLogFileValidation),
			KmsKeyId:                   aws.String(d.KmsKeyID),
			CloudWatchLogsLogGroupArn:  aws.String(d.CloudWatchLogsLogGroupArn),
			CloudWatchLogsRoleArn:      aws.String(d.CloudWatchLogsRoleArn),
			IsOrganizationTrail:        aws.Bool(d.IsOrganizationTrail),
		}
		var out *cloudtrail.UpdateTrailOutput
		err := e.withPropagation(ctx, roleCreated, func() error {
			rep.call("cloudtrail:UpdateTrail", true)
			var err error
			out, err = e.CloudTrail.UpdateTrail(ctx, in)
			return err
		})
		if err != nil {
			return fmt.Errorf("update trail %s: %w", d.Name, err)
		}
		rep.Result = &types.Trail{
			Name: out.Name, S3BucketName: out.S3BucketName, S3KeyPrefix: out.S3KeyPrefix,
			//lint:ignore SA1019 kept so the CLI can print the trail as create-trail does
			SnsTopicName: out.SnsTopicName, SnsTopicARN: out.SnsTopicARN, IncludeGlobalServiceEvents: out.IncludeGlobalServiceEvents,
			IsMultiRegionTrail: out.IsMultiRegionTrail, TrailARN: out.TrailARN, LogFileValidationEnabled: out.LogFileValidationEnabled,
			KmsKeyId: out.KmsKeyId, IsOrganizationTrail: out.IsOrganizationTrail,
			CloudWatchLogsLogGroupArn: out.CloudWatchLogsLogGroupArn, CloudWatchLogsRoleArn: out.CloudWatchLogsRoleArn,
			HomeRegion: live.HomeRegion,
		}
	}
	if logsBroken && !logsEnsured {
		if _, err := e.ensureLogs(ctx, d.Logs, rep); err != nil {
			return err
		}
	}
	if selDiff {
		rep.call("cloudtrail:PutEventSelectors", true)
		if _, err := e.CloudTrail.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{
			TrailName: aws.String(arn), AdvancedEventSelectors: d.AdvancedEventSelectors,
		}); err != nil {
			return fmt.Errorf("put event selectors on %s: %w", d.Name, err)
		}
	}
	if insDiff {
		rep.call("cloudtrail:PutInsightSelectors", true)
		if _, err := e.CloudTrail.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{
			TrailName: aws.String(arn), InsightSelectors: insightSelectors(d.InsightTypes),
		}); err != nil {
			return fmt.Errorf("put insight selectors on %s: %w", d.Name, err)
		}
	}
	if len(add) > 0 {
		rep.call("cloudtrail:AddTags", true)
		if _, err := e.CloudTrail.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: add}); err != nil {
			return fmt.Errorf("add tags to %s: %w", d.Name, err)
		}
	}
	if len(remove) > 0 {
		rep.call("cloudtrail:RemoveTags", true)
		if _, err := e.CloudTrail.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arn), TagsList: remove}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", d.Name, err)
		}
	}
	if !rep.IsLogging {
		rep.call("cloudtrail:StartLogging", true)
		if _, err := e.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)}); err != nil {
			return fmt.Errorf("start logging on %s: %w", d.Name, err)
		}
		rep.IsLogging = true
	}
	return nil
}

// ensureLogs creates the log group and the delivery role, idempotently. It
// reports whether the role was created now (so CloudTrail may not see it yet).
func (e *Engine) ensureLogs(ctx context.Context, l *LogsSetup, rep *Report) (bool, error) {
	if e.IAM == nil || e.Logs == nil {
		return false, fault.NeedsHumanf("NoLogsClients", "CloudWatch Logs delivery is on but the engine has no IAM/Logs clients")
	}
	rep.call("logs:CreateLogGroup", true)
	if _, err := e.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(l.LogGroupName)}); err != nil &&
		!fault.IsAPIError(err, "ResourceAlreadyExistsException") {
		return false, fmt.Errorf("create log group %s: %w", l.LogGroupName, err)
	}
	if l.RetentionDays > 0 {
		rep.call("logs:PutRetentionPolicy", true)
		if _, err := e.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(l.LogGroupName), RetentionInDays: aws.Int32(l.RetentionDays),
		}); err != nil {
			return false, fmt.Errorf("set retention of %s: %w", l.LogGroupName, err)
		}
	}
	created := true
	rep.call("iam:CreateRole", true)
	in := &iam.CreateRoleInput{
		RoleName:                 aws.String(l.RoleName),
		AssumeRolePolicyDocument: aws.String(l.TrustPolicy),
		Description:              nonEmpty(l.RoleDescription),
		Path:                     nonEmpty(l.RolePath),
		PermissionsBoundary:      nonEmpty(l.PermissionsBound),
	}
	if _, err := e.IAM.CreateRole(ctx, in); err != nil {
		if !fault.IsAPIError(err, "EntityAlreadyExists") {
			return false, fmt.Errorf("create role %s: %w", l.RoleName, err)
		}
		created = false
		// The role exists: make sure CloudTrail may still assume it.
		rep.call("iam:UpdateAssumeRolePolicy", true)
		if _, err := e.IAM.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{
			RoleName: aws.String(l.RoleName), PolicyDocument: aws.String(l.TrustPolicy),
		}); err != nil {
			return false, fmt.Errorf("reset trust policy of role %s: %w", l.RoleName, err)
		}
	}
	rep.call("iam:PutRolePolicy", true)
	if _, err := e.IAM.PutRolePolicy(ctx, &iam.PutRolePolicyInput{
		RoleName: aws.String(l.RoleName), PolicyName: aws.String(l.RolePolicyName), PolicyDocument: aws.String(l.RolePolicy),
	}); err != nil {
		return false, fmt.Errorf("put policy on role %s: %w", l.RoleName, err)
	}
	return created, nil
}

// propagationCodes are CloudTrail's answers while a new role is not yet
// visible to it.
var propagationCodes = []string{"InvalidCloudWatchLogsRoleArnException", "CloudWatchLogsDeliveryUnavailableException", "InvalidCloudWatchLogsLogGroupArnException"}

func (e *Engine) withPropagation(ctx context.Context, roleCreated bool, fn func() error) error {
	retries := e.PropagationRetries
	if retries <= 0 {
		retries = 6
	}
	sleep := e.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	delay := time.Second
	for attempt := 0; ; attempt++ {
		err := fn()
		if err == nil || !roleCreated || attempt >= retries || !isPropagation(err) {
			// Only a role created in this run may still be propagating; an
			// older role that CloudTrail refuses needs a human (its fault
			// code says needs-human or unknown).
			if err != nil && roleCreated && isPropagation(err) {
				return fault.New(fault.Retryable, "RolePropagation", err)
			}
			return err
		}
		if serr := sleep(ctx, delay); serr != nil {
			return errors.Join(err, serr)
		}
		if delay < 16*time.Second {
			delay *= 2
		}
	}
}

func isPropagation(err error) bool {
	for _, c := range propagationCodes {
		if fault.IsAPIError(err, c) {
			return true
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

func tagList(m map[string]string) []types.Tag {
	out := make([]types.Tag, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, types.Tag{Key: aws.String(k), Value: aws.String(m[k])})
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func insightSelectors(ts []types.InsightType) []types.InsightSelector {
	out := make([]types.InsightSelector, 0, len(ts))
	for _, t := range ts {
		out = append(out, types.InsightSelector{InsightType: t})
	}
	return out
}
