package verifier

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// ObjectCheck selects which objects HeadObject confirms.
type ObjectCheck string

const (
	// CheckNone trusts the notification.
	CheckNone ObjectCheck = "none"
	// CheckSample confirms a deterministic sample (SampleRate) of objects.
	CheckSample ObjectCheck = "sample"
	// CheckAll confirms every object.
	CheckAll ObjectCheck = "all"
)

// ParseObjectCheck reads none|sample|all.
func ParseObjectCheck(s string) (ObjectCheck, error) {
	switch c := ObjectCheck(strings.ToLower(strings.TrimSpace(s))); c {
	case CheckNone, CheckSample, CheckAll:
		return c, nil
	}
	return "", fmt.Errorf("object check %q is not none, sample or all", s)
}

// HeadObjectAPI is the S3 call the object check makes.
type HeadObjectAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

var _ HeadObjectAPI = (*s3.Client)(nil)

// sampled reports whether key is in the sample: a hash of the key, so a
// retried message checks the same objects.
func sampled(key string, rate float64) bool {
	if rate >= 1 {
		return true
	}
	if rate <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return float64(h.Sum64()%1_000_000) < rate*1_000_000
}

// headCheck confirms one object: it exists, is not empty and, when kmsKey is
// set, is encrypted with SSE-KMS under that key. A failed check returns a
// Code; a call that failed returns an error (retryable for throttling and
// server errors).
func headCheck(ctx context.Context, api HeadObjectAPI, bucket, key, kmsKey string) (Code, string, error) {
	out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nf *s3types.NotFound
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &nf):
			return CodeObjectMissing, "announced object does not exist", nil
		case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NotFound" || apiErr.ErrorCode() == "NoSuchKey"):
			return CodeObjectMissing, "announced object does not exist", nil
		case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "SlowDown" || apiErr.ErrorCode() == "ServiceUnavailable" ||
			apiErr.ErrorCode() == "RequestLimitExceeded" || apiErr.ErrorCode() == "Throttling"):
			return "", "", fault.New(fault.Retryable, apiErr.ErrorCode(), fmt.Errorf("head s3://%s/%s: %w", bucket, key, err))
		}
		return "", "", fault.New(fault.Retryable, "HeadObjectFailed", fmt.Errorf("head s3://%s/%s: %w", bucket, key, err))
	}
	if aws.ToInt64(out.ContentLength) <= 0 {
		return CodeObjectEmpty, "announced object is empty", nil
	}
	if kmsKey != "" {
		if out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms && out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKmsDsse {
			return CodeObjectNotKMS, fmt.Sprintf("object encryption is %q, not SSE-KMS", out.ServerSideEncryption), nil
		}
		if got := aws.ToString(out.SSEKMSKeyId); !sameKey(got, kmsKey) {
			return CodeObjectWrongKey, fmt.Sprintf("object is encrypted with %s, not %s", got, kmsKey), nil
		}
	}
	return "", "", nil
}

// sameKey compares key ARNs, tolerating a bare key id on either side.
func sameKey(got, want string) bool {
	if got == want {
		return true
	}
	tail := func(s string) string {
		if i := strings.LastIndex(s, "key/"); i >= 0 {
			return s[i+4:]
		}
		return s
	}
	return tail(got) != "" && tail(got) == tail(want)
}
