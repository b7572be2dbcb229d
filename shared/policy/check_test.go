package policy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckGolden runs the one validation over each file of
// testdata/check and compares what policy validate and synth print (every
// problem, then every warning, as FILE:LINE:COLUMN: PATH: MESSAGE) with
// its .golden file (go test -update rewrites them; review the diff).
func TestCheckGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/check/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(strings.TrimSuffix(name, ".yaml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p, warnings, err := Check(data, ValidateOptions{})
			var b strings.Builder
			var ps Problems
			switch {
			case errors.As(err, &ps):
				if p != nil {
					t.Error("a policy with problems was returned")
				}
				for _, pr := range ps {
					b.WriteString(pr.At(name) + "\n")
				}
			case err != nil:
				t.Fatalf("not Problems: %v", err)
			case p == nil:
				t.Fatal("no policy and no problem")
			default:
				b.WriteString(name + ": valid\n")
			}
			for _, w := range warnings {
				b.WriteString(w.WarningAt(name) + "\n")
			}
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("%s differs (run go test -update and review the diff):\ngot:\n%s", golden, b.String())
			}
		})
	}
}

// TestCheckDeploymentRules: the rules between the sections, where the
// goldens show no problem.
func TestCheckDeploymentRules(t *testing.T) {
	valid, err := os.ReadFile("testdata/check/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noWriters := strings.Replace(string(valid), `  bucket: {writerAccounts: ["111111111111", "444444444444"]}`+"\n", "", 1)
	withoutDeployment := string(valid[:strings.Index(string(valid), "deployment:")])
	tests := []struct {
		name, src string
		opts      ValidateOptions
		want      string // "" for valid
	}{
		{"account trails need writer accounts", noWriters, ValidateOptions{}, "deployment.bucket.writerAccounts: list the accounts"},
		{"writer scope organization needs none", noWriters + "  bucket: {writerScope: organization}\n", ValidateOptions{}, ""},
		{"an organization trail needs none", noWriters + "mode: organization-trail\n", ValidateOptions{}, ""},
		{"no deployment section: the policy alone", withoutDeployment, ValidateOptions{}, ""},
		{"the CDK app requires the section", withoutDeployment, ValidateOptions{RequireDeployment: true}, "deployment: is required"},
		{"schedule within the watchdog's timeout", string(valid) + "  schedules: {watchdog: 4m}\n", ValidateOptions{}, "deployment.schedules.watchdog: 4m0s must be longer than the watchdog's timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Check([]byte(tc.src), tc.opts)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			var ps Problems
			errors.As(err, &ps)
			for _, pr := range ps {
				if strings.HasPrefix(pr.Path+": "+pr.Message, tc.want) {
					return
				}
			}
			t.Fatalf("want %q, got %v", tc.want, err)
		})
	}
}
