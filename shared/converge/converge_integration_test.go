package converge_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/fault"
	"github.com/trailwarden/trailwarden/shared/policy"
)

func TestMain(m *testing.M) { emulator.RunTests(m) }

// callCounter counts the API calls a set of clients really send.
type callCounter struct {
	mu    sync.Mutex
	calls []string
}

func (c *callCounter) option(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			c.calls = append(c.calls, middleware.GetServiceID(ctx)+":"+middleware.GetOperationName(ctx))
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

func (c *callCounter) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.calls...)
}

type world struct {
	env     *emulator.Env
	central *central.Resources
	member  string
}

func setup(t *testing.T) *world {
	t.Helper()
	env := emulator.NewEnv(t)
	res, err := central.Provision(t.Context(), env.Logging.Config, env.Logging.Config, env.Logging.ID, env.Logging.ID, central.Spec{
		OrganizationID: env.OrganizationID, Bucket: "acme-org-cloudtrail", KeyPrefix: "cloudtrail", TrailName: "org-audit",
	})
	if err != nil {
		t.Fatal(err)
	}
	return &world{env: env, central: res, member: env.MustMember("member-1").ID}
}

// engine assumes the member role through STS (as the enabler does) and
// builds an engine whose clients count their calls.
func (w *world) engine(t *testing.T, counter *callCounter) *converge.Engine {
	t.Helper()
	base := w.env.Management
	if counter != nil {
		base = base.Copy()
		base.APIOptions = append(base.APIOptions, counter.option)
	}
	assumer := awsenv.NewAssumer(base, sts.NewFromConfig(base), "trailwarden")
	cfg, err := assumer.Config(t.Context(), w.member, emulator.AccessRoleName, "")
	if err != nil {
		t.Fatal(err)
	}
	return &converge.Engine{
		CloudTrail: cloudtrail.NewFromConfig(cfg), Logs: cloudwatchlogs.NewFromConfig(cfg), Region: cfg.Region,
	}
}

// desired renders the trail through the policy, as the enabler and the CLI
// do: the engine applies policy.Render's requests as they are.
func (w *world) desired(withLogs bool) *converge.Desired {
	extra := "  insights: {apiCallRate: true}\n"
	if withLogs {
		extra += "  cloudWatchLogs: {enabled: true, logGroup: /trailwarden/cloudtrail}\n"
	}
	pol, err := policy.Parse([]byte(w.central.PolicyYAML(central.PolicyOptions{
		OrganizationID: w.env.OrganizationID, ManagementAccount: emulator.ManagementAccountID, LoggingAccount: w.env.Logging.ID,
		MemberRole: policy.DefaultMemberRole, TrailExtra: extra,
	})))
	if err != nil {
		panic(err)
	}
	tr, err := pol.Effective(w.member, nil)
	if err != nil {
		panic(err)
	}
	r, err := policy.Render(tr, policy.RenderContext{Account: w.member, HomeRegion: w.env.Region})
	if err != nil {
		panic(err)
	}
	return r
}

func writes(calls []string) []string {
	var out []string
	for _, c := range calls {
		switch {
		case contains(c, ":Get"), contains(c, ":List"), contains(c, ":Describe"), contains(c, "AssumeRole"):
		default:
			out = append(out, c)
		}
	}
	return out
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestConvergeFreshAccountThenNoOp(t *testing.T) {
	w := setup(t)
	counter := &callCounter{}
	rep, err := w.engine(t, counter).Converge(t.Context(), w.desired(true), converge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls := counter.list()
	t.Logf("fresh account: %d calls: %v", len(calls), calls)
	if len(calls) > 12 {
		t.Errorf("budget: a new account with CloudWatch Logs took %d calls, want ≤ 12", len(calls))
	}
	if !rep.Created || !rep.IsLogging {
		t.Errorf("report: %+v", rep)
	}

	// The trail as CloudTrail reports it.
	e := w.engine(t, nil)
	got, err := e.CloudTrail.GetTrail(t.Context(), &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
	if err != nil {
		t.Fatal(err)
	}
	tr := got.Trail
	if aws.ToString(tr.S3BucketName) != w.central.Bucket || aws.ToString(tr.S3KeyPrefix) != "cloudtrail" ||
		aws.ToString(tr.SnsTopicARN) != w.central.DeliveriesTopicARN || !aws.ToBool(tr.IsMultiRegionTrail) ||
		!aws.ToBool(tr.LogFileValidationEnabled) || aws.ToString(tr.KmsKeyId) != w.central.KMSKeyARN ||
		aws.ToString(tr.CloudWatchLogsRoleArn) == "" {
		b, _ := json.Marshal(tr)
		t.Errorf("trail not as desired: %s", b)
	}

	// Second converge: no write call, ≤ 6 calls including AssumeRole.
	counter2 := &callCounter{}
	rep2, err := w.engine(t, counter2).Converge(t.Context(), w.desired(true), converge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	calls2 := counter2.list()
	t.Logf("no-op re-check: %d calls: %v", len(calls2), calls2)
	if wr := writes(calls2); len(wr) != 0 || rep2.Writes != 0 || rep2.Changed() {
		t.Errorf("re-converge wrote %v; changes %v", wr, rep2.Changes)
	}
	if len(calls2) > 6 {
		t.Errorf("budget: a no-op re-check took %d calls, want ≤ 6", len(calls2))
	}
}

func TestConvergeRepairsDrift(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		drift  func(ct *cloudtrail.Client) error
		expect string // a field in the change report
	}{
		{"logging stopped", func(ct *cloudtrail.Client) error {
			_, err := ct.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("org-audit")})
			return err
		}, "logging"},
		{"selectors changed", func(ct *cloudtrail.Client) error {
			_, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("org-audit"),
				EventSelectors: []types.EventSelector{{ReadWriteType: types.ReadWriteTypeReadOnly, IncludeManagementEvents: aws.Bool(true)}}})
			return err
		}, "eventSelectors"},
		{"KMS removed", func(ct *cloudtrail.Client) error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"), KmsKeyId: aws.String("")})
			return err
		}, "KmsKeyId"},
		{"SNS removed", func(ct *cloudtrail.Client) error {
			_, err := ct.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("org-audit"), SnsTopicName: aws.String("")})
			return err
		}, "SnsTopicARN"},
		{"tag removed", func(ct *cloudtrail.Client) error {
			trail, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("org-audit")})
			if err != nil {
				return err
			}
			_, err = ct.RemoveTags(ctx, &cloudtrail.RemoveTagsInput{ResourceId: trail.Trail.TrailARN,
				TagsList: []types.Tag{{Key: aws.String("owner")}}})
			return err
		}, "tags.owner"},
		{"insights turned off", func(ct *cloudtrail.Client) error {
			_, err := ct.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String("org-audit"), InsightSelectors: []types.InsightSelector{}})
			return err
		}, "insightSelectors"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := setup(t)
			e := w.engine(t, nil)
			if _, err := e.Converge(ctx, w.desired(false), converge.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := tc.drift(e.CloudTrail.(*cloudtrail.Client)); err != nil {
				t.Fatalf("drift: %v", err)
			}
			plan, err := e.Converge(ctx, w.desired(false), converge.Options{DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if !hasChange(plan, tc.expect) || plan.Writes != 0 {
				t.Fatalf("plan does not show %s (or wrote): %+v", tc.expect, plan)
			}
			rep, err := e.Converge(ctx, w.desired(false), converge.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !hasChange(rep, tc.expect) || rep.Writes == 0 {
				t.Fatalf("repair did not change %s: %+v", tc.expect, rep)
			}
			again, err := e.Converge(ctx, w.desired(false), converge.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Changed() || again.Writes != 0 {
				t.Fatalf("after repair, converge still changes: %+v", again.Changes)
			}
		})
	}
}

func hasChange(r *converge.Report, field string) bool {
	for _, c := range r.Changes {
		if c.Field == field {
			return true
		}
	}
	return false
}

func TestConcurrentConvergeLeavesOneTrail(t *testing.T) {
	w := setup(t)
	const n = 4
	var wg sync.WaitGroup
	var created atomic.Int32
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		e := w.engine(t, nil)
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rep, err := e.Converge(context.Background(), w.desired(false), converge.Options{})
			errs[i] = err
			if err == nil && rep.Created {
				created.Add(1)
			}
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent converge failed: %v", err)
		}
	}
	if created.Load() < 1 {
		t.Fatalf("no converge reports the creation")
	}
	e := w.engine(t, nil)
	out, err := e.CloudTrail.(*cloudtrail.Client).DescribeTrails(t.Context(), &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tr := range out.TrailList {
		names = append(names, aws.ToString(tr.Name))
	}
	sort.Strings(names)
	if len(names) != 1 || names[0] != "org-audit" {
		t.Fatalf("trails after concurrent converges: %v", names)
	}
}

func TestTrailAlreadyExistsIsAbsorbed(t *testing.T) {
	w := setup(t)
	e := w.engine(t, nil)
	ct := e.CloudTrail.(*cloudtrail.Client)
	// Someone else created a trail of our name with other settings.
	if _, err := ct.CreateTrail(t.Context(), &cloudtrail.CreateTrailInput{Name: aws.String("org-audit"), S3BucketName: aws.String(w.central.Bucket)}); err != nil {
		t.Fatal(err)
	}
	// A converge that believes the trail is missing (the race) must still end right.
	racy := &converge.Engine{CloudTrail: &notFoundOnce{CloudTrailAPI: ct}, Region: e.Region}
	rep, err := racy.Converge(t.Context(), w.desired(false), converge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created || !hasChange(rep, "KmsKeyId") {
		t.Fatalf("report after absorbed race: %+v", rep)
	}
}

// notFoundOnce is a fake for what moto cannot stage: a GetTrail that loses
// the race (answers TrailNotFound once although the trail exists).
type notFoundOnce struct {
	converge.CloudTrailAPI
	done bool
}

func (n *notFoundOnce) GetTrail(ctx context.Context, in *cloudtrail.GetTrailInput, opt ...func(*cloudtrail.Options)) (*cloudtrail.GetTrailOutput, error) {
	if !n.done {
		n.done = true
		return nil, &types.TrailNotFoundException{Message: aws.String("fake: lost the race")}
	}
	return n.CloudTrailAPI.GetTrail(ctx, in, opt...)
}

func TestTrailInOtherRegionIsTyped(t *testing.T) {
	w := setup(t)
	e := w.engine(t, nil)
	e.Region = "eu-west-1" // the policy's home Region differs from where the trail lives
	if _, err := w.engine(t, nil).Converge(t.Context(), w.desired(false), converge.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := e.Converge(t.Context(), w.desired(false), converge.Options{})
	var other *converge.TrailInOtherRegionError
	if !errorsAs(err, &other) || fault.KindOf(err) != fault.NeedsHuman {
		t.Fatalf("want TrailInOtherRegionError (needs-human), got %v (kind %v)", err, fault.KindOf(err))
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func TestSixthTrailIsTypedNeedsHuman(t *testing.T) {
	w := setup(t)
	e := w.engine(t, nil)
	ct := e.CloudTrail.(*cloudtrail.Client)
	for i := 0; i < 5; i++ {
		if _, err := ct.CreateTrail(t.Context(), &cloudtrail.CreateTrailInput{Name: aws.String(fmt.Sprintf("team-%d", i)), S3BucketName: aws.String(w.central.Bucket)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.Converge(t.Context(), w.desired(false), converge.Options{})
	if !fault.IsAPIError(err, "MaximumNumberOfTrailsExceededException") || fault.KindOf(err) != fault.NeedsHuman {
		t.Fatalf("want MaximumNumberOfTrailsExceededException classified needs-human, got %v (kind %v)", err, fault.KindOf(err))
	}
}

// TestBrokenCloudWatchLogsDeliveryIsRepaired: someone deletes the log
// group; CloudTrail reports LatestCloudWatchLogsDeliveryError (recorded here
// through the emulator's test-only control endpoint) and the next converge
// re-creates the group. It never touches IAM: the delivery role is the
// member template's.
func TestBrokenCloudWatchLogsDeliveryIsRepaired(t *testing.T) {
	w := setup(t)
	e := w.engine(t, nil)
	if _, err := e.Converge(t.Context(), w.desired(true), converge.Options{}); err != nil {
		t.Fatal(err)
	}
	logs := e.Logs.(*cloudwatchlogs.Client)
	const group = "/trailwarden/cloudtrail"
	if _, err := logs.DeleteLogGroup(t.Context(), &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"account":%q,"region":%q,"trailName":"org-audit","fields":{"LatestCloudWatchLogsDeliveryError":"ResourceNotFoundException"}}`, w.member, w.env.Region)
	resp, err := http.Post(w.env.Server.URL()+"/_trailwarden/trail-status", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("control endpoint: %v %v", resp, err)
	}
	resp.Body.Close()
	rep, err := e.Converge(t.Context(), w.desired(true), converge.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !hasChange(rep, "cloudWatchLogsDelivery") {
		t.Fatalf("no repair of the delivery: %+v", rep.Changes)
	}
	for _, c := range rep.Calls {
		if strings.HasPrefix(c, "iam:") {
			t.Errorf("converge called %s; it must make no IAM call", c)
		}
	}
	got, err := logs.DescribeLogGroups(t.Context(), &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String(group)})
	if err != nil || len(got.LogGroups) != 1 {
		t.Fatalf("log group not re-created: %+v %v", got, err)
	}
}
