// Package centralpolicy is the one definition of what the central bucket,
// its KMS key and the deliveries topic grant CloudTrail: the CDK app
// (infra/stacks) and the emulator's provisioning (internal/central) both
// build their policies from it.
//
// Sources (AWS CloudTrail User Guide): "Amazon S3 bucket policy for
// CloudTrail", "Configure AWS KMS key policies for CloudTrail", "Amazon SNS
// topic policy for CloudTrail", and "Cross-service confused deputy
// prevention", which names aws:SourceArn and aws:SourceAccount as the keys
// CloudTrail populates for trails.
package centralpolicy

import (
	"fmt"
	"strings"
)

// Service is CloudTrail's service principal.
const Service = "cloudtrail.amazonaws.com"

// Statement Sids, stable: tests and operators read policies by them.
const (
	SidAclCheck      = "CloudTrailAclCheck"
	SidWrite         = "CloudTrailWrite"
	SidEncrypt       = "CloudTrailEncryptLogs"
	SidDecryptBucket = "CloudTrailDecryptBucketKey"
	SidDescribeKey   = "CloudTrailDescribeKey"
	SidPublish       = "CloudTrailPublish"
)

// Writers says which trails may write: trailwarden's trail name in any
// Region, of the listed source accounts (aws:SourceAccount, documented by
// CloudTrail) or, when Accounts is empty, of the organization
// (aws:SourceOrgID: an option, which CloudTrail does not document for
// trails).
type Writers struct {
	// Partition is "aws", "aws-cn", … or a deploy-time token.
	Partition string
	TrailName string
	Accounts  []string
	OrgID     string
}

// Inputs are the central resources' names.
type Inputs struct {
	Writers
	Bucket string
	// Prefix is the trails' S3 key prefix ("" for none).
	Prefix   string
	TopicARN string
}

// Statement is one policy statement in IAM's JSON shape.
type Statement map[string]any

// TrailARNPattern matches trailwarden's trail in any account and Region.
func (w Writers) TrailARNPattern() string {
	return fmt.Sprintf("arn:%s:cloudtrail:*:*:trail/%s", w.Partition, w.TrailName)
}

// Validate reports inputs that would give a policy admitting nobody or
// everybody.
func (w Writers) Validate() error {
	switch {
	case w.Partition == "" || w.TrailName == "":
		return fmt.Errorf("centralpolicy: partition and trail name are required")
	case len(w.Accounts) == 0 && w.OrgID == "":
		return fmt.Errorf("centralpolicy: name the writer accounts or the organization")
	}
	return nil
}

// Conditions are the confused-deputy conditions on every CloudTrail write,
// plus extra StringEquals keys (e.g. s3:x-amz-acl).
func (w Writers) Conditions(extraEquals map[string]any) map[string]any {
	equals := map[string]any{}
	for k, v := range extraEquals {
		equals[k] = v
	}
	if len(w.Accounts) > 0 {
		equals["aws:SourceAccount"] = oneOrList(w.Accounts)
	} else {
		equals["aws:SourceOrgID"] = w.OrgID
	}
	return map[string]any{
		"StringEquals": equals,
		"StringLike":   map[string]any{"aws:SourceArn": w.TrailARNPattern()},
	}
}

func oneOrList(ss []string) any {
	if len(ss) == 1 {
		return ss[0]
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func service() map[string]any { return map[string]any{"Service": Service} }

// BucketARN is the central bucket's ARN.
func (in Inputs) BucketARN() string { return fmt.Sprintf("arn:%s:s3:::%s", in.Partition, in.Bucket) }

// LogObjectsARN matches every object CloudTrail writes:
// <bucket>/[prefix/]AWSLogs/* (account and organization-trail paths alike).
func (in Inputs) LogObjectsARN() string {
	prefix := ""
	if in.Prefix != "" {
		prefix = strings.TrimSuffix(in.Prefix, "/") + "/"
	}
	return fmt.Sprintf("%s/%sAWSLogs/*", in.BucketARN(), prefix)
}

// Bucket returns CloudTrail's statements of the bucket policy: the ACL
// check and the writes with bucket-owner-full-control.
func Bucket(in Inputs) []Statement {
	return []Statement{
		{"Sid": SidAclCheck, "Effect": "Allow", "Principal": service(), "Action": "s3:GetBucketAcl", "Resource": in.BucketARN(),
			"Condition": map[string]any{"StringLike": map[string]any{"aws:SourceArn": in.TrailARNPattern()}}},
		{"Sid": SidWrite, "Effect": "Allow", "Principal": service(), "Action": "s3:PutObject", "Resource": in.LogObjectsARN(),
			"Condition": in.Conditions(map[string]any{"s3:x-amz-acl": "bucket-owner-full-control"})},
	}
}

// Key returns CloudTrail's statements of the key policy: data keys under the
// trail's encryption context, kms:Decrypt for the bucket's S3 Bucket Key
// ("If you are using an existing S3 bucket with an S3 Bucket Key,
// kms:Decrypt permissions are required to create or update a trail with
// SSE-KMS encryption enabled"), both with the confused-deputy conditions,
// and DescribeKey.
func Key(w Writers) []Statement {
	encrypt := w.Conditions(nil)
	encrypt["StringLike"].(map[string]any)["kms:EncryptionContext:aws:cloudtrail:arn"] = w.TrailARNPattern()
	return []Statement{
		{"Sid": SidEncrypt, "Effect": "Allow", "Principal": service(), "Action": "kms:GenerateDataKey*", "Resource": "*", "Condition": encrypt},
		{"Sid": SidDecryptBucket, "Effect": "Allow", "Principal": service(), "Action": "kms:Decrypt", "Resource": "*", "Condition": w.Conditions(nil)},
		{"Sid": SidDescribeKey, "Effect": "Allow", "Principal": service(), "Action": "kms:DescribeKey", "Resource": "*"},
	}
}

// Topic returns CloudTrail's statement of the deliveries topic's policy.
func Topic(in Inputs) []Statement {
	return []Statement{{"Sid": SidPublish, "Effect": "Allow", "Principal": service(), "Action": "sns:Publish", "Resource": in.TopicARN,
		"Condition": in.Conditions(nil)}}
}

// Document wraps statements into a policy document.
func Document(stmts ...[]Statement) map[string]any {
	var all []any
	for _, ss := range stmts {
		for _, s := range ss {
			all = append(all, map[string]any(s))
		}
	}
	return map[string]any{"Version": "2012-10-17", "Statement": all}
}
