package verifier

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/shared/awsid"
	"github.com/trailwarden/trailwarden/shared/logkey"
	"github.com/trailwarden/trailwarden/shared/policy"
)

// Code is a security finding's reason code: low cardinality, part of the
// finding's dedup id and of the alert.
type Code string

// Reason codes of security findings.
const (
	CodeWrongBucket         Code = "wrong-bucket"
	CodeBadKey              Code = "bad-key"
	CodeWrongPrefix         Code = "wrong-prefix"
	CodeForeignOrganization Code = "foreign-organization"
	CodeMissingOrganization Code = "missing-organization"
	CodeForeignAccount      Code = "foreign-account"
	CodeAccountMismatch     Code = "account-mismatch"
	CodeRegionMismatch      Code = "region-mismatch"
	CodeUnknownRegion       Code = "unknown-region"
	// CodeWrongPartition: a Region of another partition than the
	// deployment's (a GovCloud or China Region under a commercial
	// deployment): no trail of this deployment writes there.
	CodeWrongPartition  Code = "wrong-partition"
	CodeFutureTimestamp Code = "future-timestamp"
	CodeTooManyKeys     Code = "too-many-keys"
	CodeObjectMissing   Code = "object-missing"
	CodeObjectEmpty     Code = "object-empty"
	CodeObjectNotKMS    Code = "object-not-kms"
	CodeObjectWrongKey  Code = "object-wrong-key"
	// CodeForeignTrail: a digest written by a trail that is not
	// trailwarden's (another name or home Region). Its digests would
	// otherwise keep the account's heartbeat fresh while our trail is off.
	CodeForeignTrail Code = "foreign-trail"
	// Integrity findings (shared/integritywatch, whose codes these are):
	// a digest that fails its signature, key or location check; a digest
	// whose previousDigest hash or signature does not match its
	// predecessor; a listed log file whose SHA-256 differs, or that is gone.
	CodeDigestInvalid    Code = "digest-invalid"
	CodeDigestLinkBroken Code = "digest-link-broken"
	CodeLogFileInvalid   Code = "log-file-invalid"
	CodeLogFileMissing   Code = "log-file-missing"
)

// Verdict is what became of one announced object.
type Verdict uint8

const (
	// Rejected: a security finding (the zero value, so a forgotten verdict
	// is never an acceptance).
	Rejected Verdict = iota
	// Accepted: a genuine delivery (recorded in the ledger for log and
	// digest files).
	Accepted
	// Ignored: a zero-byte folder marker, not a delivery.
	Ignored
)

func (v Verdict) String() string {
	switch v {
	case Accepted:
		return "accepted"
	case Ignored:
		return "ignored"
	}
	return "rejected"
}

// Object is one announced object and its verdict.
type Object struct {
	Bucket string
	// RawKey is the key as announced (S3 event keys already decoded).
	RawKey string
	// Key is the parsed key; Parsed is false when the key did not parse.
	Key    logkey.Key
	Parsed bool
	// Verdict, and for a rejection its Code; Reason is one human line.
	Verdict Verdict
	Code    Code
	Reason  string
}

// Account is the account the object belongs to ("" when unknown).
func (o *Object) Account() string {
	if o.Parsed {
		return o.Key.Account
	}
	return ""
}

func (o *Object) reject(code Code, format string, args ...any) {
	o.Verdict, o.Code, o.Reason = Rejected, code, fmt.Sprintf(format, args...)
}

// Rules are the checks that need no AWS call. Empty fields are not judged
// (Explain without --policy).
type Rules struct {
	// Bucket is the central bucket; "" does not judge buckets.
	Bucket string
	// Prefix is the trails' S3 key prefix without slashes; judged only when
	// PrefixSet (an empty prefix is a real setting: keys start at AWSLogs/).
	Prefix    string
	PrefixSet bool
	// OrganizationID is the organization id an organization-trail path must
	// name ("" does not judge it); RequireOrgPath rejects keys without one
	// (organization-trail mode).
	OrganizationID string
	RequireOrgPath bool
	// TrailNames and HomeRegion name trailwarden's trails (the base trail
	// and any override's name); a digest of another trail is a finding.
	// Empty: not judged.
	TrailNames []string
	HomeRegion string
	// Partition is the deployment's partition (of the policy's home
	// Region); a Region of another partition is a finding. "": not judged.
	Partition string
	// MaxFuture is how far in the future a file timestamp may be (clock
	// skew); 0 means 15 minutes. Not judged when Check gets a zero now.
	MaxFuture time.Duration
	// TopicARN is the deliveries topic SNS envelopes must come from; ""
	// does not judge it.
	TopicARN string
}

// RulesFromPolicy returns the rules of a policy: its trail's bucket and
// prefix, its organization id, and its mode.
func RulesFromPolicy(p *policy.Policy) Rules {
	return Rules{
		Bucket:         p.Trail.S3.Bucket,
		Prefix:         strings.Trim(p.Trail.S3.KeyPrefix, "/"),
		PrefixSet:      true,
		OrganizationID: p.Organization.ID,
		RequireOrgPath: p.Mode == policy.ModeOrganizationTrail,
		TrailNames:     TrailNames(p),
		HomeRegion:     p.Organization.HomeRegion,
		Partition:      awsid.Partition(p.Organization.HomeRegion),
		TopicARN:       p.Trail.SNS.TopicArn,
	}
}

// wrongPartition rejects o when region ("" is not judged) is not in the
// deployment's partition (awsid.Partition, AWS's partition table).
func (r *Rules) wrongPartition(o *Object, what, region string) bool {
	if r.Partition == "" || region == "" {
		return false
	}
	if p := awsid.Partition(region); p != r.Partition {
		o.reject(CodeWrongPartition, "%sRegion %s is in partition %s, not the deployment's %s", what, region, p, r.Partition)
		return true
	}
	return false
}

// TrailNames lists the trail names a policy can give an account: the base
// trail's and any override's.
func TrailNames(p *policy.Policy) []string {
	return p.TrailNames()
}

// Check parses and judges one announced object. Membership is judged by the
// caller (it may need a call); an Accepted object still needs it.
func (r *Rules) Check(bucket, key string, now time.Time) Object {
	o := Object{Bucket: bucket, RawKey: key, Verdict: Accepted}
	k, err := logkey.Parse(key)
	if err == nil {
		o.Key, o.Parsed = k, true
	}
	if r.Bucket != "" && bucket != r.Bucket {
		o.reject(CodeWrongBucket, "bucket %q is not the central bucket %q", bucket, r.Bucket)
		return o
	}
	if err != nil {
		var ke *logkey.Error
		if errors.As(err, &ke) {
			if ke.Detail != "" {
				o.reject(CodeBadKey, "key %s (%s)", ke.Reason, ke.Detail)
			} else {
				o.reject(CodeBadKey, "key %s", ke.Reason)
			}
		} else {
			o.reject(CodeBadKey, "key does not parse: %v", err)
		}
		return o
	}
	if r.PrefixSet && k.Prefix != r.Prefix {
		o.reject(CodeWrongPrefix, "prefix %q is not the policy's %q", k.Prefix, r.Prefix)
		return o
	}
	if r.OrganizationID != "" && k.OrgID != "" && k.OrgID != r.OrganizationID {
		o.reject(CodeForeignOrganization, "organization path %q is not the organization %q", k.OrgID, r.OrganizationID)
		return o
	}
	if r.RequireOrgPath && k.OrgID == "" && k.Kind != logkey.KindMarker {
		o.reject(CodeMissingOrganization, "organization-trail mode, but the path has no organization id")
		return o
	}
	if k.Kind == logkey.KindMarker {
		if k.Flags&logkey.FlagUnknownRegion != 0 {
			o.reject(CodeUnknownRegion, "folder marker: Region %s is not a known Region", k.Region)
			return o
		}
		if r.wrongPartition(&o, "folder marker: ", k.Region) {
			return o
		}
		o.Verdict, o.Reason = Ignored, "zero-byte folder marker, not a delivery"
		return o
	}
	switch {
	case k.Flags&logkey.FlagAccountMismatch != 0:
		o.reject(CodeAccountMismatch, "path account %s differs from file name account %s", k.Account, k.FileAccount)
		return o
	case k.Flags&logkey.FlagRegionMismatch != 0:
		o.reject(CodeRegionMismatch, "path Region %s differs from file name Region %s", k.Region, k.FileRegion)
		return o
	case k.Flags&logkey.FlagUnknownRegion != 0:
		o.reject(CodeUnknownRegion, "Region %s is not a known Region", k.Region)
		return o
	}
	if r.wrongPartition(&o, "", k.Region) || (k.Kind == logkey.KindDigest && r.wrongPartition(&o, "digest home Region: ", k.HomeRegion)) {
		return o
	}
	if k.Kind == logkey.KindDigest && len(r.TrailNames) > 0 {
		known := false
		for _, n := range r.TrailNames {
			known = known || k.TrailName == n
		}
		if !known || (r.HomeRegion != "" && k.HomeRegion != r.HomeRegion) {
			o.reject(CodeForeignTrail, "digest of trail %q (home %s) is not trailwarden's trail", k.TrailName, k.HomeRegion)
			return o
		}
	}
	if !now.IsZero() {
		maxFuture := r.MaxFuture
		if maxFuture <= 0 {
			maxFuture = 15 * time.Minute
		}
		if k.Time.After(now.Add(maxFuture)) {
			o.reject(CodeFutureTimestamp, "file timestamp %s is in the future", k.Time.Format(time.RFC3339))
			return o
		}
	}
	o.Reason = k.Kind.String() + " file"
	return o
}
