package integritywatch_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

// toOldForm rewrites a digest's state item as the state wrote it before it
// kept signature digests: the full signature under the old attribute name.
func (wd *world) toOldForm(t *testing.T, digest, newAttr, oldAttr, sig string) {
	t.Helper()
	_, err := wd.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String("integrity"),
		Key:                       map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "digest#" + bucket + "/" + digest}},
		UpdateExpression:          aws.String("SET #old = :sig REMOVE #new"),
		ConditionExpression:       aws.String("attribute_exists(#new)"),
		ExpressionAttributeNames:  map[string]string{"#old": oldAttr, "#new": newAttr},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":sig": &ddbtypes.AttributeValueMemberS{Value: sig}}})
	if err != nil {
		t.Fatal(err)
	}
}

// Items written before the state kept signature digests hold the full
// signatures: the link check compares either form, in either order of
// arrival, and still finds a signature that does not match.
func TestOldItemsWithFullSignatures(t *testing.T) {
	for name, tc := range map[string]struct {
		successorFirst bool
		tamper         bool
	}{
		"predecessor's own side":           {},
		"predecessor's own side, altered":  {tamper: true},
		"successor's expectation":          {successorFirst: true},
		"successor's expectation, altered": {successorFirst: true, tamper: true},
	} {
		t.Run(name, func(t *testing.T) {
			wd := newWorld(t, integrity.LogFilesNone)
			digests, _ := wd.chain(t, 2)
			head, err := wd.s3.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests[0])})
			if err != nil {
				t.Fatal(err)
			}
			sig := head.Metadata["signature"]
			if len(sig) != 512 {
				t.Fatalf("signature %q", sig)
			}
			if tc.tamper {
				sig = "00" + sig[2:]
			}
			first, second, newAttr, oldAttr := digests[0], digests[1], "sigSha256", "signature"
			if tc.successorFirst {
				first, second, newAttr, oldAttr = digests[1], digests[0], "expectedSigSha256", "expectedSignature"
			}
			if got := wd.verify(t, first); len(got) != 0 {
				t.Fatalf("findings %v", got)
			}
			wd.toOldForm(t, digests[0], newAttr, oldAttr, sig)
			if _, err := wd.db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: aws.String("heads"),
				Key: map[string]ddbtypes.AttributeValue{"scope": &ddbtypes.AttributeValueMemberS{Value: wd.heads(t)[0].Scope}}}); err != nil {
				t.Fatal(err) // a head written before kept no side: the link goes through the items
			}
			got := wd.verify(t, second)
			want := []string(nil)
			if tc.tamper {
				want = []string{"digest-link-broken " + digests[1]}
			}
			if !equal(got, want) {
				t.Fatalf("findings %v, want %v", got, want)
			}
		})
	}
}
