package iameval

import (
	"fmt"
	"strconv"
	"strings"
)

// op is one condition operator's comparison of a request value with a
// policy value; negated operators are written as their positive form.
type op struct {
	match   func(policy, request string) (bool, error)
	negated bool
}

var operators = map[string]op{
	"StringEquals":              {match: strEq},
	"StringNotEquals":           {match: strEq, negated: true},
	"StringEqualsIgnoreCase":    {match: strEqFold},
	"StringNotEqualsIgnoreCase": {match: strEqFold, negated: true},
	"StringLike":                {match: strLike},
	"StringNotLike":             {match: strLike, negated: true},
	// "Each of the six colon-delimited components of the ARN is checked
	// separately and each can include multi-character match wildcards (*)
	// or single-character match wildcards (?)" — for ArnEquals and ArnLike.
	"ArnEquals":                {match: arnLike},
	"ArnLike":                  {match: arnLike},
	"ArnNotEquals":             {match: arnLike, negated: true},
	"ArnNotLike":               {match: arnLike, negated: true},
	"Bool":                     {match: strEqFold},
	"NumericEquals":            {match: numeric(func(a, b float64) bool { return a == b })},
	"NumericNotEquals":         {match: numeric(func(a, b float64) bool { return a == b }), negated: true},
	"NumericLessThan":          {match: numeric(func(p, r float64) bool { return r < p })},
	"NumericLessThanEquals":    {match: numeric(func(p, r float64) bool { return r <= p })},
	"NumericGreaterThan":       {match: numeric(func(p, r float64) bool { return r > p })},
	"NumericGreaterThanEquals": {match: numeric(func(p, r float64) bool { return r >= p })},
}

func strEq(p, r string) (bool, error)     { return p == r, nil }
func strEqFold(p, r string) (bool, error) { return strings.EqualFold(p, r), nil }
func strLike(p, r string) (bool, error)   { return glob(p, r), nil }

func arnLike(p, r string) (bool, error) {
	pp, rp := strings.SplitN(p, ":", 6), strings.SplitN(r, ":", 6)
	if len(pp) != 6 || len(rp) != 6 {
		return false, nil
	}
	for i := range pp {
		if !glob(pp[i], rp[i]) {
			return false, nil
		}
	}
	return true, nil
}

func numeric(cmp func(policy, request float64) bool) func(string, string) (bool, error) {
	return func(p, r string) (bool, error) {
		pv, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return false, fmt.Errorf("iameval: numeric condition value %q: %w", p, err)
		}
		rv, err := strconv.ParseFloat(r, 64)
		if err != nil {
			return false, nil
		}
		return cmp(pv, rv), nil
	}
}

// conditionsHold: every operator, and every key under it, must hold
// (logical AND); "Conditions with multiple context keys or values".
func conditionsHold(cond map[string]map[string]Values, ctx map[string][]string) (bool, error) {
	for name, keys := range cond {
		for key, values := range keys {
			ok, err := evalOne(name, values, ctx[strings.ToLower(key)], hasKey(ctx, key))
			if err != nil {
				return false, fmt.Errorf("%s %s: %w", name, key, err)
			}
			if !ok {
				return false, nil
			}
		}
	}
	return true, nil
}

func hasKey(ctx map[string][]string, key string) bool {
	_, ok := ctx[strings.ToLower(key)]
	return ok
}

// evalOne decides one operator on one key. A key absent from the request
// makes the condition false, except: negated operators are then true,
// ...IfExists is true, ForAllValues is true, and Null tests presence
// ("Condition operators", the note on absent keys; "Set operators for
// multivalued context keys").
func evalOne(name string, policy Values, request []string, present bool) (bool, error) {
	set := ""
	if i := strings.Index(name, ":"); i > 0 {
		set, name = name[:i], name[i+1:]
		if set != "ForAnyValue" && set != "ForAllValues" {
			return false, fmt.Errorf("iameval: unknown set operator %q", set)
		}
	}
	ifExists := strings.HasSuffix(name, "IfExists")
	name = strings.TrimSuffix(name, "IfExists")
	if name == "Null" {
		if set != "" || ifExists || len(policy) != 1 {
			return false, fmt.Errorf("iameval: malformed Null condition")
		}
		want, err := strconv.ParseBool(policy[0])
		if err != nil {
			return false, fmt.Errorf("iameval: Null %q: %w", policy[0], err)
		}
		return want == !present, nil
	}
	o, ok := operators[name]
	if !ok {
		return false, fmt.Errorf("iameval: unsupported condition operator %q", name)
	}
	if !present {
		return ifExists || o.negated || set == "ForAllValues", nil
	}
	// one request value against the policy values: OR, or NOR when negated.
	holds := func(rv string) (bool, error) {
		for _, pv := range policy {
			m, err := o.match(pv, rv)
			if err != nil {
				return false, err
			}
			if m {
				return !o.negated, nil
			}
		}
		return o.negated, nil
	}
	if set == "ForAllValues" {
		for _, rv := range request {
			if ok, err := holds(rv); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	// ForAnyValue, and single-valued keys: at least one request value.
	for _, rv := range request {
		if ok, err := holds(rv); err != nil || ok {
			return ok, err
		}
	}
	return false, nil
}
