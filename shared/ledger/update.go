package ledger

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// itemUpdate is one account's write: its Regions' times, newest keys and
// counts, and the count attributes to remove.
type itemUpdate struct {
	account string
	regions []regionUpdate // sorted by name
	remove  []string
}

// regionUpdate is one Region's part of an itemUpdate (times in epoch
// seconds; 0: not written).
type regionUpdate struct {
	name        string
	log, digest int64
	key         string
	counts      []countUpdate
}

type countUpdate struct {
	day string // yyyymmdd
	n   int64
}

// buildItemUpdate renders an account's pending state as an update: counts
// of days before cutoff are dropped (a midnight passed since they were
// counted), and the two days before cutoff are removed from the Regions
// that count (removing a missing attribute is a no-op).
func buildItemUpdate(account string, pairs []pairTimes, logs []logState, names []string, cutoff uint32) itemUpdate {
	u := itemUpdate{account: account}
	byRegion := make(map[uint8]int, len(pairs))
	at := func(region uint8) *regionUpdate {
		i, ok := byRegion[region]
		if !ok {
			i = len(u.regions)
			byRegion[region] = i
			u.regions = append(u.regions, regionUpdate{name: names[region]})
		}
		return &u.regions[i]
	}
	for _, p := range pairs {
		if p.log > 0 || p.digest > 0 {
			r := at(p.region)
			r.log, r.digest = int64(p.log), int64(p.digest)
		}
	}
	for _, l := range logs {
		r := at(l.region)
		if r.log > 0 {
			r.key = l.key
		}
		for _, c := range l.counts {
			if c.n > 0 && c.day >= cutoff {
				r.counts = append(r.counts, countUpdate{day: dayName(c.day), n: int64(c.n)})
			}
		}
		sort.Slice(r.counts, func(i, j int) bool { return r.counts[i].day < r.counts[j].day })
		if len(r.counts) > 0 {
			for d := uint32(1); d <= 2; d++ {
				u.remove = append(u.remove, PrefixCount+dayName(cutoff-d)+"#"+r.name)
			}
		}
	}
	sort.Slice(u.regions, func(i, j int) bool { return u.regions[i].name < u.regions[j].name })
	sort.Strings(u.remove)
	return u
}

type writeStats struct {
	attempts, reads, conflicts int
	wcu                        float64
}

// updateAccount writes one account's update as a monotonic conditional
// update, retrying conditional failures with the times that lost removed.
// Count attributes of days before the last two that the written item still
// holds (a Region silent for days) are removed by one more write.
func updateAccount(ctx context.Context, db WriteAPI, table string, u *itemUpdate, now time.Time, maxAttempts int) (writeStats, error) {
	var st writeStats
	for attempt := 0; attempt < maxAttempts; attempt++ {
		in := renderUpdate(table, u, now)
		if in == nil {
			return st, nil
		}
		st.attempts++
		out, err := db.UpdateItem(ctx, in)
		if err == nil {
			if out.ConsumedCapacity != nil {
				st.wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
			}
			if stale := staleCounts(out.Attributes, now); len(stale) > 0 {
				st.attempts++
				if err := removeAttributes(ctx, db, table, u.account, stale); err != nil {
					return st, err
				}
			}
			return st, nil
		}
		var ccf *ddbtypes.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return st, fmt.Errorf("ledger: update %s: %w", u.account, err)
		}
		st.conflicts++
		st.wcu++ // a failed conditional write consumes at least one unit
		current := ccf.Item
		if current == nil {
			st.reads++
			got, gerr := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
				Key: map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: u.account}}})
			if gerr != nil {
				return st, fmt.Errorf("ledger: read %s after a conditional failure: %w", u.account, gerr)
			}
			current = got.Item
		}
		dropStale(u, current)
	}
	return st, fault.Retryablef("LedgerConflict", "ledger: update %s: still conflicting after %d attempts", u.account, maxAttempts)
}

// dropStale removes pending times older than the item's (an equal one is
// kept: it carries the newest key, and "<=" lets it through).
func dropStale(u *itemUpdate, item map[string]ddbtypes.AttributeValue) {
	for i := range u.regions {
		r := &u.regions[i]
		if v, ok := item[PrefixLog+r.name]; ok {
			if t, err := epoch(v); err == nil && r.log < t.Unix() {
				r.log, r.key = 0, ""
			}
		}
		if v, ok := item[PrefixDigest+r.name]; ok {
			if t, err := epoch(v); err == nil && r.digest < t.Unix() {
				r.digest = 0
			}
		}
	}
}

// staleCounts lists an item's count attributes older than the days kept.
func staleCounts(item map[string]ddbtypes.AttributeValue, now time.Time) []string {
	cutoff := dayName(dayOf(now.Unix()) - (countDays - 1))
	var out []string
	for name := range item {
		if day, _, ok := splitCount(name); ok && day < cutoff {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func splitCount(name string) (day, region string, ok bool) {
	if !strings.HasPrefix(name, PrefixCount) {
		return "", "", false
	}
	day, region, ok = strings.Cut(name[len(PrefixCount):], "#")
	return day, region, ok && len(day) == 8
}

// removeAttributes removes attributes from an account's item.
func removeAttributes(ctx context.Context, db WriteAPI, table, account string, attrs []string) error {
	names := make(map[string]string, len(attrs))
	paths := make([]string, len(attrs))
	for i, a := range attrs {
		paths[i] = "#r" + strconv.Itoa(i)
		names[paths[i]] = a
	}
	_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:                      map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: account}},
		UpdateExpression:         aws.String("REMOVE " + strings.Join(paths, ", ")),
		ExpressionAttributeNames: names})
	if err != nil {
		return fmt.Errorf("ledger: remove old counts of %s: %w", account, err)
	}
	return nil
}

// exprBuilder names attributes and values of one expression.
type exprBuilder struct {
	names  map[string]string
	values map[string]ddbtypes.AttributeValue
}

func (b *exprBuilder) name(attr string) string {
	p := "#a" + strconv.Itoa(len(b.names))
	b.names[p] = attr
	return p
}

func (b *exprBuilder) val(v ddbtypes.AttributeValue) string {
	p := ":v" + strconv.Itoa(len(b.values))
	b.values[p] = v
	return p
}

// renderUpdate renders one account's update: monotonic SETs under a
// condition, count ADDs and REMOVEs of old days; nil when there is nothing
// to write.
func renderUpdate(table string, u *itemUpdate, now time.Time) *dynamodb.UpdateItemInput {
	b := exprBuilder{names: map[string]string{}, values: map[string]ddbtypes.AttributeValue{}}
	var set, add, cond []string
	monotonic := func(attr string, t int64) {
		nm, v := b.name(attr), b.val(num(t))
		set = append(set, nm+" = "+v)
		// "<=": an equal time (a fold by the watchdog, another instance's
		// file of the same minute) still brings its key.
		cond = append(cond, "(attribute_not_exists("+nm+") OR "+nm+" <= "+v+")")
	}
	for _, r := range u.regions {
		if r.log > 0 {
			monotonic(PrefixLog+r.name, r.log)
			if r.key != "" {
				set = append(set, b.name(PrefixKey+r.name)+" = "+b.val(&ddbtypes.AttributeValueMemberS{Value: r.key}))
			}
		}
		if r.digest > 0 {
			monotonic(PrefixDigest+r.name, r.digest)
		}
		for _, c := range r.counts {
			add = append(add, b.name(PrefixCount+c.day+"#"+r.name)+" "+b.val(num(c.n)))
		}
	}
	if len(set) == 0 && len(add) == 0 {
		return nil
	}
	set = append(set, b.name(UpdatedAtAttribute)+" = "+b.val(num(now.Unix())))
	expr := "SET " + strings.Join(set, ", ")
	if len(add) > 0 {
		expr += " ADD " + strings.Join(add, ", ")
	}
	if len(u.remove) > 0 {
		rem := make([]string, len(u.remove))
		for i, a := range u.remove {
			rem[i] = b.name(a)
		}
		expr += " REMOVE " + strings.Join(rem, ", ")
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(table),
		Key:                                 map[string]ddbtypes.AttributeValue{KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: u.account}},
		UpdateExpression:                    aws.String(expr),
		ExpressionAttributeNames:            b.names,
		ExpressionAttributeValues:           b.values,
		ReturnValues:                        ddbtypes.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: ddbtypes.ReturnValuesOnConditionCheckFailureAllOld,
		ReturnConsumedCapacity:              ddbtypes.ReturnConsumedCapacityTotal,
	}
	if len(cond) > 0 {
		in.ConditionExpression = aws.String(strings.Join(cond, " AND "))
	}
	return in
}

func num(n int64) ddbtypes.AttributeValue {
	return &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}
