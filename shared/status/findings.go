package status

import (
	"context"
	"sort"
	"strconv"
	"sync"
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
	var mu sync.Mutex
	var all []incident.Incident
	_, err := tablescan.Parallel(ctx, f.DB, in, segments, func(items []map[string]ddbtypes.AttributeValue) error {
		for _, av := range items {
			inc, err := incident.Decode(av)
			if err != nil {
				return err
			}
			mu.Lock()
			all = append(all, inc)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return all, nil
}
