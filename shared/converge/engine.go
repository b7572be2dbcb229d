package converge

import (
	"context"

	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/trailwarden/trailwarden/shared/policy"

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

// LogsAPI is the part of the CloudWatch Logs client the engine calls.
type LogsAPI interface {
	CreateLogGroup(ctx context.Context, in *cloudwatchlogs.CreateLogGroupInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.CreateLogGroupOutput, error)
	PutRetentionPolicy(ctx context.Context, in *cloudwatchlogs.PutRetentionPolicyInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutRetentionPolicyOutput, error)
}

var (
	_ CloudTrailAPI = (*cloudtrail.Client)(nil)
	_ LogsAPI       = (*cloudwatchlogs.Client)(nil)
)

// Engine converges trails through the clients of one account and Region
// (the trail's home Region). It writes no IAM: the CloudWatch Logs delivery
// role is created by the member template (policy.LogsRoleName).
type Engine struct {
	CloudTrail CloudTrailAPI
	Logs       LogsAPI // needed only when Desired.Logs is set
	// Region is the clients' Region: the trail's home Region.
	Region string
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
	if d == nil || d.CreateTrail.Name == "" {
		return nil, fault.Poisonf("InvalidDesired", "converge: no trail name")
	}
	name := d.CreateTrail.Name
	rep := &Report{Trail: name, Region: e.Region, DryRun: opt.DryRun, Changes: []Change{}, Calls: []string{}}

	live, err := e.getTrail(ctx, name, rep)
	if err != nil {
		return rep, err
	}
	if live == nil {
		if opt.DryRun {
			rep.Created = true
			rep.change("trail", "", "create "+name)
			rep.change("logging", "", "started")
			return rep, nil
		}
		created, err := e.create(ctx, d, rep)
		if err != nil || created {
			return rep, err
		}
		// A concurrent converge created it first: re-read and continue.
		if live, err = e.getTrail(ctx, name, rep); err != nil {
			return rep, err
		}
		if live == nil {
			// CreateTrail says the name is taken, yet this Region has no such
			// trail: a trail of that name lives in another Region.
			return rep, &TrailInOtherRegionError{Name: name, HomeRegion: "another Region", WantRegion: e.Region}
		}
	}
	return rep, e.update(ctx, d, live, rep, opt)
}

// getTrail reads the trail; nil when there is none.
func (e *Engine) getTrail(ctx context.Context, name string, rep *Report) (*types.Trail, error) {
	rep.call("cloudtrail:GetTrail", false)
	got, err := e.CloudTrail.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(name)})
	switch {
	case fault.IsAPIError(err, "TrailNotFoundException"):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("get trail %s: %w", name, err)
	}
	live := got.Trail
	if live != nil && live.HomeRegion != nil && e.Region != "" && *live.HomeRegion != e.Region {
		return nil, &TrailInOtherRegionError{Name: name, HomeRegion: *live.HomeRegion, WantRegion: e.Region}
	}
	return live, nil
}

// create makes a new trail. It returns false (and no error) when another
// writer created the trail concurrently.
func (e *Engine) create(ctx context.Context, d *Desired, rep *Report) (bool, error) {
	name := d.CreateTrail.Name
	rep.Created = true
	rep.change("trail", "", "create "+name)
	if d.Logs != nil {
		if err := e.ensureLogGroup(ctx, d.Logs, rep); err != nil {
			return false, err
		}
	}
	rep.call("cloudtrail:CreateTrail", true)
	out, err := e.CloudTrail.CreateTrail(ctx, d.CreateTrailInput())
	if fault.IsAPIError(err, "TrailAlreadyExistsException") {
		rep.Created = false
		rep.Changes = rep.Changes[:0]
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("create trail %s: %w", name, err)
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
	p := &plan{selectors: true, insights: len(d.PutInsightSelectors.InsightSelectors) > 0, startLogging: true}
	if err := e.applySelectors(ctx, d, rep.TrailARN, p, rep); err != nil {
		return true, err
	}
	if err := e.startLogging(ctx, name, rep.TrailARN, rep); err != nil {
		return true, err
	}
	rep.change("logging", "", "started")
	return true, nil
}

// update reads an existing trail's state, diffs it with d and, unless this
// is a dry run, applies the difference.
func (e *Engine) update(ctx context.Context, d *Desired, live *types.Trail, rep *Report, opt Options) error {
	rep.TrailARN = aws.ToString(live.TrailARN)
	rep.Result = live
	st, err := e.read(ctx, d.CreateTrail.Name, live, rep)
	if err != nil {
		return err
	}
	p := diff(d, st, rep)
	if opt.DryRun {
		return nil
	}
	return e.apply(ctx, d, st, p, rep)
}

// liveState is everything the engine reads of an existing trail.
type liveState struct {
	trail      *types.Trail
	basic      []types.EventSelector
	advanced   []types.AdvancedEventSelector
	insights   []types.InsightType
	tags       map[string]string
	logging    bool
	logsDelErr string // LatestCloudWatchLogsDeliveryError
}

// read makes the engine's read calls, all before any write so a plan shows
// the whole difference.
func (e *Engine) read(ctx context.Context, name string, live *types.Trail, rep *Report) (*liveState, error) {
	arn := aws.String(aws.ToString(live.TrailARN))
	st := &liveState{trail: live, tags: map[string]string{}}
	rep.call("cloudtrail:GetEventSelectors", false)
	sel, err := e.CloudTrail.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: arn})
	if err != nil {
		return nil, fmt.Errorf("get event selectors of %s: %w", name, err)
	}
	st.basic, st.advanced = sel.EventSelectors, sel.AdvancedEventSelectors
	rep.call("cloudtrail:GetInsightSelectors", false)
	ins, err := e.CloudTrail.GetInsightSelectors(ctx, &cloudtrail.GetInsightSelectorsInput{TrailName: arn})
	switch {
	case err == nil:
		for _, s := range ins.InsightSelectors {
			st.insights = append(st.insights, s.InsightType)
		}
	case fault.IsAPIError(err, "InsightNotEnabledException"):
	default:
		return nil, fmt.Errorf("get insight selectors of %s: %w", name, err)
	}
	rep.call("cloudtrail:ListTags", false)
	tags, err := e.CloudTrail.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: []string{*arn}})
	if err != nil {
		return nil, fmt.Errorf("list tags of %s: %w", name, err)
	}
	for _, rt := range tags.ResourceTagList {
		for _, t := range rt.TagsList {
			st.tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	rep.call("cloudtrail:GetTrailStatus", false)
	status, err := e.CloudTrail.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: arn})
	if err != nil {
		return nil, fmt.Errorf("get trail status of %s: %w", name, err)
	}
	st.logging = aws.ToBool(status.IsLogging)
	st.logsDelErr = aws.ToString(status.LatestCloudWatchLogsDeliveryError)
	rep.IsLogging = st.logging
	return st, nil
}

// plan is what apply writes.
type plan struct {
	trail        bool
	logGroup     bool // create the log group before the trail points at it
	selectors    bool
	insights     bool
	addTags      []types.Tag
	removeTags   []types.Tag
	startLogging bool
}

// diff compares the live state with d, records every difference in rep and
// returns the writes that remove them.
func diff(d *Desired, st *liveState, rep *Report) *plan {
	p := &plan{}
	for _, c := range diffTrail(d, st.trail) {
		rep.change(c.Field, c.From, c.To)
		p.trail = true
	}
	want := d.SDKAdvancedEventSelectors()
	if !selectorsEqual(want, st.advanced) || len(st.basic) > 0 {
		rep.change("eventSelectors", describeSelectors(st.basic, st.advanced), describeSelectors(nil, want))
		p.selectors = true
	}
	if wantIns := d.InsightTypes(); !insightsEqual(wantIns, st.insights) {
		rep.change("insightSelectors", joinInsights(st.insights), joinInsights(wantIns))
		p.insights = true
	}
	p.addTags, p.removeTags = diffTags(d.CreateTrail.TagsList, st.tags, rep)
	if !st.logging {
		rep.change("logging", "stopped", "started")
		p.startLogging = true
	}
	if d.Logs != nil {
		// CloudTrail reports a failing CloudWatch Logs delivery (a deleted
		// group) only in GetTrailStatus: re-create the group. The error stays
		// until CloudTrail delivers again, so until then each converge
		// re-applies it (idempotent writes).
		if st.logsDelErr != "" {
			rep.change("cloudWatchLogsDelivery", st.logsDelErr, "log group re-applied")
			p.logGroup = true
		}
		if aws.ToString(st.trail.CloudWatchLogsLogGroupArn) != d.CreateTrail.CloudWatchLogsLogGroupArn {
			p.logGroup = true
		}
	}
	return p
}

// diffTags returns the tags to add (missing or with another value) and the
// live tags to remove: those trailwarden set earlier (per the live
// ManagedTagsKey) that d no longer has. Tags others set are left alone.
func diffTags(want []policy.Tag, live map[string]string, rep *Report) (add, remove []types.Tag) {
	wanted := make(map[string]bool, len(want))
	for _, t := range want {
		wanted[t.Key] = true
		if v, ok := live[t.Key]; !ok || v != t.Value {
			add = append(add, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
			rep.change("tags."+t.Key, live[t.Key], t.Value)
		}
	}
	managed := policy.ParseManagedTags(live[ManagedTagsKey])
	for _, k := range sortedKeys(live) {
		if !wanted[k] && managed.Manages(k) {
			remove = append(remove, types.Tag{Key: aws.String(k), Value: aws.String(live[k])})
			rep.change("tags."+k, live[k], "")
		}
	}
	return add, remove
}

// apply makes the writes p lists, in an order that keeps the trail valid:
// the log group before the trail points at it, the trail before its
// selectors, logging last.
func (e *Engine) apply(ctx context.Context, d *Desired, st *liveState, p *plan, rep *Report) error {
	name, arn := d.CreateTrail.Name, aws.ToString(st.trail.TrailARN)
	if p.logGroup {
		if err := e.ensureLogGroup(ctx, d.Logs, rep); err != nil {
			return err
		}
	}
	if p.trail {
		in := d.UpdateTrailInput()
		in.Name = aws.String(arn)
		rep.call("cloudtrail:UpdateTrail", true)
		out, err := e.CloudTrail.UpdateTrail(ctx, in)
		if err != nil {
			return fmt.Errorf("update trail %s: %w", name, err)
		}
		rep.Result = &types.Trail{
			Name: out.Name, S3BucketName: out.S3BucketName, S3KeyPrefix: out.S3KeyPrefix,
			//lint:ignore SA1019 kept so the CLI can print the trail as create-trail does
			SnsTopicName: out.SnsTopicName, SnsTopicARN: out.SnsTopicARN, IncludeGlobalServiceEvents: out.IncludeGlobalServiceEvents,
			IsMultiRegionTrail: out.IsMultiRegionTrail, TrailARN: out.TrailARN, LogFileValidationEnabled: out.LogFileValidationEnabled,
			KmsKeyId: out.KmsKeyId, IsOrganizationTrail: out.IsOrganizationTrail,
			CloudWatchLogsLogGroupArn: out.CloudWatchLogsLogGroupArn, CloudWatchLogsRoleArn: out.CloudWatchLogsRoleArn,
			HomeRegion: st.trail.HomeRegion,
		}
	}
	if err := e.applySelectors(ctx, d, arn, p, rep); err != nil {
		return err
	}
	// Remove before adding: a trail holds at most 50 tags, and a policy at
	// its limit that swaps a key would otherwise exceed it.
	if len(p.removeTags) > 0 {
		rep.call("cloudtrail:RemoveTags", true)
		if _, err := e.CloudTrail.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: aws.String(arn), TagsList: p.removeTags}); err != nil {
			return fmt.Errorf("remove tags from %s: %w", name, err)
		}
	}
	if len(p.addTags) > 0 {
		rep.call("cloudtrail:AddTags", true)
		if _, err := e.CloudTrail.AddTags(ctx, &cloudtrail.AddTagsInput{ResourceId: aws.String(arn), TagsList: p.addTags}); err != nil {
			return fmt.Errorf("add tags to %s: %w", name, err)
		}
	}
	if p.startLogging {
		return e.startLogging(ctx, name, arn, rep)
	}
	return nil
}

// applySelectors writes the event and Insights selectors p marks, on the
// trail's ARN.
func (e *Engine) applySelectors(ctx context.Context, d *Desired, arn string, p *plan, rep *Report) error {
	name := d.CreateTrail.Name
	if p.selectors {
		in := d.PutEventSelectorsInput()
		in.TrailName = aws.String(arn)
		rep.call("cloudtrail:PutEventSelectors", true)
		if _, err := e.CloudTrail.PutEventSelectors(ctx, in); err != nil {
			return fmt.Errorf("put event selectors on %s: %w", name, err)
		}
	}
	if p.insights {
		in := d.PutInsightSelectorsInput()
		in.TrailName = aws.String(arn)
		rep.call("cloudtrail:PutInsightSelectors", true)
		if _, err := e.CloudTrail.PutInsightSelectors(ctx, in); err != nil {
			return fmt.Errorf("put insight selectors on %s: %w", name, err)
		}
	}
	return nil
}

func (e *Engine) startLogging(ctx context.Context, name, arn string, rep *Report) error {
	rep.call("cloudtrail:StartLogging", true)
	if _, err := e.CloudTrail.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)}); err != nil {
		return fmt.Errorf("start logging on %s: %w", name, err)
	}
	rep.IsLogging = true
	return nil
}

// ensureLogGroup creates the log group and sets its retention, idempotently.
// The delivery role is the member template's (policy.LogsRoleName).
func (e *Engine) ensureLogGroup(ctx context.Context, l *policy.LogsSetup, rep *Report) error {
	if e.Logs == nil {
		return fault.NeedsHumanf("NoLogsClient", "CloudWatch Logs delivery is on but the engine has no CloudWatch Logs client")
	}
	rep.call("logs:CreateLogGroup", true)
	if _, err := e.Logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(l.LogGroupName)}); err != nil &&
		!fault.IsAPIError(err, "ResourceAlreadyExistsException") {
		return fmt.Errorf("create log group %s: %w", l.LogGroupName, err)
	}
	if l.RetentionDays > 0 {
		rep.call("logs:PutRetentionPolicy", true)
		if _, err := e.Logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(l.LogGroupName), RetentionInDays: aws.Int32(l.RetentionDays),
		}); err != nil {
			return fmt.Errorf("set retention of %s: %w", l.LogGroupName, err)
		}
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
