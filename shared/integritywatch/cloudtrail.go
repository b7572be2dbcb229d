package integritywatch

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/shared/integrity"
)

// CloudTrailKeys is a KeySource calling ListPublicKeys in each digest's
// home Region (CloudTrail API Reference, ListPublicKeys: keys as DER
// PKCS #1 with their validity). Wrap it in CachedKeys.
type CloudTrailKeys struct {
	Config aws.Config
}

// PublicKeys implements integrity.KeySource.
func (c CloudTrailKeys) PublicKeys(ctx context.Context, home string, start, end time.Time) ([]integrity.PublicKey, error) {
	client := cloudtrail.NewFromConfig(c.Config, func(o *cloudtrail.Options) { o.Region = home })
	in := &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(start), EndTime: aws.Time(end)}
	var out []integrity.PublicKey
	for {
		page, err := client.ListPublicKeys(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("ListPublicKeys in %s: %w", home, err)
		}
		for _, k := range page.PublicKeyList {
			pub, err := integrity.ParseDERKey(k.Value)
			if err != nil {
				return nil, fmt.Errorf("ListPublicKeys in %s: key %s: %w", home, aws.ToString(k.Fingerprint), err)
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
