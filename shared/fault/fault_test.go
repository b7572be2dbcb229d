package fault

import (
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestKindOfCloudTrailCodes(t *testing.T) {
	cases := []struct {
		code string
		want Kind
	}{
		// A CloudWatch Logs role the member StackSet created moments ago is
		// refused until IAM has propagated it: a later attempt succeeds.
		{"InvalidCloudWatchLogsRoleArnException", Retryable},
		{"CloudWatchLogsDeliveryUnavailableException", Retryable},
		{"InvalidCloudWatchLogsLogGroupArnException", NeedsHuman},
		{"InvalidTagParameterException", NeedsHuman},
		{"MaximumNumberOfTrailsExceededException", NeedsHuman},
	}
	for _, c := range cases {
		err := fmt.Errorf("create trail: %w", &smithy.GenericAPIError{Code: c.code, Message: "x"})
		if got := KindOf(err); got != c.want {
			t.Errorf("%s: %v, want %v", c.code, got, c.want)
		}
	}
}
