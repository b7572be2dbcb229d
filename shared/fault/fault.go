// Package fault gives errors a kind that a caller can act on: retry later,
// give up (poison), or stop and tell a human. AWS errors are classified in one
// place, by their error code (smithy.APIError), never by message text.
package fault

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/smithy-go"
)

// Kind says what a caller should do with an error.
type Kind int

const (
	// Unknown errors are treated as retryable by batch processors, so that
	// nothing is dropped; repeated failures reach the DLQ through redrive.
	Unknown Kind = iota
	// Retryable: a later attempt may succeed (throttling, propagation delays,
	// a role not yet assumable, a concurrent writer).
	Retryable
	// Poison: the input itself is bad; retrying cannot help. The record goes
	// to the DLQ with its reason.
	Poison
	// NeedsHuman: configuration or permissions are wrong in a way only an
	// operator can fix (a sixth trail, a bucket policy that denies CloudTrail).
	NeedsHuman
)

func (k Kind) String() string {
	switch k {
	case Retryable:
		return "retryable"
	case Poison:
		return "poison"
	case NeedsHuman:
		return "needs-human"
	default:
		return "unknown"
	}
}

// Error is an error with a kind and a short machine-readable code.
type Error struct {
	Kind Kind
	Code string // e.g. "TrailAlreadyExistsException", "MalformedEvent"
	Err  error
}

func (e *Error) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%s): %v", e.Code, e.Kind, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Kind, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// New wraps err with a kind and code.
func New(kind Kind, code string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Code: code, Err: err}
}

// Poisonf builds a poison error from a format.
func Poisonf(code, format string, args ...any) error {
	return &Error{Kind: Poison, Code: code, Err: fmt.Errorf(format, args...)}
}

// Retryablef builds a retryable error from a format.
func Retryablef(code, format string, args ...any) error {
	return &Error{Kind: Retryable, Code: code, Err: fmt.Errorf(format, args...)}
}

// NeedsHumanf builds an error that needs an operator.
func NeedsHumanf(code, format string, args ...any) error {
	return &Error{Kind: NeedsHuman, Code: code, Err: fmt.Errorf(format, args...)}
}

// retryableCodes are AWS error codes where a later attempt may succeed.
var retryableCodes = map[string]bool{
	"ThrottlingException":                        true,
	"Throttling":                                 true,
	"TooManyRequestsException":                   true,
	"RequestLimitExceeded":                       true,
	"ProvisionedThroughputExceededException":     true,
	"RequestThrottled":                           true,
	"SlowDown":                                   true,
	"ServiceUnavailable":                         true,
	"ServiceUnavailableException":                true,
	"InternalError":                              true,
	"InternalFailure":                            true,
	"InternalServerError":                        true,
	"ConflictException":                          true, // CloudTrail: concurrent update of the same trail
	"OperationNotPermittedException":             false,
	"TransactionConflictException":               true,
	"ConcurrentModificationException":            true,
	"AccessDenied":                               true, // STS: a new account's role may not be assumable yet
	"AccessDeniedException":                      true,
	"InvalidClientTokenId":                       true, // fresh credentials not yet propagated
	"ExpiredToken":                               true,
	"ExpiredTokenException":                      true,
	"CloudWatchLogsDeliveryUnavailableException": true,
	"NoSuchEntity":                               true, // IAM: a role just created, not yet visible
	// CloudTrail refuses a CloudWatch Logs role the member StackSet created
	// moments ago until IAM has propagated it (IAM is eventually
	// consistent: IAM User Guide, "Changes that I make are not always
	// immediately visible"); the retries end in the DLQ if it stays.
	"InvalidCloudWatchLogsRoleArnException": true,
	"MalformedPolicyDocument":               false,
}

// needsHumanCodes are AWS error codes that only an operator can fix.
var needsHumanCodes = map[string]bool{
	"MaximumNumberOfTrailsExceededException":                 true,
	"S3BucketDoesNotExistException":                          true,
	"InsufficientS3BucketPolicyException":                    true,
	"InsufficientSnsTopicPolicyException":                    true,
	"InsufficientEncryptionPolicyException":                  true,
	"InvalidS3PrefixException":                               true,
	"InvalidS3BucketNameException":                           true,
	"InvalidKmsKeyIdException":                               true,
	"KmsKeyNotFoundException":                                true,
	"KmsKeyDisabledException":                                true,
	"KmsException":                                           true,
	"InvalidCloudWatchLogsLogGroupArnException":              true,
	"InvalidParameterCombinationException":                   true,
	"InvalidTagParameterException":                           true,
	"InvalidTrailNameException":                              true,
	"InvalidSnsTopicNameException":                           true,
	"InvalidEventSelectorsException":                         true,
	"InvalidInsightSelectorsException":                       true,
	"InsufficientDependencyServiceAccessPermissionException": true,
	"CloudTrailAccessNotEnabledException":                    true,
	"NotOrganizationMasterAccountException":                  true,
	"OrganizationNotInAllFeaturesModeException":              true,
	"OrganizationsNotInUseException":                         true,
	"TrailNotProvidedException":                              true,
	"UnsupportedOperationException":                          true,
	"OperationNotPermittedException":                         true,
	"ValidationException":                                    true,
	"InvalidParameterValueException":                         true,
	"InvalidParameterException":                              true,
}

// KindOf classifies err. A *Error keeps its kind; an AWS API error is
// classified by its code; context cancellation and network errors are
// retryable; anything else is Unknown.
func KindOf(err error) Kind {
	if err == nil {
		return Unknown
	}
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return Retryable
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		if retryableCodes[code] {
			return Retryable
		}
		if needsHumanCodes[code] {
			return NeedsHuman
		}
		if apiErr.ErrorFault() == smithy.FaultServer {
			return Retryable
		}
		return Unknown
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return Retryable
	}
	return Unknown
}

// Code returns the most specific error code in err's chain: a *Error's code
// or an AWS API error code; "" when there is none.
func Code(err error) string {
	var fe *Error
	if errors.As(err, &fe) && fe.Code != "" {
		return fe.Code
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// IsAPIError reports whether err's chain holds an AWS API error with code.
func IsAPIError(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
