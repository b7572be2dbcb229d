package awsenv

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/trailwarden/trailwarden/shared/deployment"
	"github.com/trailwarden/trailwarden/shared/settings"
)

// Operator is a person's access to member accounts through the CLI: the
// operator roles the member template creates (docs/deploy.md, "Operator
// access") — the read-only role to read (status, plan, doctor), the
// converge role to write (enable --yes) — assumed with the CLI's session
// name (settings.CLISessionName), the only one those roles' trust admits,
// so that an operator's change is never taken for trailwarden's own. Every
// command that reaches a member goes through one Operator.
type Operator struct {
	Assumer *Assumer
	// Role, when set, is assumed for reads and writes instead of the
	// operator roles (--role).
	Role string
}

// NewOperator is the operator access of user (the CLI's $USER) from the
// home configuration; role overrides the operator roles when not empty.
func NewOperator(home aws.Config, user, role string) *Operator {
	return &Operator{Assumer: NewAssumer(home, sts.NewFromConfig(home), settings.CLISessionName(user)), Role: role}
}

// RoleFor names the role assumed to write (true) or to read (false).
func (o *Operator) RoleFor(write bool) string {
	switch {
	case o.Role != "":
		return o.Role
	case write:
		return deployment.OperatorConvergeRole
	default:
		return deployment.OperatorReadRole
	}
}

// Config is account's configuration in region through RoleFor(write). Its
// error through an operator role says what to check: AccessDenied there is
// almost always a principal missing from deployment.operators, or a member
// stack not deployed in that account.
func (o *Operator) Config(ctx context.Context, account, region string, write bool) (aws.Config, error) {
	role := o.RoleFor(write)
	cfg, err := o.Assumer.Config(ctx, account, role, region)
	if err != nil && o.Role != "" {
		return aws.Config{}, err
	}
	if err != nil {
		return aws.Config{}, fmt.Errorf("assume %s in %s (is your principal in deployment.operators, and the member stack deployed there?): %w", role, account, err)
	}
	return cfg, nil
}
