// Package doctor checks, before the first backfill, the prerequisites of a
// real deployment that an emulator cannot prove: trusted access, the member
// role, the Lambda concurrency quota and the central bucket, key and topic
// policies as deployed. Canary (canary.go) then proves the delivery path in
// one member account.
//
// Every AWS call goes through a narrow interface declared here, so tests can
// replace one call the emulator lacks with a named fake.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// Status is a check's outcome.
type Status string

const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Trusted-access service principals (Organizations User Guide, "AWS services
// that you can use with AWS Organizations").
const (
	StackSetsPrincipal  = "member.org.stacksets.cloudformation.amazonaws.com"
	CloudTrailPrincipal = "cloudtrail.amazonaws.com"
)

// Check is one line of the report. Next says what to do when it did not pass.
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Next   string `json:"next,omitempty"`
}

// Report is the doctor's result; its JSON is the `-o json` schema.
type Report struct {
	Checks []Check        `json:"checks"`
	Canary *CanaryReport  `json:"canary,omitempty"`
	Counts map[Status]int `json:"counts"`
}

// Add appends a check.
func (r *Report) Add(c Check) {
	r.Checks = append(r.Checks, c)
	if r.Counts == nil {
		r.Counts = map[Status]int{Pass: 0, Warn: 0, Fail: 0}
	}
	r.Counts[c.Status]++
}

// Failed reports whether any check (or the canary) failed.
func (r *Report) Failed() bool {
	return r.Counts[Fail] > 0 || (r.Canary != nil && !r.Canary.OK)
}

// OrganizationsAPI is what the doctor reads from Organizations.
type OrganizationsAPI interface {
	ListAWSServiceAccessForOrganization(ctx context.Context, in *organizations.ListAWSServiceAccessForOrganizationInput,
		opts ...func(*organizations.Options)) (*organizations.ListAWSServiceAccessForOrganizationOutput, error)
	ListAccounts(ctx context.Context, in *organizations.ListAccountsInput, opts ...func(*organizations.Options)) (*organizations.ListAccountsOutput, error)
}

// RoleProber assumes the role that reaches members (the read-only
// operator role, or the member role) in one account, and only that.
type RoleProber interface {
	Probe(ctx context.Context, account string) error
}

// LambdaAPI reads the automation account's Lambda quotas.
type LambdaAPI interface {
	GetAccountSettings(ctx context.Context, in *lambda.GetAccountSettingsInput, opts ...func(*lambda.Options)) (*lambda.GetAccountSettingsOutput, error)
}

// Config is what the checks need to know about the deployment.
type Config struct {
	OrganizationTrail bool     // policy mode organization-trail: CloudTrail trusted access is needed
	ManagementAccount string   // never sampled for the member role
	Excluded          []string // accounts the policy leaves alone
	MemberRole        string   // the role probed in members, for the report
	Sample            int      // accounts to try MemberRole in
	// NeedConcurrency is the unreserved concurrency the deployment's
	// event-source functions can use at once.
	NeedConcurrency int
	Central         Central
}

// Checker runs the prerequisite checks.
type Checker struct {
	Org      OrganizationsAPI
	Roles    RoleProber
	Lambda   LambdaAPI
	Policies PolicyReaders
}

// Run runs every check and returns the report. An error means the doctor
// itself could not run (no access to read the organization, for example).
func (c *Checker) Run(ctx context.Context, cfg Config) (*Report, error) {
	rep := &Report{Counts: map[Status]int{Pass: 0, Warn: 0, Fail: 0}}
	if err := c.trustedAccess(ctx, cfg, rep); err != nil {
		return nil, err
	}
	sample, err := c.memberRole(ctx, cfg, rep)
	if err != nil {
		return nil, err
	}
	if cfg.Central.Account == "" && len(sample) > 0 {
		// Evaluate the policies for a member's trail: the first sampled.
		cfg.Central.Account = sample[0]
	}
	if err := c.concurrency(ctx, cfg, rep); err != nil {
		return nil, err
	}
	if err := c.Policies.check(ctx, cfg.Central, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

// AccessError is an error reading what a check needs (not a failed check):
// the CLI exits 2 on it.
type AccessError struct {
	Call string
	Err  error
}

func (e *AccessError) Error() string { return fmt.Sprintf("doctor: %s: %v", e.Call, e.Err) }
func (e *AccessError) Unwrap() error { return e.Err }

func (c *Checker) trustedAccess(ctx context.Context, cfg Config, rep *Report) error {
	enabled := map[string]bool{}
	var token *string
	for {
		out, err := c.Org.ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{NextToken: token})
		if err != nil {
			return &AccessError{Call: "organizations:ListAWSServiceAccessForOrganization", Err: err}
		}
		for _, p := range out.EnabledServicePrincipals {
			enabled[aws.ToString(p.ServicePrincipal)] = true
		}
		if token = out.NextToken; token == nil {
			break
		}
	}
	want := []struct{ principal, why string }{{StackSetsPrincipal, "service-managed StackSets deploy the member role"}}
	if cfg.OrganizationTrail {
		want = append(want, struct{ principal, why string }{CloudTrailPrincipal, "the organization trail needs it"})
	}
	for _, w := range want {
		ch := Check{Name: "trusted-access " + w.principal, Status: Pass, Detail: "enabled (" + w.why + ")"}
		if !enabled[w.principal] {
			ch.Status, ch.Detail = Fail, "not enabled: "+w.why
			ch.Next = "in the management account: aws organizations enable-aws-service-access --service-principal " + w.principal +
				" (for StackSets, prefer CloudFormation's 'Activate trusted access' in the StackSets console)"
		}
		rep.Add(ch)
	}
	return nil
}

// Sample picks n accounts deterministically: the sorted ids, evenly spaced
// (first, ..., last), so the same organization gives the same sample.
func Sample(ids []string, n int) []string {
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if n <= 0 || len(sorted) <= n {
		return sorted
	}
	out := make([]string, 0, n)
	for i := range n {
		idx := 0
		if n > 1 {
			idx = i * (len(sorted) - 1) / (n - 1)
		}
		out = append(out, sorted[idx])
	}
	return out
}

func (c *Checker) activeMembers(ctx context.Context, cfg Config) ([]string, error) {
	skip := map[string]bool{cfg.ManagementAccount: true}
	for _, a := range cfg.Excluded {
		skip[a] = true
	}
	var ids []string
	var token *string
	for {
		out, err := c.Org.ListAccounts(ctx, &organizations.ListAccountsInput{NextToken: token})
		if err != nil {
			return nil, &AccessError{Call: "organizations:ListAccounts", Err: err}
		}
		for _, a := range out.Accounts {
			if a.Status == orgtypes.AccountStatusActive && !skip[aws.ToString(a.Id)] {
				ids = append(ids, aws.ToString(a.Id))
			}
		}
		if token = out.NextToken; token == nil {
			return ids, nil
		}
	}
}

func (c *Checker) memberRole(ctx context.Context, cfg Config, rep *Report) ([]string, error) {
	ids, err := c.activeMembers(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sample := Sample(ids, cfg.Sample)
	if len(sample) == 0 {
		rep.Add(Check{Name: "member-role", Status: Warn, Detail: "no ACTIVE member account outside the exclusions to try " + cfg.MemberRole + " in",
			Next: "add a member account, then run doctor again"})
		return nil, nil
	}
	var failed []string
	for _, a := range sample {
		if err := c.Roles.Probe(ctx, a); err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", a, rootCause(err)))
		}
	}
	ch := Check{Name: "member-role", Status: Pass,
		Detail: fmt.Sprintf("%s assumed in %d of %d sampled account(s) (%d ACTIVE members)", cfg.MemberRole, len(sample), len(sample), len(ids))}
	if len(failed) > 0 {
		ch.Status = Fail
		ch.Detail = fmt.Sprintf("%s not assumable in %d of %d sampled account(s): %s", cfg.MemberRole, len(failed), len(sample), strings.Join(failed, "; "))
		ch.Next = "AccessDenied everywhere: add your principal to deployment.operators and deploy the member template " +
			"(or pass --member-via-role-arn, a role under the enabler's IAM path that the member role trusts); " +
			"in some accounts only: check the member StackSet's instances there (aws cloudformation list-stack-instances)"
	}
	rep.Add(ch)
	return sample, nil
}

func rootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

// concurrency checks the Lambda quota of the automation account (Lambda
// Developer Guide, "Lambda quotas": new accounts have reduced concurrency
// quotas that AWS raises with use; "Configuring reserved concurrency":
// reservations must leave 100 unreserved).
func (c *Checker) concurrency(ctx context.Context, cfg Config, rep *Report) error {
	out, err := c.Lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		return &AccessError{Call: "lambda:GetAccountSettings", Err: err}
	}
	var limit, unreserved int32
	if out.AccountLimit != nil {
		limit = out.AccountLimit.ConcurrentExecutions
		if out.AccountLimit.UnreservedConcurrentExecutions != nil {
			unreserved = *out.AccountLimit.UnreservedConcurrentExecutions
		}
	}
	ch := Check{Name: "lambda-concurrency", Status: Pass,
		Detail: fmt.Sprintf("ConcurrentExecutions %d, UnreservedConcurrentExecutions %d, the deployment needs %d unreserved", limit, unreserved, cfg.NeedConcurrency)}
	switch {
	case int(unreserved) < cfg.NeedConcurrency:
		ch.Status = Fail
		ch.Next = "request a higher 'Concurrent executions' quota in Service Quotas (Lambda) for the automation account's home Region"
	case limit <= 10:
		ch.Status = Warn
		ch.Detail += "; 10 is the reduced quota of a new account"
		ch.Next = "request the default 1,000 in Service Quotas before a large organization's first backfill"
	}
	rep.Add(ch)
	return nil
}
