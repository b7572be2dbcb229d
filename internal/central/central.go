// Package central creates trailwarden's central resources through the AWS
// APIs, the same configuration the CDK app deploys (infra/), for the
// integration tests and the local demo on the emulator: the logging
// account's bucket, KMS key and deliveries topic, and the automation side's
// queues, alerts topic and tables.
//
// It is test and demo support, not product code: production deploys these
// with `cdk deploy`.
package central

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/centralpolicy"
)

// Spec names what to create.
type Spec struct {
	OrganizationID string
	Bucket         string // central bucket name
	KeyPrefix      string // trail key prefix ("" for none)
	TrailName      string // trailwarden's trail name (scopes the policies)
	// WriterAccounts admit those accounts' trails (aws:SourceAccount); empty
	// admits the organization's (aws:SourceOrgID).
	WriterAccounts []string
	Tables         []Table
	// MaxReceiveCount for the DLQ redrives (default 5).
	MaxReceiveCount int
}

// Table is a DynamoDB table's key schema (string keys).
type Table struct {
	Name         string
	PartitionKey string
	SortKey      string // "" for none
	// NumericPartitionKey makes the partition key a number (N), not a string.
	NumericPartitionKey bool
}

// Resources are the names and ARNs that were created.
type Resources struct {
	Bucket             string
	KeyPrefix          string
	KMSKeyARN          string
	DeliveriesTopicARN string
	DeliveryQueueURL   string
	DeliveryQueueARN   string
	DeliveryDLQURL     string
	RequestQueueURL    string
	RequestQueueARN    string
	RequestDLQURL      string
	AlertsTopicARN     string
	AlertsQueueURL     string // subscribed to the alerts topic, to read alerts
	Tables             map[string]string
	LoggingAccount     string
	AutomationAccount  string
	Region             string
}

// Provision creates the central resources: logging holds the bucket, key and
// deliveries topic; automation holds queues, alerts and tables (it may be
// the same account).
func Provision(ctx context.Context, logging, automation aws.Config, loggingAccount, automationAccount string, spec Spec) (*Resources, error) {
	if spec.MaxReceiveCount <= 0 {
		spec.MaxReceiveCount = 5
	}
	region := logging.Region
	r := &Resources{Bucket: spec.Bucket, KeyPrefix: spec.KeyPrefix, Tables: map[string]string{},
		LoggingAccount: loggingAccount, AutomationAccount: automationAccount, Region: region}

	snsLog, err := provisionLogging(ctx, logging, loggingAccount, spec, r)
	if err != nil {
		return nil, err
	}

	// Automation side: queues with DLQs.
	sq := sqs.NewFromConfig(automation)
	mk := func(name string) (url, arn, dlqURL string, err error) {
		dlq, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name + "-dlq"),
			Attributes: map[string]string{"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": "1209600"}})
		if err != nil {
			return "", "", "", fmt.Errorf("create %s DLQ: %w", name, err)
		}
		dlqARN, err := queueARN(ctx, sq, aws.ToString(dlq.QueueUrl))
		if err != nil {
			return "", "", "", err
		}
		redrive := mustJSON(map[string]any{"deadLetterTargetArn": dlqARN, "maxReceiveCount": spec.MaxReceiveCount})
		q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name),
			Attributes: map[string]string{"SqsManagedSseEnabled": "true", "VisibilityTimeout": "360", "RedrivePolicy": redrive}})
		if err != nil {
			return "", "", "", fmt.Errorf("create %s queue: %w", name, err)
		}
		a, err := queueARN(ctx, sq, aws.ToString(q.QueueUrl))
		return aws.ToString(q.QueueUrl), a, aws.ToString(dlq.QueueUrl), err
	}
	if r.DeliveryQueueURL, r.DeliveryQueueARN, r.DeliveryDLQURL, err = mk("trailwarden-deliveries"); err != nil {
		return nil, err
	}
	if r.RequestQueueURL, r.RequestQueueARN, r.RequestDLQURL, err = mk("trailwarden-requests"); err != nil {
		return nil, err
	}
	// The delivery queue subscribes to the (possibly cross-account) topic.
	if _, err := snsLog.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(r.DeliveriesTopicARN), Protocol: aws.String("sqs"),
		Endpoint: aws.String(r.DeliveryQueueARN)}); err != nil {
		return nil, fmt.Errorf("subscribe delivery queue: %w", err)
	}

	// Alerts topic, with a queue to read what was published.
	snsAuto := sns.NewFromConfig(automation)
	alerts, err := snsAuto.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailwarden-alerts")})
	if err != nil {
		return nil, fmt.Errorf("create alerts topic: %w", err)
	}
	r.AlertsTopicARN = aws.ToString(alerts.TopicArn)
	aq, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("trailwarden-alerts-inbox")})
	if err != nil {
		return nil, fmt.Errorf("create alerts inbox: %w", err)
	}
	r.AlertsQueueURL = aws.ToString(aq.QueueUrl)
	aqARN, err := queueARN(ctx, sq, r.AlertsQueueURL)
	if err != nil {
		return nil, err
	}
	if _, err := snsAuto.Subscribe(ctx, &sns.SubscribeInput{TopicArn: alerts.TopicArn, Protocol: aws.String("sqs"),
		Endpoint: aws.String(aqARN), Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		return nil, fmt.Errorf("subscribe alerts inbox: %w", err)
	}

	if err := createTables(ctx, dynamodb.NewFromConfig(automation), spec.Tables, r); err != nil {
		return nil, err
	}
	return r, nil
}

// provisionLogging creates the logging account's key, bucket and deliveries
// topic with CloudTrail's statements from shared/centralpolicy, the CDK
// app's definition.
func provisionLogging(ctx context.Context, logging aws.Config, loggingAccount string, spec Spec, r *Resources) (*sns.Client, error) {
	region := logging.Region
	p := awsenv.Partition(region)
	writers := centralpolicy.Writers{Partition: p, TrailName: spec.TrailName, Accounts: spec.WriterAccounts, OrgID: spec.OrganizationID}
	if err := writers.Validate(); err != nil {
		return nil, err
	}
	in := centralpolicy.Inputs{Writers: writers, Bucket: spec.Bucket, Prefix: spec.KeyPrefix}
	kc := kms.NewFromConfig(logging)
	admin := []centralpolicy.Statement{{"Sid": "KeyAdministration", "Effect": "Allow",
		"Principal": map[string]any{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", p, loggingAccount)},
		"Action":    "kms:*", "Resource": "*"}}
	keyPolicy := mustJSON(centralpolicy.Document(admin, centralpolicy.Key(writers)))
	key, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("trailwarden CloudTrail logs"), Policy: aws.String(keyPolicy)})
	if err != nil {
		return nil, fmt.Errorf("create KMS key: %w", err)
	}
	r.KMSKeyARN = aws.ToString(key.KeyMetadata.Arn)

	// Bucket with CloudTrail's bucket policy. The CDK app's bucket also denies
	// any request without TLS (aws:SecureTransport); the emulator speaks plain
	// HTTP and moto evaluates that Deny, so it is left out here.
	s3c := s3.NewFromConfig(logging, awsenv.S3Options(logging))
	cb := &s3.CreateBucketInput{Bucket: aws.String(spec.Bucket)}
	if region != "us-east-1" {
		cb.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(region)}
	}
	if _, err := s3c.CreateBucket(ctx, cb); err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", spec.Bucket, err)
	}
	bucketPolicy := mustJSON(centralpolicy.Document(centralpolicy.Bucket(in)))
	if _, err := s3c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(spec.Bucket), Policy: aws.String(bucketPolicy)}); err != nil {
		return nil, fmt.Errorf("put bucket policy: %w", err)
	}
	if _, err := s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(spec.Bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}}); err != nil {
		return nil, fmt.Errorf("block public access: %w", err)
	}

	// Deliveries topic: CloudTrail publishes, scoped to our trail name in the organization.
	snsLog := sns.NewFromConfig(logging)
	topic, err := snsLog.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("trailwarden-deliveries")})
	if err != nil {
		return nil, fmt.Errorf("create deliveries topic: %w", err)
	}
	r.DeliveriesTopicARN = aws.ToString(topic.TopicArn)
	in.TopicARN = r.DeliveriesTopicARN
	topicPolicy := mustJSON(centralpolicy.Document(centralpolicy.Topic(in)))
	if _, err := snsLog.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: topic.TopicArn,
		AttributeName: aws.String("Policy"), AttributeValue: aws.String(topicPolicy)}); err != nil {
		return nil, fmt.Errorf("set deliveries topic policy: %w", err)
	}

	return snsLog, nil
}

// createTables creates the tables (string keys; a numeric partition key
// where asked).
func createTables(ctx context.Context, db *dynamodb.Client, tables []Table, r *Resources) error {
	for _, t := range tables {
		pkType := ddbtypes.ScalarAttributeTypeS
		if t.NumericPartitionKey {
			pkType = ddbtypes.ScalarAttributeTypeN
		}
		in := &dynamodb.CreateTableInput{TableName: aws.String(t.Name), BillingMode: ddbtypes.BillingModePayPerRequest,
			AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String(t.PartitionKey), AttributeType: pkType}},
			KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String(t.PartitionKey), KeyType: ddbtypes.KeyTypeHash}}}
		if t.SortKey != "" {
			in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(t.SortKey), AttributeType: ddbtypes.ScalarAttributeTypeS})
			in.KeySchema = append(in.KeySchema, ddbtypes.KeySchemaElement{AttributeName: aws.String(t.SortKey), KeyType: ddbtypes.KeyTypeRange})
		}
		if _, err := db.CreateTable(ctx, in); err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
		r.Tables[t.Name] = t.Name
	}
	return nil
}

func queueARN(ctx context.Context, sq *sqs.Client, url string) (string, error) {
	out, err := sq.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", fmt.Errorf("queue ARN of %s: %w", url, err)
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // static documents only
	}
	return string(b)
}
