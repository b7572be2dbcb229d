package asff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	shtypes "github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// Batch limits of BatchImportFindings: 100 findings and 6 MB per call, 240
// KB per finding (https://docs.aws.amazon.com/securityhub/latest/partnerguide/guidelines-batchimportfindings.html).
const (
	MaxBatch       = 100
	MaxBatchBytes  = 6 << 20
	MaxFindingSize = 240 << 10
)

// ImportAPI is the Security Hub call the publisher makes.
type ImportAPI interface {
	BatchImportFindings(ctx context.Context, in *securityhub.BatchImportFindingsInput, optFns ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error)
}

var _ ImportAPI = (*securityhub.Client)(nil)

// Failure is one finding Security Hub (or the publisher) refused.
type Failure struct {
	ID, Code, Message string
}

// Result of one Publish.
type Result struct {
	Imported int
	Failed   []Failure
}

// ErrAccountMismatch: with the default product ARN, the calling account
// must equal each finding's AwsAccountId (BatchImportFindings API
// reference); the publisher refuses such a finding before calling.
var ErrAccountMismatch = errors.New("finding's AwsAccountId is not the importing account")

// Publisher imports findings into Security Hub in the importing account
// (Account, the automation account) and Region of its client.
type Publisher struct {
	API     ImportAPI
	Account string
}

// Publish imports fs in batches of at most MaxBatch findings and
// MaxBatchBytes. Findings Security Hub rejects (FailedFindings) and those
// the publisher refuses are in Result.Failed, one each; the error is for a
// call that failed as a whole (its findings are counted neither imported
// nor failed: retry them all).
func (p *Publisher) Publish(ctx context.Context, fs []Finding) (Result, error) {
	var res Result
	var batch []shtypes.AwsSecurityFinding
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		out, err := p.API.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
		if err != nil {
			return fmt.Errorf("BatchImportFindings (%d findings): %w", len(batch), err)
		}
		res.Imported += int(aws.ToInt32(out.SuccessCount))
		for _, ff := range out.FailedFindings {
			res.Failed = append(res.Failed, Failure{ID: aws.ToString(ff.Id), Code: aws.ToString(ff.ErrorCode), Message: aws.ToString(ff.ErrorMessage)})
		}
		batch, size = nil, 0
		return nil
	}
	for _, f := range fs {
		if f.AwsAccountID != p.Account {
			res.Failed = append(res.Failed, Failure{ID: f.ID, Code: "AccountMismatch",
				Message: fmt.Sprintf("%v: %s, importing as %s", ErrAccountMismatch, f.AwsAccountID, p.Account)})
			continue
		}
		sdk, n, err := toSDK(f)
		if err != nil || n > MaxFindingSize {
			res.Failed = append(res.Failed, Failure{ID: f.ID, Code: "InvalidInput", Message: fmt.Sprintf("finding of %d bytes (limit %d): %v", n, MaxFindingSize, err)})
			continue
		}
		if len(batch) == MaxBatch || size+n > MaxBatchBytes {
			if err := flush(); err != nil {
				return res, err
			}
		}
		batch = append(batch, sdk)
		size += n
	}
	return res, flush()
}

// toSDK converts f to the SDK's type through its JSON: Finding's fields
// are named as ASFF (and the SDK) name them, so Finding stays the one
// definition of what trailwarden sends.
func toSDK(f Finding) (shtypes.AwsSecurityFinding, int, error) {
	var out shtypes.AwsSecurityFinding
	b, err := json.Marshal(f)
	if err != nil {
		return out, 0, fmt.Errorf("encode finding: %w", err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, len(b), fmt.Errorf("convert finding: %w", err)
	}
	return out, len(b), nil
}
