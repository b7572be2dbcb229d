package integrity

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ErrAccess marks an S3 or CloudTrail call refused for access (HTTP 403):
// an access error, never a missing object (S3 answers 403 for a missing
// key to a caller without s3:ListBucket).
var ErrAccess = errors.New("access denied")

// BucketAPI is the part of the S3 client Bucket uses.
type BucketAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Bucket is a Source reading a bucket through the SDK (`integrity verify
// --bucket`, the demo).
type Bucket struct {
	API  BucketAPI
	Name string
}

// Classify wraps an SDK error of what: 404 as ErrNotFound, 403 as
// ErrAccess.
func Classify(err error, what string) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", what, ErrNotFound)
		case http.StatusForbidden:
			return fmt.Errorf("%s: %w: %w", what, ErrAccess, err)
		}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// List implements Source.
func (b *Bucket) List(ctx context.Context, prefix string, fn func(string) error) error {
	p := s3.NewListObjectsV2Paginator(b.API, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return Classify(err, "list s3://"+b.Name+"/"+prefix)
		}
		for _, o := range page.Contents {
			if err := fn(aws.ToString(o.Key)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Get implements Source: the stored bytes and the user metadata (names
// lower case).
func (b *Bucket) Get(ctx context.Context, key string) (Object, error) {
	out, err := b.API.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.Name), Key: aws.String(key)})
	if err != nil {
		return Object{}, Classify(err, "get s3://"+b.Name+"/"+key)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return Object{}, fmt.Errorf("read s3://%s/%s: %w", b.Name, key, err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return Object{Body: body, Metadata: meta}, nil
}
