package integritywatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddb "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Side is a verified digest's own side of its link: the SHA-256 of its
// uncompressed bytes and its signature. ID is "bucket/key". ETag is the
// verified object's (kept to tell a later write of the key).
type Side struct{ ID, Hash, Signature, ETag string }

// Expect is what a successor says of its predecessor.
type Expect struct{ Successor, Hash, Signature string }

// Head is the newest verified digest of one regular chain (one account ×
// Region × trail): its end time and location ("bucket/key"); the digest's
// own item holds its hash and signature.
type Head struct {
	Scope                  string
	Account, Region, Trail string
	// Home is the trail's home Region.
	Home string
	End  time.Time
	ID   string
}

// Store keeps the watch's state. Table implements it on DynamoDB.
type Store interface {
	// Claim reserves a digest for reading: false when it was verified,
	// or another instance claimed it less than ClaimTimeout ago.
	Claim(ctx context.Context, id string, now time.Time) (bool, error)
	// Release drops a claim whose attempt failed.
	Release(ctx context.Context, id string) error
	// Expect records a successor's expectation of predID and returns the
	// predecessor's side when it is already verified.
	Expect(ctx context.Context, predID string, e Expect, now time.Time) (*Side, error)
	// Verified records a digest's side and returns its successor's
	// expectation when the successor came first.
	Verified(ctx context.Context, s Side, now time.Time) (*Expect, error)
	// Advance moves a chain's head forward (never back).
	Advance(ctx context.Context, h Head) error
	// Seen reads a digest's item: whether it was verified, and the ETag
	// of the object that was.
	Seen(ctx context.Context, id string) (verified bool, etag string, err error)
}

// ClaimTimeout is how long a claim holds: longer than the verifier's
// invocation timeout, so only a crashed attempt's claim is taken over.
const ClaimTimeout = 15 * time.Minute

// Retention is how long a digest's item is kept (its ttl attribute): a
// successor arrives an hour later; late ones within days.
const Retention = 30 * 24 * time.Hour

// DynamoDBAPI is the part of the DynamoDB client Table uses.
type DynamoDBAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

// Table is the state: the table Name, partition key "id" (string), one
// item "digest#<bucket>/<key>" per digest with a ttl attribute; and the
// table Heads, partition key "scope" (string), one item per regular chain
// (HeadsTable; "" keeps no heads).
type Table struct {
	DB    DynamoDBAPI
	Name  string
	Heads string
}

const (
	attrID = "id"
	// digest items
	attrClaimed, attrHash, attrSig, attrVerified, attrETag = "claimedAt", "hash", "signature", "verifiedAt", "etag"
	attrSucc, attrExpHash, attrExpSig                      = "successor", "expectedHash", "expectedSignature"
	attrTTL                                                = "ttl"
	// head items
	attrEnd, attrKey                             = "endTime", "digest"
	attrAccount, attrRegion, attrTrail, attrHome = "account", "region", "trail", "home"
)

func digestID(id string) map[string]ddb.AttributeValue {
	return map[string]ddb.AttributeValue{attrID: s("digest#" + id)}
}

func s(v string) ddb.AttributeValue { return &ddb.AttributeValueMemberS{Value: v} }

func n(v int64) ddb.AttributeValue {
	return &ddb.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func str(item map[string]ddb.AttributeValue, name string) string {
	if v, ok := item[name].(*ddb.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func conditionFailed(err error) bool {
	var cf *ddb.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

// Claim implements Store.
func (t *Table) Claim(ctx context.Context, id string, now time.Time) (bool, error) {
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name), Key: digestID(id),
		UpdateExpression:         aws.String("SET #c = :now, #ttl = :ttl"),
		ConditionExpression:      aws.String("attribute_not_exists(#h) AND (attribute_not_exists(#c) OR #c < :stale)"),
		ExpressionAttributeNames: map[string]string{"#c": attrClaimed, "#h": attrHash, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":now": n(now.Unix()),
			":stale": n(now.Add(-ClaimTimeout).Unix()), ":ttl": n(now.Add(Retention).Unix())},
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim %s: %w", id, err)
	}
	return true, nil
}

// Release implements Store.
func (t *Table) Release(ctx context.Context, id string) error {
	_, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name), Key: digestID(id),
		UpdateExpression:         aws.String("REMOVE #c"),
		ConditionExpression:      aws.String("attribute_exists(#c) AND attribute_not_exists(#h)"),
		ExpressionAttributeNames: map[string]string{"#c": attrClaimed, "#h": attrHash},
	})
	if err != nil && !conditionFailed(err) {
		return fmt.Errorf("release %s: %w", id, err)
	}
	return nil
}

// Expect implements Store.
func (t *Table) Expect(ctx context.Context, predID string, e Expect, now time.Time) (*Side, error) {
	out, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name), Key: digestID(predID),
		UpdateExpression:         aws.String("SET #s = :s, #eh = :eh, #es = :es, #ttl = if_not_exists(#ttl, :ttl)"),
		ExpressionAttributeNames: map[string]string{"#s": attrSucc, "#eh": attrExpHash, "#es": attrExpSig, "#ttl": attrTTL},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":s": s(e.Successor), ":eh": s(e.Hash), ":es": s(e.Signature),
			":ttl": n(now.Add(Retention).Unix())},
		ReturnValues: ddb.ReturnValueAllNew,
	})
	if err != nil {
		return nil, fmt.Errorf("record the link to %s: %w", predID, err)
	}
	if _, ok := out.Attributes[attrHash]; !ok {
		return nil, nil
	}
	return &Side{ID: predID, Hash: str(out.Attributes, attrHash), Signature: str(out.Attributes, attrSig)}, nil
}

// Verified implements Store.
func (t *Table) Verified(ctx context.Context, sd Side, now time.Time) (*Expect, error) {
	out, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name), Key: digestID(sd.ID),
		UpdateExpression: aws.String("SET #h = :h, #sig = :sig, #v = :now, #ttl = :ttl, #et = :et REMOVE #c"),
		ExpressionAttributeNames: map[string]string{"#h": attrHash, "#sig": attrSig, "#v": attrVerified, "#ttl": attrTTL, "#c": attrClaimed,
			"#et": attrETag},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":h": s(sd.Hash), ":sig": s(sd.Signature),
			":now": n(now.Unix()), ":ttl": n(now.Add(Retention).Unix()), ":et": s(sd.ETag)},
		ReturnValues: ddb.ReturnValueAllNew,
	})
	if err != nil {
		return nil, fmt.Errorf("record %s verified: %w", sd.ID, err)
	}
	if _, ok := out.Attributes[attrSucc]; !ok {
		return nil, nil
	}
	return &Expect{Successor: str(out.Attributes, attrSucc), Hash: str(out.Attributes, attrExpHash),
		Signature: str(out.Attributes, attrExpSig)}, nil
}
