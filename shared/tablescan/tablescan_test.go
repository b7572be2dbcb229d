package tablescan

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// fakeTable is a fake DynamoDB Scan over n items, two items per page,
// split into segments by item index.
type fakeTable struct {
	n    int
	fail int // segment that fails (-1: none)
}

func (f fakeTable) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	seg, total := int(aws.ToInt32(in.Segment)), int(aws.ToInt32(in.TotalSegments))
	if total == 0 {
		total = 1
	}
	if seg == f.fail {
		return nil, errors.New("fake: throttled")
	}
	start := 0
	if k, ok := in.ExclusiveStartKey["i"].(*ddbtypes.AttributeValueMemberN); ok {
		fmt.Sscan(k.Value, &start)
		start++
	}
	var items []map[string]ddbtypes.AttributeValue
	last := -1
	for i := start; i < f.n && len(items) < 2; i++ {
		if i%total == seg {
			items = append(items, map[string]ddbtypes.AttributeValue{"i": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(i)}})
			last = i
		}
	}
	out := &dynamodb.ScanOutput{Items: items, ConsumedCapacity: &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(0.5)}}
	if last >= 0 && last < f.n-1 {
		out.LastEvaluatedKey = map[string]ddbtypes.AttributeValue{"i": &ddbtypes.AttributeValueMemberN{Value: fmt.Sprint(last)}}
	}
	return out, nil
}

func TestParallelReadsEveryItemOnce(t *testing.T) {
	for _, segs := range []int{0, 1, 3, 8} {
		var mu sync.Mutex
		var got []string
		st, err := Parallel(context.Background(), fakeTable{n: 25, fail: -1}, dynamodb.ScanInput{TableName: aws.String("t")}, segs,
			func(items []map[string]ddbtypes.AttributeValue) error {
				mu.Lock()
				defer mu.Unlock()
				for _, it := range items {
					got = append(got, it["i"].(*ddbtypes.AttributeValueMemberN).Value)
				}
				return nil
			})
		if err != nil || len(got) != 25 || st.Items != 25 {
			t.Fatalf("segments %d: %d items (%+v), %v", segs, len(got), st, err)
		}
		sort.Strings(got)
		for i := 1; i < len(got); i++ {
			if got[i] == got[i-1] {
				t.Fatalf("item %s read twice", got[i])
			}
		}
		if st.ConsumedRCU != 0.5*float64(st.Pages) {
			t.Errorf("RCU %v for %d pages", st.ConsumedRCU, st.Pages)
		}
	}
}

func TestParallelReportsSegmentErrors(t *testing.T) {
	_, err := Parallel(context.Background(), fakeTable{n: 10, fail: 1}, dynamodb.ScanInput{TableName: aws.String("t")}, 3,
		func([]map[string]ddbtypes.AttributeValue) error { return nil })
	if err == nil || !errorsContains(err, "segment 1") {
		t.Fatalf("err = %v", err)
	}
}

func errorsContains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }
