// Package iameval decides IAM requests against identity and resource
// policies with AWS's documented evaluation logic, for tests of the policies
// trailwarden's templates synthesize. It is test support, small on purpose:
// the policy grammar trailwarden writes (Principal, Action/NotAction,
// Resource/NotResource, and the string, ARN, Bool, Null and Numeric condition
// operators with their IfExists and ForAnyValue/ForAllValues forms); no SCPs,
// permissions boundaries, session policies or policy variables. An operator
// it does not know is an error, never a silent match.
//
// Sources (IAM User Guide): "Policy evaluation logic" and its pages "How AWS
// enforcement code logic evaluates requests to allow or deny access",
// "Policy evaluation for requests within a single account" and
// "Cross-account policy evaluation logic"; "IAM JSON policy elements:
// Condition operators"; "Conditions with multiple context keys or values".
package iameval

import (
	"encoding/json"
	"fmt"
)

// Policy is an IAM policy document.
type Policy struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a policy.
type Statement struct {
	Sid          string     `json:"Sid,omitempty"`
	Effect       string     `json:"Effect"`
	Principal    *Principal `json:"Principal,omitempty"`
	NotPrincipal *Principal `json:"NotPrincipal,omitempty"`
	Action       Values     `json:"Action,omitempty"`
	NotAction    Values     `json:"NotAction,omitempty"`
	Resource     Values     `json:"Resource,omitempty"`
	NotResource  Values     `json:"NotResource,omitempty"`
	// Condition maps an operator to context keys and their values.
	Condition map[string]map[string]Values `json:"Condition,omitempty"`
}

// Values is a policy value that may be written as one item or a list; numbers
// and booleans are kept in their JSON text ("false", "3").
type Values []string

// UnmarshalJSON accepts a string, number, boolean or a list of them.
func (v *Values) UnmarshalJSON(b []byte) error {
	var raw any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	list, ok := raw.([]any)
	if !ok {
		list = []any{raw}
	}
	out := make(Values, 0, len(list))
	for _, x := range list {
		switch t := x.(type) {
		case string:
			out = append(out, t)
		case bool, float64:
			out = append(out, fmt.Sprint(t))
		default:
			return fmt.Errorf("iameval: policy value %v is neither a string, number nor boolean", x)
		}
	}
	*v = out
	return nil
}

// Principal is a statement's Principal: "*" or a map of principal types.
type Principal struct {
	All     bool
	AWS     Values
	Service Values
	// Federated and CanonicalUser are parsed so that a policy naming them is
	// read, but no request of this package carries them.
	Federated     Values
	CanonicalUser Values
}

// UnmarshalJSON accepts "*" or {"AWS": …, "Service": …}.
func (p *Principal) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if s != "*" {
			return fmt.Errorf("iameval: Principal %q: a string principal must be \"*\"", s)
		}
		p.All = true
		return nil
	}
	var m map[string]Values
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("iameval: Principal: %w", err)
	}
	for k, v := range m {
		switch k {
		case "AWS":
			p.AWS = v
		case "Service":
			p.Service = v
		case "Federated":
			p.Federated = v
		case "CanonicalUser":
			p.CanonicalUser = v
		default:
			return fmt.Errorf("iameval: unknown principal type %q", k)
		}
	}
	return nil
}

// Parse reads a policy document from JSON, or from a value that marshals to
// it (a template's resolved PolicyDocument). A statement written as one
// object rather than a list is accepted, as IAM accepts it.
func Parse(doc any) (*Policy, error) {
	var b []byte
	switch d := doc.(type) {
	case []byte:
		b = d
	case string:
		b = []byte(d)
	default:
		var err error
		if b, err = json.Marshal(doc); err != nil {
			return nil, fmt.Errorf("iameval: %w", err)
		}
	}
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("iameval: policy: %w", err)
	}
	p := &Policy{Version: raw.Version}
	if len(raw.Statement) > 0 && raw.Statement[0] == '{' {
		var st Statement
		if err := json.Unmarshal(raw.Statement, &st); err != nil {
			return nil, fmt.Errorf("iameval: statement: %w", err)
		}
		p.Statement = []Statement{st}
	} else if len(raw.Statement) > 0 {
		if err := json.Unmarshal(raw.Statement, &p.Statement); err != nil {
			return nil, fmt.Errorf("iameval: statements: %w", err)
		}
	}
	for i, st := range p.Statement {
		if st.Effect != "Allow" && st.Effect != "Deny" {
			return nil, fmt.Errorf("iameval: statement %d (%s): Effect %q", i, st.Sid, st.Effect)
		}
		if (len(st.Action) == 0) == (len(st.NotAction) == 0) {
			return nil, fmt.Errorf("iameval: statement %d (%s): exactly one of Action and NotAction", i, st.Sid)
		}
	}
	return p, nil
}

// MustParse is Parse for literal documents in tests.
func MustParse(doc any) *Policy {
	p, err := Parse(doc)
	if err != nil {
		panic(err)
	}
	return p
}
