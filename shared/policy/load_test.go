package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLoadValidates: Load is the one load-and-validate; a file that parses
// but breaks a rule is refused with its Problems.
func TestLoadValidates(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, patched(t, `trail: {tags: {owner: ""}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	var ps Problems
	if _, err := Load(bad); !errors.As(err, &ps) || ps[0].Path != "trail.tags.owner" {
		t.Fatalf("Load of an invalid policy: %v", err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, patched(t, `organization: {exclude: {ous: [ou-ab12-cdef3456]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if p, _, err := LoadWarn(good); err != nil || p == nil {
		t.Fatalf("LoadWarn: %v", err)
	}
}

func TestTrailNames(t *testing.T) {
	p := mustParse(t, patched(t, `{overrides: [
  {match: {ou: ou-ab12-cdef3456}, trail: {name: team-audit}},
  {match: {account: "444444444444"}, trail: {name: org-audit}},
  {match: {account: "555555555555"}, trail: {tags: {x: y}}},
  {match: {account: "666666666666"}, trail: {name: team-audit}}]}`))
	if got := p.TrailNames(); !slices.Equal(got, []string{"org-audit", "team-audit"}) {
		t.Errorf("TrailNames = %v", got)
	}
}
