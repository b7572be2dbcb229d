// Package awsenv builds aws.Config values: the home account's (the default
// credential chain, or the emulator through AWS_ENDPOINT_URL) and, through
// sts:AssumeRole, any member account's, cached until shortly before the
// temporary credentials expire.
package awsenv

import (
	"context"
	"fmt"
	"github.com/trailwarden/trailwarden/shared/settings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/fault"
)

// Load returns the home account's configuration from the default chain.
// AWS_ENDPOINT_URL (read by the SDK itself) points every client at the
// emulator.
func Load(ctx context.Context, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// S3Options sets path-style addressing when the configuration points at a
// custom endpoint (the emulator answers on one host, not per-bucket hosts).
func S3Options(cfg aws.Config) func(*s3.Options) {
	return func(o *s3.Options) {
		if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
			o.UsePathStyle = true
		}
	}
}

// Partition returns the ARN partition of a Region (awsid.Partition).
func Partition(region string) string { return awsid.Partition(region) }

// RoleARN is the ARN of roleName in account, in region's partition.
func RoleARN(region, account, roleName string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", Partition(region), account, roleName)
}

// AssumeAPI is the one STS call the assumer makes.
type AssumeAPI interface {
	AssumeRole(ctx context.Context, in *sts.AssumeRoleInput, optFns ...func(*sts.Options)) (*sts.AssumeRoleOutput, error)
}

// Assumer hands out member-account configurations, cached per account and
// role. It is safe for concurrent use.
type Assumer struct {
	base        aws.Config
	stsClient   AssumeAPI
	sessionName string
	mu          sync.Mutex
	cache       map[string]aws.Config
	// Calls counts AssumeRole calls actually made (budget tests).
	calls int
}

// NewAssumer builds an Assumer from the home configuration. sessionName
// appears in the member's CloudTrail records (userIdentity), which is how
// trailwarden recognises its own calls.
func NewAssumer(base aws.Config, stsClient AssumeAPI, sessionName string) *Assumer {
	if stsClient == nil {
		stsClient = sts.NewFromConfig(base)
	}
	if sessionName == "" {
		sessionName = settings.RoleSessionName
	}
	return &Assumer{base: base, stsClient: stsClient, sessionName: sessionName, cache: map[string]aws.Config{}}
}

// Calls returns how many AssumeRole calls were made.
func (a *Assumer) Calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// Forget drops a cached configuration (after the member's role changed).
func (a *Assumer) Forget(account, roleName string) {
	a.mu.Lock()
	delete(a.cache, account+"/"+roleName)
	a.mu.Unlock()
}

// Config returns a configuration for account through roleName, in region
// (empty: the home Region). The first call assumes the role eagerly so that a
// role that is not (yet) assumable fails here, as a typed retryable error,
// not later inside some other call.
func (a *Assumer) Config(ctx context.Context, account, roleName, region string) (aws.Config, error) {
	key := account + "/" + roleName
	a.mu.Lock()
	cfg, ok := a.cache[key]
	a.mu.Unlock()
	if !ok {
		roleARN := RoleARN(a.base.Region, account, roleName)
		out, err := a.stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{
			RoleArn:         aws.String(roleARN),
			RoleSessionName: aws.String(a.sessionName),
			DurationSeconds: aws.Int32(3600),
		})
		a.mu.Lock()
		a.calls++
		a.mu.Unlock()
		if err != nil {
			// A new account's role may not be assumable for minutes, and STS
			// says so with AccessDenied: retry, do not give up.
			return aws.Config{}, &RoleError{Account: account, Role: roleARN, Err: err}
		}
		c := out.Credentials
		first := aws.Credentials{
			AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey),
			SessionToken: aws.ToString(c.SessionToken), Source: "AssumeRole",
			CanExpire: c.Expiration != nil, Expires: aws.ToTime(c.Expiration),
		}
		cfg = a.base.Copy()
		// Serve the first credentials, then refresh through stscreds.
		refresh := stscreds.NewAssumeRoleProvider(stsClientFor(a.stsClient, a.base), roleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = a.sessionName
		})
		cfg.Credentials = aws.NewCredentialsCache(&seededProvider{first: first, next: refresh}, func(o *aws.CredentialsCacheOptions) {
			o.ExpiryWindow = 5 * time.Minute
		})
		a.mu.Lock()
		a.cache[key] = cfg
		a.mu.Unlock()
	}
	if region != "" && region != cfg.Region {
		cfg = cfg.Copy()
		cfg.Region = region
	}
	return cfg, nil
}

func stsClientFor(api AssumeAPI, base aws.Config) stscreds.AssumeRoleAPIClient {
	if c, ok := api.(stscreds.AssumeRoleAPIClient); ok {
		return c
	}
	return sts.NewFromConfig(base)
}

// seededProvider returns already-fetched credentials once, then delegates.
type seededProvider struct {
	mu    sync.Mutex
	first aws.Credentials
	used  bool
	next  aws.CredentialsProvider
}

func (p *seededProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	p.mu.Lock()
	if !p.used {
		p.used = true
		c := p.first
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()
	return p.next.Retrieve(ctx)
}

// RoleError says a member role could not be assumed. It is retryable: new
// accounts' roles propagate for minutes, and a role that never works ends in
// the DLQ and an alert after the enable deadline.
type RoleError struct {
	Account string
	Role    string
	Err     error
}

func (e *RoleError) Error() string {
	return fmt.Sprintf("assume %s in account %s: %v", e.Role, e.Account, e.Err)
}

func (e *RoleError) Unwrap() error { return fault.New(fault.Retryable, "RoleNotAssumable", e.Err) }
