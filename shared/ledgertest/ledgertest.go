// Package ledgertest provides in-memory fakes of the DynamoDB tables the
// ledger package uses, for tests and benchmarks, as net/http/httptest does
// for net/http.
package ledgertest

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/ledger"
)

// Table is an in-memory fake of the DynamoDB calls the ledger makes
// (UpdateItem, GetItem, Scan), for tests and benchmarks. It is a fake, not
// an emulator: it understands only the update and condition expressions the
// ledger's Folder and the tests render (SET a = v, ADD a v, REMOVE a;
// conditions "attribute_not_exists(a)", "a = v" and
// "(attribute_not_exists(a) OR a <= v)" joined by AND) and it counts what
// DynamoDB would bill: one write unit per started KB of the larger of the
// item before and after each write (a failed conditional write included),
// one read unit per started 4 KB for a consistent GetItem (half for an
// eventually consistent one), and Scan reads by the total size read.
// Item sizes follow DynamoDB's rules: attribute name bytes plus value bytes,
// numbers at one byte per two significant digits plus one.
type Table struct {
	mu    sync.Mutex
	items map[string]map[string]ddbtypes.AttributeValue
	st    TableStats
}

// TableStats are a Table's counters.
type TableStats struct {
	UpdateItem, GetItem, Scan int
	ConditionalFailures       int
	WCU, RCU                  float64
	// MaxItemBytes is the largest item size seen.
	MaxItemBytes int
}

var (
	_ ledger.WriteAPI = (*Table)(nil)
	_ ledger.ReadAPI  = (*Table)(nil)
)

// NewTable returns an empty fake table (any table name).
func NewTable() *Table {
	return &Table{items: map[string]map[string]ddbtypes.AttributeValue{}}
}

// Stats returns the counters.
func (f *Table) Stats() TableStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

// Item returns a copy of one item (nil when absent).
func (f *Table) Item(account string) map[string]ddbtypes.AttributeValue {
	f.mu.Lock()
	defer f.mu.Unlock()
	return clone(f.items[account])
}

// Len returns the number of items.
func (f *Table) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

func clone(m map[string]ddbtypes.AttributeValue) map[string]ddbtypes.AttributeValue {
	if m == nil {
		return nil
	}
	out := make(map[string]ddbtypes.AttributeValue, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func keyOf(key map[string]ddbtypes.AttributeValue) (string, error) {
	s, ok := key[ledger.KeyAttribute].(*ddbtypes.AttributeValueMemberS)
	if !ok || len(key) != 1 {
		return "", fmt.Errorf("fake dynamodb: key must be {%s: S}", ledger.KeyAttribute)
	}
	return s.Value, nil
}

// ItemSize is an item's size as DynamoDB bills it.
func ItemSize(item map[string]ddbtypes.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name)
		switch v := v.(type) {
		case *ddbtypes.AttributeValueMemberS:
			n += len(v.Value)
		case *ddbtypes.AttributeValueMemberN:
			digits := strings.TrimLeft(strings.Trim(strings.ReplaceAll(strings.TrimPrefix(v.Value, "-"), ".", ""), "0"), "0")
			n += (len(digits)+1)/2 + 1
		case *ddbtypes.AttributeValueMemberBOOL, *ddbtypes.AttributeValueMemberNULL:
			n++
		case *ddbtypes.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n += 8
		}
	}
	return n
}

func writeUnits(before, after int) float64 {
	return math.Max(1, math.Ceil(float64(max(before, after))/1024))
}

// UpdateItem applies the ledger's update and condition expressions.
func (f *Table) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	id, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.UpdateItem++
	old := f.items[id]
	before := 0
	if old != nil {
		before = ItemSize(old)
	}
	if c := aws.ToString(in.ConditionExpression); c != "" {
		ok, err := evalCondition(c, old, in.ExpressionAttributeNames, in.ExpressionAttributeValues)
		if err != nil {
			return nil, err
		}
		if !ok {
			f.st.ConditionalFailures++
			f.st.WCU += writeUnits(before, 0)
			e := &ddbtypes.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
			if in.ReturnValuesOnConditionCheckFailure == ddbtypes.ReturnValuesOnConditionCheckFailureAllOld {
				e.Item = clone(old)
			}
			return nil, e
		}
	}
	item := clone(old)
	if item == nil {
		item = map[string]ddbtypes.AttributeValue{ledger.KeyAttribute: &ddbtypes.AttributeValueMemberS{Value: id}}
	}
	if err := applyUpdate(aws.ToString(in.UpdateExpression), item, in.ExpressionAttributeNames, in.ExpressionAttributeValues); err != nil {
		return nil, err
	}
	f.items[id] = item
	after := ItemSize(item)
	f.st.MaxItemBytes = max(f.st.MaxItemBytes, after)
	units := writeUnits(before, after)
	f.st.WCU += units
	out := &dynamodb.UpdateItemOutput{ConsumedCapacity: &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(units)}}
	if in.ReturnValues == ddbtypes.ReturnValueAllNew {
		out.Attributes = clone(item)
	}
	return out, nil
}

// GetItem reads one item.
func (f *Table) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	id, err := keyOf(in.Key)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.GetItem++
	item := f.items[id]
	units := math.Max(1, math.Ceil(float64(ItemSize(item))/4096))
	if !aws.ToBool(in.ConsistentRead) {
		units /= 2
	}
	f.st.RCU += units
	return &dynamodb.GetItemOutput{Item: clone(item)}, nil
}

// Scan returns every item in one page (segments are honoured by key hash).
func (f *Table) Scan(_ context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Scan++
	out := &dynamodb.ScanOutput{}
	size := 0
	for id, item := range f.items {
		if in.TotalSegments != nil && *in.TotalSegments > 1 {
			h := new(big.Int).SetBytes([]byte(id))
			if int32(new(big.Int).Mod(h, big.NewInt(int64(*in.TotalSegments))).Int64()) != aws.ToInt32(in.Segment) {
				continue
			}
		}
		out.Items = append(out.Items, clone(item))
		size += ItemSize(item)
	}
	units := math.Ceil(float64(size)/4096) / 2
	f.st.RCU += units
	out.Count = int32(len(out.Items))
	out.ConsumedCapacity = &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(units)}
	return out, nil
}

// operands splits one SET or ADD action at sep into its resolved
// attribute name and value.
func operands(kw, part, sep string, names map[string]string, values map[string]ddbtypes.AttributeValue) (string, ddbtypes.AttributeValue, error) {
	l, r, ok := strings.Cut(part, sep)
	if !ok {
		return "", nil, fmt.Errorf("fake dynamodb: unsupported %s %q", kw, part)
	}
	attr, err := resolveName(l, names)
	if err != nil {
		return "", nil, err
	}
	v, err := resolveValue(r, values)
	if err != nil {
		return "", nil, err
	}
	return attr, v, nil
}

func resolveName(tok string, names map[string]string) (string, error) {
	tok = strings.TrimSpace(tok)
	if strings.HasPrefix(tok, "#") {
		n, ok := names[tok]
		if !ok {
			return "", fmt.Errorf("fake dynamodb: undefined name %s", tok)
		}
		return n, nil
	}
	return tok, nil
}

func resolveValue(tok string, values map[string]ddbtypes.AttributeValue) (ddbtypes.AttributeValue, error) {
	v, ok := values[strings.TrimSpace(tok)]
	if !ok {
		return nil, fmt.Errorf("fake dynamodb: undefined value %s", tok)
	}
	return v, nil
}

func numberOf(v ddbtypes.AttributeValue) (*big.Float, bool) {
	n, ok := v.(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return nil, false
	}
	f, _, err := big.ParseFloat(n.Value, 10, 128, big.ToNearestEven)
	return f, err == nil
}

func evalCondition(expr string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) (bool, error) {
	for _, clause := range strings.Split(expr, " AND ") {
		clause = strings.TrimSpace(clause)
		if strings.HasPrefix(clause, "(") && strings.HasSuffix(clause, ")") {
			clause = clause[1 : len(clause)-1]
		}
		var ok bool
		var err error
		notExists, cmp, isOr := strings.Cut(clause, " OR ")
		switch {
		case isOr:
			ok, err = notExistsOrAtMost(notExists, cmp, item, names, values)
		case strings.HasPrefix(clause, "attribute_not_exists("):
			var attr string
			attr, err = resolveName(strings.TrimSuffix(strings.TrimPrefix(clause, "attribute_not_exists("), ")"), names)
			_, exists := item[attr]
			ok = !exists
		case strings.Contains(clause, " = "):
			ok, err = equals(clause, item, names, values)
		default:
			err = fmt.Errorf("fake dynamodb: unsupported condition %q", clause)
		}
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// equals evaluates "a = v": numbers compare as numbers, other values as
// their Go values.
func equals(clause string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) (bool, error) {
	attr, v, err := operands("condition", clause, " = ", names, values)
	if err != nil {
		return false, err
	}
	cur, exists := item[attr]
	if !exists {
		return false, nil
	}
	x, ok1 := numberOf(cur)
	y, ok2 := numberOf(v)
	if ok1 && ok2 {
		return x.Cmp(y) == 0, nil
	}
	return fmt.Sprint(cur) == fmt.Sprint(v), nil
}

// notExistsOrAtMost evaluates "(attribute_not_exists(a) OR a <= v)" (or <).
func notExistsOrAtMost(notExists, cmp string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) (bool, error) {
	if !strings.HasPrefix(notExists, "attribute_not_exists(") {
		return false, fmt.Errorf("fake dynamodb: unsupported condition %q", notExists+" OR "+cmp)
	}
	attr, err := resolveName(strings.TrimSuffix(strings.TrimPrefix(notExists, "attribute_not_exists("), ")"), names)
	if err != nil {
		return false, err
	}
	cur, exists := item[attr]
	if !exists {
		return true, nil
	}
	orEqual := true
	lhs, rhs, ok := strings.Cut(cmp, " <= ")
	if !ok {
		orEqual = false
		lhs, rhs, ok = strings.Cut(cmp, " < ")
	}
	if !ok {
		return false, fmt.Errorf("fake dynamodb: unsupported comparison %q", cmp)
	}
	if a, err := resolveName(lhs, names); err != nil || a != attr {
		return false, fmt.Errorf("fake dynamodb: comparison %q on another attribute", cmp)
	}
	v, err := resolveValue(rhs, values)
	if err != nil {
		return false, err
	}
	x, ok1 := numberOf(cur)
	y, ok2 := numberOf(v)
	c := 0
	if ok1 && ok2 {
		c = x.Cmp(y)
	}
	return ok1 && ok2 && (c < 0 || c == 0 && orEqual), nil
}

func applyUpdate(expr string, item map[string]ddbtypes.AttributeValue, names map[string]string, values map[string]ddbtypes.AttributeValue) error {
	// Split into clauses at the keywords (names and values are
	// placeholders, so keywords cannot occur inside them).
	type clause struct{ kw, body string }
	var clauses []clause
	s := strings.TrimSpace(expr)
	for _, kw := range []string{"REMOVE", "ADD", "SET"} {
		i := strings.LastIndex(s, kw+" ")
		if i < 0 || (i > 0 && s[i-1] != ' ') {
			continue
		}
		clauses = append(clauses, clause{kw: kw, body: s[i+len(kw)+1:]})
		s = strings.TrimSpace(s[:i])
	}
	if s != "" || len(clauses) == 0 {
		return fmt.Errorf("fake dynamodb: unsupported update %q", expr)
	}
	for _, c := range clauses {
		for _, part := range strings.Split(c.body, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			switch c.kw {
			case "SET":
				attr, v, err := operands(c.kw, part, " = ", names, values)
				if err != nil {
					return err
				}
				item[attr] = v
			case "ADD":
				attr, v, err := operands(c.kw, part, " ", names, values)
				if err != nil {
					return err
				}
				inc, ok := numberOf(v)
				if !ok {
					return fmt.Errorf("fake dynamodb: ADD of a non-number")
				}
				if cur, exists := item[attr]; exists {
					x, ok := numberOf(cur)
					if !ok {
						return fmt.Errorf("fake dynamodb: ADD to a non-number %s", attr)
					}
					inc = new(big.Float).Add(x, inc)
				}
				item[attr] = &ddbtypes.AttributeValueMemberN{Value: inc.Text('f', -1)}
			case "REMOVE":
				attr, err := resolveName(part, names)
				if err != nil {
					return err
				}
				delete(item, attr)
			}
		}
	}
	return nil
}

// Journal is an in-memory fake of the journal table (PutItem with the
// journal writer's condition, Query of one slot), for tests and
// benchmarks. It bills as DynamoDB does: a put one write unit per started
// KB, a query half a read unit per started 4 KB read (eventually
// consistent). Fail, when set, makes PutItem fail with its error.
type Journal struct {
	mu    sync.Mutex
	slots map[string]map[string]map[string]ddbtypes.AttributeValue // slot → writer → item
	st    JournalStats
	last  []byte
	Fail  error
}

// JournalStats are a Journal's counters.
type JournalStats struct {
	PutItem, Query int
	WCU, RCU       float64
	Bytes          int // total size of the items written
	MaxItemBytes   int
}

var (
	_ ledger.JournalPutAPI   = (*Journal)(nil)
	_ ledger.JournalQueryAPI = (*Journal)(nil)
)

// NewJournal returns an empty fake journal table (any table name).
func NewJournal() *Journal {
	return &Journal{slots: map[string]map[string]map[string]ddbtypes.AttributeValue{}}
}

// Stats returns the counters.
func (f *Journal) Stats() JournalStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

// Last returns the entries attribute of the last item put (nil when none).
func (f *Journal) Last() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last
}

// Items returns the number of items held.
func (f *Journal) Items() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.slots {
		n += len(s)
	}
	return n
}

// PutItem stores an item under its Slot and Writer.
func (f *Journal) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	slot, ok1 := in.Item[ledger.JournalSlotAttribute].(*ddbtypes.AttributeValueMemberN)
	writer, ok2 := in.Item[ledger.JournalWriterAttribute].(*ddbtypes.AttributeValueMemberS)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("fake journal: item needs %s (N) and %s (S)", ledger.JournalSlotAttribute, ledger.JournalWriterAttribute)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Fail != nil {
		return nil, f.Fail
	}
	f.st.PutItem++
	size := ItemSize(in.Item)
	units := writeUnits(0, size)
	f.st.WCU += units
	if f.slots[slot.Value] == nil {
		f.slots[slot.Value] = map[string]map[string]ddbtypes.AttributeValue{}
	}
	if _, exists := f.slots[slot.Value][writer.Value]; exists && aws.ToString(in.ConditionExpression) != "" {
		return nil, &ddbtypes.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	}
	f.slots[slot.Value][writer.Value] = clone(in.Item)
	if e, ok := in.Item[ledger.JournalEntriesAttribute].(*ddbtypes.AttributeValueMemberB); ok {
		f.last = e.Value
	}
	f.st.Bytes += size
	f.st.MaxItemBytes = max(f.st.MaxItemBytes, size)
	return &dynamodb.PutItemOutput{ConsumedCapacity: &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(units)}}, nil
}

// Query returns one slot's items in one page (the key condition's value
// :s is the slot), whole: the projection is ignored, as it is in billing
// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html).
func (f *Journal) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	slot, ok := in.ExpressionAttributeValues[":s"].(*ddbtypes.AttributeValueMemberN)
	if !ok {
		return nil, fmt.Errorf("fake journal: query needs :s (N)")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.st.Query++
	out := &dynamodb.QueryOutput{}
	size := 0
	for _, item := range f.slots[slot.Value] {
		out.Items = append(out.Items, clone(item))
		size += ItemSize(item)
	}
	units := math.Max(0.5, math.Ceil(float64(size)/4096)/2)
	f.st.RCU += units
	out.ConsumedCapacity = &ddbtypes.ConsumedCapacity{CapacityUnits: aws.Float64(units)}
	return out, nil
}
