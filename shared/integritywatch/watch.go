package integritywatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwarden/trailwarden/shared/integrity"
	"github.com/trailwarden/trailwarden/shared/logkey"
)

// Finding codes (the verifier declares each as a Code, with a runbook).
const (
	CodeDigestInvalid    = "digest-invalid"
	CodeDigestLinkBroken = "digest-link-broken"
	CodeLogFileInvalid   = "log-file-invalid"
	CodeLogFileMissing   = "log-file-missing"
	// CodeLogObjectOverwritten: a digest verified earlier was written
	// again with other bytes (CloudTrail writes each object once).
	CodeLogObjectOverwritten = "log-object-overwritten"
)

// Finding is one integrity failure.
type Finding struct {
	Code, Account, Region, Bucket, Key, Reason string
}

// GetObjectAPI is the part of the S3 client the watcher uses.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Watcher verifies digests as they arrive. Every field but LogFiles
// (LogFilesNone when "") and Now is required.
type Watcher struct {
	S3       GetObjectAPI
	Keys     integrity.KeySource
	State    Store
	LogFiles integrity.LogFileMode
	Now      func() time.Time
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// MaxObjectSize bounds what one GET reads into memory.
const MaxObjectSize = 64 << 20

// Digest verifies the digest at bucket/key once, whatever the number of
// deliveries of its notification, and returns its findings. etag is the
// announcing S3 event's object ETag ("" for other notifications): an event
// for a digest verified earlier whose ETag differs from the verified
// object's is an overwrite. An error is transient (S3, DynamoDB,
// ListPublicKeys): the claim is released and a retry reads the digest
// again.
func (w *Watcher) Digest(ctx context.Context, bucket, key, etag string) (_ []Finding, err error) {
	id := bucket + "/" + key
	claimed, err := w.State.Claim(ctx, id, w.now())
	if err != nil {
		return nil, err
	}
	if !claimed {
		return w.rewritten(ctx, bucket, key, etag)
	}
	defer func() {
		if err != nil {
			if rerr := w.State.Release(context.WithoutCancel(ctx), id); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	obj, objETag, found, err := w.get(ctx, bucket, key)
	if err != nil || !found {
		return nil, err // a digest announced but gone is the deletion watch's case
	}
	c, err := w.check(ctx, bucket, key, obj)
	if err != nil {
		return nil, err
	}
	var out []Finding
	find := func(code, k, reason string) {
		out = append(out, Finding{Code: code, Account: c.Key.Account, Region: c.Key.Region, Bucket: bucket, Key: k, Reason: reason})
	}
	if c.Verdict != integrity.Valid {
		find(CodeDigestInvalid, key, c.Reason)
	}
	sig := SigDigest(c.Signature)
	if c.Hash == "" { // not even gzip: its successor's link is broken
		_, err := w.State.Verified(ctx, Side{ID: id, Hash: "-", SigDigest: sig, ETag: objETag}, w.now())
		return out, err
	}
	head, isHead := headOf(c, id, sig)
	moved := false
	// Only a signed digest's claims about its predecessor are recorded: an
	// invalid one (already a finding) must not overwrite what the real
	// successor expects.
	if c.Verdict == integrity.Valid && !c.Digest.Restart() {
		reason, followed, err := w.link(ctx, c, id, head, isHead)
		if err != nil {
			return nil, err
		}
		if reason != "" {
			find(CodeDigestLinkBroken, key, reason)
		}
		moved = followed
	}
	exp, err := w.State.Verified(ctx, Side{ID: id, Hash: c.Hash, SigDigest: sig, ETag: objETag}, w.now())
	if err != nil {
		return nil, err
	}
	if reason := compare(&Side{ID: id, Hash: c.Hash, SigDigest: sig}, deref(exp)); exp != nil && reason != "" {
		out = append(out, Finding{Code: CodeDigestLinkBroken, Account: c.Key.Account, Region: c.Key.Region, Bucket: bucket,
			Key: trimBucket(exp.Successor, bucket), Reason: reason})
	}
	if c.Verdict == integrity.Valid {
		if isHead && !moved {
			if err := w.State.Advance(ctx, head); err != nil {
				return nil, err
			}
		}
		lf, err := w.logFiles(ctx, bucket, key, c)
		if err != nil {
			return nil, err
		}
		out = append(out, lf...)
	}
	return out, nil
}

// link checks a valid digest's link to its predecessor: in one write when
// the predecessor is its chain's head (Follow: the digest becomes the
// head, followed true), else by recording the expectation on the
// predecessor's item (Expect), compared there now or when the predecessor
// is verified. It returns why the link is broken, or "".
func (w *Watcher) link(ctx context.Context, c integrity.DigestCheck, id string, head Head, isHead bool) (string, bool, error) {
	prev := *c.Digest.PreviousDigestS3Bucket + "/" + *c.Digest.PreviousDigestS3Object
	exp := Expect{Successor: id, Hash: deref(c.Digest.PreviousDigestHashValue), SigDigest: SigDigest(deref(c.Digest.PreviousDigestSignature))}
	if isHead {
		actual, err := w.State.Follow(ctx, head, prev)
		if err != nil {
			return "", false, err
		}
		if actual != nil {
			return compare(actual, exp), true, nil
		}
	}
	actual, err := w.State.Expect(ctx, prev, exp, w.now())
	if err != nil {
		return "", false, err
	}
	return compare(actual, exp), false, nil
}

// forgetter is a KeySource whose cache can be dropped (CachedKeys).
type forgetter interface{ Forget(home string) bool }

// check runs integrity.CheckDigest; a digest found invalid is checked once
// more against freshly listed keys when the cached ones may predate a key
// rotation (the object is not read again).
func (w *Watcher) check(ctx context.Context, bucket, key string, obj integrity.Object) (integrity.DigestCheck, error) {
	c, err := integrity.CheckDigest(ctx, w.Keys, bucket, key, obj)
	if err == nil && c.Verdict != integrity.Valid && c.Digest != nil {
		if f, ok := w.Keys.(forgetter); ok && f.Forget(c.Key.HomeRegion) {
			c, err = integrity.CheckDigest(ctx, w.Keys, bucket, key, obj)
		}
	}
	if err != nil {
		return integrity.DigestCheck{}, fmt.Errorf("check digest %s: %w", key, err)
	}
	return c, nil
}

// compare returns why an expectation does not match the predecessor's
// actual side, or "" (also when either side is not known yet).
func compare(actual *Side, exp Expect) string {
	if actual == nil || exp.Successor == "" {
		return ""
	}
	if actual.Hash != exp.Hash {
		return fmt.Sprintf("previousDigestHashValue does not match the SHA-256 of s3://%s", actual.ID)
	}
	if actual.SigDigest != exp.SigDigest { // equal exactly when the signatures are: SigDigest
		return fmt.Sprintf("previousDigestSignature does not match the signature of s3://%s", actual.ID)
	}
	return ""
}

// logFiles hashes the log files c lists, per the LogFiles setting.
func (w *Watcher) logFiles(ctx context.Context, bucket, digestKey string, c integrity.DigestCheck) ([]Finding, error) {
	var out []Finding
	for _, e := range c.Digest.LogFiles {
		switch {
		case w.LogFiles == "" || w.LogFiles == integrity.LogFilesNone, e.S3Bucket != bucket:
			continue
		case w.LogFiles == integrity.LogFilesSample && !integrity.Sampled(e.S3Object):
			continue
		}
		obj, _, found, err := w.get(ctx, bucket, e.S3Object)
		if err != nil {
			return nil, err
		}
		f := Finding{Account: c.Key.Account, Region: c.Key.Region, Bucket: bucket, Key: e.S3Object}
		if !found {
			f.Code, f.Reason = CodeLogFileMissing, "listed by "+digestKey+", not found"
			out = append(out, f)
			continue
		}
		if verdict, reason := integrity.CheckLogFile(obj.Body, e.HashValue); verdict != integrity.Valid {
			f.Code, f.Reason = CodeLogFileInvalid, reason
			out = append(out, f)
		}
	}
	return out, nil
}

// get reads one object and its ETag (unquoted); found is false when S3
// says it does not exist.
func (w *Watcher) get(ctx context.Context, bucket, key string) (integrity.Object, string, bool, error) {
	out, err := w.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nsk *s3types.NoSuchKey
	if errors.As(err, &nsk) {
		return integrity.Object{}, "", false, nil
	}
	if err != nil {
		return integrity.Object{}, "", false, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(io.LimitReader(out.Body, MaxObjectSize+1))
	if err != nil {
		return integrity.Object{}, "", false, fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
	}
	if len(body) > MaxObjectSize {
		return integrity.Object{}, "", false, fmt.Errorf("s3://%s/%s is larger than %d bytes", bucket, key, MaxObjectSize)
	}
	return integrity.Object{Body: body, Metadata: out.Metadata}, unquote(aws.ToString(out.ETag)), true, nil
}

// unquote drops the double quotes S3 puts around an ETag in responses
// (S3 events carry it bare).
func unquote(etag string) string { return strings.Trim(etag, `"`) }

// rewritten reports an S3 event for a digest already verified whose ETag
// is not the verified object's: the key was written again. A redelivered
// event, or another notification of the same object, carries the same
// ETag (or none) and is not read again.
func (w *Watcher) rewritten(ctx context.Context, bucket, key, etag string) ([]Finding, error) {
	if etag == "" {
		return nil, nil
	}
	verified, was, err := w.State.Seen(ctx, bucket+"/"+key)
	if err != nil || !verified || was == "" || unquote(etag) == was {
		return nil, err
	}
	f := Finding{Code: CodeLogObjectOverwritten, Bucket: bucket, Key: key,
		Reason: fmt.Sprintf("digest verified with ETag %s was written again (ETag %s); CloudTrail writes each digest once", was, unquote(etag))}
	if k, perr := logkey.Parse(key); perr == nil {
		f.Account, f.Region = k.Account, k.Region
	}
	return []Finding{f}, nil
}

func deref[T any](p *T) T {
	var z T
	if p == nil {
		return z
	}
	return *p
}

func trimBucket(id, bucket string) string {
	if len(id) > len(bucket) && id[:len(bucket)+1] == bucket+"/" {
		return id[len(bucket)+1:]
	}
	return id
}
