package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

const (
	// ManagementAccountID is moto's default account. Requests signed with
	// keys moto does not know belong to it, so it plays the organization's
	// management account.
	ManagementAccountID = "123456789012"
	// DefaultRegion is the Region configs use when none is given;
	// Organizations is served from us-east-1.
	DefaultRegion = "us-east-1"
	// AccessRoleName is the role Organizations creates in a new member.
	AccessRoleName = "OrganizationAccountAccessRole"

	// Placeholder keys for the emulator: moto checks no signature and maps
	// unknown keys to ManagementAccountID. They are not credentials.
	staticKeyID  = "testing"
	staticSecret = "testing"

	// accountHeader is moto's per-request override of the account.
	accountHeader = "x-moto-account-id"

	maxAttempts = 2
	maxBackoff  = 200 * time.Millisecond
)

// newHTTPClient builds the HTTP client every config shares: no proxy (the
// emulator is on 127.0.0.1), bounded time per request.
func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().
		WithTimeout(2 * time.Minute).
		WithTransportOptions(func(tr *http.Transport) { tr.Proxy = nil })
}

// Retryer is the retryer of every emulator config: two attempts, a short
// backoff, no client-side retry quota. The emulator is local: a failure is
// either a bug in the test or a gap in moto, and waiting does not help.
func Retryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// ManagementConfig is the config of the organization's management account
// (moto's default account, static placeholder keys) in region ("" for
// DefaultRegion).
func (s *Server) ManagementConfig(region string) aws.Config {
	if region == "" {
		region = DefaultRegion
	}
	return s.baseConfig(region, credentials.NewStaticCredentialsProvider(staticKeyID, staticSecret, ""))
}

// Config returns a config that acts as accountID's root identity in region,
// by moto's per-request account header: no role is needed and it survives a
// Reset. For the management account it is ManagementConfig. Code under test
// that should reach a member the way AWS does (through a role) should be
// given AssumeConfig instead.
func (s *Server) Config(ctx context.Context, accountID, region string) (aws.Config, error) {
	if !awsid.IsAccountID(accountID) {
		return aws.Config{}, fmt.Errorf("emulator: config: account id %q is not 12 digits", accountID)
	}
	cfg := s.ManagementConfig(region)
	if accountID != ManagementAccountID {
		cfg.APIOptions = append(cfg.APIOptions, accountHeaderOption(accountID))
	}
	return cfg, ctx.Err()
}

// AssumeConfig calls sts:AssumeRole with base on arn:aws:iam::<accountID>:
// role/<roleName> ("" for AccessRoleName) and returns a config with the
// temporary credentials in region ("" for base's Region). moto maps those
// credentials to accountID; it evaluates no trust policy. A Reset forgets
// the credentials: assume again after it.
func (s *Server) AssumeConfig(ctx context.Context, base aws.Config, accountID, roleName, region string) (aws.Config, error) {
	if !awsid.IsAccountID(accountID) {
		return aws.Config{}, fmt.Errorf("emulator: assume role: account id %q is not 12 digits", accountID)
	}
	if roleName == "" {
		roleName = AccessRoleName
	}
	if region == "" {
		region = base.Region
	}
	roleARN := fmt.Sprintf("arn:aws:iam::%s:role/%s", accountID, roleName)
	out, err := sts.NewFromConfig(base).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(roleARN),
		RoleSessionName: aws.String("trailwarden-emulator"),
	})
	if err != nil {
		return aws.Config{}, fmt.Errorf("emulator: assume %s: %w", roleARN, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil {
		return aws.Config{}, fmt.Errorf("emulator: assume %s: answer without credentials", roleARN)
	}
	return s.baseConfig(region, credentials.NewStaticCredentialsProvider(
		aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))), nil
}

func (s *Server) baseConfig(region string, creds aws.CredentialsProvider) aws.Config {
	return aws.Config{
		Region:           region,
		Credentials:      creds,
		BaseEndpoint:     aws.String(s.url),
		HTTPClient:       s.http,
		Retryer:          Retryer,
		RetryMaxAttempts: maxAttempts,
		APIOptions:       []func(*middleware.Stack) error{s.notEmulatedOption},
	}
}

// S3Options makes an S3 client address buckets by path (http://host/bucket),
// which the emulator needs: with a custom BaseEndpoint the SDK otherwise
// puts the bucket in the host name. Use s3.NewFromConfig(cfg, emulator.S3Options).
func S3Options(o *s3.Options) { o.UsePathStyle = true }

// CloudWatchOptions makes a CloudWatch client speak the awsQuery protocol,
// which moto serves; the client's default, RPCv2 CBOR, moto does not.
// Use cloudwatch.NewFromConfig(cfg, emulator.CloudWatchOptions).
func CloudWatchOptions(o *cloudwatch.Options) {
	o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801)
}

func accountHeaderOption(accountID string) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("EmulatorAccount",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					req.Header.Set(accountHeader, accountID)
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	}
}

// NotEmulatedError is moto's answer to an action it does not implement (or
// crashes on): HTTP 500 with an HTML page instead of an AWS error. It is
// never retried.
type NotEmulatedError struct {
	Service   string // IAM-style prefix, e.g. "cloudtrail"
	Operation string // e.g. "GetEventDataStore"
	// Crash is moto's exception line when moto crashed on an action it
	// has; empty when moto lacks the action altogether (or the cause is unknown).
	Crash string
}

func (e *NotEmulatedError) Error() string {
	if e.Crash != "" {
		return fmt.Sprintf("emulator: moto failed on %s:%s (HTTP 500): %s", e.Service, e.Operation, e.Crash)
	}
	return fmt.Sprintf("emulator: moto does not implement %s:%s", e.Service, e.Operation)
}

// RetryableError tells the SDK's retryer not to retry.
func (e *NotEmulatedError) RetryableError() bool { return false }

// IsNotEmulated reports whether err's chain holds a NotEmulatedError.
func IsNotEmulated(err error) bool {
	var ne *NotEmulatedError
	return errors.As(err, &ne)
}

// notEmulatedOption adds, innermost in the deserialize step (next to the
// transport), a check that turns moto's HTML 500 into a NotEmulatedError
// before the protocol deserializer sees it.
func (s *Server) notEmulatedOption(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("EmulatorNotImplemented",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			var mark uint64
			if s.out != nil {
				mark = s.out.mark()
			}
			out, md, err := next.HandleDeserialize(ctx, in)
			if err != nil {
				return out, md, err
			}
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if !ok || resp.StatusCode != http.StatusInternalServerError ||
				!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				return out, md, err
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			return out, md, &NotEmulatedError{
				Service:   iamPrefix(awsmiddleware.GetServiceID(ctx)),
				Operation: awsmiddleware.GetOperationName(ctx),
				Crash:     s.crashLine(mark, awsmiddleware.GetOperationName(ctx)),
			}
		}), middleware.After)
}

// crashLine looks in moto's output after mark for the exception that made
// the 500. It returns "" for NotImplementedError or when the output is not
// ours to read.
func (s *Server) crashLine(mark uint64, operation string) string {
	if s.out == nil {
		return ""
	}
	// werkzeug logs the traceback before it answers; the copy into the tail
	// may lag a little behind.
	deadline := time.Now().Add(500 * time.Millisecond)
	for {
		lines := s.out.since(mark)
		for i := len(lines) - 1; i >= 0; i-- {
			l := strings.TrimSpace(lines[i])
			if strings.HasPrefix(l, "NotImplementedError") {
				return ""
			}
			if exceptionLine.MatchString(l) {
				return l
			}
		}
		if time.Now().After(deadline) {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// exceptionLine matches the last line of a Python traceback,
// e.g. "KeyError: 'TrailName'".
var exceptionLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception)\b`)

// iamPrefix turns an SDK service id into the service's IAM action prefix.
func iamPrefix(serviceID string) string {
	switch serviceID {
	case "CloudWatch Logs":
		return "logs"
	case "EventBridge":
		return "events"
	case "CloudWatch":
		return "cloudwatch"
	}
	return strings.ToLower(strings.ReplaceAll(serviceID, " ", ""))
}
