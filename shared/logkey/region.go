package logkey

// knownRegions are the Region codes of every partition (commercial, China,
// GovCloud, ISO, European Sovereign Cloud), taken from the partition table
// of aws-sdk-go-v2 (internal/endpoints/awsrulesfn/partitions.json, v1.48.0).
// A code outside this list that matches the Region pattern still parses,
// flagged FlagUnknownRegion, so that a new Region is reported, not dropped.
var knownRegions = map[string]struct{}{
	// aws
	"af-south-1": {}, "ap-east-1": {}, "ap-east-2": {}, "ap-northeast-1": {},
	"ap-northeast-2": {}, "ap-northeast-3": {}, "ap-south-1": {}, "ap-south-2": {},
	"ap-southeast-1": {}, "ap-southeast-2": {}, "ap-southeast-3": {}, "ap-southeast-4": {},
	"ap-southeast-5": {}, "ap-southeast-6": {}, "ap-southeast-7": {}, "ca-central-1": {},
	"ca-west-1": {}, "eu-central-1": {}, "eu-central-2": {}, "eu-north-1": {},
	"eu-south-1": {}, "eu-south-2": {}, "eu-west-1": {}, "eu-west-2": {},
	"eu-west-3": {}, "il-central-1": {}, "me-central-1": {}, "me-south-1": {},
	"me-west-1": {}, "mx-central-1": {}, "sa-east-1": {}, "sa-west-1": {},
	"us-east-1": {}, "us-east-2": {}, "us-west-1": {}, "us-west-2": {},
	// aws-cn
	"cn-north-1": {}, "cn-northwest-1": {},
	// aws-us-gov
	"us-gov-east-1": {}, "us-gov-west-1": {},
	// aws-iso, aws-iso-b, aws-iso-e, aws-iso-f
	"us-iso-east-1": {}, "us-iso-west-1": {}, "us-isob-east-1": {}, "us-isob-west-1": {},
	"eu-isoe-west-1": {}, "us-isof-east-1": {}, "us-isof-south-1": {},
	// aws-eusc
	"eusc-de-east-1": {},
}

// KnownRegion reports whether code is in the package's list of Regions.
func KnownRegion(code string) bool {
	_, ok := knownRegions[code]
	return ok
}

// regionStatus classifies a Region code: known, pattern-only, or malformed.
type regionStatus uint8

const (
	regionBad regionStatus = iota
	regionKnown
	regionPattern
)

func checkRegion(s string) regionStatus {
	if _, ok := knownRegions[s]; ok {
		return regionKnown
	}
	if RegionPattern(s) {
		return regionPattern
	}
	return regionBad
}

// RegionPattern reports whether s has the shape of a Region code, the union
// of the partitions' regionRegex: 2 to 4 lowercase letters, one to three
// more lowercase groups, then a number of one or two digits, all joined by
// "-" (us-east-1, us-gov-west-1, us-isob-east-1, eusc-de-east-1).
func RegionPattern(s string) bool {
	if len(s) < 6 || len(s) > 32 {
		return false
	}
	groups := 0
	start := 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] != '-' {
			continue
		}
		part := s[start:i]
		start = i + 1
		if len(part) == 0 {
			return false
		}
		groups++
		if i == len(s) { // last group: the number
			if groups < 3 || len(part) > 2 || !allDigits(part) || (len(part) == 2 && part[0] == '0') {
				return false
			}
			return true
		}
		if !allLower(part) {
			return false
		}
		if groups == 1 && (len(part) < 2 || len(part) > 4) {
			return false
		}
		if groups > 4 {
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
