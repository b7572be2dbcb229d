package logkey

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/shared/awsid"
)

const (
	// MaxKeyLen is S3's limit on key length in bytes.
	MaxKeyLen = 1024
	// MaxPrefixLen is CloudTrail's limit on S3KeyPrefix (CreateTrail API).
	MaxPrefixLen = 200

	awsLogs = "AWSLogs"
	// firstYear: CloudTrail launched in November 2013.
	firstYear = 2013
)

// Parse parses a CloudTrail object key as it is stored in S3 (and as SNS
// notifications list it). Keys from S3 event notifications (including S3 →
// EventBridge) are URL-encoded: use ParseS3EventKey or DecodeS3EventKey.
//
// On success the Key's Kind is log, digest, insight or marker. On failure the
// error is an *Error and the returned Key holds what was read before the
// deviation (Kind KindUnknown).
func Parse(key string) (Key, error) {
	if key == "" {
		return Key{}, fail(key, ReasonEmpty, "")
	}
	if len(key) > MaxKeyLen {
		return Key{}, fail(key, ReasonTooLong, "")
	}
	if err := scan(key); err != nil {
		return Key{}, err
	}
	if key[len(key)-1] == '/' {
		return parseFolder(key)
	}
	return parseFile(key)
}

// ParseS3EventKey decodes a key from an S3 event notification (form
// encoding: "+" for space, %XX escapes) and parses it.
func ParseS3EventKey(encoded string) (Key, error) {
	key, err := DecodeS3EventKey(encoded)
	if err != nil {
		return Key{}, err
	}
	return Parse(key)
}

// scan rejects characters CloudTrail never writes and malformed segments in
// one pass: control characters, space, '\', the URL-encoding markers '%' and
// '+', invalid UTF-8, and empty, "." or ".." segments (a trailing "/" is a
// folder object and allowed).
func scan(key string) error {
	ascii := true
	segStart := 0
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '/':
			if err := checkSegment(key, key[segStart:i]); err != nil {
				return err
			}
			segStart = i + 1
		case c == '%' || c == '+':
			return fail(key, ReasonEncoded, "contains '"+string(c)+"'; decode S3 event keys with DecodeS3EventKey")
		case c < 0x20 || c == 0x7f || c == ' ' || c == '\\':
			return fail(key, ReasonBadCharacter, "control character, space or backslash")
		case c >= 0x80:
			ascii = false
		}
	}
	if segStart < len(key) {
		if err := checkSegment(key, key[segStart:]); err != nil {
			return err
		}
	}
	if !ascii && !utf8.ValidString(key) {
		return fail(key, ReasonBadCharacter, "invalid UTF-8")
	}
	return nil
}

func checkSegment(key, seg string) error {
	if seg == "" || seg == "." || seg == ".." {
		return fail(key, ReasonBadSegment, "segment "+quoteSeg(seg))
	}
	return nil
}

func quoteSeg(s string) string { return `"` + s + `"` }

// cut returns the segment of key that ends at end (exclusive) and the index
// of the '/' before it (-1 when the segment starts the key).
func cut(key string, end int) (string, int) {
	j := strings.LastIndexByte(key[:end], '/')
	return key[j+1 : end], j
}

func folderKind(s string) Kind {
	switch s {
	case FolderLog:
		return KindLog
	case FolderDigest:
		return KindDigest
	case FolderInsight:
		return KindInsight
	}
	return KindUnknown
}

// parseFile parses a log, digest or Insights file key from the right:
// file/DD/MM/YYYY/region/folder/account/[o-id/]AWSLogs[/prefix].
func parseFile(key string) (Key, error) {
	var k Key
	var segs [7]string // file, DD, MM, YYYY, region, folder, account
	end := len(key)
	for i := range segs {
		if end < 0 {
			return k, notCloudTrailOrLayout(key)
		}
		segs[i], end = cut(key, end)
	}
	if end < 0 {
		return k, notCloudTrailOrLayout(key)
	}
	seg8, end8 := cut(key, end)
	switch {
	case seg8 == awsLogs:
		end = end8
	case strings.HasPrefix(seg8, "o-") && end8 >= 0:
		seg9, end9 := cut(key, end8)
		if seg9 != awsLogs {
			return k, notCloudTrailOrLayout(key)
		}
		k.OrgID = seg8
		end = end9
	default:
		return k, notCloudTrailOrLayout(key)
	}
	if end > 0 {
		k.Prefix = key[:end]
	}
	k.Folder = segs[5]
	kind := folderKind(k.Folder)
	if kind == KindUnknown {
		return Key{Prefix: k.Prefix, OrgID: k.OrgID}, fail(key, ReasonNotCloudTrail, "folder "+quoteSeg(k.Folder))
	}
	if len(k.Prefix) > MaxPrefixLen {
		return k, fail(key, ReasonBadFolderLayout, "prefix longer than 200 characters")
	}
	if k.OrgID != "" && !validOrgID(k.OrgID) {
		return k, fail(key, ReasonBadOrgID, quoteSeg(k.OrgID))
	}
	k.Account = segs[6]
	if !awsid.IsAccountID(k.Account) {
		return k, fail(key, ReasonBadAccount, "account folder "+quoteSeg(k.Account))
	}
	k.Region = segs[4]
	var flags Flag
	switch checkRegion(k.Region) {
	case regionBad:
		return k, fail(key, ReasonBadRegion, "Region folder "+quoteSeg(k.Region))
	case regionPattern:
		flags |= FlagUnknownRegion
	}
	yyyy, mm, dd := segs[3], segs[2], segs[1]
	if err := checkDate(key, yyyy, mm, dd); err != nil {
		return k, err
	}
	// Date is "YYYY/MM/DD", a substring of the key.
	dateStart := len(key) - len(segs[0]) - 1 - len(dd) - 1 - len(mm) - 1 - len(yyyy)
	k.Date = key[dateStart : dateStart+10]

	if err := parseFileName(key, segs[0], kind, &k, &flags); err != nil {
		return k, err
	}
	ts := k.Time
	if ts.Year() != atoi(yyyy) || int(ts.Month()) != atoi(mm) || ts.Day() != atoi(dd) {
		k.Time = time.Time{}
		return k, fail(key, ReasonDateMismatch, "")
	}
	if k.Account != k.FileAccount {
		flags |= FlagAccountMismatch
	}
	if k.Region != k.FileRegion {
		flags |= FlagRegionMismatch
	}
	k.Flags = flags
	k.Kind = kind
	return k, nil
}

// parseFileName reads <acct>_<Folder>_<region>_… .json.gz into k.
func parseFileName(key, name string, kind Kind, k *Key, flags *Flag) error {
	if !strings.HasSuffix(name, Extension) {
		return fail(key, ReasonBadExtension, "file name "+quoteSeg(name))
	}
	base := name[:len(name)-len(Extension)]
	if len(base) < 13 || base[12] != '_' {
		return fail(key, ReasonBadFileName, "file name must start with the 12-digit account and '_'")
	}
	k.FileAccount = base[:12]
	if !awsid.IsAccountID(k.FileAccount) {
		k.FileAccount = ""
		return fail(key, ReasonBadAccount, "file name account "+quoteSeg(base[:12]))
	}
	rest := base[13:]
	i := strings.IndexByte(rest, '_')
	if i < 0 {
		return fail(key, ReasonBadFileName, "no Region after the kind")
	}
	if token := rest[:i]; token != k.Folder {
		if folderKind(token) != KindUnknown {
			return fail(key, ReasonFolderMismatch, quoteSeg(token)+" file in folder "+quoteSeg(k.Folder))
		}
		return fail(key, ReasonBadFileName, "kind "+quoteSeg(token))
	}
	rest = rest[i+1:]
	i = strings.IndexByte(rest, '_')
	if i < 0 {
		return fail(key, ReasonBadFileName, "no timestamp after the Region")
	}
	fileRegion := rest[:i]
	switch checkRegion(fileRegion) {
	case regionBad:
		return fail(key, ReasonBadRegion, "file name Region "+quoteSeg(fileRegion))
	case regionPattern:
		*flags |= FlagUnknownRegion
	}
	k.FileRegion = fileRegion
	rest = rest[i+1:]

	if kind != KindDigest {
		// <YYYYMMDDTHHmmZ>_<unique16>
		if len(rest) < 15 || rest[14] != '_' {
			return fail(key, ReasonBadTimestamp, "want YYYYMMDDTHHmmZ_<unique>")
		}
		t, ok := parseStamp(rest[:14], false)
		if !ok {
			return fail(key, ReasonBadTimestamp, quoteSeg(rest[:14]))
		}
		u := rest[15:]
		if len(u) != 16 || !alnum(u) {
			return fail(key, ReasonBadUnique, quoteSeg(u))
		}
		k.Time, k.Unique = t, u
		return nil
	}

	// Digest: <trail>_<home-region>_<YYYYMMDDTHHmmssZ>[_backfill], read
	// from the right because trail names may contain '_'.
	if strings.HasSuffix(rest, BackfillSuffix) {
		k.Backfill = true
		rest = rest[:len(rest)-len(BackfillSuffix)]
	}
	if len(rest) < 17 || rest[len(rest)-17] != '_' {
		return fail(key, ReasonBadTimestamp, "want …_YYYYMMDDTHHmmssZ")
	}
	stamp := rest[len(rest)-16:]
	t, ok := parseStamp(stamp, true)
	if !ok {
		return fail(key, ReasonBadTimestamp, quoteSeg(stamp))
	}
	rest = rest[:len(rest)-17]
	j := strings.LastIndexByte(rest, '_')
	if j < 0 {
		return fail(key, ReasonBadFileName, "no home Region in digest file name")
	}
	home := rest[j+1:]
	switch checkRegion(home) {
	case regionBad:
		return fail(key, ReasonBadRegion, "home Region "+quoteSeg(home))
	case regionPattern:
		*flags |= FlagUnknownRegion
	}
	trail := rest[:j]
	if !ValidTrailName(trail) {
		return fail(key, ReasonBadTrailName, quoteSeg(trail))
	}
	k.Time, k.HomeRegion, k.TrailName = t, home, trail
	return nil
}

// notCloudTrailOrLayout explains a key whose right-hand folders do not match
// CloudTrail's depth: not a CloudTrail object when it has no AWSLogs folder
// or its service folder is another one (AWS Config, ELB, … share buckets),
// otherwise a layout error.
func notCloudTrailOrLayout(key string) error {
	idx := lastSegmentIndex(key, awsLogs)
	if idx < 0 {
		return fail(key, ReasonNotCloudTrail, "no AWSLogs folder")
	}
	rest := key[idx+len(awsLogs):]
	for _, f := range [...]string{FolderLog, FolderDigest, FolderInsight} {
		if lastSegmentIndex(rest, f) >= 0 {
			return fail(key, ReasonBadFolderLayout, "want AWSLogs/[o-id/]<account>/"+f+"/<region>/YYYY/MM/DD/<file>")
		}
	}
	return fail(key, ReasonNotCloudTrail, "no CloudTrail folder under AWSLogs")
}

// lastSegmentIndex returns the index of the last whole segment equal to seg,
// or -1.
func lastSegmentIndex(key, seg string) int {
	end := len(key)
	for end > 0 {
		j := strings.LastIndex(key[:end], seg)
		if j < 0 {
			return -1
		}
		if (j == 0 || key[j-1] == '/') && (j+len(seg) == len(key) || key[j+len(seg)] == '/') {
			return j
		}
		end = j
	}
	return -1
}

// parseFolder parses a folder object (a key ending in "/"): a marker.
func parseFolder(key string) (Key, error) {
	var k Key
	body := key[:len(key)-1]
	idx := lastSegmentIndex(body, awsLogs)
	if idx < 0 {
		return k, fail(key, ReasonNotCloudTrail, "folder object outside AWSLogs")
	}
	if idx > 0 {
		k.Prefix = body[:idx-1]
		if len(k.Prefix) > MaxPrefixLen {
			return k, fail(key, ReasonBadFolderLayout, "prefix longer than 200 characters")
		}
	}
	pos := idx + len(awsLogs) + 1 // start of the next segment
	next := func() (string, int) {
		if pos > len(body) {
			return "", len(body)
		}
		start := pos
		j := strings.IndexByte(body[pos:], '/')
		if j < 0 {
			pos = len(body) + 1
			return body[start:], start
		}
		pos += j + 1
		return body[start : start+j], start
	}
	s, _ := next()
	if strings.HasPrefix(s, "o-") {
		if !validOrgID(s) {
			return k, fail(key, ReasonBadOrgID, quoteSeg(s))
		}
		k.OrgID = s
		s, _ = next()
	}
	if s != "" {
		if !awsid.IsAccountID(s) {
			return k, fail(key, ReasonBadAccount, "account folder "+quoteSeg(s))
		}
		k.Account = s
		s, _ = next()
	}
	if s != "" {
		if folderKind(s) == KindUnknown {
			return Key{Prefix: k.Prefix, OrgID: k.OrgID}, fail(key, ReasonNotCloudTrail, "folder "+quoteSeg(s))
		}
		k.Folder = s
		s, _ = next()
	}
	if s != "" {
		switch checkRegion(s) {
		case regionBad:
			return k, fail(key, ReasonBadRegion, "Region folder "+quoteSeg(s))
		case regionPattern:
			k.Flags |= FlagUnknownRegion
		}
		k.Region = s
		s, _ = next()
	}
	if s != "" {
		y, dateStart := s, pos-len(s)-1
		m, _ := next()
		d, _ := next()
		if err := checkPartialDate(key, y, m, d); err != nil {
			return k, err
		}
		if extra, _ := next(); extra != "" {
			return k, fail(key, ReasonBadFolderLayout, "folders below the day")
		}
		k.Date = body[dateStart:]
	}
	k.Kind = KindMarker
	return k, nil
}

func checkDate(key, yyyy, mm, dd string) error {
	if len(yyyy) != 4 || len(mm) != 2 || len(dd) != 2 || !allDigits(yyyy) || !allDigits(mm) || !allDigits(dd) {
		return fail(key, ReasonBadDate, "want YYYY/MM/DD")
	}
	if !validDate(atoi(yyyy), atoi(mm), atoi(dd)) {
		return fail(key, ReasonBadDate, yyyy+"/"+mm+"/"+dd)
	}
	return nil
}

func checkPartialDate(key, y, m, d string) error {
	if len(y) != 4 || !allDigits(y) || atoi(y) < firstYear {
		return fail(key, ReasonBadDate, "year "+quoteSeg(y))
	}
	if m == "" {
		return nil
	}
	if len(m) != 2 || !allDigits(m) || atoi(m) < 1 || atoi(m) > 12 {
		return fail(key, ReasonBadDate, "month "+quoteSeg(m))
	}
	if d == "" {
		return nil
	}
	return checkDate(key, y, m, d)
}

func validDate(y, m, d int) bool {
	if y < firstYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseStamp parses YYYYMMDDTHHmmZ (log, Insights) or YYYYMMDDTHHmmssZ
// (digest) as UTC.
func parseStamp(s string, seconds bool) (time.Time, bool) {
	n := 14
	if seconds {
		n = 16
	}
	if len(s) != n || s[8] != 'T' || s[n-1] != 'Z' {
		return time.Time{}, false
	}
	if !allDigits(s[:8]) || !allDigits(s[9:n-1]) {
		return time.Time{}, false
	}
	y, mo, d := atoi(s[:4]), atoi(s[4:6]), atoi(s[6:8])
	h, mi := atoi(s[9:11]), atoi(s[11:13])
	sec := 0
	if seconds {
		sec = atoi(s[13:15])
	}
	if !validDate(y, mo, d) || h > 23 || mi > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC), true
}

// atoi converts a string of ASCII digits (checked by the caller).
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ValidOrgID reports whether s is an organization id: "o-" and 10 to 32
// lowercase letters or digits (Organizations API pattern ^o-[a-z0-9]{10,32}$).
func ValidOrgID(s string) bool { return validOrgID(s) }

func validOrgID(s string) bool {
	if len(s) < 12 || len(s) > 34 || s[0] != 'o' || s[1] != '-' {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return len(s) > 0
}

// ValidTrailName applies CloudTrail's naming rules: 3 to 128 characters;
// ASCII letters, digits, '.', '_' and '-'; starting and ending with a letter
// or digit; no two of '.', '_', '-' next to each other; not an IPv4 address.
func ValidTrailName(s string) bool {
	if len(s) < 3 || len(s) > 128 {
		return false
	}
	if !alnum(s[:1]) || !alnum(s[len(s)-1:]) {
		return false
	}
	special := false
	dots, digitsOnly := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.' || c == '_' || c == '-':
			if special {
				return false
			}
			special = true
			if c == '.' {
				dots++
			} else {
				digitsOnly = false
			}
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			special = false
			digitsOnly = false
		case c >= '0' && c <= '9':
			special = false
		default:
			return false
		}
	}
	// "192.168.5.4": only digits and three dots.
	return !(digitsOnly && dots == 3)
}

// DecodeS3EventKey decodes an object key as S3 event notifications carry it
// (S3 → SQS/SNS/Lambda and S3 → EventBridge): "+" is a space and %XX a byte.
// A key without '+' or '%' is returned as is, without allocating.
func DecodeS3EventKey(s string) (string, error) {
	n := 0
	plus := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '%':
			if i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return "", fail(s, ReasonBadEncoding, "'%' not followed by two hex digits")
			}
			n++
			i += 2
		case '+':
			plus = true
		}
	}
	if n == 0 && !plus {
		return s, nil
	}
	b := make([]byte, 0, len(s)-2*n)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), nil
}

func ishex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
