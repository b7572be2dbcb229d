package integritywatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// verified object's (kept to tell a later write of the key). SigDigest
// is SigDigest of its signature: the state keeps no signature.
type Side struct{ ID, Hash, SigDigest, ETag string }

// Expect is what a successor says of its predecessor: its
// previousDigestHashValue and SigDigest(previousDigestSignature).
type Expect struct{ Successor, Hash, SigDigest string }

// SigDigest is what the state keeps of a digest's signature: the hex
// SHA-256 of the signature's hex text (64 characters where a 2048-bit RSA
// signature is 512), so that every item stays under 1 KB, one write unit
// (Amazon DynamoDB Developer Guide, "Read/write capacity mode": a write
// unit covers an item up to 1 KB).
//
// Comparing digests is the link check: the successor's
// previousDigestSignature equals the predecessor's signature exactly when
// their SHA-256 digests are equal, short of a SHA-256 collision, and a
// collision would have to be found between two RSA signatures that only
// CloudTrail's private key can make. The predecessor's own signature is
// checked against its key before its digest is stored.
//
// Items written before the state kept digests hold full signatures under
// other attribute names; they are read through SigDigest (sigOf), so both
// forms compare.
func SigDigest(sig string) string {
	sum := sha256.Sum256([]byte(sig))
	return hex.EncodeToString(sum[:])
}

// Head is the newest verified digest of one regular chain (one account ×
// Region × trail): its end time, location ("bucket/key"), and its side
// (Hash, SigDigest), so that its successor checks the link and moves the
// head in one write (Follow).
type Head struct {
	Scope                  string
	Account, Region, Trail string
	// Home is the trail's home Region.
	Home            string
	End             time.Time
	ID              string
	Hash, SigDigest string
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
	// Follow moves a chain's head to h when the head is h's predecessor
	// predID (one conditional write) and returns the predecessor's side
	// it replaced; nil when the head is another digest (or has no side).
	Follow(ctx context.Context, h Head, predID string) (*Side, error)
	// Seen reads a digest's item: whether it was verified, and the ETag
	// of the object that was.
	Seen(ctx context.Context, id string) (verified bool, etag string, err error)
}

// ClaimTimeout is how long a claim holds: longer than the verifier's
// invocation timeout, so only a crashed attempt's claim is taken over.
const ClaimTimeout = 15 * time.Minute

// Retention is how long a digest's item is kept (its ttl attribute). Its
// successor is delivered about an hour later; what reaches the verifier
// late waits in the delivery queue, whose retention is 14 days (the
// Amazon SQS maximum, Amazon SQS Developer Guide, "Amazon SQS message
// quotas"), so 14 days covers every notification the verifier can still
// receive: a redelivery is refused by the claim, and a late predecessor
// finds its successor's expectation. A digest that CloudTrail writes more
// than 14 days late has long been a digests-missing finding (2 hours); its
// own signature is still checked, its link from the successor is not.
const Retention = 14 * 24 * time.Hour

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
	attrClaimed, attrHash, attrSig, attrETag = "claimedAt", "hash", "sigSha256", "etag"
	attrSucc, attrExpHash, attrExpSig        = "successor", "expectedHash", "expectedSigSha256"
	attrTTL                                  = "ttl"
	// Items written before the state kept signature digests: read, never
	// written (they expire with Retention).
	attrOldSig, attrOldExpSig = "signature", "expectedSignature"
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
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":s": s(e.Successor), ":eh": s(e.Hash), ":es": s(e.SigDigest),
			":ttl": n(now.Add(Retention).Unix())},
		ReturnValues: ddb.ReturnValueAllNew,
	})
	if err != nil {
		return nil, fmt.Errorf("record the link to %s: %w", predID, err)
	}
	if _, ok := out.Attributes[attrHash]; !ok {
		return nil, nil
	}
	return &Side{ID: predID, Hash: str(out.Attributes, attrHash), SigDigest: sigOf(out.Attributes, attrSig, attrOldSig)}, nil
}

// Verified implements Store.
func (t *Table) Verified(ctx context.Context, sd Side, now time.Time) (*Expect, error) {
	out, err := t.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(t.Name), Key: digestID(sd.ID),
		UpdateExpression: aws.String("SET #h = :h, #sig = :sig, #ttl = :ttl, #et = :et REMOVE #c"),
		ExpressionAttributeNames: map[string]string{"#h": attrHash, "#sig": attrSig, "#ttl": attrTTL, "#c": attrClaimed,
			"#et": attrETag},
		ExpressionAttributeValues: map[string]ddb.AttributeValue{":h": s(sd.Hash), ":sig": s(sd.SigDigest),
			":ttl": n(now.Add(Retention).Unix()), ":et": s(sd.ETag)},
		ReturnValues: ddb.ReturnValueAllNew,
	})
	if err != nil {
		return nil, fmt.Errorf("record %s verified: %w", sd.ID, err)
	}
	if _, ok := out.Attributes[attrSucc]; !ok {
		return nil, nil
	}
	return &Expect{Successor: str(out.Attributes, attrSucc), Hash: str(out.Attributes, attrExpHash),
		SigDigest: sigOf(out.Attributes, attrExpSig, attrOldExpSig)}, nil
}

// sigOf is an item's signature digest, from its current attribute or, in
// an item written before, from the full signature.
func sigOf(item map[string]ddb.AttributeValue, name, old string) string {
	if v := str(item, name); v != "" {
		return v
	}
	if v := str(item, old); v != "" {
		return SigDigest(v)
	}
	return ""
}
