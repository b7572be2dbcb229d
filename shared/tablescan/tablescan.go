// Package tablescan reads a whole DynamoDB table with a parallel scan: the
// table's segments are read at once, page by page, and each page's items are
// handed to the caller. The accounts, ledger and incidents readers share it.
package tablescan

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the DynamoDB call a scan makes.
type API interface {
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// Stats says what a scan read.
type Stats struct {
	Items, Pages int
	ConsumedRCU  float64
}

// Parallel scans with segments segments at once (1 when segments < 1),
// starting from the table, filter and projection in base, and calls page
// with each page's items. page is called concurrently from different
// segments; an error from it stops that segment. Consumed capacity is
// requested and summed.
func Parallel(ctx context.Context, db API, base dynamodb.ScanInput, segments int, page func(items []map[string]ddbtypes.AttributeValue) error) (Stats, error) {
	if segments < 1 {
		segments = 1
	}
	var mu sync.Mutex
	var st Stats
	errs := make([]error, segments)
	var wg sync.WaitGroup
	for seg := 0; seg < segments; seg++ {
		wg.Add(1)
		go func(seg int) {
			defer wg.Done()
			in := base // each segment pages on its own copy
			in.ReturnConsumedCapacity = ddbtypes.ReturnConsumedCapacityTotal
			if segments > 1 {
				in.Segment, in.TotalSegments = aws.Int32(int32(seg)), aws.Int32(int32(segments))
			}
			for {
				out, err := db.Scan(ctx, &in)
				if err != nil {
					errs[seg] = fmt.Errorf("scan %s segment %d: %w", aws.ToString(in.TableName), seg, err)
					return
				}
				mu.Lock()
				st.Pages++
				st.Items += len(out.Items)
				if out.ConsumedCapacity != nil {
					st.ConsumedRCU += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
				}
				mu.Unlock()
				if err := page(out.Items); err != nil {
					errs[seg] = err
					return
				}
				if len(out.LastEvaluatedKey) == 0 {
					return
				}
				in.ExclusiveStartKey = out.LastEvaluatedKey
			}
		}(seg)
	}
	wg.Wait()
	return st, errors.Join(errs...)
}
