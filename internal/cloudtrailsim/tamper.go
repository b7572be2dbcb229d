package cloudtrailsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TamperS3 is the part of the S3 client the tampering helpers use: what
// someone with write access to the bucket can do to delivered files.
type TamperS3 interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

var _ TamperS3 = (*s3.Client)(nil)

// DeleteObjects deletes keys (a log file, or the newest digests of a chain
// to truncate it).
func DeleteObjects(ctx context.Context, c TamperS3, bucket string, keys ...string) error {
	for _, k := range keys {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err != nil {
			return fmt.Errorf("cloudtrailsim: delete s3://%s/%s: %w", bucket, k, err)
		}
	}
	return nil
}

// AlterObject rewrites a delivered gzipped object with edit applied to its
// uncompressed content, keeping its user metadata (a digest keeps its
// signature): an altered log file or digest.
func AlterObject(ctx context.Context, c TamperS3, bucket, key string, edit func([]byte) []byte) error {
	return rewrite(ctx, c, bucket, key, func(stored []byte) ([]byte, error) {
		zr, err := gzip.NewReader(bytes.NewReader(stored))
		if err != nil {
			return nil, err
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			return nil, err
		}
		return gzipBytes(edit(raw)), nil
	})
}

// AppendGzipMember appends a second gzip member to a delivered object: its
// first member (what a reader that stops there hashes) is unchanged.
func AppendGzipMember(ctx context.Context, c TamperS3, bucket, key string, extra []byte) error {
	return rewrite(ctx, c, bucket, key, func(stored []byte) ([]byte, error) {
		return append(stored, gzipBytes(extra)...), nil
	})
}

// ChangeFirstEvent is an edit for AlterObject: the first eventName of a log
// file gets a prefix, so its hash no longer matches its digest.
func ChangeFirstEvent(raw []byte) []byte {
	return bytes.Replace(raw, []byte(`"eventName":"`), []byte(`"eventName":"Tampered`), 1)
}

func rewrite(ctx context.Context, c TamperS3, bucket, key string, f func([]byte) ([]byte, error)) error {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("cloudtrailsim: get s3://%s/%s: %w", bucket, key, err)
	}
	stored, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil {
		return fmt.Errorf("cloudtrailsim: read s3://%s/%s: %w", bucket, key, err)
	}
	body, err := f(stored)
	if err != nil {
		return fmt.Errorf("cloudtrailsim: rewrite s3://%s/%s: %w", bucket, key, err)
	}
	if body == nil {
		return errors.New("cloudtrailsim: rewrite produced no body")
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))), Metadata: out.Metadata}
	if _, err := c.PutObject(ctx, in); err != nil {
		return fmt.Errorf("cloudtrailsim: put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}
