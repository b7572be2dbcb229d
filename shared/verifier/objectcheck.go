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
	smithyhttp "github.com/aws/smithy-go/transport/http"

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

// CodeObjectCheckForbidden is the error code of a HeadObject that S3
// refused (403): the verifier's access to the bucket is misconfigured.
const CodeObjectCheckForbidden = "ObjectCheckForbidden"

// headCheck confirms one object: it exists, is not empty and, when kmsKey is
// set, is encrypted with SSE-KMS under that key. A failed check returns a
// Code; a call that failed returns an error (retryable for throttling and
// server errors).
//
// HeadObject has no response body, so S3's error is only its status code.
// With s3:ListBucket on the bucket (the verifier's role has it), a missing
// object is 404 Not Found: CodeObjectMissing. Without it S3 answers 403 for
// a missing object too (Amazon S3 API Reference, HeadObject,
// "Permissions"), so a 403 says nothing about the object: it means the
// verifier's access is misconfigured (role, bucket policy or ListBucket).
// It returns a NeedsHuman error with CodeObjectCheckForbidden, which the
// processor reports as a configuration error instead of retrying the
// record into the DLQ.
func headCheck(ctx context.Context, api HeadObjectAPI, bucket, key, kmsKey string) (Code, string, error) {
	out, err := api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var nf *s3types.NotFound
		var apiErr smithy.APIError
		var re *smithyhttp.ResponseError
		switch {
		case errors.As(err, &nf):
			return CodeObjectMissing, "announced object does not exist", nil
		case errors.As(err, &apiErr) && (apiErr.ErrorCode() == "NotFound" || apiErr.ErrorCode() == "NoSuchKey"):
			return CodeObjectMissing, "announced object does not exist", nil
		case errors.As(err, &re) && re.HTTPStatusCode() == 403,
			errors.As(err, &apiErr) && (apiErr.ErrorCode() == "Forbidden" || apiErr.ErrorCode() == "AccessDenied"):
			return "", "", fault.New(fault.NeedsHuman, CodeObjectCheckForbidden, fmt.Errorf("head s3://%s/%s: S3 refused the object check "+
				"(403): the verifier needs s3:GetObject on the bucket's objects and s3:ListBucket on the bucket: %w", bucket, key, err))
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
