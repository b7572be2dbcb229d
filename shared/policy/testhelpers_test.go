package policy

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// baseYAML is a small valid policy; tests patch it with deep merges.
const baseYAML = `
version: 1
organization:
  id: o-a1b2c3d4e5
  managementAccount: "111111111111"
  loggingAccount: "222222222222"
  homeRegion: us-east-1
trail:
  name: org-audit
  s3: {bucket: acme-org-cloudtrail, keyPrefix: cloudtrail}
  kms: {keyArn: "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
`

// patched returns baseYAML deep-merged with patch (null deletes a key).
func patched(t *testing.T, patch string) []byte {
	t.Helper()
	var base, over yaml.Node
	if err := yaml.Unmarshal([]byte(baseYAML), &base); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(patch) == "" {
		return []byte(baseYAML)
	}
	if err := yaml.Unmarshal([]byte(patch), &over); err != nil {
		t.Fatalf("patch: %v", err)
	}
	m := mergeNodes(base.Content[0], over.Content[0])
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustParse(t *testing.T, data []byte) *Policy {
	t.Helper()
	p, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	return p
}

// findings renders problems or warnings as "path: message" lines.
func findings(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Path + ": " + p.Message + "\n")
	}
	return b.String()
}
