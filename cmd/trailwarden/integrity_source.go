package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/integrity"
)

// metadataSuffix names the file beside a mirrored object that holds its S3
// user metadata; such files are never objects.
const metadataSuffix = ".metadata.json"

// s3API is the part of the S3 client integrity verify and mirror use.
type s3API = integrity.BucketAPI

// bucketSource reads a bucket through the SDK.
type bucketSource = integrity.Bucket

// classify wraps an SDK error: 404 as integrity.ErrNotFound, 403 as
// integrity.ErrAccess (exit 2, never "missing").
var classify = integrity.Classify

// dirSource reads a local mirror: object key K is the file DIR/K, its user
// metadata the JSON object in DIR/K.metadata.json.
type dirSource struct{ dir string }

func (d dirSource) List(_ context.Context, prefix string, fn func(string) error) error {
	root := filepath.Join(d.dir, filepath.FromSlash(prefix))
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasSuffix(path, metadataSuffix) {
			return nil
		}
		rel, err := filepath.Rel(d.dir, path)
		if err != nil {
			return err
		}
		return fn(filepath.ToSlash(rel))
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (d dirSource) Get(_ context.Context, key string) (integrity.Object, error) {
	if strings.HasSuffix(key, metadataSuffix) || strings.Contains("/"+key+"/", "/../") {
		return integrity.Object{}, fmt.Errorf("%s: %w", key, integrity.ErrNotFound)
	}
	path := filepath.Join(d.dir, filepath.FromSlash(key))
	body, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return integrity.Object{}, fmt.Errorf("%s: %w", key, integrity.ErrNotFound)
	}
	if err != nil {
		return integrity.Object{}, err
	}
	meta := map[string]string{}
	raw, err := os.ReadFile(path + metadataSuffix)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return integrity.Object{}, err
	default:
		if err := json.Unmarshal(raw, &meta); err != nil {
			return integrity.Object{}, fmt.Errorf("%s%s: not a JSON object of strings: %w", key, metadataSuffix, err)
		}
	}
	return integrity.Object{Body: body, Metadata: meta}, nil
}

// cloudTrailKeys calls ListPublicKeys in each digest's home Region.
type cloudTrailKeys struct {
	cfg aws.Config
}

func (c cloudTrailKeys) PublicKeys(ctx context.Context, region string, start, end time.Time) ([]integrity.PublicKey, error) {
	client := cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) { o.Region = region })
	var out []integrity.PublicKey
	in := &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
	for {
		page, err := client.ListPublicKeys(ctx, in)
		if err != nil {
			return nil, classify(err, "ListPublicKeys in "+region)
		}
		for _, k := range page.PublicKeyList {
			pub, err := integrity.ParseDERKey(k.Value)
			if err != nil {
				return nil, fmt.Errorf("ListPublicKeys in %s: key %s: %w", region, aws.ToString(k.Fingerprint), err)
			}
			out = append(out, integrity.PublicKey{Fingerprint: aws.ToString(k.Fingerprint), Key: pub,
				Start: aws.ToTime(k.ValidityStartTime).UTC(), End: aws.ToTime(k.ValidityEndTime).UTC()})
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// mirrorObject writes one object and, when it has user metadata, its
// metadata file.
func mirrorObject(ctx context.Context, src *bucketSource, dir, key string) error {
	obj, err := src.Get(ctx, key)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, obj.Body, 0o644); err != nil {
		return err
	}
	if len(obj.Metadata) == 0 {
		return nil
	}
	meta, err := json.MarshalIndent(obj.Metadata, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path+metadataSuffix, append(meta, '\n'), 0o644)
}

// trailStatuses reads GetTrailStatus by trail ARN in the trail's home
// Region, once per trail; a trail it cannot read (another account's, no
// access) has no status, and its gaps keep their kind.
type trailStatuses struct {
	cfg   aws.Config
	cache map[string]*integrity.TrailStatus
}

func (s *trailStatuses) TrailStatus(ctx context.Context, account, home, trail string) (integrity.TrailStatus, bool) {
	arn := "arn:" + awsenv.Partition(home) + ":cloudtrail:" + home + ":" + account + ":trail/" + trail
	if st, seen := s.cache[arn]; seen {
		return derefStatus(st)
	}
	client := cloudtrail.NewFromConfig(s.cfg, func(o *cloudtrail.Options) { o.Region = home })
	out, err := client.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		s.cache[arn] = nil
		return integrity.TrailStatus{}, false
	}
	st := &integrity.TrailStatus{IsLogging: aws.ToBool(out.IsLogging),
		StartLoggingTime: aws.ToTime(out.StartLoggingTime), StopLoggingTime: aws.ToTime(out.StopLoggingTime)}
	s.cache[arn] = st
	return derefStatus(st)
}

func derefStatus(st *integrity.TrailStatus) (integrity.TrailStatus, bool) {
	if st == nil {
		return integrity.TrailStatus{}, false
	}
	return *st, true
}
