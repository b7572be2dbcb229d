package ledger

import (
	"strings"

	"github.com/trailwarden/trailwarden/shared/logkey"
)

// A log file's name is <account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz
// (shared/logkey; https://docs.aws.amazon.com/awscloudtrail/latest/userguide/get-and-view-cloudtrail-log-files.html).
// The account and the Region are the item's and the attribute's, so K#
// holds only <YYYYMMDDTHHmmZ>_<unique>: 31 bytes instead of about 73, 42
// bytes less per active Region. A value of any other shape (a name that
// does not follow the grammar, a full key, an item written before this
// layout) is stored and read as it is.

// compactKeyLen is len("YYYYMMDDTHHmmZ_") + the 16-character unique string.
const compactKeyLen = 15 + 16

// compactKeyName returns what K# holds of a log file name: its stamp and
// unique string when the name is account's and region's, else the name.
func compactKeyName(account, region, name string) string {
	rest, ok := strings.CutPrefix(name, account+"_"+logkey.FolderLog+"_"+region+"_")
	if !ok {
		return name
	}
	if rest, ok = strings.CutSuffix(rest, logkey.Extension); ok && isCompactKey(rest) {
		return rest
	}
	return name
}

// expandKeyName is compactKeyName's inverse: the file name of a compact
// value, any other value as it is.
func expandKeyName(account, region, v string) string {
	if !isCompactKey(v) {
		return v
	}
	return account + "_" + logkey.FolderLog + "_" + region + "_" + v + logkey.Extension
}

// isCompactKey reports whether s has the shape YYYYMMDDTHHmmZ_<16 letters
// or digits>. A file name or a full key never has it (both are longer).
func isCompactKey(s string) bool {
	if len(s) != compactKeyLen || s[8] != 'T' || s[13] != 'Z' || s[14] != '_' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 14:
		case i < 14:
			if c < '0' || c > '9' {
				return false
			}
		case !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'):
			return false
		}
	}
	return true
}
