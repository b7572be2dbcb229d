// Package logkey is the grammar of the object keys CloudTrail writes to its S3
// bucket. Parse turns a key into a Key (kind, prefix, organization id,
// account, Region, date, timestamp, unique id; trail name, home Region and
// backfill for digests) or a typed *Error with the reason the key deviates.
//
// Formats (CloudTrail user guide: "Finding your CloudTrail log files",
// "CloudTrail log file examples", "CloudTrail digest file structure"):
//
//	log:     [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
//	digest:  [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Digest/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail-Digest_<region>_<trail>_<home-region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz
//	insight: [prefix/]AWSLogs/[o-id/]<acct>/CloudTrail-Insight/<region>/<YYYY>/<MM>/<DD>/<acct>_CloudTrail-Insight_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
//	marker:  [prefix/]AWSLogs/<acct>/CloudTrail/ and other folder objects (zero-byte, key ends in "/")
//
// Files are parsed from the right: the part after "AWSLogs" has a fixed depth,
// so a prefix that itself contains "AWSLogs" or equals the organization id
// ("o-x/AWSLogs/o-x/…") is unambiguous. A digest's file name is parsed from
// both ends because trail names may contain "_".
//
// The grammar is strict. Anything a genuine CloudTrail delivery cannot produce
// is an *Error: empty, "." or ".." segments, non-12-digit accounts, malformed
// organization ids, impossible dates, a file timestamp on another day than its
// folder, a wrong extension, a key that still looks URL-encoded (decode S3
// event keys with DecodeS3EventKey first; SNS keys are not encoded), and
// objects outside the CloudTrail folders (ReasonNotCloudTrail). Differences
// that a verifier should report as findings rather than drop are flags on a
// successfully parsed Key: the account or Region in the path differing from
// the one in the file name, and a Region that only matches the Region pattern.
//
// Parse is pure, never panics, uses no regular expressions and does not
// allocate on success: every string in a Key is a substring of the input.
package logkey
