package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes through Parse, Validate, Effective and
// Render: none may panic, and a valid policy must render.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/variants/*.yaml", "../../examples/*.yaml"} {
		files, _ := filepath.Glob(dir)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(overridesYAML))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		if _, err := p.Validate(ValidateOptions{KnownAccounts: []string{"444444444444"}}); err != nil {
			return
		}
		for _, acct := range []string{"444444444444", "555555555555"} {
			tr, err := p.Effective(acct, []string{"ou-ab12-cdef3456", "ou-leaf-22222222"})
			if err != nil {
				continue
			}
			_ = tr.Hash()
			if _, err := Render(tr, RenderContext{Account: acct, HomeRegion: p.Organization.HomeRegion}); err != nil {
				t.Fatalf("valid policy does not render: %v\n%s", err, data)
			}
		}
	})
}

// FuzzManagedTags feeds arbitrary live tag values through ParseManagedTags
// (a trail's tags are input someone else may have edited): no panic, and an
// encoded key set is always read back, within CloudTrail's tag rule.
func FuzzManagedTags(f *testing.F) {
	for _, s := range []string{"", "v1.", "owner", "a,b", "v1.QQIT0", "v1.QQIT0TBApa", "v1.\x00\xff"} {
		f.Add(s, "owner")
	}
	f.Fuzz(func(t *testing.T, value, key string) {
		_ = ParseManagedTags(value).Manages(key)
		if key == "" || key == ManagedTagsKey {
			return
		}
		v := ManagedTagsValue([]string{key, value})
		if !ParseManagedTags(v).Manages(key) || CheckTag("k", v) != nil {
			t.Fatalf("ManagedTagsValue(%q, %q) = %q does not round-trip or is refused", key, value, v)
		}
	})
}
