package integritywatch

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/tablescan"
)

// HeadsKey is the heads table's partition key attribute.
const HeadsKey = "scope"

// Advance implements Store: a conditional write, so an older digest
// verified late never moves the head back. Without a heads table it
// writes nothing.
func (t *Table) Advance(ctx context.Context, h Head) error {
	if t.Heads == "" {
		return nil
	}
	in := t.moveHead(h)
	in.ConditionExpression = aws.String("attribute_not_exists(#e) OR #e < :e")
	_, err := t.DB.UpdateItem(ctx, in)
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("advance %s: %w", h.Scope, err)
	}
	return nil
}

// Follow implements Store: the successor of the head, arriving in order
// (the common case: CloudTrail delivers a chain's digests an hour apart),
// checks its link against the head's side and becomes the head in one
// conditional write, instead of writing its expectation onto the
// predecessor's item and advancing the head apart. The condition (the
// head is predID, ended before h, and holds its side) makes it happen at
// most once per predecessor and never move the head back; when it fails,
// the caller records the link on the predecessor's item (Expect) and
// Advances. Without a heads table it does nothing.
func (t *Table) Follow(ctx context.Context, h Head, predID string) (*Side, error) {
	if t.Heads == "" {
		return nil, nil
	}
	in := t.moveHead(h)
	in.ConditionExpression = aws.String("#k = :pred AND #e < :e AND attribute_exists(#h) AND attribute_exists(#sig)")
	in.ExpressionAttributeValues[":pred"] = s(predID)
	in.ReturnValues = ddb.ReturnValueAllOld
	out, err := t.DB.UpdateItem(ctx, in)
	if conditionFailed(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("follow %s: %w", h.Scope, err)
	}
	return &Side{ID: predID, Hash: str(out.Attributes, attrHash), SigDigest: str(out.Attributes, attrSig)}, nil
}

// moveHead is the write of h as its chain's head (the caller adds the
// condition).
func (t *Table) moveHead(h Head) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Heads), Key: map[string]ddb.AttributeValue{HeadsKey: s(h.Scope)},
		UpdateExpression: aws.String("SET #e = :e, #k = :k, #a = :a, #r = :r, #t = :t, #hr = :hr, #h = :h, #sig = :sig"),
		ExpressionAttributeNames: map[string]string{"#e": attrEnd, "#k": attrKey,
			"#a": attrAccount, "#r": attrRegion, "#t": attrTrail, "#hr": attrHome, "#h": attrHash, "#sig": attrSig},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":e": n(h.End.Unix()), ":k": s(h.ID),
			":a": s(h.Account), ":r": s(h.Region), ":t": s(h.Trail), ":hr": s(h.Home), ":h": s(h.Hash), ":sig": s(h.SigDigest)},
	}
}

// Seen implements Store (an eventually consistent GetItem: it runs only
// for a digest whose claim failed, long after it was verified).
func (t *Table) Seen(ctx context.Context, id string) (bool, string, error) {
	out, err := t.DB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(t.Name), Key: digestID(id),
		ProjectionExpression:     aws.String("#h, #et"),
		ExpressionAttributeNames: map[string]string{"#h": attrHash, "#et": attrETag}})
	if err != nil {
		return false, "", fmt.Errorf("read %s: %w", id, err)
	}
	_, verified := out.Item[attrHash]
	return verified, str(out.Item, attrETag), nil
}

// headOf is the head a valid regular digest moves to; false for a
// backfill digest (backfill chains are not hourly).
func headOf(c integrity.DigestCheck, id, sigDigest string) (Head, bool) {
	k := c.Key
	if k.Backfill {
		return Head{}, false
	}
	return Head{Scope: fmt.Sprintf("%s|%s|%s|%s|%s|%s", k.Prefix, k.OrgID, k.Account, k.Region, k.TrailName, k.HomeRegion),
		Account: k.Account, Region: k.Region, Trail: k.TrailName, Home: k.HomeRegion,
		End: c.Digest.EndTime, ID: id, Hash: c.Hash, SigDigest: sigDigest}, true
}

// HeadScanAPI is the DynamoDB call HeadReader makes.
type HeadScanAPI = tablescan.API

// HeadReader reads every head, with a parallel scan of the heads table.
// Read cost: an item is ~0.5 KB (its scope, end time, the digest's
// location, account, Region, trail, home Region, hash and SigDigest), and
// a scan is charged by the bytes it reads, whatever a filter drops (one
// read unit per 4 KB, half for an eventually consistent scan): about 0.06
// read units per head, so 100,000 accounts × 17 Regions (1.7 million
// heads) cost about 106,000 read units per scan. The watchdog scans at
// most every DigestScanEvery.
type HeadReader struct {
	DB       HeadScanAPI
	Table    string
	Segments int
}

// Scan calls fn with every head (concurrently from the scan's segments).
// An item that does not decode is returned as an error, with the others
// still read.
func (r *HeadReader) Scan(ctx context.Context, fn func(Head) error) (tablescan.Stats, error) {
	return tablescan.Parallel(ctx, r.DB, dynamodb.ScanInput{TableName: aws.String(r.Table)}, r.Segments,
		func(items []map[string]ddb.AttributeValue) error {
			for _, it := range items {
				h, err := decodeHead(it)
				if err != nil {
					return err
				}
				if err := fn(h); err != nil {
					return err
				}
			}
			return nil
		})
}

func decodeHead(it map[string]ddb.AttributeValue) (Head, error) {
	h := Head{Scope: str(it, HeadsKey), Account: str(it, attrAccount), Region: str(it, attrRegion), Trail: str(it, attrTrail),
		Home: str(it, attrHome), ID: str(it, attrKey)}
	v, ok := it[attrEnd].(*ddb.AttributeValueMemberN)
	if !ok {
		return h, fmt.Errorf("head %q: no %s", h.Scope, attrEnd)
	}
	sec, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return h, fmt.Errorf("head %q: %s %q: %w", h.Scope, attrEnd, v.Value, err)
	}
	h.End = time.Unix(sec, 0).UTC()
	if h.Account == "" || h.Region == "" || h.Trail == "" || h.ID == "" {
		return h, fmt.Errorf("head %q: account, region, trail or digest missing", h.Scope)
	}
	return h, nil
}

// Bucket and Key split the head's digest location.
func (h Head) Bucket() string { b, _, _ := strings.Cut(h.ID, "/"); return b }

// Key is the head digest's object key.
func (h Head) Key() string { _, k, _ := strings.Cut(h.ID, "/"); return k }

// Overdue reports whether the digest after h is missing at now: more than
// integrity.MissingAfter has passed since h's end (the stateless check's
// rule for a chain's silent tail), counted from since when later (the
// trail's StartLoggingTime: a restarted chain's first digest is due an
// hour after it).
func Overdue(h Head, since, now time.Time) bool {
	from := h.End
	if since.After(from) {
		from = since
	}
	return now.Sub(from) > integrity.MissingAfter
}
