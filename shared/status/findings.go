package status

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/incident"
	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// FindingsReader reads the verifier's security findings from the incidents
// table: the "finding#…" items of the alert outbox, open while their dedup
// window (ExpiresAt) has not passed.
type FindingsReader struct {
	DB    tablescan.API
	Table string
}

// Open returns the findings whose window is still open at now.
func (f *FindingsReader) Open(ctx context.Context, now time.Time, segments int) ([]incident.Incident, error) {
	in := dynamodb.ScanInput{
		TableName:        aws.String(f.Table),
		FilterExpression: aws.String("begins_with(IncidentId, :pf) AND ExpiresAt > :now"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pf":  &ddbtypes.AttributeValueMemberS{Value: incident.PrefixFinding},
			":now": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
		},
	}
	return incident.ScanDecoded(ctx, f.DB, in, segments)
}
