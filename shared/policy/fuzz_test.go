package policy

import (
	"bytes"
	"errors"
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

// FuzzCheck feeds arbitrary bytes through Check, the one validation of the
// configuration file (both sections): it never panics; it returns a policy
// or Problems, never both; every problem names what is wrong, inside the
// file; the same input gives the same answer; and a file Check accepts is
// one Parse accepts, with the deployment section's defaults filled in.
func FuzzCheck(f *testing.F) {
	for _, dir := range []string{"testdata/check/*.yaml", "testdata/variants/*.yaml", "../../examples/*.yaml",
		"../deployment/testdata/*.yaml", "../../infra/stacks/testdata/*.yaml", "../../infra/*.yaml"} {
		files, _ := filepath.Glob(dir)
		for _, name := range files {
			if b, err := os.ReadFile(name); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, warnings, err := Check(data, ValidateOptions{})
		p2, _, err2 := Check(data, ValidateOptions{})
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("not deterministic: %v / %v", err, err2)
		}
		// YAML's line breaks: CRLF, LF and a lone CR (YAML 1.2, 5.4
		// "Line Break Characters"); yaml.v3 counts lines by them.
		lines := bytes.Count(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\n")) +
			bytes.Count(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\r")) + 1
		for _, w := range warnings {
			if w.Message == "" || w.Line > lines {
				t.Fatalf("warning %+v (file of %d lines)", w, lines)
			}
		}
		if err != nil {
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 || p != nil {
				t.Fatalf("Check = %v, %T %v", p, err, err)
			}
			for _, pr := range ps {
				if pr.Message == "" || pr.Line > lines || pr.Line < 0 || pr.Column < 0 {
					t.Fatalf("problem %+v (file of %d lines)", pr, lines)
				}
			}
			return
		}
		if p == nil || p2 == nil {
			t.Fatal("no policy and no problem")
		}
		if _, err := Parse(data); err != nil {
			t.Fatalf("Check accepts what Parse refuses: %v", err)
		}
		if d := p.Deployment; d != nil && (d.Schedules.Watchdog.Duration == 0 || d.ObjectCheck == "" || d.Names.EventBus == "") {
			t.Fatalf("deployment defaults missing: %+v", d)
		}
	})
}
