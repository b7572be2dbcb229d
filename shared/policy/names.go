package policy

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

// PartitionOf returns the ARN partition of a Region listed in AWS's
// partition data (awsid) and false for a Region trailwarden does not know.
func PartitionOf(region string) (string, bool) {
	if !awsid.KnownRegion(region) {
		return "", false
	}
	return awsid.Partition(region), true
}

// KnownRegion reports whether region is one of the Regions trailwarden knows.
func KnownRegion(region string) bool {
	_, ok := PartitionOf(region)
	return ok
}

var (
	orgIDRe       = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	ouIDRe        = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	iamRoleNameRe = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	trailCharsRe  = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	bucketCharsRe = regexp.MustCompile(`^[a-z0-9.-]+$`)
	prefixCharsRe = regexp.MustCompile(`^[A-Za-z0-9!_.*'()=/-]+$`)
	logGroupRe    = regexp.MustCompile(`^[A-Za-z0-9._/#-]+$`)
	kmsKeyIDRe    = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	snsTopicRe    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
	lambdaNameRe  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	tableNameRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)
	tagKeyRe      = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

func checkAccountID(s string) error {
	if !awsid.IsAccountID(s) {
		return fmt.Errorf("%q is not an AWS account id (12 digits; quote it so YAML keeps leading zeros)", s)
	}
	return nil
}

func checkOrgID(s string) error {
	if !orgIDRe.MatchString(s) {
		return fmt.Errorf("%q is not an organization id (o- followed by 10 to 32 lowercase letters or digits)", s)
	}
	return nil
}

func checkOUID(s string) error {
	if !ouIDRe.MatchString(s) {
		return fmt.Errorf("%q is not an OU id (ou-<4 to 32 of [0-9a-z]>-<8 to 32 of [a-z0-9]>)", s)
	}
	return nil
}

func checkRegion(s string) error {
	if s == "" {
		return fmt.Errorf("is required")
	}
	if !KnownRegion(s) {
		return fmt.Errorf("%q is not a known commercial, GovCloud or China Region", s)
	}
	return nil
}

// CheckTrailName applies CloudTrail's trail naming requirements: 3 to 128
// characters; ASCII letters, digits, '.', '_' and '-'; starting and ending
// with a letter or digit; no two adjacent '.', '_' or '-'; not an IP address.
func CheckTrailName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is required")
	case len(s) < 3 || len(s) > 128:
		return fmt.Errorf("%q must be 3 to 128 characters long", s)
	case !trailCharsRe.MatchString(s):
		return fmt.Errorf("%q may contain only ASCII letters, digits, periods, underscores and hyphens", s)
	case !isAlnum(s[0]) || !isAlnum(s[len(s)-1]):
		return fmt.Errorf("%q must start and end with a letter or digit", s)
	}
	for i := 1; i < len(s); i++ {
		if !isAlnum(s[i]) && !isAlnum(s[i-1]) {
			return fmt.Errorf("%q must not have adjacent periods, underscores or hyphens (%q)", s, s[i-1:i+1])
		}
	}
	if _, err := netip.ParseAddr(s); err == nil || looksLikeIPv4(s) {
		return fmt.Errorf("%q must not be formatted as an IP address", s)
	}
	return nil
}

// looksLikeIPv4 catches dotted quads netip rejects (leading zeros, e.g. 010.1.1.1).
func looksLikeIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 {
			return false
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isLowerAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// CheckBucketName applies the Amazon S3 general purpose bucket naming rules.
func CheckBucketName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is required")
	case len(s) < 3 || len(s) > 63:
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long", s)
	case !bucketCharsRe.MatchString(s):
		return fmt.Errorf("bucket name %q may contain only lowercase letters, digits, periods and hyphens", s)
	case !isLowerAlnum(s[0]) || !isLowerAlnum(s[len(s)-1]):
		return fmt.Errorf("bucket name %q must start and end with a letter or digit", s)
	case strings.Contains(s, ".."):
		return fmt.Errorf("bucket name %q must not contain two adjacent periods", s)
	case looksLikeIPv4(s):
		return fmt.Errorf("bucket name %q must not be formatted as an IP address", s)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(s, p) {
			return fmt.Errorf("bucket name %q must not start with the reserved prefix %q", s, p)
		}
	}
	for _, suf := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(s, suf) {
			return fmt.Errorf("bucket name %q must not end with the reserved suffix %q", s, suf)
		}
	}
	return nil
}

// MaxKeyPrefixLen is CloudTrail's limit on S3KeyPrefix (CreateTrail API reference).
const MaxKeyPrefixLen = 200

// CheckKeyPrefix applies trailwarden's rules for the S3 key prefix. CloudTrail
// documents only the 200-character limit; the other rules keep object keys
// unambiguous for the verifier (see docs/policy.md): S3 "safe" characters and
// '/', no leading or trailing '/', no empty, "." or ".." segment, and no
// "AWSLogs" segment (CloudTrail appends AWSLogs/ itself).
func CheckKeyPrefix(s string) error {
	switch {
	case s == "":
		return nil
	case len(s) > MaxKeyPrefixLen:
		return fmt.Errorf("prefix is %d characters; CloudTrail allows at most %d", len(s), MaxKeyPrefixLen)
	case !prefixCharsRe.MatchString(s):
		return fmt.Errorf("prefix %q may contain only letters, digits, '/' and the characters ! _ . * ' ( ) = -", s)
	case strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/"):
		return fmt.Errorf("prefix %q must not start or end with '/' (CloudTrail adds the separator)", s)
	}
	for _, seg := range strings.Split(s, "/") {
		switch seg {
		case "":
			return fmt.Errorf("prefix %q must not contain an empty segment (\"//\")", s)
		case ".", "..":
			return fmt.Errorf("prefix %q must not contain a %q segment", s, seg)
		}
		if strings.EqualFold(seg, "AWSLogs") {
			return fmt.Errorf("prefix %q must not contain an AWSLogs segment: CloudTrail appends AWSLogs/<account>/ itself, and a second one makes keys ambiguous", s)
		}
	}
	return nil
}

// CheckLogGroupName applies CloudWatch Logs' log group naming rules.
func CheckLogGroupName(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is required when cloudWatchLogs.enabled is true")
	case strings.HasPrefix(s, "arn:"):
		return fmt.Errorf("give a log group name, not an ARN: the group is created in each trail's own account, and CloudTrail cannot deliver to a group in another account")
	case len(s) > 512:
		return fmt.Errorf("log group name is %d characters; at most 512 are allowed", len(s))
	case !logGroupRe.MatchString(s):
		return fmt.Errorf("log group name %q may contain only letters, digits and the characters . _ - / #", s)
	case strings.HasPrefix(s, "aws/"):
		return fmt.Errorf("log group name %q must not start with the reserved prefix aws/", s)
	}
	return nil
}

// RetentionDays are the values CloudWatch Logs accepts for PutRetentionPolicy.
// 0 means "never expire" (no retention policy) in the policy file.
var RetentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func checkRetention(d int) error {
	if d == 0 || slices.Contains(RetentionDays, d) {
		return nil
	}
	return fmt.Errorf("%d is not a CloudWatch Logs retention period; use 0 (never expire) or one of %v", d, RetentionDays)
}

func checkIAMRoleName(s string) error {
	if !iamRoleNameRe.MatchString(s) {
		return fmt.Errorf("%q is not an IAM role name (1 to 64 of letters, digits and + = , . @ _ -)", s)
	}
	return nil
}

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// ParseARN splits an ARN into its six parts.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN (arn:partition:service:region:account:resource)", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
	if !awsid.IsPartition(a.Partition) {
		return ARN{}, fmt.Errorf("%q has unknown partition %q", s, a.Partition)
	}
	if a.Resource == "" {
		return ARN{}, fmt.Errorf("%q has no resource part", s)
	}
	return a, nil
}

// arnRules describes what an ARN field must look like.
type arnRules struct {
	service   string
	partition string // required partition
	region    string // "" any known Region of the partition; "-" none allowed
	account   bool   // a 12-digit account is required (else it must be empty)
}

func checkARN(s string, r arnRules) (ARN, error) {
	a, err := ParseARN(s)
	if err != nil {
		return a, err
	}
	if a.Service != r.service {
		return a, fmt.Errorf("%q is a %q ARN; a %q ARN is required", s, a.Service, r.service)
	}
	if r.partition != "" && a.Partition != r.partition {
		return a, fmt.Errorf("%q is in partition %q but the home Region is in partition %q", s, a.Partition, r.partition)
	}
	switch r.region {
	case "-":
		if a.Region != "" {
			return a, fmt.Errorf("%q must not name a Region", s)
		}
	case "":
		if p, ok := PartitionOf(a.Region); !ok || p != a.Partition {
			return a, fmt.Errorf("%q names Region %q, which is not a known Region of partition %q", s, a.Region, a.Partition)
		}
	default:
		if a.Region != r.region {
			return a, fmt.Errorf("%q is in Region %q; it must be in the home Region %q", s, a.Region, r.region)
		}
	}
	if r.account {
		if !awsid.IsAccountID(a.Account) {
			return a, fmt.Errorf("%q does not name a 12-digit account", s)
		}
	} else if a.Account != "" {
		return a, fmt.Errorf("%q must not name an account", s)
	}
	return a, nil
}

// CheckMemberRoleName reports a member role name the member template cannot
// create: one that is not an IAM role name, or one that AWS or AWS Control
// Tower create in member accounts, where CloudFormation would fail with
// EntityAlreadyExists or take over a role AWS manages:
//   - OrganizationAccountAccessRole: Organizations' CreateAccount creates it
//     in every account it creates (Organizations API Reference, CreateAccount,
//     RoleName);
//   - AWSControlTowerExecution and aws-controltower-*: AWS Control Tower's
//     roles in enrolled accounts (Control Tower User Guide, "Roles and
//     accounts"); names starting with aws- are refused as a whole, case
//     insensitively;
//   - AWSReservedSSO_*: the roles IAM Identity Center creates for permission
//     sets (IAM Identity Center User Guide, "Referencing permission sets in
//     resource policies").
//
// policy validate and the CDK app's synth both call it.
func CheckMemberRoleName(name string) error {
	if err := checkIAMRoleName(name); err != nil {
		return err
	}
	lower := strings.ToLower(name)
	switch {
	case lower == "organizationaccountaccessrole":
		return fmt.Errorf("%q is the role Organizations' CreateAccount creates in new accounts; the member template cannot create it: use a role of trailwarden's own (default %s)", name, DefaultMemberRole)
	case lower == "awscontroltowerexecution":
		return fmt.Errorf("%q is AWS Control Tower's role; the member template cannot create it: use a role of trailwarden's own (default %s)", name, DefaultMemberRole)
	case strings.HasPrefix(lower, "awsreservedsso_"):
		return fmt.Errorf("%q is an IAM Identity Center role name (AWSReservedSSO_*): use a role of trailwarden's own (default %s)", name, DefaultMemberRole)
	case strings.HasPrefix(lower, "aws-"):
		return fmt.Errorf("%q starts with aws-, which AWS services (e.g. AWS Control Tower's aws-controltower-*) use: use a role of trailwarden's own (default %s)", name, DefaultMemberRole)
	}
	return nil
}
