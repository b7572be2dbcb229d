package orgevent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/jsondup"
)

// findString returns the first string found under any of keys in scopes. A
// key holding a non-string (other than null) is an error.
func findString(scopes []map[string]json.RawMessage, keys []string) (string, error) {
	for _, m := range scopes {
		for _, k := range keys {
			v, ok := m[k]
			if !ok || isNull(v) {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return "", fmt.Errorf("%s is not a string", k)
			}
			if s != "" {
				return s, nil
			}
		}
	}
	return "", nil
}

// findAccount collects the member account id from every plausible place and
// insists that they agree.
func findAccount(scopes []map[string]json.RawMessage, resources []string) (string, error) {
	var found []string
	for _, m := range scopes {
		for _, k := range []string{"accountId", "memberAccountId"} {
			s, err := findString([]map[string]json.RawMessage{m}, []string{k})
			if err != nil {
				return "", err
			}
			if s != "" {
				found = append(found, s)
			}
		}
	}
	// serviceEventDetails.account.id
	if len(scopes) > 0 {
		if v, ok := scopes[0]["account"]; ok && isObject(v) {
			var a struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal(v, &a); err != nil {
				return "", fmt.Errorf("account.id is not a string")
			}
			if a.ID != "" {
				found = append(found, a.ID)
			}
		}
	}
	for _, r := range resources {
		if id, ok := accountFromOrganizationsARN(r); ok {
			found = append(found, id)
		}
	}
	if len(found) == 0 {
		return "", nil
	}
	account := found[0]
	for _, f := range found {
		if !awsid.IsAccountID(f) {
			return "", fmt.Errorf("account id %q is not a 12-digit account id", f)
		}
		if f != account {
			return "", fmt.Errorf("the event names two accounts, %s and %s", account, f)
		}
	}
	return account, nil
}

// accountFromOrganizationsARN reads
// arn:<partition>:organizations::<management>:account/<o-id>/<account>.
func accountFromOrganizationsARN(arn string) (string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "organizations" {
		return "", false
	}
	res := strings.Split(parts[5], "/")
	if len(res) != 3 || res[0] != "account" {
		return "", false
	}
	return res[2], true
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// objectField returns raw when it is a JSON object, nil when it is absent or
// null, and the decoded object when it is a JSON string holding one (some
// log pipelines re-encode serviceEventDetails as a string). Anything else is
// an error.
func objectField(raw json.RawMessage) (json.RawMessage, error) {
	t := bytes.TrimSpace(raw)
	switch {
	case isNull(t):
		return nil, nil
	case t[0] == '{':
		return t, nil
	case t[0] == '"':
		var s string
		if err := json.Unmarshal(t, &s); err != nil {
			return nil, err
		}
		inner := bytes.TrimSpace([]byte(s))
		if isNull(inner) {
			return nil, nil
		}
		if inner[0] != '{' || !json.Valid(inner) {
			return nil, fmt.Errorf("a string that is not a JSON object")
		}
		if err := jsondup.Check(inner); err != nil {
			return nil, err
		}
		return inner, nil
	default:
		return nil, fmt.Errorf("not a JSON object")
	}
}
