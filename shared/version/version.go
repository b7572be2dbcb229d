// Package version is what a trailwarden binary says it is: the module
// version, commit and build date from the Go toolchain's build information
// (runtime/debug.ReadBuildInfo: `go install …@v1.2.3` records the version,
// a build in a git checkout records the commit), overridden by the values
// the Makefile stamps with -ldflags -X (the Lambda builds use -buildvcs=false
// to stay reproducible, so they carry the stamp instead).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/trailwarden/trailwarden/shared/version.Version=…"
// (and Commit, Date). Date stays empty unless the build gives one
// (SOURCE_DATE_EPOCH), so that identical sources build identical bytes.
var (
	Version string
	Commit  string
	Date    string
)

// Info is one binary's version.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	Date      string `json:"date,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get combines the stamped values with the build information.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return from(bi, Version, Commit, Date)
}

// from is Get with its inputs, testable.
func from(bi *debug.BuildInfo, version, commit, date string) Info {
	in := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi != nil {
		in.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Commit = s.Value
			case "vcs.time":
				in.Date = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	for _, o := range []struct {
		dst *string
		v   string
	}{{&in.Version, version}, {&in.Commit, commit}, {&in.Date, date}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
	return in
}

// String is the one line a binary prints or logs: "v1.2.3 (commit abc1234,
// 2026-03-14T12:00:00Z, go1.24 linux/arm64)".
func (i Info) String() string {
	s := i.Version + " (commit " + short(i.Commit)
	if i.Modified {
		s += "-dirty"
	}
	if i.Date != "" {
		s += ", " + i.Date
	}
	return s + fmt.Sprintf(", %s %s)", i.GoVersion, i.Platform)
}

func short(c string) string {
	switch {
	case c == "":
		return "unknown"
	case len(c) > 12:
		return c[:12]
	}
	return c
}
