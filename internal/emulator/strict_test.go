package emulator_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/emulator"
)

// The emulator refuses, through the real CloudTrail client, the tag values
// CloudTrail refuses (API Reference, Tag: Value 1-256 characters; CreateTrail
// and AddTags: InvalidTagParameterException for a key or value outside
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$), and accepts the ones it accepts.
func TestStrictCloudTrailTags(t *testing.T) {
	env := emulator.NewEnv(t)
	ctx := t.Context()
	member := env.MustMember("member-1")
	bucket := "strict-tags-" + member.ID
	if _, err := s3.NewFromConfig(member.Config, emulator.S3Options).CreateBucket(ctx,
		&s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	ct := cloudtrail.NewFromConfig(member.Config)
	cases := []struct {
		name, trail, value, code string
	}{
		{"empty value", "strict-empty", "", "InvalidTagParameterException"},
		{"comma-joined keys", "strict-comma", "owner,team", "InvalidTagParameterException"},
		{"value outside the class", "strict-semicolon", "a;b", "InvalidTagParameterException"},
		{"letters, spaces, + : / = @", "strict-ok", "Team A+B:x/y=z@q", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
				Name: aws.String(tc.trail), S3BucketName: aws.String(bucket),
				TagsList: []cttypes.Tag{{Key: aws.String("trailwarden:managed-tags"), Value: aws.String(tc.value)}},
			})
			if tc.code == "" {
				if err != nil {
					t.Fatalf("CreateTrail with tag value %q: %v", tc.value, err)
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Fatalf("CreateTrail with tag value %q: got %v, want %s", tc.value, err, tc.code)
			}
			if _, err := ct.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(tc.trail)}); err == nil {
				t.Fatalf("a refused CreateTrail created trail %s", tc.trail)
			}
		})
	}
}
