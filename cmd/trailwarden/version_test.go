package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/shared/version"
)

// A flag of its own: other golden tests of this package may define -update.
var updateVersion = flag.Bool("update-version", false, "rewrite testdata/version.golden.json")

func TestVersionJSONGolden(t *testing.T) {
	info := version.Info{Version: "v1.2.3", Commit: "0123456789abcdef0123456789abcdef01234567", Date: "2026-03-14T12:00:00Z",
		GoVersion: "go1.24.0", Platform: "linux/amd64"}
	var b bytes.Buffer
	if err := writeVersion(&b, info, "json"); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "version.golden.json")
	if *updateVersion {
		if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("version -o json:\n%s\nwant (go test -update-version to rewrite):\n%s", b.String(), want)
	}
}

func TestVersionCommand(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"version", "-o", "table"}} {
		r := runCLI(t, nil, args...)
		if r.code != exitOK || !strings.HasPrefix(r.stdout, "trailwarden ") || !strings.Contains(r.stdout, "(commit ") {
			t.Errorf("%q: %+v", args, r)
		}
	}
	if r := runCLI(t, nil, "version", "-o", "json"); r.code != exitOK || !strings.Contains(r.stdout, `"goVersion"`) {
		t.Errorf("json: %+v", r)
	}
	for _, args := range [][]string{{"version", "-o", "yaml"}, {"version", "extra"}} {
		if r := runCLI(t, nil, args...); r.code != exitUsage {
			t.Errorf("%q: %+v", args, r)
		}
	}
}
