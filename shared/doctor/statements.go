package doctor

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// need is one permission CloudTrail must hold through a resource policy:
// the action on the resource, for a request carrying the context keys
// CloudTrail sends.
type need struct {
	Action   string
	Resource string
	Context  map[string]string
}

// statement is one IAM policy statement, with single values read as lists.
type statement struct {
	Sid       string
	Effect    string
	Principal any
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func parsePolicy(doc string) ([]statement, error) {
	var raw struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy is not JSON: %w", err)
	}
	var list []statement
	if err := json.Unmarshal(raw.Statement, &list); err != nil {
		var one statement
		if err2 := json.Unmarshal(raw.Statement, &one); err2 != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
		list = []statement{one}
	}
	return list, nil
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case bool:
		return []string{fmt.Sprint(x)}
	}
	return nil
}

// glob matches IAM wildcards (* any run, ? one character); '/' is ordinary.
func glob(pattern, s string) bool {
	p := strings.NewReplacer("[", "\\[", "]", "\\]", "\\", "\\\\").Replace(pattern)
	// path.Match stops '*' at '/': match segment-free by swapping '/' out.
	const sep = "\x00"
	ok, err := path.Match(strings.ReplaceAll(p, "/", sep), strings.ReplaceAll(s, "/", sep))
	return err == nil && ok
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if glob(p, s) {
			return true
		}
	}
	return false
}

// forCloudTrail reports whether the statement's principal is CloudTrail's
// service principal (or everyone).
func (s statement) forCloudTrail() bool {
	switch p := s.Principal.(type) {
	case string:
		return p == "*"
	case map[string]any:
		return anyGlob(strs(p["Service"]), CloudTrailPrincipal, false) || contains(strs(p["AWS"]), "*")
	}
	return false
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// conditionsHold evaluates the statement's conditions against ctx. It
// returns why not when they do not hold; an operator it does not know never
// holds (the check then fails and names it, rather than guess).
func (s statement) conditionsHold(ctx map[string]string) (bool, string) {
	for op, kv := range s.Condition {
		base, ifExists := strings.CutSuffix(op, "IfExists")
		for key, v := range kv {
			got, present := ctx[strings.ToLower(key)]
			if !present {
				if ifExists {
					continue
				}
				return false, fmt.Sprintf("condition %s on %s, a key CloudTrail's request is not known to carry", op, key)
			}
			ok, known := compare(base, strs(v), got)
			if !known {
				return false, fmt.Sprintf("condition operator %s is not evaluated by doctor", op)
			}
			if !ok {
				return false, fmt.Sprintf("%s %s %v does not match %q", op, key, strs(v), got)
			}
		}
	}
	return true, ""
}

func compare(op string, want []string, got string) (ok, known bool) {
	switch op {
	case "StringEquals", "ArnEquals":
		return contains(want, got), true
	case "StringEqualsIgnoreCase":
		for _, w := range want {
			if strings.EqualFold(w, got) {
				return true, true
			}
		}
		return false, true
	case "StringLike", "ArnLike":
		return anyGlob(want, got, false), true
	case "StringNotEquals", "ArnNotEquals":
		return !contains(want, got), true
	case "StringNotLike", "ArnNotLike":
		return !anyGlob(want, got, false), true
	case "Bool":
		return contains(want, got), true
	}
	return false, false
}

// allows evaluates a resource policy for one need: an explicit Deny that
// applies wins, then some Allow must apply. It returns "" when allowed and
// the reason otherwise.
func allows(stmts []statement, n need) string {
	ctx := map[string]string{"aws:securetransport": "true"}
	for k, v := range n.Context {
		ctx[strings.ToLower(k)] = v
	}
	applies := func(s statement) (bool, string) {
		if !s.forCloudTrail() || !anyGlob(strs(s.Action), n.Action, true) || !anyGlob(strs(s.Resource), n.Resource, false) {
			return false, ""
		}
		return s.conditionsHold(ctx)
	}
	for _, s := range stmts {
		if s.Effect == "Deny" {
			if ok, _ := applies(s); ok {
				return fmt.Sprintf("statement %q denies %s on %s", s.Sid, n.Action, n.Resource)
			}
		}
	}
	var near []string
	for _, s := range stmts {
		if s.Effect != "Allow" {
			continue
		}
		ok, why := applies(s)
		if ok {
			return ""
		}
		if why != "" {
			near = append(near, fmt.Sprintf("statement %q: %s", s.Sid, why))
		}
	}
	msg := fmt.Sprintf("no statement allows %s %s on %s", CloudTrailPrincipal, n.Action, n.Resource)
	if arn := n.Context["aws:SourceArn"]; arn != "" {
		msg += " for trail " + arn
	}
	if len(near) > 0 {
		msg += " (" + strings.Join(near, "; ") + ")"
	}
	return msg
}
