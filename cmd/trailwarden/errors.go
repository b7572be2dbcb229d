package main

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailwarden/trailwarden/shared/fault"
)

// The failures every command meets, said as what to do next. The wording
// for missing credentials is the AWS CLI's own.
const (
	noCredentialsHelp = `Unable to locate credentials. You can configure credentials by running "aws configure" ` +
		`(or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; with SSO, run "aws sso login").`
	refusedCredentialsHelp = "the AWS credentials were refused (%s): they are expired or invalid; refresh them " +
		`(e.g. "aws sso login" or new keys) and retry.`
	tableNotFoundHelp = "table %q not found%s: is the stack deployed in this Region? try --stack STACK or " +
		"--home-region REGION (or point the CLI at the deployment with 'trailwarden use')."
	profileNotFoundHelp = `The config profile (%s) could not be found: create it with "aws configure --profile %s", or unset AWS_PROFILE.`
	stackNotFoundHelp   = "find the deployment: stack %q not found%s: deploy it, or point the CLI at the deployed one with --stack STACK and " +
		"--region (status: --home-region), or with 'trailwarden use NAME --stack STACK --region REGION' (or pass %s)."
	accessDeniedHelp = "access denied: %s may not call %s%s. Grant that permission (docs/deploy.md, \"Operator access\"), " +
		"or run as a principal that has it."
)

// explainError is err as an operator reads it: the command's own context,
// then what failed and what to do next. Unclassified errors keep their
// text, without the fault kinds that are internal jargon.
func explainError(err error) string {
	where := contextOf(err)
	var next string
	switch {
	case noCredentials(err):
		next = noCredentialsHelp
	case profileNotFound(err) != "":
		next = fmt.Sprintf(profileNotFoundHelp, profileNotFound(err), profileNotFound(err))
	case stackNotFound(err) != nil:
		se := stackNotFound(err)
		flags := "the names as flags"
		if len(se.missing) > 0 {
			flags = strings.Join(se.missing, ", ")
		}
		return fmt.Sprintf(stackNotFoundHelp, se.stack, suffix(" in ", se.region), flags)
	case refusedCredentials(err) != "":
		next = fmt.Sprintf(refusedCredentialsHelp, refusedCredentials(err))
	case tableNotFound(err) != nil:
		t := tableNotFound(err)
		next = fmt.Sprintf(tableNotFoundHelp, t.table, suffix(" in ", t.region))
	case accessDenied(err) != nil:
		d := accessDenied(err)
		next = fmt.Sprintf(accessDeniedHelp, d.principal, d.action, suffix(" on ", d.resource))
		if d.action == "sts:AssumeRole" {
			next += " For an operator role, its trust policy admits deployment.operators, and the member stack must be deployed in that account."
		}
	default:
		return scrubKinds(err.Error())
	}
	if where == "" {
		return next
	}
	return where + ": " + next
}

// contextOf is what the CLI said before the SDK's "operation error …".
func contextOf(err error) string {
	msg := scrubKinds(err.Error())
	i := strings.Index(msg, "operation error ")
	if i < 0 {
		return ""
	}
	return strings.TrimRight(msg[:i], ": ,")
}

// kindRe matches the fault kinds fault.Error prints in parentheses.
var kindRe = regexp.MustCompile(` \((` + strings.Join([]string{fault.Poison.String(), fault.Retryable.String(),
	fault.NeedsHuman.String(), fault.Unknown.String()}, "|") + `)\)`)

func scrubKinds(s string) string { return kindRe.ReplaceAllString(s, "") }

// noCredentials: the default credential chain found nothing, so its last
// provider (EC2 instance metadata) failed inside the operation.
func noCredentials(err error) bool {
	var op *smithy.OperationError
	for errors.As(err, &op) {
		if op.ServiceID == "ec2imds" {
			return true
		}
		err = op.Err
	}
	return false
}

// profileNotFound is the AWS_PROFILE that names no profile.
func profileNotFound(err error) string {
	var pe config.SharedConfigProfileNotExistError
	if errors.As(err, &pe) {
		return pe.Profile
	}
	return ""
}

// stackError is a failed look-up of the automation stack's outputs.
type stackError struct {
	stack, region string
	missing       []string // the flags that would have made it unneeded
	err           error
}

func (e *stackError) Error() string {
	return "stack " + e.stack + suffix(" in ", e.region) + ": " + e.err.Error()
}
func (e *stackError) Unwrap() error { return e.err }

// errNoStack: DescribeStacks answered without the stack.
var errNoStack = errors.New("not found")

// stackNotFound: DescribeStacks refused the name (CloudFormation answers
// ValidationError, "Stack with id NAME does not exist"), or answered
// without the stack.
func stackNotFound(err error) *stackError {
	var se *stackError
	var api smithy.APIError
	if errors.As(err, &se) && (errors.Is(err, errNoStack) || (errors.As(err, &api) && api.ErrorCode() == "ValidationError")) {
		return se
	}
	return nil
}

// refusedCredentials is the error code of credentials AWS refused.
func refusedCredentials(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch c := api.ErrorCode(); c {
		case "ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException",
			"InvalidAccessKeyId", "SignatureDoesNotMatch":
			return c
		}
	}
	return ""
}

// denied is an access-denied error: who, doing what, on what.
type denied struct{ principal, action, resource string }

// deniedRe reads the principal, action and resource of AWS's access-denied
// messages ("User: ARN is not authorized to perform: ACTION on resource:
// ARN …"); see "Troubleshoot access denied error messages",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
var deniedRe = regexp.MustCompile(`User: (\S+) is not authorized to perform: (\S+)(?: on resource: (\S+))?`)

// accessDenied classifies by error code (never by message); the message
// only names who and what, falling back to the operation that failed.
func accessDenied(err error) *denied {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return nil
	}
	switch api.ErrorCode() {
	case "AccessDenied", "AccessDeniedException", "AuthorizationError", "UnauthorizedOperation", "AuthorizationErrorException":
	default:
		return nil
	}
	d := &denied{principal: "your credentials ('aws sts get-caller-identity' shows whose)"}
	var op *smithy.OperationError
	if errors.As(err, &op) {
		d.action = strings.ToLower(strings.ReplaceAll(op.ServiceID, " ", "")) + ":" + op.OperationName
	}
	if m := deniedRe.FindStringSubmatch(api.ErrorMessage()); m != nil {
		d.principal, d.action, d.resource = m[1], m[2], strings.TrimRight(m[3], ".,")
	}
	if d.action == "" {
		d.action = "the call"
	}
	return d
}

// tableError names the DynamoDB table a call failed on, and its Region.
type tableError struct {
	table, region string
	err           error
}

func (e *tableError) Error() string { return "table " + e.table + ": " + e.err.Error() }
func (e *tableError) Unwrap() error { return e.err }

// tableNotFound is the table of a ResourceNotFoundException.
func tableNotFound(err error) *tableError {
	var nf *ddbtypes.ResourceNotFoundException
	var t *tableError
	if errors.As(err, &nf) && errors.As(err, &t) {
		return t
	}
	return nil
}

// newDynamoDB is the CLI's DynamoDB client: its errors name the table.
func newDynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		region := o.Region
		o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
			return s.Initialize.Add(middleware.InitializeMiddlewareFunc("TrailwardenTableName",
				func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
					out, md, err := next.HandleInitialize(ctx, in)
					if t := tableName(in.Parameters); err != nil && t != "" {
						err = &tableError{table: t, region: region, err: err}
					}
					return out, md, err
				}), middleware.Before)
		})
	})
}

// tableName is the TableName of a DynamoDB input ("" when it has none).
func tableName(in any) string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return ""
	}
	if f := v.Elem().FieldByName("TableName"); f.IsValid() && f.Type() == reflect.TypeFor[*string]() && !f.IsNil() {
		return f.Elem().String()
	}
	return ""
}
