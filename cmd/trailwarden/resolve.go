package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/trailwarden/trailwarden/shared/awsenv"
	"github.com/trailwarden/trailwarden/shared/stackout"
)

// Finding the deployment. Precedence: flag > environment > context > the
// stack's outputs. The flags already default to their environment
// variables, so what resolve sees empty is set by neither.
const (
	defaultStack = "TrailwardenAutomation"
	envStack     = "TRAILWARDEN_STACK"
	envContext   = "TRAILWARDEN_CONTEXT"
	// envEndpoint is the SDK's own endpoint variable (AWS SDKs and Tools
	// Reference Guide, "Service-specific endpoints").
	envEndpoint = "AWS_ENDPOINT_URL"
)

// stackDescriber is the one CloudFormation call the CLI makes.
type stackDescriber interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

// fromStack are the flags a stack output can fill, by flag name.
func (d *deployFlags) fromStack() map[string]struct {
	field *string
	key   string
} {
	type f = struct {
		field *string
		key   string
	}
	return map[string]f{
		"accounts-table": {&d.accountsTable, stackout.AccountsTable}, "ledger-table": {&d.ledgerTable, stackout.LedgerTable},
		"journal-table": {&d.journalTable, stackout.JournalTable}, "incidents-table": {&d.incidentsTable, stackout.IncidentsTable},
		"request-queue-url": {&d.requestQueueURL, stackout.RequestQueueURL}, "alerts-topic-arn": {&d.alertsTopicARN, stackout.AlertsTopicARN},
		"org-reader-role-arn": {&d.orgReaderRoleARN, stackout.OrgReaderRoleARN}, "region": {&d.region, stackout.HomeRegion},
	}
}

// resolve fills what flags and environment left empty from the context,
// then, when a needed name is still missing or a stack was named, from the
// stack's outputs.
func (d *deployFlags) resolve(ctx context.Context, env *cmdEnv, needed []string) error {
	named := d.stack != ""
	if err := d.fromContext(env); err != nil {
		return err
	}
	named = named || d.stack != ""
	fill := d.fromStack()
	var missing []string
	for _, n := range needed {
		if f, ok := fill[n]; ok && *f.field == "" {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) == 0 && !named {
		return nil
	}
	if d.stack == "" {
		d.stack = defaultStack
	}
	outs, err := d.outputs(ctx)
	if se := (*stackError)(nil); errors.As(err, &se) {
		se.missing = missing
	}
	if err != nil {
		return fmt.Errorf("find the deployment: %w; point the CLI at it with 'trailwarden use NAME --stack STACK --region REGION', or pass the names as flags%s", err, missingFlags(missing))
	}
	for _, f := range fill {
		if *f.field == "" {
			*f.field = outs[f.key]
		}
	}
	return nil
}

// fromContext applies the chosen context (--context, else the current one).
func (d *deployFlags) fromContext(env *cmdEnv) error {
	path, err := configPath(env)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return err
	}
	name := d.contextName
	if name == "" {
		name = cfg.Current
	}
	if name == "" {
		return nil
	}
	c, ok := cfg.Contexts[name]
	if !ok {
		return fmt.Errorf("no context %q in %s (see 'trailwarden use')", name, path)
	}
	for _, f := range []struct{ dst, src *string }{{&d.stack, &c.Stack}, {&d.region, &c.Region}, {&d.policyFile, &c.Policy}} {
		if *f.dst == "" {
			*f.dst = *f.src
		}
	}
	// The SDK takes its endpoint from the process environment, for every
	// client the command makes; the user's own variable wins.
	if c.Endpoint != "" && env.getenv(envEndpoint) == "" {
		if err := os.Setenv(envEndpoint, c.Endpoint); err != nil {
			return fmt.Errorf("context %q: endpoint: %w", name, err)
		}
	}
	return nil
}

// outputs reads the stack's outputs (cloudformation:DescribeStacks).
func (d *deployFlags) outputs(ctx context.Context) (map[string]string, error) {
	api := d.describe
	if api == nil {
		cfg, err := awsenv.Load(ctx, d.region)
		if err != nil {
			return nil, err
		}
		api = cloudformation.NewFromConfig(cfg)
	}
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.stack)})
	if err != nil {
		return nil, &stackError{stack: d.stack, region: d.region, err: err}
	}
	if len(out.Stacks) == 0 {
		return nil, &stackError{stack: d.stack, region: d.region, err: errNoStack}
	}
	m := map[string]string{}
	for _, o := range out.Stacks[0].Outputs {
		m[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	if m[stackout.AccountsTable] == "" {
		return nil, fmt.Errorf("stack %s has no %s output: is it trailwarden's automation stack, deployed by this version?", d.stack, stackout.AccountsTable)
	}
	return m, nil
}

// currentUser is the local user name ("" when unknown).
func currentUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

// missingFlags names the flags that would have made the stack look-up
// unnecessary, for the error that says what to do next.
func missingFlags(missing []string) string {
	if len(missing) == 0 {
		return ""
	}
	return " (missing: " + strings.Join(missing, ", ") + ")"
}
