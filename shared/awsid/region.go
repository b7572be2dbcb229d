package awsid

import (
	"regexp"
	"slices"
)

//go:generate go run ./internal/genpartitions -o partitions_gen.go

// partition is one row of AWS's partition data (partitions_gen.go).
type partition struct {
	id          string
	regionRegex string
	regions     []string
}

// regionRes are the partitions' Region patterns, compiled in table order.
var regionRes = func() []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(partitions))
	for i, p := range partitions {
		out[i] = regexp.MustCompile(p.regionRegex)
	}
	return out
}()

// Partition returns the ARN partition of region as the SDK's endpoint
// resolver decides it: the partition that lists the Region, else the first
// whose Region pattern matches, else "aws" (awsrulesfn.getPartition).
func Partition(region string) string {
	for _, p := range partitions {
		if slices.Contains(p.regions, region) {
			return p.id
		}
	}
	for i, re := range regionRes {
		if re.MatchString(region) {
			return partitions[i].id
		}
	}
	return "aws"
}

// KnownRegion reports whether region is listed in AWS's partition data.
func KnownRegion(region string) bool {
	for _, p := range partitions {
		if slices.Contains(p.regions, region) {
			return true
		}
	}
	return false
}

// IsPartition reports whether id is a partition of AWS's partition data
// ("aws", "aws-cn", "aws-us-gov", "aws-iso", ...).
func IsPartition(id string) bool {
	for _, p := range partitions {
		if p.id == id {
			return true
		}
	}
	return false
}

// PartitionIDs returns the ids of AWS's partition data, in table order.
func PartitionIDs() []string {
	out := make([]string, len(partitions))
	for i, p := range partitions {
		out[i] = p.id
	}
	return out
}

// Regions returns the listed Regions of a partition, sorted (nil for an
// unknown partition).
func Regions(partitionID string) []string {
	for _, p := range partitions {
		if p.id == partitionID {
			return slices.Clone(p.regions)
		}
	}
	return nil
}

// IsRegion reports whether s has the shape of a Region code, so that a
// Region launched after this build is still recognised: 2 to 4 lowercase
// letters, one to three more groups of lowercase letters, then a number of
// one or two digits (no leading zero), joined by "-" (us-east-1,
// us-gov-west-1, us-isob-east-1, eusc-de-east-1, xy-mars-12). Every listed
// Region has this shape (region_test.go checks it against the SDK's data).
func IsRegion(s string) bool {
	if len(s) < 6 || len(s) > 32 {
		return false
	}
	groups, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			continue
		}
		part := s[start:i]
		start = i + 1
		groups++
		if i == len(s) { // last group: the number
			return groups >= 3 && len(part) >= 1 && len(part) <= 2 && allDigits(part) && (len(part) == 1 || part[0] != '0')
		}
		if !allLower(part) || groups > 4 || (groups == 1 && (len(part) < 2 || len(part) > 4)) {
			return false
		}
	}
	return false
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

func allLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return len(s) > 0
}
