package integrity

import (
	"cmp"
	"slices"
	"time"
)

// Verdicts of digests and log files, and gap kinds: the public vocabulary of
// `trailwarden integrity verify -o json`.
const (
	Valid    = "valid"
	Invalid  = "invalid"
	Missing  = "missing"
	Unlisted = "unlisted" // log file present but listed in no digest of the window
	Skipped  = "skipped"  // log file not checked

	GapChainRestart   = "chain-restart"   // informational: a chain began again (logging or validation was off)
	GapStopped        = "stopped"         // informational: the trail was stopped
	GapMissingDigests = "missing-digests" // failure: digests that should exist do not
)

// ReportVersion is the version of the JSON report.
const ReportVersion = 1

// timeLayout is how times appear in the report (UTC, seconds).
const timeLayout = "2006-01-02T15:04:05Z"

// DigestResult is one digest's verdict.
type DigestResult struct {
	Key           string `json:"key"`
	Bucket        string `json:"bucket"`
	Account       string `json:"account"`
	Region        string `json:"region"`
	Trail         string `json:"trail"`
	DigestEndTime string `json:"digestEndTime"`
	Backfill      bool   `json:"backfill"`
	Verdict       string `json:"verdict"`
	Reason        string `json:"reason"`
}

// LogFileResult is one log file's verdict; Digest is the digest that lists
// it ("" for unlisted files).
type LogFileResult struct {
	Key     string `json:"key"`
	Digest  string `json:"digest"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
}

// Gap is a period of a trail's account × Region without a continuous chain.
type Gap struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Trail   string `json:"trail"`
	From    string `json:"from"`
	To      string `json:"to"`
	Kind    string `json:"kind"`
	Reason  string `json:"reason"`
}

// Window is the checked range of digestEndTime.
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Summary counts the report.
type Summary struct {
	Digests   map[string]int `json:"digests"`
	LogFiles  map[string]int `json:"logFiles"`
	Gaps      map[string]int `json:"gaps"`
	Window    Window         `json:"window"`
	KeySource string         `json:"keySource"`
}

// Report is the result of Verify.
type Report struct {
	Version  int             `json:"version"`
	Digests  []DigestResult  `json:"digests"`
	LogFiles []LogFileResult `json:"logFiles"`
	Gaps     []Gap           `json:"gaps"`
	Summary  Summary         `json:"summary"`
}

// Failed reports whether the report shows a failure: an invalid or missing
// digest or log file, a missing-digests gap, or no digest at all.
func (r *Report) Failed() bool {
	if len(r.Digests) == 0 {
		return true
	}
	s := r.Summary
	return s.Digests[Invalid]+s.Digests[Missing]+s.LogFiles[Invalid]+s.LogFiles[Missing]+s.Gaps[GapMissingDigests] > 0
}

// finish sorts every array by key, makes none nil, and counts.
func (r *Report) finish(start, end time.Time, keySource string) {
	r.Version = ReportVersion
	if r.Digests == nil {
		r.Digests = []DigestResult{}
	}
	if r.LogFiles == nil {
		r.LogFiles = []LogFileResult{}
	}
	if r.Gaps == nil {
		r.Gaps = []Gap{}
	}
	slices.SortFunc(r.Digests, func(a, b DigestResult) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(r.LogFiles, func(a, b LogFileResult) int { return cmp.Compare(a.Key, b.Key) })
	slices.SortFunc(r.Gaps, func(a, b Gap) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Trail, b.Trail), cmp.Compare(a.From, b.From), cmp.Compare(a.Kind, b.Kind))
	})
	s := Summary{
		Digests:   map[string]int{Valid: 0, Invalid: 0, Missing: 0},
		LogFiles:  map[string]int{Valid: 0, Invalid: 0, Missing: 0, Unlisted: 0, Skipped: 0},
		Gaps:      map[string]int{GapChainRestart: 0, GapStopped: 0, GapMissingDigests: 0},
		Window:    Window{Start: start.UTC().Format(timeLayout), End: end.UTC().Format(timeLayout)},
		KeySource: keySource,
	}
	for _, d := range r.Digests {
		s.Digests[d.Verdict]++
	}
	for _, l := range r.LogFiles {
		s.LogFiles[l.Verdict]++
	}
	for _, g := range r.Gaps {
		s.Gaps[g.Kind]++
	}
	r.Summary = s
}
