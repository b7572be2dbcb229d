package iameval

import (
	"fmt"
	"strings"
)

// Caller is who makes a request: an AWS service principal
// ("cloudtrail.amazonaws.com") or an IAM principal (a role, by its role ARN:
// an assumed-role session is matched by the role it assumed, as a role ARN in
// a Principal element matches the role's sessions).
type Caller struct {
	Service string
	Account string
	ARN     string
}

// RoleCaller is a role in account (arn:<partition>:iam::<account>:role<path><name>).
func RoleCaller(roleARN string) Caller {
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 {
		return Caller{ARN: roleARN}
	}
	return Caller{Account: parts[4], ARN: roleARN}
}

// ServiceCaller is an AWS service principal.
func ServiceCaller(service string) Caller { return Caller{Service: service} }

// Request is the request context: who, what, on which resource (owned by
// ResourceAccount), and the condition keys. For an IAM principal,
// aws:PrincipalArn and aws:PrincipalAccount are filled in when absent.
type Request struct {
	Caller          Caller
	Action          string
	Resource        string
	ResourceAccount string
	Context         map[string][]string
}

// Kind is how a resource's policy combines with identity policies.
type Kind int

const (
	// Ordinary resources (S3 buckets, SNS topics, SQS queues, event buses):
	// within one account either policy may allow ("Policy evaluation for
	// requests within a single account").
	Ordinary Kind = iota
	// KeyPolicy resources (KMS keys, and IAM role trust policies for
	// sts:AssumeRole) must be allowed by their own policy; an identity
	// policy counts only where that policy names the account (AWS KMS
	// Developer Guide, "Key policies": "Unless the key policy explicitly
	// allows it, you cannot use IAM policies to allow access to a KMS key";
	// IAM User Guide, role trust policies).
	KeyPolicy
)

// Decision is the outcome with the statement that decided it.
type Decision struct {
	Allowed bool
	Reason  string
}

// Evaluate decides req against the caller's identity policies and the
// resource's policy (nil for none). An explicit Deny in any policy wins;
// otherwise a same-account request needs an Allow in either policy (both
// for a KeyPolicy resource reached through an account principal), a
// cross-account request an Allow in both, and a service principal an Allow
// in the resource policy (it has no identity policy).
func Evaluate(req Request, identity []*Policy, resource *Policy, kind Kind) (Decision, error) {
	req = withPrincipalKeys(req)
	if req.Caller.Service != "" {
		identity = nil
	}
	var idAllow, resDirect, resAccount string
	for _, p := range identity {
		for _, st := range p.Statement {
			ok, err := st.applies(req, false)
			if err != nil {
				return Decision{}, err
			}
			if !ok {
				continue
			}
			if st.Effect == "Deny" {
				return Decision{Reason: "explicit deny in an identity policy: " + st.Sid}, nil
			}
			idAllow = nonEmpty(idAllow, st.Sid)
		}
	}
	if resource != nil {
		for _, st := range resource.Statement {
			ok, err := st.applies(req, true)
			if err != nil {
				return Decision{}, err
			}
			if !ok {
				continue
			}
			if st.Effect == "Deny" {
				return Decision{Reason: "explicit deny in the resource policy: " + st.Sid}, nil
			}
			if st.viaAccountOnly(req.Caller) {
				resAccount = nonEmpty(resAccount, st.Sid)
			} else {
				resDirect = nonEmpty(resDirect, st.Sid)
			}
		}
	}
	switch {
	case req.Caller.Service != "":
		return verdict(resDirect != "", "resource policy "+resDirect, "no resource policy statement allows the service")
	case req.Caller.Account != req.ResourceAccount:
		res := or(resDirect, resAccount)
		return verdict(res != "" && idAllow != "", "identity "+idAllow+" and resource policy "+res,
			fmt.Sprintf("cross-account needs both: identity allow %q, resource allow %q", idAllow, res))
	case kind == KeyPolicy:
		return verdict(resDirect != "" || (resAccount != "" && idAllow != ""), "key policy "+or(resDirect, resAccount),
			fmt.Sprintf("the key (trust) policy must allow: direct %q, account %q, identity %q", resDirect, resAccount, idAllow))
	default:
		return verdict(idAllow != "" || resDirect != "", "allowed by "+or(idAllow, resDirect), "implicit deny: no statement allows")
	}
}

func verdict(ok bool, yes, no string) (Decision, error) {
	if ok {
		return Decision{Allowed: true, Reason: yes}, nil
	}
	return Decision{Reason: no}, nil
}

// nonEmpty keeps the first matching statement's label: have if set,
// else sid (a statement without Sid is labelled so that it still counts).
func nonEmpty(have, sid string) string {
	if have != "" {
		return have
	}
	if sid == "" {
		return "(statement without Sid)"
	}
	return sid
}

// or is a if set, else b.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func withPrincipalKeys(req Request) Request {
	ctx := make(map[string][]string, len(req.Context)+2)
	for k, v := range req.Context {
		ctx[strings.ToLower(k)] = v
	}
	if req.Caller.Service == "" {
		if _, ok := ctx["aws:principalarn"]; !ok && req.Caller.ARN != "" {
			ctx["aws:principalarn"] = []string{req.Caller.ARN}
		}
		if _, ok := ctx["aws:principalaccount"]; !ok && req.Caller.Account != "" {
			ctx["aws:principalaccount"] = []string{req.Caller.Account}
		}
	} else if _, ok := ctx["aws:principalservicename"]; !ok {
		ctx["aws:principalservicename"] = []string{req.Caller.Service}
	}
	req.Context = ctx
	return req
}

// applies reports whether the statement matches the request: principal (for
// resource policies), action, resource and every condition.
func (st Statement) applies(req Request, resourcePolicy bool) (bool, error) {
	if resourcePolicy {
		switch {
		case st.Principal != nil && !st.Principal.matches(req.Caller):
			return false, nil
		case st.NotPrincipal != nil && st.NotPrincipal.matches(req.Caller):
			return false, nil
		case st.Principal == nil && st.NotPrincipal == nil:
			return false, fmt.Errorf("iameval: resource policy statement %q has no Principal", st.Sid)
		}
	}
	if len(st.Action) > 0 && !anyGlob(st.Action, req.Action, true) {
		return false, nil
	}
	if len(st.NotAction) > 0 && anyGlob(st.NotAction, req.Action, true) {
		return false, nil
	}
	if len(st.Resource) > 0 && !anyGlob(st.Resource, req.Resource, false) {
		return false, nil
	}
	if len(st.NotResource) > 0 && anyGlob(st.NotResource, req.Resource, false) {
		return false, nil
	}
	if len(st.Resource) == 0 && len(st.NotResource) == 0 && !resourcePolicy {
		return false, fmt.Errorf("iameval: identity policy statement %q has no Resource", st.Sid)
	}
	return conditionsHold(st.Condition, req.Context)
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if glob(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if glob(p, s) {
			return true
		}
	}
	return false
}

// matches reports whether the Principal element names the caller: "*"
// (or {"AWS":"*"}) everyone; an account id or its root ARN every principal of
// that account; a role ARN that role; a service name that service.
func (p *Principal) matches(c Caller) bool {
	if p.All {
		return true
	}
	for _, s := range p.Service {
		if c.Service != "" && s == c.Service {
			return true
		}
	}
	for _, a := range p.AWS {
		if a == "*" {
			return true
		}
		if c.Service != "" {
			continue
		}
		if acct, ok := accountPrincipal(a); ok {
			if acct == c.Account {
				return true
			}
			continue
		}
		if a == c.ARN {
			return true
		}
	}
	return false
}

// viaAccountOnly: the statement matches the caller only through an account
// principal, which delegates the decision to the account's identity
// policies.
func (st Statement) viaAccountOnly(c Caller) bool {
	p := st.Principal
	if p == nil || p.All || c.Service != "" {
		return false
	}
	for _, a := range p.AWS {
		if a == "*" || a == c.ARN {
			return false
		}
	}
	return true
}

func accountPrincipal(a string) (string, bool) {
	if isAccountID(a) {
		return a, true
	}
	parts := strings.SplitN(a, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" && isAccountID(parts[4]) {
		return parts[4], true
	}
	return "", false
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// glob matches s against a pattern with * (any run, including empty) and ?
// (exactly one character), as IAM's Action, Resource and *Like operators do.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
