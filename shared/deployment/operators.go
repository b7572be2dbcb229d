package deployment

import "fmt"

// Operator role names: the roles the member template creates for people
// running the CLI, next to trailwarden's own member roles. Fixed names, so
// that the CLI finds them in every account.
const (
	// OperatorReadRole is assumable by Operators.ReadOnlyPrincipals:
	// CloudTrail reads only (status, plan, doctor).
	OperatorReadRole = "trailwarden-operator-read"
	// OperatorConvergeRole is assumable by Operators.ConvergePrincipals:
	// the enabler's member permissions (enable --yes).
	OperatorConvergeRole = "trailwarden-operator-converge"
)

// Operators are the principals (SSO permission-set roles, users or account
// roots) that may reach member accounts through the CLI. Each list, when
// empty, leaves its role out of the member template.
type Operators struct {
	// ReadOnlyPrincipals may assume OperatorReadRole in every member.
	ReadOnlyPrincipals []string `yaml:"readOnlyPrincipals"`
	// ConvergePrincipals may assume OperatorConvergeRole in every member.
	ConvergePrincipals []string `yaml:"convergePrincipals"`
}

func (o Operators) validateInto(p *Problems, path string) {
	check := func(field string, arns []string) {
		seen := map[string]bool{}
		for i, a := range arns {
			at := fmt.Sprintf("%s.%s[%d]", path, field, i)
			switch {
			case !arnRe.MatchString(a):
				p.Addf(at, "%q is not an IAM role, user or account-root ARN", a)
			case seen[a]:
				p.Addf(at, "%q is listed twice", a)
			}
			seen[a] = true
		}
	}
	check("readOnlyPrincipals", o.ReadOnlyPrincipals)
	check("convergePrincipals", o.ConvergePrincipals)
}
