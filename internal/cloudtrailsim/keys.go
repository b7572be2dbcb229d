package cloudtrailsim

import (
	"math/rand/v2"
	"strings"
	"time"
)

// Time layouts CloudTrail uses in object names.
const (
	logFileStamp = "20060102T1504Z"   // log and Insights files: minutes
	digestStamp  = "20060102T150405Z" // digest files: seconds
	isoSeconds   = "2006-01-02T15:04:05Z"
)

// KeyParts names every component of a CloudTrail object key. Tests that
// forge keys set the parts independently (e.g. a file-name account that
// differs from the path account).
type KeyParts struct {
	Prefix      string // the trail's S3KeyPrefix, without a trailing "/"; "" for none
	OrgID       string // organization id for organization-trail paths; "" for none
	PathAccount string // account id in the path
	FileAccount string // account id in the file name; "" means PathAccount
	Region      string // Region where the events happened
	At          time.Time
	Unique      string // 16-character unique string (log and Insights files)
	// Digest files only.
	TrailName  string
	HomeRegion string
	Backfill   bool
}

func (p KeyParts) base(folder string) string {
	var b strings.Builder
	if p.Prefix != "" {
		b.WriteString(strings.TrimSuffix(p.Prefix, "/"))
		b.WriteByte('/')
	}
	b.WriteString("AWSLogs/")
	if p.OrgID != "" {
		b.WriteString(p.OrgID)
		b.WriteByte('/')
	}
	b.WriteString(p.PathAccount)
	b.WriteByte('/')
	b.WriteString(folder)
	b.WriteByte('/')
	b.WriteString(p.Region)
	b.WriteByte('/')
	b.WriteString(p.At.UTC().Format("2006/01/02"))
	b.WriteByte('/')
	return b.String()
}

func (p KeyParts) fileAccount() string {
	if p.FileAccount != "" {
		return p.FileAccount
	}
	return p.PathAccount
}

// LogFileKey is [prefix/]AWSLogs/[o-id/]<account>/CloudTrail/<region>/<YYYY>/<MM>/<DD>/
// <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz.
func LogFileKey(p KeyParts) string {
	return p.base("CloudTrail") + p.fileAccount() + "_CloudTrail_" + p.Region + "_" +
		p.At.UTC().Format(logFileStamp) + "_" + p.Unique + ".json.gz"
}

// InsightKey is the Insights file key: as LogFileKey with CloudTrail-Insight.
func InsightKey(p KeyParts) string {
	return p.base("CloudTrail-Insight") + p.fileAccount() + "_CloudTrail-Insight_" + p.Region + "_" +
		p.At.UTC().Format(logFileStamp) + "_" + p.Unique + ".json.gz"
}

// DigestKey is [prefix/]AWSLogs/[o-id/]<account>/CloudTrail-Digest/<region>/<YYYY>/<MM>/<DD>/
// <account>_CloudTrail-Digest_<region>_<trail-name>_<home-region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz,
// dated by the digest's end time.
func DigestKey(p KeyParts) string {
	s := p.base("CloudTrail-Digest") + p.fileAccount() + "_CloudTrail-Digest_" + p.Region + "_" +
		p.TrailName + "_" + p.HomeRegion + "_" + p.At.UTC().Format(digestStamp)
	if p.Backfill {
		s += "_backfill"
	}
	return s + ".json.gz"
}

// MarkerKey is the zero-byte object [prefix/]AWSLogs/<account>/CloudTrail/
// that CloudTrail may write when a trail is created or updated (CloudTrail User Guide, "Finding your CloudTrail log files").
func MarkerKey(prefix, account string) string {
	s := "AWSLogs/" + account + "/CloudTrail/"
	if prefix != "" {
		s = strings.TrimSuffix(prefix, "/") + "/" + s
	}
	return s
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// uniqueString returns the 16 random letters and digits of a log file name.
func uniqueString(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return string(b[:])
}

// newUUID returns a random (version 4) UUID from r.
func newUUID(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexdig = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexdig[c>>4], hexdig[c&0x0f])
	}
	return string(out)
}
