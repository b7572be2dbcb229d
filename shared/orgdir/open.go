package orgdir

import (
	"context"
	"fmt"
	"github.com/trailwarden/trailwarden/shared/settings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Org is what the functions and the CLI ask of the organization: one
// account, its OU path, and every account. *Directory and SingleAccount
// provide it.
type Org interface {
	Describe(ctx context.Context, id string) (Account, error)
	Path(ctx context.Context, id string) ([]string, error)
	Forget(id string)
	List(ctx context.Context) ([]Account, error)
}

var (
	_ Org = (*Directory)(nil)
	_ Org = SingleAccount{}
)

// Source says where the directory comes from.
type Source struct {
	// SingleAccount: trailwarden runs in one account and calls no
	// Organizations API; the directory is that account alone.
	SingleAccount bool
	// ReaderRoleARN is the management account's read-only role; "" reads
	// through the caller's own credentials (in the management account).
	ReaderRoleARN string
}

// Open returns the organization's directory: through the management
// account's reader role when one is configured, through home's own
// credentials otherwise, and a one-account directory in single-account mode.
func Open(ctx context.Context, src Source, home aws.Config) (Org, error) {
	if src.SingleAccount {
		id, err := sts.NewFromConfig(home).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return nil, fmt.Errorf("single-account mode: who am I: %w", err)
		}
		return SingleAccount{ID: aws.ToString(id.Account)}, nil
	}
	cfg := home
	if src.ReaderRoleARN != "" {
		cfg = home.Copy()
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(home), src.ReaderRoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = settings.RoleSessionName }))
	}
	return New(organizations.NewFromConfig(cfg)), nil
}

// SingleAccount is the directory of single-account mode: one active account
// under no OU; any other account id is refused.
type SingleAccount struct{ ID string }

// Describe returns the one account.
func (s SingleAccount) Describe(_ context.Context, id string) (Account, error) {
	if id != s.ID {
		return Account{}, fmt.Errorf("single-account mode manages only %s, not %s", s.ID, id)
	}
	return Account{ID: id, State: "ACTIVE"}, nil
}

// Path is empty: the one account sits under no OU.
func (SingleAccount) Path(context.Context, string) ([]string, error) { return nil, nil }

// Forget does nothing: there is no cache.
func (SingleAccount) Forget(string) {}

// List returns the one account (backfill and reconcile in single-account mode).
func (s SingleAccount) List(context.Context) ([]Account, error) {
	return []Account{{ID: s.ID, State: "ACTIVE"}}, nil
}
