package sqsbatch

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/trailwarden/trailwarden/shared/fault"
)

func batch(ids ...string) events.SQSEvent {
	var ev events.SQSEvent
	for _, id := range ids {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: id, Body: id,
			Attributes: map[string]string{"ApproximateReceiveCount": "3"}})
	}
	return ev
}

func TestRunReportsOnlyFailedRecords(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	fn := func(_ context.Context, rec events.SQSMessage) error {
		switch rec.Body {
		case "poison":
			return fault.Poisonf("MalformedEvent", "not JSON")
		case "retry":
			return fault.Retryablef("Throttled", "slow down")
		case "panic":
			var m map[string]int
			//lint:ignore SA5000 the nil map write is the point: a real panic in a handler
			m["x"] = 1
		case "plain":
			return errors.New("unclassified")
		}
		return nil
	}
	res := Run(context.Background(), batch("ok1", "poison", "retry", "panic", "plain", "ok2"), fn, Options{Logger: logger})
	got := res.Response()
	var ids []string
	for _, f := range got.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	if strings.Join(ids, ",") != "poison,retry,panic,plain" {
		t.Fatalf("failures = %v", ids)
	}
	kinds := map[string]fault.Kind{}
	for _, o := range res.Outcomes {
		kinds[o.MessageID] = o.Kind
	}
	if kinds["poison"] != fault.Poison || kinds["panic"] != fault.Poison || kinds["retry"] != fault.Retryable || kinds["plain"] != fault.Unknown {
		t.Errorf("kinds = %v", kinds)
	}
	if res.Failed() != 4 {
		t.Errorf("Failed() = %d", res.Failed())
	}
	if !strings.Contains(logs.String(), `"messageId":"panic"`) || !strings.Contains(logs.String(), `"receiveCount":"3"`) {
		t.Errorf("log lacks record context: %s", logs.String())
	}
}

func TestRunAllSucceedGivesEmptyFailureList(t *testing.T) {
	res := Run(context.Background(), batch("a", "b"), func(context.Context, events.SQSMessage) error { return nil }, Options{})
	resp := res.Response()
	if resp.BatchItemFailures == nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("want empty non-nil list, got %#v", resp.BatchItemFailures)
	}
}

func TestRunStopsBeforeDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	fn := func(context.Context, events.SQSMessage) error {
		calls++
		time.Sleep(150 * time.Millisecond)
		return nil
	}
	res := Run(ctx, batch("a", "b", "c", "d"), fn, Options{Reserve: 100 * time.Millisecond})
	if calls == 4 || calls == 0 {
		t.Fatalf("calls = %d, want some but not all", calls)
	}
	if res.Failed() != 4-calls {
		t.Fatalf("skipped records must be failures: failed=%d calls=%d", res.Failed(), calls)
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{{0, 30 * time.Second}, {1, 30 * time.Second}, {2, time.Minute}, {4, 4 * time.Minute}, {20, 15 * time.Minute}}
	for _, c := range cases {
		if got := Backoff(c.n, 30*time.Second, 15*time.Minute); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func TestReceiveCount(t *testing.T) {
	for in, want := range map[string]int{"": 1, "x": 1, "0": 1, "1": 1, "7": 7} {
		rec := events.SQSMessage{Attributes: map[string]string{"ApproximateReceiveCount": in}}
		if got := ReceiveCount(rec); got != want {
			t.Errorf("ReceiveCount(%q) = %d, want %d", in, got, want)
		}
	}
}
