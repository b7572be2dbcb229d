package logkey

import "github.com/trailwarden/trailwarden/shared/awsid"

// regionStatus classifies a Region code: known, pattern-only, or malformed.
// A code that is not listed in AWS's partition data but has a Region's shape
// still parses, flagged FlagUnknownRegion, so that a new Region is reported,
// not dropped.
type regionStatus uint8

const (
	regionBad regionStatus = iota
	regionKnown
	regionPattern
)

func checkRegion(s string) regionStatus {
	switch {
	case awsid.KnownRegion(s):
		return regionKnown
	case awsid.IsRegion(s):
		return regionPattern
	}
	return regionBad
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}
