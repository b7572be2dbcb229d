package doctor

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// BucketPolicyAPI reads the central bucket's policy.
type BucketPolicyAPI interface {
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, opts ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
}

// KeyPolicyAPI reads the central key's policy.
type KeyPolicyAPI interface {
	GetKeyPolicy(ctx context.Context, in *kms.GetKeyPolicyInput, opts ...func(*kms.Options)) (*kms.GetKeyPolicyOutput, error)
}

// TopicAPI reads the deliveries topic's attributes.
type TopicAPI interface {
	GetTopicAttributes(ctx context.Context, in *sns.GetTopicAttributesInput, opts ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

// PolicyReaders read the central resource policies as deployed (logging
// account credentials).
type PolicyReaders struct {
	S3  BucketPolicyAPI
	KMS KeyPolicyAPI
	SNS TopicAPI
}

// Central names the central resources and the trails that deliver to them.
type Central struct {
	Partition, Region, OrganizationID string
	Bucket, KeyPrefix                 string
	KeyARN                            string // "" or "none": SSE-S3, no key to check
	TopicARN                          string // "": no deliveries topic
	TrailNames                        []string
	// Account is the account whose trail ARN the statements are evaluated
	// for: the management account in organization-trail mode, a sampled
	// member otherwise (empty: the first account of the member-role sample).
	Account           string
	OrganizationTrail bool
}

func (c Central) trailARN(name string) string {
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", c.Partition, c.Region, c.Account, name)
}

// context is what CloudTrail's request carries for trail name (CloudTrail
// User Guide, "Amazon S3 bucket policy for CloudTrail", "Configure AWS KMS
// key policies for CloudTrail", "Amazon SNS topic policy for CloudTrail").
func (c Central) context(name string) map[string]string {
	arn := c.trailARN(name)
	return map[string]string{"aws:SourceArn": arn, "aws:SourceAccount": c.Account, "aws:SourceOrgID": c.OrganizationID,
		"s3:x-amz-acl": "bucket-owner-full-control", "kms:EncryptionContext:aws:cloudtrail:arn": arn}
}

// LogPrefix is where the account's files land under the bucket:
// [prefix/]AWSLogs/[org-id/]account/.
func (c Central) LogPrefix(account string) string {
	p := "AWSLogs/"
	if c.OrganizationTrail {
		p += c.OrganizationID + "/"
	}
	p += account + "/"
	if c.KeyPrefix != "" {
		p = strings.TrimSuffix(c.KeyPrefix, "/") + "/" + p
	}
	return p
}

func (c Central) needs() map[string][]need {
	bucketARN := fmt.Sprintf("arn:%s:s3:::%s", c.Partition, c.Bucket)
	out := map[string][]need{}
	for _, name := range c.TrailNames {
		ctx := c.context(name)
		out["bucket"] = append(out["bucket"],
			need{Action: "s3:GetBucketAcl", Resource: bucketARN, Context: ctx},
			need{Action: "s3:PutObject", Resource: bucketARN + "/" + c.LogPrefix(c.Account) + "CloudTrail/x.json.gz", Context: ctx},
			need{Action: "s3:PutObject", Resource: bucketARN + "/" + c.LogPrefix(c.Account) + "CloudTrail-Digest/x.json.gz", Context: ctx})
		if c.KeyARN != "" && c.KeyARN != "none" {
			out["key"] = append(out["key"], need{Action: "kms:GenerateDataKey", Resource: c.KeyARN, Context: ctx},
				need{Action: "kms:DescribeKey", Resource: c.KeyARN, Context: ctx})
		}
		if c.TopicARN != "" {
			out["topic"] = append(out["topic"], need{Action: "SNS:Publish", Resource: c.TopicARN, Context: ctx})
		}
	}
	return out
}

var policyNext = map[string]string{
	"bucket": "redeploy the logging stack, or add CloudTrail's GetBucketAcl and PutObject statements for the trail name (docs/deploy.md, Bucket policy decision)",
	"key":    "redeploy the logging stack, or add CloudTrail's kms:GenerateDataKey* (encryption context = the trail ARN) and kms:DescribeKey statements",
	"topic":  "redeploy the logging stack, or add CloudTrail's SNS:Publish statement for the trail name",
}

func (p PolicyReaders) check(ctx context.Context, c Central, rep *Report) error {
	needs := c.needs()
	for _, kind := range []string{"bucket", "key", "topic"} {
		if len(needs[kind]) == 0 {
			continue
		}
		doc, name, err := p.read(ctx, kind, c)
		if err != nil {
			return err
		}
		ch := Check{Name: kind + "-policy", Status: Pass,
			Detail: fmt.Sprintf("%s admits CloudTrail for trail(s) %s in %s", name, strings.Join(c.TrailNames, ", "), c.Account)}
		stmts, perr := parsePolicy(doc)
		var problems []string
		if perr != nil {
			problems = append(problems, perr.Error())
		}
		for _, n := range needs[kind] {
			if perr == nil {
				if why := allows(stmts, n); why != "" {
					problems = append(problems, why)
				}
			}
		}
		if len(problems) > 0 {
			ch.Status, ch.Detail, ch.Next = Fail, name+": "+strings.Join(problems, "; "), policyNext[kind]
		}
		rep.Add(ch)
	}
	return nil
}

func (p PolicyReaders) read(ctx context.Context, kind string, c Central) (doc, name string, err error) {
	switch kind {
	case "bucket":
		out, err := p.S3.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(c.Bucket)})
		if err != nil {
			return "", "", &AccessError{Call: "s3:GetBucketPolicy " + c.Bucket, Err: err}
		}
		return aws.ToString(out.Policy), "bucket " + c.Bucket, nil
	case "key":
		out, err := p.KMS.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(c.KeyARN), PolicyName: aws.String("default")})
		if err != nil {
			return "", "", &AccessError{Call: "kms:GetKeyPolicy " + c.KeyARN, Err: err}
		}
		return aws.ToString(out.Policy), "key " + c.KeyARN, nil
	default:
		out, err := p.SNS.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(c.TopicARN)})
		if err != nil {
			return "", "", &AccessError{Call: "sns:GetTopicAttributes " + c.TopicARN, Err: err}
		}
		return out.Attributes["Policy"], "topic " + c.TopicARN, nil
	}
}
