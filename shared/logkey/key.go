package logkey

import (
	"fmt"
	"strings"
	"time"
)

// Kind is what a key names.
type Kind uint8

const (
	// KindUnknown: not (or not recognisably) a CloudTrail object. Parse
	// returns it only together with an error.
	KindUnknown Kind = iota
	// KindLog is a log file (folder "CloudTrail").
	KindLog
	// KindDigest is a digest file (folder "CloudTrail-Digest"), including
	// backfill digests.
	KindDigest
	// KindInsight is an Insights events file (folder "CloudTrail-Insight").
	KindInsight
	// KindMarker is a zero-byte folder object such as
	// "[prefix/]AWSLogs/<account>/CloudTrail/"; not a log file.
	KindMarker
)

func (k Kind) String() string {
	switch k {
	case KindLog:
		return "log"
	case KindDigest:
		return "digest"
	case KindInsight:
		return "insight"
	case KindMarker:
		return "marker"
	default:
		return "unknown"
	}
}

// Folder names under AWSLogs/<account>/ and the matching file-name tokens.
const (
	FolderLog     = "CloudTrail"
	FolderDigest  = "CloudTrail-Digest"
	FolderInsight = "CloudTrail-Insight"
	// Extension is the only file extension CloudTrail writes.
	Extension = ".json.gz"
	// BackfillSuffix marks a backfill digest, before the extension.
	BackfillSuffix = "_backfill"
)

// Flag marks a finding in a key that is otherwise well formed: the key parses,
// but it did not come from a trail writing its own account's files, or it
// names a Region this package does not know yet.
type Flag uint8

const (
	// FlagAccountMismatch: the account folder differs from the account in
	// the file name.
	FlagAccountMismatch Flag = 1 << iota
	// FlagRegionMismatch: the Region folder differs from the Region in the
	// file name.
	FlagRegionMismatch
	// FlagUnknownRegion: a Region (folder, file name or digest home Region)
	// matches the Region pattern but is not in the known list.
	FlagUnknownRegion
)

// Has reports whether all bits of g are set in f.
func (f Flag) Has(g Flag) bool { return f&g == g && g != 0 }

func (f Flag) String() string {
	if f == 0 {
		return ""
	}
	var parts []string
	if f&FlagAccountMismatch != 0 {
		parts = append(parts, "account-mismatch")
	}
	if f&FlagRegionMismatch != 0 {
		parts = append(parts, "region-mismatch")
	}
	if f&FlagUnknownRegion != 0 {
		parts = append(parts, "unknown-region")
	}
	return strings.Join(parts, ",")
}

// Key is a parsed CloudTrail object key. Every string is a substring of the
// parsed key. For a marker only the fields its path reaches are set.
type Key struct {
	Kind Kind
	// Prefix is the trail's S3 key prefix without the trailing "/"; "" when
	// the key starts with "AWSLogs/". It may contain "/".
	Prefix string
	// OrgID is the organization id folder of an organization trail ("o-…"),
	// or "".
	OrgID string
	// Account is the account folder; FileAccount the account in the file
	// name. They differ only with FlagAccountMismatch.
	Account     string
	FileAccount string
	// Folder is the CloudTrail folder under the account: FolderLog,
	// FolderDigest or FolderInsight ("" for a marker above it).
	Folder string
	// Region is the Region folder (where the events happened); FileRegion
	// the Region in the file name.
	Region     string
	FileRegion string
	// Date is the date folder, "YYYY/MM/DD".
	Date string
	// Time is the file name's timestamp (UTC): minute precision for log and
	// Insights files, second precision for digests (the digest end time).
	Time time.Time
	// Unique is the 16-character string that keeps log and Insights file
	// names apart; "" for digests.
	Unique string
	// TrailName and HomeRegion are read from a digest's file name; Backfill
	// marks a "_backfill" digest.
	TrailName  string
	HomeRegion string
	Backfill   bool
	// Flags are findings in an otherwise well-formed key.
	Flags Flag
}

// Reason says why a key was rejected. Callers may switch on it.
type Reason string

// Reasons a key is rejected.
const (
	ReasonEmpty           Reason = "empty key"
	ReasonTooLong         Reason = "key longer than 1024 bytes"
	ReasonNotCloudTrail   Reason = "not a CloudTrail object"
	ReasonBadSegment      Reason = "empty, '.' or '..' path segment"
	ReasonBadCharacter    Reason = "character CloudTrail does not write"
	ReasonEncoded         Reason = "key looks URL-encoded"
	ReasonBadEncoding     Reason = "invalid URL encoding"
	ReasonBadOrgID        Reason = "malformed organization id"
	ReasonBadAccount      Reason = "account is not 12 digits"
	ReasonBadRegion       Reason = "malformed Region"
	ReasonBadDate         Reason = "invalid date folder"
	ReasonBadTimestamp    Reason = "invalid file name timestamp"
	ReasonDateMismatch    Reason = "file name timestamp is not on the date of its folder"
	ReasonBadFileName     Reason = "file name does not follow CloudTrail's format"
	ReasonFolderMismatch  Reason = "file name kind differs from its folder"
	ReasonBadExtension    Reason = "wrong file extension"
	ReasonBadUnique       Reason = "unique string is not 16 letters or digits"
	ReasonBadTrailName    Reason = "invalid trail name in digest file name"
	ReasonBadFolderLayout Reason = "folders do not follow CloudTrail's layout"
)

// Error is a key that deviates from CloudTrail's grammar.
type Error struct {
	Reason Reason
	// Detail names the offending part, e.g. the segment or field.
	Detail string
	Key    string
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("logkey: %s (%s) in %q", e.Reason, e.Detail, e.Key)
	}
	return fmt.Sprintf("logkey: %s in %q", e.Reason, e.Key)
}

// Is matches another *Error with the same Reason, so that
// errors.Is(err, &logkey.Error{Reason: logkey.ReasonBadDate}) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == e.Reason && (t.Key == "" || t.Key == e.Key)
}

func fail(key string, r Reason, detail string) error {
	return &Error{Reason: r, Detail: detail, Key: key}
}

// String renders the key back in CloudTrail's format; for a well-formed Key
// from Parse it returns the parsed key exactly.
func (k Key) String() string {
	var b strings.Builder
	if k.Prefix != "" {
		b.WriteString(k.Prefix)
		b.WriteByte('/')
	}
	b.WriteString("AWSLogs/")
	if k.OrgID != "" {
		b.WriteString(k.OrgID)
		b.WriteByte('/')
	}
	if k.Kind == KindMarker {
		for _, s := range [...]string{k.Account, k.Folder, k.Region, k.Date} {
			if s == "" {
				break
			}
			b.WriteString(s)
			b.WriteByte('/')
		}
		return b.String()
	}
	folder := k.Folder
	ts := k.Time.UTC()
	b.WriteString(k.Account + "/" + folder + "/" + k.Region + "/" + k.Date + "/")
	b.WriteString(k.FileAccount + "_" + folder + "_" + k.FileRegion + "_")
	switch k.Kind {
	case KindDigest:
		b.WriteString(k.TrailName + "_" + k.HomeRegion + "_" + ts.Format("20060102T150405Z"))
		if k.Backfill {
			b.WriteString(BackfillSuffix)
		}
	default:
		b.WriteString(ts.Format("20060102T1504Z") + "_" + k.Unique)
	}
	b.WriteString(Extension)
	return b.String()
}
