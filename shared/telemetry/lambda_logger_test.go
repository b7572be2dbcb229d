package telemetry

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestNewLambdaLogger runs the logger in a child process (lambdacontext
// reads AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL when it starts):
// records carry the invocation's requestId and follow the level.
func TestNewLambdaLogger(t *testing.T) {
	if os.Getenv("TELEMETRY_LAMBDA_CHILD") == "1" {
		log := NewLambdaLogger("reconciler")
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "req-1"})
		log.DebugContext(ctx, "detail")
		log.InfoContext(ctx, "done", "enqueued", 3)
		return
	}
	for level, want := range map[string][]string{"INFO": {"done"}, "DEBUG": {"detail", "done"}, "ERROR": nil} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestNewLambdaLogger$")
		cmd.Env = append(os.Environ(), "TELEMETRY_LAMBDA_CHILD=1", "AWS_LAMBDA_LOG_FORMAT=JSON", "AWS_LAMBDA_LOG_LEVEL="+level)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%s", level, err, out)
		}
		var got []string
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "{") {
				continue
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("%s: %v: %s", level, err, line)
			}
			if rec["requestId"] != "req-1" || rec["function"] != "reconciler" || rec["timestamp"] == nil {
				t.Errorf("%s: record lacks requestId, function or timestamp: %s", level, line)
			}
			msg, _ := rec["message"].(string)
			got = append(got, msg)
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("AWS_LAMBDA_LOG_LEVEL=%s: logged %q, want %q", level, got, want)
		}
	}
}
