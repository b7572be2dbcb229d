package integritywatch_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/integritywatch"
)

func (wd *world) heads(t *testing.T) []integritywatch.Head {
	t.Helper()
	var out []integritywatch.Head
	r := &integritywatch.HeadReader{DB: wd.db, Table: "heads", Segments: 2}
	if _, err := r.Scan(t.Context(), func(h integritywatch.Head) error {
		out = append(out, h)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// The head is the newest verified digest whatever the order of arrival,
// and the next digest is overdue just after integrity.MissingAfter.
func TestHeadMovesOnlyForward(t *testing.T) {
	wd := newWorld(t, integrity.LogFilesNone)
	digests, _ := wd.chain(t, 3)
	if got := wd.verify(t, digests[0], digests[2], digests[1]); len(got) != 0 {
		t.Fatalf("findings %v", got)
	}
	hs := wd.heads(t)
	if len(hs) != 1 {
		t.Fatalf("heads %+v, want one", hs)
	}
	h := hs[0]
	end := start.Add(2 * time.Hour) // the third digest's end (the simulator ends a digest at its delivery time)
	if h.Key() != digests[2] || h.Bucket() != bucket || h.Account != account || h.Region != region || h.Trail != "org-trail" ||
		h.Home != "us-east-1" || h.End.Sub(end).Abs() > time.Minute {
		t.Fatalf("head %+v, want digest %s ending about %s", h, digests[2], end)
	}
	if integritywatch.Overdue(h, time.Time{}, h.End.Add(integrity.MissingAfter)) || !integritywatch.Overdue(h, time.Time{}, h.End.Add(integrity.MissingAfter+time.Second)) {
		t.Error("a digest is overdue only after MissingAfter since the head's end")
	}
	restart := h.End.Add(3 * time.Hour)
	if integritywatch.Overdue(h, restart, restart.Add(time.Hour)) {
		t.Error("a restarted trail's next digest is counted from its StartLoggingTime")
	}
}

// A verified digest written again with other bytes is an overwrite; the
// same event delivered again, or none, is not.
func TestOverwrittenDigest(t *testing.T) {
	wd := newWorld(t, integrity.LogFilesNone)
	digests, _ := wd.chain(t, 1)
	if got := wd.verify(t, digests[0]); len(got) != 0 {
		t.Fatalf("findings %v", got)
	}
	head, err := wd.s3.Client.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests[0])})
	if err != nil {
		t.Fatal(err)
	}
	put, err := wd.s3.Client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(digests[0]),
		Body: bytes.NewReader([]byte("forged"))})
	if err != nil {
		t.Fatal(err)
	}
	for etag, want := range map[string]int{aws.ToString(head.ETag): 0, "": 0, aws.ToString(put.ETag): 1} {
		fs, err := wd.w.Digest(t.Context(), bucket, digests[0], etag)
		if err != nil {
			t.Fatal(err)
		}
		if len(fs) != want {
			t.Fatalf("ETag %q: findings %+v, want %d", etag, fs, want)
		}
		if want == 1 && (fs[0].Code != integritywatch.CodeLogObjectOverwritten || fs[0].Account != account || fs[0].Region != region || fs[0].Key != digests[0]) {
			t.Errorf("finding %+v", fs[0])
		}
	}
	if n := wd.s3.gets[digests[0]]; n != 1 {
		t.Errorf("digest read %d times, want once", n)
	}
}

// In order, the successor checks its link against the head's side and
// moves the head in one write: a head whose side does not match the
// successor's previousDigestHashValue or previousDigestSignature is a
// broken link.
func TestInOrderLinkCheckedOnTheHead(t *testing.T) {
	for name, attr := range map[string]string{"intact": "", "hash": "hash", "signature": "sigSha256"} {
		t.Run(name, func(t *testing.T) {
			wd := newWorld(t, integrity.LogFilesNone)
			digests, _ := wd.chain(t, 2)
			if got := wd.verify(t, digests[0]); len(got) != 0 {
				t.Fatalf("findings %v", got)
			}
			if attr != "" {
				_, err := wd.db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: aws.String("heads"),
					Key:                       map[string]ddbtypes.AttributeValue{"scope": &ddbtypes.AttributeValueMemberS{Value: wd.heads(t)[0].Scope}},
					UpdateExpression:          aws.String("SET #a = :v"),
					ExpressionAttributeNames:  map[string]string{"#a": attr},
					ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":v": &ddbtypes.AttributeValueMemberS{Value: strings.Repeat("0", 64)}}})
				if err != nil {
					t.Fatal(err)
				}
			}
			var want []string
			if attr != "" {
				want = []string{"digest-link-broken " + digests[1]}
			}
			if got := wd.verify(t, digests[1]); !equal(got, want) {
				t.Fatalf("findings %v, want %v", got, want)
			}
			if hs := wd.heads(t); len(hs) != 1 || hs[0].Key() != digests[1] {
				t.Fatalf("heads %+v, want the second digest", hs)
			}
		})
	}
}
