package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := &debug.BuildInfo{GoVersion: "go1.24.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-03-14T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  string
	}{
		{"go install @version", &debug.BuildInfo{GoVersion: "go1.24.0", Main: debug.Module{Version: "v1.2.3"}}, "", "", "", "v1.2.3 (commit unknown, go1.24.0 "},
		{"checkout", vcs, "", "", "", "v1.2.3 (commit 0123456789ab-dirty, 2026-03-14T12:00:00Z, go1.24.0 "},
		{"stamped wins", vcs, "v9.9.9", "fedcba", "2030-01-01T00:00:00Z", "v9.9.9 (commit fedcba-dirty, 2030-01-01T00:00:00Z, go1.24.0 "},
		{"no build info", nil, "", "", "", "(devel) (commit unknown, go"},
	} {
		if got := from(c.bi, c.version, c.commit, c.date).String(); !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: %q, want prefix %q", c.name, got, c.want)
		}
	}
}
