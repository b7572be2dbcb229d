package enabler_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/internal/central"
	"github.com/trailwarden/trailwarden/internal/emulator"
	"github.com/trailwarden/trailwarden/internal/flow"
	"github.com/trailwarden/trailwarden/shared/converge"
	"github.com/trailwarden/trailwarden/shared/enabler"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// racingCloudTrail holds every CreateTrail until `want` callers have
// arrived, so that all of them read "no trail" before any creates it, then
// lets them all call at once: the emulator checks the name and creates the
// trail in one step, as AWS does, so the race for CreateTrail is lost by
// all but one, every time, with TrailAlreadyExistsException.
type racingCloudTrail struct {
	converge.CloudTrailAPI
	gate    *raceGate
	lost    *atomic.Int32
	created *atomic.Int32
}

type raceGate struct {
	mu      sync.Mutex
	arrived int
	want    int
	open    chan struct{}
}

func (g *raceGate) wait(ctx context.Context) error {
	g.mu.Lock()
	g.arrived++
	if g.arrived == g.want {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return nil
	case <-time.After(30 * time.Second):
		return errors.New("race gate: the other processor never reached CreateTrail")
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *racingCloudTrail) CreateTrail(ctx context.Context, in *cloudtrail.CreateTrailInput, o ...func(*cloudtrail.Options)) (*cloudtrail.CreateTrailOutput, error) {
	if err := r.gate.wait(ctx); err != nil {
		return nil, err
	}
	out, err := r.CloudTrailAPI.CreateTrail(ctx, in, o...)
	if fault.IsAPIError(err, "TrailAlreadyExistsException") {
		r.lost.Add(1)
	} else if err == nil {
		r.created.Add(1)
	}
	return out, err
}

// TestConcurrentEnablesLoseTheCreateRaceSafely: two enabler processors
// handle two deliveries of one CreateAccountResult at the same time, in
// real goroutines against the emulator; a hook holds both CreateTrail calls
// until both processors have read "no trail". One creates the trail, the
// other gets TrailAlreadyExistsException and must absorb it (re-read,
// continue as an update): both records succeed and the account has exactly
// one trail. Without the absorb in converge this fails every time.
func TestConcurrentEnablesLoseTheCreateRaceSafely(t *testing.T) {
	h := newHarness(t, emulator.WorldSpec{}, central.PolicyOptions{})
	member := h.env.MustMember("member-1").ID
	gate := &raceGate{want: 2, open: make(chan struct{})}
	var lost, created atomic.Int32
	hook := func(cfg aws.Config) *converge.Engine {
		e := enabler.NewEngine(cfg)
		e.CloudTrail = &racingCloudTrail{CloudTrailAPI: e.CloudTrail, gate: gate, lost: &lost, created: &created}
		return e
	}
	procs := []*enabler.Processor{h.proc,
		flow.Enabler(h.env.Management, h.env.Logging.Config, h.res, h.proc.Policy, flow.EnablerOptions{Sessions: h.sessions, Out: &bytes.Buffer{}})}
	h.proc.Logger = nil // the shared buffer is not safe for two writers
	body := fixture(t, "organizations/create-account-result-succeeded.json", "333333333333", member, "111111111111", emulator.ManagementAccountID)
	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		p.NewEngine = hook
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Record(t.Context(), events.SQSMessage{MessageId: "race-" + string(rune('a'+i)), Body: body, EventSource: "aws:sqs"})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("processor %d: %v", i, err)
		}
	}
	if created.Load() != 1 || lost.Load() != 1 {
		t.Fatalf("created %d, lost %d: the race was not forced", created.Load(), lost.Load())
	}
	cfg, err := h.env.Assume(t.Context(), member, "")
	if err != nil {
		t.Fatal(err)
	}
	out, err := cloudtrail.NewFromConfig(cfg).DescribeTrails(t.Context(), &cloudtrail.DescribeTrailsInput{})
	if err != nil || len(out.TrailList) != 1 {
		t.Fatalf("trails %d, %v", len(out.TrailList), err)
	}
	h.assertEnabled(member)
}
